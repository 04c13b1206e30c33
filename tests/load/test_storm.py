"""A failure storm, end to end: 200 failures of 20 jobs within a minute, in random order, some
delivered twice, three function instances, Slack at one message a second per channel (429 +
Retry-After beyond it) and Logging at 60 reads a minute (429 beyond it).

Run 20 times faster than real time (`scale`); bench/storm.py runs the same storm in real time and
reports its figures. Only counts and invariants are asserted here, never durations.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from jobtriage import pipeline
from jobtriage.ownlog import LOGGER_NAME
from tests.load.harness import CHANNEL, Harness, HarnessConfig, RunReport, storm_plan

SCALE = 0.05


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    logger = logging.getLogger(LOGGER_NAME)
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def run_storm(**config: object) -> RunReport:
    plan = storm_plan(jobs=20, per_job=10)
    clicks = [(plan.events[0].job, "snooze:1h"), (plan.events[7].job, "ack")]
    cfg = HarnessConfig(workers=3, scale=SCALE, clicks=clicks, **config)  # type: ignore[arg-type]
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
    # three alerts stand alone, then one digest per window (a storm may straddle two)
    assert 1 <= len(digests) <= 2
    assert len(top) <= pipeline.DIGEST_AFTER * len(digests) + len(digests)
    in_digest = [p for p in storm.posted if p.thread_ts in {d.ts for d in digests}]
    assert len(in_digest) >= 20 - pipeline.DIGEST_AFTER * len(digests)
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
