"""End to end in one process, with zero-latency local stand-ins for Google and Slack.

Each event is a CloudEvent posted through functions-framework into `main.on_job_event`, which
gathers evidence from the replayed Cloud Run and Logging APIs through the real clients, diagnoses,
decides, and posts to the fake Slack through slack_sdk. One instance, one event at a time (as
deployed: concurrency 1). Figures: events per second, and the time from the CloudEvent going in
to Slack receiving the message (p50 / p99); requests per event to each API.

    .venv/bin/python bench/e2e.py [--events 200] [--firestore]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobtriage.ownlog import LOGGER_NAME
from standins.load.harness import Harness, HarnessConfig, percentile, storm_plan


def firestore_store(tmp: Path) -> tuple[Any, Any, Counter[str]]:
    """A FirestoreStore on the npm emulator, with every gRPC call counted."""
    import os
    import uuid

    from jobtriage.incident.store import FirestoreStore
    from standins.firestore import counted_client, start_npm_emulator

    emulator = start_npm_emulator(tmp)
    os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
    project = f"bench-{uuid.uuid4().hex[:8]}"
    client, rpcs = counted_client(emulator.host, project)
    return FirestoreStore(client, project=project, timeout=10.0), emulator, rpcs


def run(
    events: int, *, firestore: bool = False, by_path: Counter[str] | None = None
) -> dict[str, Any]:
    """`by_path`: Firestore RPCs of each delivery, added up by what the delivery did (the
    pipeline's action, or the retry it asked for), with `n:<path>` counting the deliveries;
    the deliveries then go straight into `app.handle_cloud_event`, whose result says that."""
    logging.getLogger(LOGGER_NAME).setLevel(logging.CRITICAL)
    jobs = max(1, events // 4)
    plan = storm_plan(jobs=jobs, per_job=events // jobs, within=0.0, duplicates=0.0)
    config = HarnessConfig(
        workers=1,
        scale=1.0,
        slack_posts_per_second=None,
        slack_updates_per_minute=None,
        logging_quota_per_minute=None,
        logging_budget_per_minute=0,
        via_framework=by_path is None,
    )
    store = emulator = None
    rpcs: Counter[str] = Counter()
    if firestore:
        import tempfile

        store, emulator, rpcs = firestore_store(Path(tempfile.mkdtemp()))
    try:
        with Harness(config, plan, store=store) as h:
            if by_path is not None:
                _count_paths(h, rpcs, by_path)
            h.publish_plan()
            report = h.run(timeout=900)
    finally:
        if emulator is not None:
            emulator.stop()
    account = report.account()
    assert not account["duplicated"], account
    assert not account["lost"], account
    first_post: dict[str, float] = {}
    for p in report.posted:
        for name in report.named_in(p.body()):
            first_post.setdefault(name, p.at)
    latencies = [
        first_post[m.event.execution] - m.taken_at[-1]
        for m in report.messages
        if m.event.execution in first_post
    ]
    busy = sum(sum(m.seconds) for m in report.messages)
    n = len(report.messages)
    return {
        "events": n,
        "events_per_s": n / busy,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "mean_ms": statistics.mean(m.seconds[-1] for m in report.messages) * 1000,
        "run": sum(report.google_requests[a] for a in report.google_requests if a.startswith("run"))
        / n,
        "logging": report.google_requests["logging.entries.list"] / n,
        "slack": {k: v / n for k, v in report.slack_requests.items()},
        "store": {k: v / n for k, v in sorted(report.store_calls.items())},
        "store_total": sum(report.store_calls.values()) / n,
        "firestore_rpcs": {k: v / n for k, v in sorted(rpcs.items())},
        "firestore_total": sum(rpcs.values()) / n,
        "actions": Counter(p.thread_ts is None for p in report.posted),
    }


def _count_paths(h: Harness, rpcs: Counter[str], by_path: Counter[str]) -> None:
    deliver = h.deliver_once

    def counted(msg: Any, rt: Any) -> None:
        before = sum(rpcs.values())
        deliver(msg, rt)
        path = msg.outcomes[-1].split(":")[-1] if msg.outcomes else "?"
        by_path[path] += sum(rpcs.values()) - before
        by_path[f"n:{path}"] += 1

    h.deliver_once = counted  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--firestore", action="store_true", help="also on the Firestore emulator")
    args = parser.parse_args()
    r = run(args.events)
    print(f"events: {r['events']} (one instance, sequential, MemoryStore)")
    print("| events/s | p50 CloudEvent→Slack | p99 CloudEvent→Slack | mean per delivery |")
    print("|---:|---:|---:|---:|")
    print(
        f"| {r['events_per_s']:.1f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms "
        f"| {r['mean_ms']:.1f} ms |"
    )
    print()
    print("| API | requests per event |")
    print("|---|---:|")
    print(f"| Cloud Run Admin (execution, tasks, job, executions) | {r['run']:.2f} |")
    print(f"| Logging entries.list | {r['logging']:.2f} |")
    for method, v in r["slack"].items():
        print(f"| Slack {method} | {v:.2f} |")
    print(f"| incident store calls (all) | {r['store_total']:.2f} |")
    if args.firestore:
        f = run(args.events, firestore=True)
        print(f"| Firestore RPCs (emulator, all) | {f['firestore_total']:.2f} |")
        for rpc, v in f["firestore_rpcs"].items():
            print(f"| — Firestore {rpc} | {v:.2f} |")
        print()
        print(
            f"On the Firestore emulator: {f['events_per_s']:.1f} events/s, "
            f"p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms"
        )
        by_path: Counter[str] = Counter()
        run(args.events, firestore=True, by_path=by_path)
        print()
        print("| delivery | deliveries | Firestore RPCs each |")
        print("|---|---:|---:|")
        for path in sorted(k for k in by_path if not k.startswith("n:")):
            n = by_path[f"n:{path}"]
            print(f"| {path} | {n} | {by_path[path] / n:.2f} |")


if __name__ == "__main__":
    main()
