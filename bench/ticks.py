"""What one tick costs: Firestore RPCs (the npm emulator, every gRPC call counted), Cloud Run
calls (the replay), Slack calls (the fake) and time, for an idle tick and for ticks with work.

    .venv/bin/python bench/ticks.py [--jobs 5] [--open 40] [--due 10] [--rounds 20]

Scenarios, each on a fresh store: `idle` — `--open` incidents, none due, `--jobs` jobs with an
expected interval that all succeeded recently; `reminders` — the same with `--due` of them past
REMIND_AFTER_MINUTES; `missed` — one of the jobs has not succeeded in time; `repeat` — the tick
after `reminders` (all done: what every later tick costs).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.e2e import firestore_store
from jobtriage.event import Tick
from jobtriage.evidence.cloud_run import CloudRun
from jobtriage.evidence.gather import Sources
from jobtriage.incident.model import Incident, State
from jobtriage.notify.deliver import SlackNotifier
from jobtriage.ownlog import LOGGER_NAME
from jobtriage.runtime import Runtime
from jobtriage.settings import Settings
from jobtriage.ticks import process_tick
from standins.clock import SteppingClock
from standins.replay.google import Api, GoogleReplay
from standins.replay.history import Run, job_history
from standins.slack import TOKEN, FakeSlack

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROJECT, REGION = "netureyoutube", "asia-northeast3"


def _incidents(n_open: int, n_due: int, now: datetime) -> list[Incident]:
    out = []
    for i in range(n_open):
        opened = now - (timedelta(minutes=45) if i < n_due else timedelta(minutes=5))
        out.append(
            Incident(
                id=f"bench{i:04d}",
                job_path=f"projects/{PROJECT}/locations/{REGION}/jobs/job-{i}",
                fingerprint="entrypoint_runtime:ERR_REQUIRE_ESM",
                state=State.OPEN,
                opened_at=opened,
                updated_at=opened,
                last_failure_at=opened,
                channel="C0BENCH",
                ts=f"1772442000.{i:06d}",
            )
        )
    return out


def one(scenario: str, *, jobs: int, n_open: int, n_due: int) -> dict[str, Any]:
    now = T0
    ok = now - timedelta(hours=2)
    histories = [
        job_history(
            f"expected-{j}",
            [
                Run(
                    "a1b2c",
                    ok - (timedelta(hours=40) if scenario == "missed" and j == 0 else timedelta()),
                )
            ],
        )
        for j in range(jobs)
    ]
    store, emulator, rpcs = firestore_store(Path(tempfile.mkdtemp()))
    try:
        with GoogleReplay(histories) as google, FakeSlack() as slack:
            settings = Settings(
                slack_bot_token=TOKEN,
                slack_channel="C0BENCH",
                slack_api_url=slack.base_url,
                cloud_run_emulator_host=google.host,
                remind_usergroup="S0ONCALL",
                expected_intervals=tuple(
                    (f"expected-{j}", timedelta(hours=26)) for j in range(jobs)
                ),
            )
            clock = SteppingClock(now)
            rt = Runtime(
                settings=settings,
                sources=Sources(run=CloudRun.from_settings(settings), logs=None),
                store=store,
                notifier=SlackNotifier(settings),
                clock=clock,
            )
            due = n_due if scenario in ("reminders", "repeat") else 0
            for incident in _incidents(n_open, due, now):
                store.create(incident)
            if scenario == "repeat":
                process_tick(Tick(PROJECT, REGION), rt)
                clock.advance(300)
            rpcs.clear()
            run_before = google.count(Api.LIST_EXECUTIONS)
            slack_before = len(slack.calls())
            began = time.perf_counter()
            result = process_tick(Tick(PROJECT, REGION), rt)
            took = time.perf_counter() - began
            return {
                "seconds": took,
                "firestore": sum(rpcs.values()),
                "firestore_by_rpc": dict(rpcs),
                "run": google.count(Api.LIST_EXECUTIONS) - run_before,
                "slack": len(slack.calls()) - slack_before,
                "reminded": len(result.reminded),
                "opened": len(result.opened),
            }
    finally:
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--open", type=int, default=40)
    parser.add_argument("--due", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger(LOGGER_NAME).setLevel(logging.CRITICAL)
    print(
        f"{args.jobs} jobs with an expected interval, {args.open} open incidents, "
        f"{args.due} due; median of {args.rounds} rounds, stand-ins answering at once"
    )
    print("| tick | reminded | opened | Firestore RPCs | Cloud Run calls | Slack calls | time |")
    print("|---|---|---|---|---|---|---|")
    for scenario in ("idle", "reminders", "repeat", "missed"):
        rows = [
            one(scenario, jobs=args.jobs, n_open=args.open, n_due=args.due)
            for _ in range(args.rounds)
        ]
        r = rows[0]
        ms = statistics.median(x["seconds"] for x in rows) * 1000
        fs = statistics.median(x["firestore"] for x in rows)
        print(
            f"| {scenario} | {r['reminded']} | {r['opened']} | {fs:g} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(r['firestore_by_rpc'].items()))}) "
            f"| {r['run']} | {r['slack']} | {ms:.0f} ms |"
        )


if __name__ == "__main__":
    main()
