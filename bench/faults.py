"""The fault bench: every way a delivery can go wrong, each counted as posted once / duplicated /
lost / wrongly closed. Target: 0 duplicated, 0 lost, 0 wrongly closed in every row.

    .venv/bin/python bench/faults.py [--scale 0.01] [--seeds 3]

Rows (each a small storm through the whole product: standins/load/harness.py):
- Slack slow: Slack accepts the first posts but answers after the client's timeout;
- Slack down: every Slack call answers 503 for five minutes;
- kills at random points: the instance dies before a random store call of some deliveries;
- kills in the Slack round trip: Slack has answered, the instance dies before recording it;
- forged success: a success event for a made-up execution of a job with an open incident;
- forged failure: a failure event for a job the Run API does not know;
- replayed click: an Acknowledge captured before someone's Snooze, sent again after it.

"wrongly closed" counts incidents a forged success closed and incidents a replayed click moved
away from what the last real click set.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobtriage import app
from jobtriage.incident.model import State
from jobtriage.incident.store import MemoryStore
from jobtriage.ownlog import LOGGER_NAME
from standins.load.forged import ghost_executions, with_forged_successes, with_ghost_failures
from standins.load.harness import (
    Harness,
    HarnessConfig,
    Journal,
    Killed,
    ObservedStore,
    RunReport,
    click_body,
    sign,
    storm_plan,
)
from standins.server import Reply

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Row:
    name: str
    failures: int = 0
    once: int = 0
    duplicated: int = 0
    lost: int = 0
    wrongly_closed: int = 0
    faults: int = 0  # how many faults were injected
    unhandled: int = 0

    def add(self, other: Row) -> None:
        for f in (
            "failures",
            "once",
            "duplicated",
            "lost",
            "wrongly_closed",
            "faults",
            "unhandled",
        ):
            setattr(self, f, getattr(self, f) + getattr(other, f))


class KillingStore(ObservedStore):
    """An ObservedStore whose instance dies right before the store calls numbered in `at`."""

    def __init__(self, inner: Any, journal: Journal, at: set[int]) -> None:
        super().__init__(inner, journal)
        self.at = at
        self.count = 0

    def __getattr__(self, name: str) -> Any:
        target = super().__getattr__(name)
        if not callable(target) or name.startswith("_"):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.count += 1
                die = self.count in self.at
            if die:
                self.killed.append(f"{name}#{self.count}")
                raise Killed(name)
            return target(*args, **kwargs)

        return call


def _counted(name: str, report: RunReport, *, faults: int, wrongly_closed: int = 0) -> Row:
    account = report.account()
    return Row(
        name=name,
        failures=len(report.plan.failed_executions),
        once=len(account["posted"]) + len(account["held"]),
        duplicated=len(account["duplicated"]),
        lost=len(account["lost"]) + len(report.dead_letters),
        wrongly_closed=wrongly_closed,
        faults=faults,
        unhandled=len(report.unhandled),
    )


def _after(h: Harness, virtual_seconds: float, action: Callable[[], None]) -> None:
    timer = threading.Timer(virtual_seconds * h.vt.scale, action)
    timer.daemon = True
    timer.start()


def _config(scale: float, **kw: Any) -> HarnessConfig:
    return HarnessConfig(workers=3, scale=scale, start=START, **kw)


def slack_slow(scale: float, seed: int) -> Row:
    plan = storm_plan(jobs=4, per_job=3, within=60.0, duplicates=0.1, seed=seed)
    with Harness(_config(scale, slack_timeout=1), plan) as h:
        h.slack.answer_late("chat.postMessage", seconds=1.5, times=3)
        h.publish_plan()
        report = h.run(timeout=300)
    return _counted("Slack slow (accepts, answers after the timeout)", report, faults=3)


def slack_down(scale: float, seed: int) -> Row:
    plan = storm_plan(jobs=4, per_job=3, within=300.0, duplicates=0.1, seed=seed)
    with Harness(_config(scale), plan) as h:
        h.slack.go_down(Reply(503, "<html>upstream connect error</html>"))
        _after(h, 300.0, h.slack.come_back)
        h.publish_plan()
        report = h.run(timeout=300)
    return _counted("Slack down for five minutes", report, faults=1)


def kills_random(scale: float, seed: int) -> Row:
    plan = storm_plan(jobs=4, per_job=3, within=60.0, duplicates=0.1, seed=seed)
    rng = random.Random(seed)
    at = set(rng.sample(range(1, 120), 8))
    with Harness(_config(scale), plan) as h:
        h.store = KillingStore(MemoryStore(), h.journal, at)
        h.publish_plan()
        report = h.run(timeout=300)
        faults = len(h.store.killed)
    return _counted("Killed at random points", report, faults=faults)


def kills_round_trip(scale: float, seed: int) -> Row:
    plan = storm_plan(jobs=4, per_job=3, within=60.0, duplicates=0.0, seed=seed)
    rng = random.Random(seed)
    victims = rng.sample(sorted(plan.failed_executions), 4)
    with Harness(_config(scale), plan) as h:
        h.store.kill_on_record.update(victims)
        h.publish_plan()
        report = h.run(timeout=300)
        faults = len(h.store.killed)
    return _counted("Killed after Slack answered, before the record", report, faults=faults)


def forged_success(scale: float, seed: int) -> Row:
    plan = storm_plan(jobs=3, per_job=2, within=30.0, duplicates=0.0, seed=seed)
    plan = with_forged_successes(plan, at=120.0, start=START)
    with Harness(_config(scale), plan) as h:
        h.publish_plan()
        report = h.run(timeout=300)
        closed = sum(
            1
            for i in h.store.inner._incidents.values()
            if i.state is State.RECOVERED  # no real success happened
        )
    faults = len(plan.jobs)
    return _counted("Forged success events", report, faults=faults, wrongly_closed=closed)


def forged_failure(scale: float, seed: int) -> Row:
    plan = storm_plan(jobs=3, per_job=2, within=30.0, duplicates=0.0, seed=seed)
    plan = with_ghost_failures(plan, count=3, at=10.0)
    with Harness(_config(scale), plan) as h:
        h.publish_plan()
        report = h.run(timeout=300)
    ghosts = ghost_executions(plan)
    row = _counted("Forged failure events (unknown job)", report, faults=len(ghosts))
    # an alert for a job that does not exist is a false alarm: counted with the duplicates
    row.duplicated += sum(1 for g in ghosts for p in report.posted if g in p.body())
    return row


def replayed_click(scale: float, seed: int) -> Row:
    """Acknowledge (captured), then a later Snooze, then the captured Acknowledge again."""
    plan = storm_plan(jobs=1, per_job=1, within=1.0, duplicates=0.0, seed=seed)
    with Harness(_config(scale), plan) as h:
        h.publish_plan()
        report = h.run(timeout=300)
        rt = h.runtime(clicks=True)
        incident = next(iter(h.store.inner._incidents.values()))
        base = h.vt.now().timestamp()
        ts = str(incident.ts)
        captured = _click(incident.id, "ack", action_ts=f"{base:.6f}", message_ts=ts)
        later = _click(
            incident.id, "snooze:24h", user="U0ONCALL2", action_ts=f"{base + 30:.6f}", message_ts=ts
        )
        for body in (captured, later, captured):
            stamp = int(h.vt.now().timestamp())
            app.handle_slack_request(body, sign(body, timestamp=stamp), rt=rt)
        final = h.store.inner.get(incident.id)
    wrong = 0 if final is not None and final.state is State.SNOOZED else 1
    return _counted("Replayed click after a later one", report, faults=1, wrongly_closed=wrong)


def _click(
    incident_id: str, action: str, *, action_ts: str, message_ts: str, user: str = "U0ONCALL1"
) -> bytes:
    """A signed-form click, with the `action_ts` Slack stamps on every block action."""
    import urllib.parse

    body = click_body(incident_id, action, user=user, ts=message_ts)
    payload = json.loads(urllib.parse.unquote(body.decode()[len("payload=") :]))
    for element in payload["actions"]:
        element["action_ts"] = action_ts
    return ("payload=" + urllib.parse.quote(json.dumps(payload))).encode()


ROWS: dict[str, Callable[[float, int], Row]] = {
    "slack_slow": slack_slow,
    "slack_down": slack_down,
    "kills_random": kills_random,
    "kills_round_trip": kills_round_trip,
    "forged_success": forged_success,
    "forged_failure": forged_failure,
    "replayed_click": replayed_click,
}


def run(scale: float, seeds: int, only: list[str] | None = None) -> list[Row]:
    logging.getLogger(LOGGER_NAME).setLevel(logging.CRITICAL)
    rows: list[Row] = []
    for key, fn in ROWS.items():
        if only and key not in only:
            continue
        total: Row | None = None
        for s in range(seeds):
            got = fn(scale, 20261206 + s)
            if total is None:
                total = got
            else:
                total.add(got)
        assert total is not None
        rows.append(total)
    return rows


def print_table(rows: list[Row], seeds: int) -> None:
    print(f"{seeds} run(s) a row; counts are summed over the runs\n")
    print("| fault | faults | failures | posted once | duplicated | lost | wrongly closed |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.name} | {r.faults} | {r.failures} | {r.once} | {r.duplicated} | {r.lost} "
            f"| {r.wrongly_closed} |"
        )
    bugs = sum(r.unhandled for r in rows)
    if bugs:
        print(f"\n{bugs} unhandled exception(s) (a bug: functions-framework would answer 500)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=sorted(ROWS))
    args = parser.parse_args()
    print_table(run(args.scale, args.seeds, args.only), args.seeds)


if __name__ == "__main__":
    main()
