"""Firestore RPCs of one event at a time: a new alert, then lone repeats (each after the coalescing
window, so nothing is coalesced), through the whole product on the npm Firestore emulator.

The first repeat comes 10 minutes after the alert: the instance's cache of the project's
confirmed causes (5 minutes, `recall.PROJECT_CACHE_SECONDS`) has expired and is read again. The
next ones come a minute apart, as repeats of a failing job do: the cache is warm.

    .venv/bin/python bench/rpcs.py [--repeats 2]

Each line: what the event did, the RPCs it made (by kind) and the store calls behind them. The
clock is frozen between events (`FROZEN`), so the figures do not depend on the machine.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e import firestore_store

from jobtriage import app
from jobtriage.event import PUBSUB_EVENT_TYPE
from jobtriage.ownlog import LOGGER_NAME
from standins.load.harness import (
    FROZEN,
    Harness,
    HarnessConfig,
    pubsub_data,
    storm_plan,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger(LOGGER_NAME).setLevel(logging.CRITICAL)
    store, emulator, rpcs = firestore_store(Path(tempfile.mkdtemp()))
    plan = storm_plan(jobs=1, per_job=1 + args.repeats, within=0.0, duplicates=0.0, seed=5)
    config = HarnessConfig(
        workers=1,
        scale=FROZEN,
        start=datetime(2026, 11, 2, 9, 0, 1, tzinfo=UTC),
        slack_posts_per_second=None,
    )
    print("| event | Firestore RPCs | by kind | store calls |")
    print("|---|---:|---|---|")
    try:
        with Harness(config, plan, store=store) as h:
            rt = h.runtime()
            for event in plan.events:
                before, calls_before = dict(rpcs), dict(h.store.calls)
                data = pubsub_data(event.entry, event.message_id)
                result = app.handle_cloud_event(
                    PUBSUB_EVENT_TYPE, data, rt=rt, event_id=event.message_id
                )
                made = {k: v - before.get(k, 0) for k, v in rpcs.items() if v - before.get(k, 0)}
                calls = {
                    k: v - calls_before.get(k, 0)
                    for k, v in h.store.calls.items()
                    if v - calls_before.get(k, 0)
                }
                kinds = ", ".join(f"{k} {v}" for k, v in sorted(made.items()))
                store_calls = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
                action = result.action if result else "ignored"
                print(f"| {action} | {sum(made.values())} | {kinds} | {store_calls} |")
                # the next one alone (nothing to coalesce): first after the project cache expired,
                # then a minute apart
                h.vt.advance(600 if event is plan.events[0] else 60)
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
