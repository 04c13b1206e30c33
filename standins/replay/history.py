"""A job's execution history for the replay, built from the seed's recorded shapes: what a tick's
missed-run check reads (`executions.list`, newest first).

    scenario = job_history("nightly-export", [Run("abc12", finished, ok=True), ...])
    with GoogleReplay([Scenario.embedded("seed"), scenario]) as google: ...

Each run is the seed's recorded success or failure with its names and times replaced, so the
real `google-cloud-run` client parses exactly what the API sends.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from standins.replay.google import Scenario

SEED_JOB = "o4o-api-migrations"
SEED_PROJECT = "netureyoutube"
SEED_REGION = "asia-northeast3"


@dataclass(frozen=True, slots=True)
class Run:
    """One execution: its name suffix, when it ended (None: still running), and how."""

    suffix: str
    ended: datetime | None
    ok: bool = True
    took: timedelta = timedelta(minutes=3)


def _z(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _renamed(data: Any, job: str, project: str, region: str) -> Any:
    text = json.dumps(data)
    text = text.replace(f"projects/{SEED_PROJECT}/locations/{SEED_REGION}/", "\0")
    text = text.replace(SEED_JOB, job)
    text = text.replace("\0", f"projects/{project}/locations/{region}/")
    return json.loads(text)


def _execution(seed: list[dict[str, Any]], run: Run, job: str) -> dict[str, Any]:
    failed, success = seed[0], seed[1]
    base = copy.deepcopy(success if run.ok else failed)
    name = base["name"].rsplit("/executions/", 1)[0] + f"/executions/{job}-{run.suffix}"
    ended = run.ended
    started = (ended - run.took) if ended is not None else None
    base["name"] = name
    if started is not None:
        base["createTime"] = _z(started - timedelta(seconds=3))
        base["startTime"] = _z(started)
    if ended is None:  # still running: no completion, no Completed verdict yet
        assert started is None
        base.pop("completionTime", None)
        base["conditions"] = [c for c in base.get("conditions", []) if c["type"] != "Completed"]
        return base
    base["completionTime"] = _z(ended)
    base["updateTime"] = _z(ended + timedelta(seconds=2))
    for condition in base.get("conditions", []):
        condition["lastTransitionTime"] = _z(ended)
    return base


def job_history(
    job: str,
    runs: list[Run],
    *,
    project: str = SEED_PROJECT,
    region: str = SEED_REGION,
    running_since: datetime | None = None,
) -> Scenario:
    """A scenario holding only `job` and its executions (newest first, as the API lists them)."""
    seed = Scenario.embedded("seed")
    assert seed.job is not None
    recorded = _renamed(seed.executions, job, project, region)
    executions = [_execution(recorded, run, job) for run in runs]
    if running_since is not None:
        running = _execution(recorded, Run("running", None), job)
        running["createTime"] = running["startTime"] = _z(running_since)
        executions.append(running)
    executions.sort(key=lambda e: str(e.get("createTime") or ""), reverse=True)
    return Scenario(
        job=_renamed(seed.job, job, project, region),
        executions=executions,
        name=f"history-{job}",
    )
