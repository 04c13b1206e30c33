"""A failure storm, end to end: 200 failures of 20 jobs within a minute, in random order, some
delivered twice, three function instances, Slack at one message a second per channel (429 +
Retry-After beyond it) and Logging at 60 reads a minute (429 beyond it).

Run 20 times faster than real time (`scale`); bench/storm.py runs the same storm in real time and
reports its figures. Only counts and invariants are asserted here, never durations.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from jobtriage import app
from jobtriage.event import PUBSUB_EVENT_TYPE
from jobtriage.incident import ledger
from jobtriage.ownlog import LOGGER_NAME
from standins.load.harness import (
    CHANNEL,
    FROZEN,
    Harness,
    HarnessConfig,
    RunReport,
    pubsub_data,
    storm_plan,
)

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


def run_storm(*, offset: timedelta = timedelta(seconds=1), **config: object) -> RunReport:
    plan = storm_plan(jobs=20, per_job=10)
    clicks = [(plan.events[0].job, "snooze:1h"), (plan.events[7].job, "ack")]
    # Start each run `offset` into a digest window: where the storm falls among the fixed
    # 10-minute windows then never depends on the time of day the tests run at.
    start = window_start(datetime.now(UTC)) + offset
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
    # every duplicate delivery was recognised as nothing to do: a duplicate (its claim is
    # finished), or an execution already named in a reply ("coalesced" — on the instance that
    # posted the reply, without a store call); one delivery per failure did the work
    nothing = ("duplicate", "coalesced")
    work = Counter(
        m.event.execution
        for m in storm.messages
        if m.result is not None and m.result.action not in nothing
    )
    assert max(work.values()) == 1
    actions = storm.actions()
    assert actions["duplicate"] + actions["coalesced"] >= len(storm.messages) - 200
    assert actions["duplicate"] + actions["coalesced"] == len(storm.messages) - len(work)


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


@pytest.mark.parametrize(("budget", "overrun"), [(0, True), (4, False)])
def test_what_the_read_budget_is_for(budget: int, overrun: bool) -> None:
    """Twelve new failures within one minute against a Logging quota of six reads a minute:
    without the budget (0 = unlimited) Logging answers 429; with it the function never asks
    beyond its share. One delivery at a time on a clock that moves only when told to, so the
    outcome does not depend on how busy the machine is."""
    plan = storm_plan(jobs=12, per_job=1, within=0.0, duplicates=0.0, seed=11)
    config = HarnessConfig(
        workers=1,
        scale=FROZEN,
        logging_quota_per_minute=6,
        logging_budget_per_minute=budget,
        slack_posts_per_second=None,
        start=window_start(datetime.now(UTC)) + timedelta(seconds=1),
    )
    with Harness(config, plan) as h:
        rt = h.runtime()
        for event in plan.events:
            data = pubsub_data(event.entry, event.message_id)
            app.handle_cloud_event(PUBSUB_EVENT_TYPE, data, rt=rt, event_id=event.message_id)
            h.vt.advance(1.0)
        refusals = h.replay.quota_refusals
        bodies = [p.body() for p in h.slack.messages()]
    assert (refusals > 0) is overrun
    # every failure still reached the channel, once
    for event in plan.events:
        assert sum(event.execution in b for b in bodies) == 1, event.execution


def test_a_storm_across_a_window_boundary_still_gets_one_digest() -> None:
    """The same storm starting 30 s before a digest window ends (its failures arrive over a
    minute): the channel still gets three alerts and one digest, not a second set after the
    boundary — the digest carries into the next window."""
    report = run_storm(offset=ledger.DIGEST_WINDOW - timedelta(seconds=30))
    account = report.account()
    assert account["duplicated"] == []
    assert account["lost"] == []
    top = report.top_level
    digests = [p for p in top if "Many jobs are failing at once" in p.body()]
    assert len(digests) == 1, [p.body()[:60] for p in top]
    assert len(top) <= ledger.DIGEST_AFTER + 1
