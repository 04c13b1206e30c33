"""A failure storm, end to end: 200 failures of 20 jobs within a minute, in random order, some
delivered twice, three function instances, Slack at one message a second per channel (429 +
Retry-After beyond it) and Logging at 60 reads a minute (429 beyond it).

Run 20 times faster than real time (`scale`); bench/storm.py runs the same storm in real time and
reports its figures. Only counts and invariants are asserted here, never durations.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from jobtriage.incident import ledger
from jobtriage.ownlog import LOGGER_NAME
from standins.load.harness import CHANNEL, Harness, HarnessConfig, RunReport, storm_plan

SCALE = 0.05


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    logger = logging.getLogger(LOGGER_NAME)
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def window_start(now: datetime) -> datetime:
    """The start of the digest window `now` is in (windows are fixed, from the epoch)."""
    seconds = ledger.DIGEST_WINDOW.total_seconds()
    return datetime.fromtimestamp(now.timestamp() // seconds * seconds, UTC)


def run_storm(**config: object) -> RunReport:
    plan = storm_plan(jobs=20, per_job=10)
    clicks = [(plan.events[0].job, "snooze:1h"), (plan.events[7].job, "ack")]
    # Start each run at the beginning of a digest window: where the storm falls among the fixed
    # 10-minute windows then never depends on the time of day the tests run at.
    start = window_start(datetime.now(UTC)) + timedelta(seconds=1)
    cfg = HarnessConfig(workers=3, scale=SCALE, clicks=clicks, start=start, **config)  # type: ignore[arg-type]
    with Harness(cfg, plan) as h:
        h.publish_plan()
        report = h.run(timeout=300)
        assert h.click_answers == [200, 200]
    return report


@pytest.fixture(scope="module")
def storm() -> Iterator[RunReport]:
    logger = logging.getLogger(LOGGER_NAME)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield run_storm()
    finally:
        logger.setLevel(level)


def test_every_failure_is_accounted_for_once(storm: RunReport) -> None:
    account = storm.account()
    assert account["duplicated"] == []
    assert account["lost"] == []
    assert account["posted_and_held"] == []
    assert len(account["posted"]) + len(account["held"]) == 200
    # the snooze held some back, the acknowledgement made some replies quiet
    assert account["held"]
    assert storm.actions()["quiet_reply"] > 0


def test_nothing_dead_lettered_nothing_unhandled(storm: RunReport) -> None:
    assert storm.dead_letters == []
    assert storm.unhandled == []
    assert all(m.acked_at is not None for m in storm.messages)
    # every duplicate delivery was recognised as such
    assert storm.actions()["duplicate"] == len(storm.messages) - 200


def test_logging_quota_is_never_overrun(storm: RunReport) -> None:
    assert storm.logging_quota_refusals == 0
    # the budget said no instead, and those reports say logs were skipped
    assert storm.budget_refused > 0
    skipped = [p for p in storm.posted if "Logs not read for this one" in p.body()]
    assert skipped


def test_the_channel_gets_a_digest_not_twenty_alerts(storm: RunReport) -> None:
    top = storm.top_level
    digests = [p for p in top if "Many jobs are failing at once" in p.body()]
    assert len(digests) >= 1
    # Per digest window: at most three alerts stand alone, then at most one digest. (The run
    # starts at a window's start; on a very slow machine it may still reach the next one.)
    assert storm.config.start is not None
    seconds = ledger.DIGEST_WINDOW.total_seconds()
    by_window: dict[int, list[str]] = defaultdict(list)
    for post in top:
        window = int((storm.config.start.timestamp() + post.at) // seconds)
        by_window[window].append("digest" if post in digests else "alert")
    for kinds in by_window.values():
        assert kinds.count("digest") <= 1, by_window
        assert kinds.count("alert") <= ledger.DIGEST_AFTER, by_window
    in_digest = [p for p in storm.posted if p.thread_ts in {d.ts for d in digests}]
    assert len(in_digest) >= 20 - ledger.DIGEST_AFTER * len(by_window)
    assert all(p.channel == CHANNEL for p in storm.posted)


def test_every_job_got_its_alert(storm: RunReport) -> None:
    alerted = {
        m.event.job
        for m in storm.messages
        if m.result is not None and m.result.action == "new_alert"
    }
    assert alerted == storm.plan.jobs


def test_without_the_budget_logging_answers_429() -> None:
    """What the read budget is for: the same storm without it overruns Logging's quota."""
    report = run_storm(logging_budget_per_minute=0)
    assert report.logging_quota_refusals > 0
    account = report.account()
    assert account["duplicated"] == account["lost"] == []
