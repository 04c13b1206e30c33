"""Events that do not say the truth, for the fault bench and the fault tests: success events for
executions that never ran (or ran long ago), failure events for jobs that do not exist — and, as
the positive control, a success that really happened (its execution served by the replay).

Every builder returns a new `Plan`; the plan's own failures stay as they were.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from standins.load.harness import Plan, PlannedEvent
from standins.replay.google import Scenario


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def success_entry(entry: Mapping[str, Any], execution: str, at: datetime) -> dict[str, Any]:
    """The audit entry of `execution` (of the same job as `entry`) completing successfully."""
    out: dict[str, Any] = json.loads(json.dumps(entry))
    old = str(out["protoPayload"]["resourceName"]).rsplit("/", 1)[-1]
    out = json.loads(json.dumps(out).replace(old, execution))
    out["severity"] = "INFO"
    out["timestamp"] = _stamp(at)
    out["insertId"] = f"success-{execution}"
    out["protoPayload"]["status"] = {
        "message": f"Execution {execution} has completed successfully."
    }
    return out


def _sample(plan: Plan, job: str) -> PlannedEvent:
    return next(e for e in plan.events if e.job == job and e.failed)


def with_forged_successes(plan: Plan, *, at: float, start: datetime) -> Plan:
    """One success event per job for an execution the Run API has never heard of."""
    forged: list[PlannedEvent] = []
    for job in sorted(plan.jobs):
        execution = f"{job}-forged"
        when = start + timedelta(seconds=at)
        forged.append(
            PlannedEvent(
                job=job,
                execution=execution,
                failed=False,
                at=at,
                entry=success_entry(_sample(plan, job).entry, execution, when),
                message_id=f"forged-{execution}",
            )
        )
    return Plan(plan.scenarios, plan.events + forged)


def with_replayed_success(
    plan: Plan, *, job: str, execution: str, at: float, start: datetime
) -> Plan:
    """A success event for `execution`, a real success of `job` from before its failures (one
    of the recorded executions), delivered again now — stamped now, as a replay would be."""
    entry = success_entry(_sample(plan, job).entry, execution, start + timedelta(seconds=at))
    event = PlannedEvent(job, execution, False, at, entry, f"replayed-{execution}")
    return Plan(plan.scenarios, [*plan.events, event])


def with_real_success(plan: Plan, *, job: str, execution: str, at: float, start: datetime) -> Plan:
    """`execution` of `job` really succeeds `at` virtual seconds after `start`: the replay serves
    it as a succeeded execution, and its success event arrives then."""
    scenario = next(s for s in plan.scenarios if s.ref.job == job)
    template = next((e for e in scenario.executions if e.get("succeededCount")), scenario.execution)
    assert template is not None, "the scenario has no execution to copy"
    old = str(template["name"]).rsplit("/", 1)[-1]
    served: dict[str, Any] = json.loads(json.dumps(template).replace(old, execution))
    began = start + timedelta(seconds=at - 40)
    served["createTime"] = served["startTime"] = _stamp(began)
    served["completionTime"] = _stamp(start + timedelta(seconds=at))
    served["taskCount"] = served["succeededCount"] = 1
    served["failedCount"] = 0
    served["conditions"] = [
        {"type": "Completed", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": _stamp(began)}
    ]
    extra = Scenario(
        event=None,
        execution=served,
        job=copy.deepcopy(scenario.job),
        name=f"success:{execution}",
    )
    entry = success_entry(_sample(plan, job).entry, execution, start + timedelta(seconds=at))
    event = PlannedEvent(job, execution, False, at, entry, f"success-{execution}")
    return Plan([*plan.scenarios, extra], [*plan.events, event])


def with_ghost_failures(plan: Plan, *, count: int, at: float) -> Plan:
    """`count` failure events for jobs that do not exist (the Run API answers 404). They are
    marked `failed=False` in the plan: nothing should be posted for them."""
    ghosts: list[PlannedEvent] = []
    for n, sample in enumerate(e for e in plan.events[:count] if e.failed):
        job = f"ghost-job-{n:02d}"
        execution = f"{job}-x1y2z"
        entry = json.loads(
            json.dumps(sample.entry).replace(sample.execution, execution).replace(sample.job, job)
        )
        entry["insertId"] = f"forged-{execution}"
        ghosts.append(PlannedEvent(job, execution, False, at + n, entry, f"forged-{execution}"))
    return Plan(plan.scenarios, plan.events + ghosts)


def ghost_executions(plan: Plan) -> list[str]:
    return [e.execution for e in plan.events if e.job.startswith("ghost-job-")]
