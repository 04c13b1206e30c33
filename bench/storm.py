"""The failure storm in real time: 200 failures of 20 jobs within a minute, in random order, 10 %
delivered twice, three function instances, Slack at one message a second per channel (429 +
Retry-After), chat.update at 50 a minute, Logging at 60 reads a minute (429 beyond it), a snooze
and an acknowledgement clicked while it runs.

    .venv/bin/python bench/storm.py [--scale 1.0] [--before]

`--scale 0.05` runs the same storm 20 times faster (what tests/load/test_storm.py asserts on).
`--before` also runs it as the design was before the storm work (no Logging read budget, no
digest thread), for comparison.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobtriage.incident import ledger
from jobtriage.ownlog import LOGGER_NAME
from standins.load.harness import Harness, HarnessConfig, RunReport, storm_plan


def run(scale: float, *, before: bool = False) -> RunReport:
    logging.getLogger(LOGGER_NAME).setLevel(logging.CRITICAL)
    plan = storm_plan(jobs=20, per_job=10)
    clicks = [(plan.events[0].job, "snooze:1h"), (plan.events[7].job, "ack")]
    config = HarnessConfig(
        workers=3,
        scale=scale,
        clicks=clicks,
        logging_budget_per_minute=0 if before else 15,
    )
    saved = ledger.DIGEST_AFTER
    if before:
        ledger.DIGEST_AFTER = 10**6
    try:
        with Harness(config, plan) as h:
            h.publish_plan()
            return h.run(timeout=3600)
    finally:
        ledger.DIGEST_AFTER = saved


def row(name: str, r: RunReport) -> dict[str, Any]:
    account = r.account()
    logs_gaps = sum(
        1 for p in r.posted if "Logging read quota exhausted" in p.body() and p.thread_ts is None
    )
    return {
        "name": name,
        "failures": len(r.plan.failed_executions),
        "deliveries": sum(m.attempts for m in r.messages),
        "posted": len(account["posted"]),
        "held": len(account["held"]),
        "duplicated": len(account["duplicated"]),
        "lost": len(account["lost"]),
        "dead": len(r.dead_letters),
        "top": len(r.top_level),
        "catch_up": r.catch_up_seconds,
        "after_last": max(0.0, r.last_post - r.last_arrival),
        "logging_reads": r.google_requests["logging.entries.list"],
        "logging_429": r.logging_quota_refusals,
        "budget_refused": r.budget_refused,
        "slack_429": sum(v for k, v in r.slack_refused.items() if "ratelimited" in k),
        "edits": len(r.edits),
        "wall": r.wall_seconds,
        "alerts_with_quota_gap": logs_gaps,
        "unhandled": len(r.unhandled),
    }


def print_table(rows: list[dict[str, Any]], scale: float) -> None:
    print(f"time scale {scale:g} (figures in storm seconds; 1 = real time)")
    cols = [
        ("failures (unique)", "failures"),
        ("deliveries (with duplicates and redeliveries)", "deliveries"),
        ("posted once (alert or thread reply)", "posted"),
        ("held by a snooze", "held"),
        ("posted twice", "duplicated"),
        ("lost", "lost"),
        ("dead-lettered", "dead"),
        ("top-level messages in the channel", "top"),
        ("channel caught up after the first failure (s)", "catch_up"),
        ("… after the last failure arrived (s)", "after_last"),
        ("Logging reads made", "logging_reads"),
        ("Logging reads refused with 429 (quota overrun)", "logging_429"),
        ("Logging reads skipped by the budget", "budget_refused"),
        ("new alerts saying 'Logging read quota exhausted'", "alerts_with_quota_gap"),
        ("Slack 429 answers (retried)", "slack_429"),
        ("parent messages updated", "edits"),
        ("unhandled exceptions", "unhandled"),
        ("wall time of the run (s)", "wall"),
    ]
    print("| | " + " | ".join(r["name"] for r in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for label, key in cols:
        cells = [f"{r[key]:.0f}" if isinstance(r[key], float) else str(r[key]) for r in rows]
        print(f"| {label} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--before", action="store_true")
    args = parser.parse_args()
    now = run(args.scale)
    rows = [row("now", now)]
    if args.before:
        rows.append(row("before (no budget, no digest)", run(args.scale, before=True)))
    print_table(rows, args.scale)
    print()
    print("\n".join(now.last_post_story()))


if __name__ == "__main__":
    main()
