"""Repeats posted together, through the whole product (replayed Google APIs, the fake Slack, the
store), one delivery at a time on a clock that moves only when the test says so.

What on-call sees: the alert; the first repeat at once; then, for repeats that come within the
window after a reply, ONE reply naming each of them — and every execution named exactly once,
even when the delivery posting it dies after Slack answered.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from jobtriage import app
from jobtriage.errors import Deferred, TransientError
from jobtriage.event import PUBSUB_EVENT_TYPE, parse_cloud_event_data
from jobtriage.evidence import JobEvent
from jobtriage.incident.coalesce import COALESCE_WINDOW
from jobtriage.incident.decide import Action, Decision, new_incident
from jobtriage.incident.ledger import CLAIM_LEASE, ClaimKind, Delivery, claim_key
from jobtriage.incident.memory import History
from jobtriage.incident.model import MISSED_RUN
from jobtriage.pipeline import Diagnosed, EventResult, _on_failure
from jobtriage.runtime import Runtime
from standins.load.harness import (
    CHANNEL,
    FROZEN,
    Harness,
    HarnessConfig,
    Killed,
    PlannedEvent,
    pubsub_data,
    storm_plan,
)

START = datetime(2026, 11, 2, 9, 0, 1, tzinfo=UTC)


@pytest.fixture
def h() -> Iterator[Harness]:
    plan = storm_plan(jobs=1, per_job=5, within=0.0, duplicates=0.0, seed=3)
    with Harness(HarnessConfig(workers=1, scale=FROZEN, start=START), plan) as harness:
        yield harness


def _deliver(rt: Runtime, event: PlannedEvent) -> EventResult | None:
    data = pubsub_data(event.entry, event.message_id)
    return app.handle_cloud_event(PUBSUB_EVENT_TYPE, data, rt=rt, event_id=event.message_id)


def _replies(h: Harness) -> list[str]:
    return [p.body() for p in h.slack.messages() if p.thread_ts is not None]


class _SlowDelivery:
    """One delivery on a thread of its own that has read its incident and then diagnoses until
    `finish()`: what another instance decides meanwhile, it does not see."""

    def __init__(self, h: Harness, event: PlannedEvent) -> None:
        self._diagnosing, self._go_on = threading.Event(), threading.Event()
        rt = h.runtime()
        rt.on_report = self._slow
        self._results: list[EventResult | None] = []
        self._thread = threading.Thread(target=lambda: self._results.append(_deliver(rt, event)))
        self._thread.start()
        assert self._diagnosing.wait(10)

    def _slow(self, *_: object) -> None:
        self._diagnosing.set()
        assert self._go_on.wait(10)

    def finish(self) -> list[str]:
        """Let the diagnosis end; the actions the delivery took."""
        self._go_on.set()
        self._thread.join(10)
        assert not self._thread.is_alive()
        return [r.action for r in self._results if r]


def _named(h: Harness, execution: str) -> int:
    return sum(execution in p.body() for p in h.slack.messages())


def test_repeats_within_the_window_become_one_reply(h: Harness) -> None:
    rt = h.runtime()
    alert, first, second, third, fourth = h.plan.events
    assert _deliver(rt, alert).action == "new_alert"  # type: ignore[union-attr]
    h.vt.advance(2)
    assert _deliver(rt, first).action == "thread_reply"  # type: ignore[union-attr]
    # Within the window after that reply: counted, and handed back to Pub/Sub.
    for event in (second, third, fourth):
        h.vt.advance(2)
        with pytest.raises(Deferred):
            _deliver(rt, event)
    assert len(_replies(h)) == 1
    [incident] = h.store.inner._incidents.values()
    assert incident.failures == 5  # the parent's counter is right at once
    # The first redelivery after the window posts one reply for all three.
    h.vt.advance(COALESCE_WINDOW.total_seconds())
    result = _deliver(rt, third)
    assert result is not None
    assert result.action == "thread_reply"
    replies = _replies(h)
    assert len(replies) == 2
    for event in (second, third, fourth):
        assert event.execution in replies[-1]
    # Their redeliveries post nothing: on this instance, which posted the reply, without a store
    # call; on another, the store says so (and finishes the claim: then a duplicate).
    calls = sum(h.store.calls.values())
    assert _deliver(rt, second).action == "coalesced"  # type: ignore[union-attr]
    assert _deliver(rt, fourth).action == "coalesced"  # type: ignore[union-attr]
    assert sum(h.store.calls.values()) == calls
    other = h.runtime()
    assert _deliver(other, fourth).action == "coalesced"  # type: ignore[union-attr]
    assert _deliver(other, fourth).action == "duplicate"  # type: ignore[union-attr]
    assert len(h.slack.messages()) == 3
    for event in h.plan.events:
        assert _named(h, event.execution) == 1, event.execution
    # the parent message shows the count
    assert "5 times" in json.dumps(h.slack.messages("chat.update")[-1].blocks)


def test_a_redelivery_before_the_window_ends_is_answered_without_the_store(h: Harness) -> None:
    """The instance that deferred a repeat knows until when it waits: a redelivery before then
    is handed back at once (no store call, nothing posted); after it, the store decides."""
    rt = h.runtime()
    alert, first, second, *_ = h.plan.events
    _deliver(rt, alert)
    h.vt.advance(2)
    _deliver(rt, first)
    h.vt.advance(2)
    with pytest.raises(Deferred):
        _deliver(rt, second)
    calls, posts = sum(h.store.calls.values()), len(h.slack.messages())
    h.vt.advance(10)  # Pub/Sub's first redelivery, still inside the window
    with pytest.raises(Deferred, match="not before"):
        _deliver(rt, second)
    assert sum(h.store.calls.values()) == calls
    assert len(h.slack.messages()) == posts
    # Another instance knows nothing of it: the store says the same.
    with pytest.raises(Deferred):
        _deliver(h.runtime(), second)
    assert sum(h.store.calls.values()) > calls
    # After the window: posted once, by the redelivery.
    h.vt.advance(COALESCE_WINDOW.total_seconds())
    result = _deliver(rt, second)
    assert result is not None
    assert result.action == "thread_reply"
    assert _named(h, second.execution) == 1


def _two_waiting(h: Harness) -> tuple[Runtime, tuple[PlannedEvent, ...]]:
    """The alert, one reply, then two repeats counted and waiting; the window has passed."""
    rt = h.runtime()
    alert, first, second, third, _ = h.plan.events
    _deliver(rt, alert)
    h.vt.advance(2)
    _deliver(rt, first)
    for event in (second, third):
        h.vt.advance(2)
        with pytest.raises(Deferred):
            _deliver(rt, event)
    h.vt.advance(COALESCE_WINDOW.total_seconds())
    return rt, (alert, first, second, third)


def test_the_poster_dying_after_slack_answered_posts_nothing_twice(h: Harness) -> None:
    rt, (alert, first, second, third) = _two_waiting(h)
    # Slack answered the reply naming both; the delivery died before the incident write that
    # records it (and ends the delivery).
    h.store.kill_on_record.add(second.execution)
    with pytest.raises(Killed):
        _deliver(rt, second)
    assert len(_replies(h)) == 2
    # The other one, redelivered meanwhile, waits: someone is posting it.
    with pytest.raises(Deferred):
        _deliver(rt, third)
    # The dead delivery's lease runs out; its redelivery finds the reply in Slack (its
    # metadata) and finishes the bookkeeping only.
    h.vt.advance(CLAIM_LEASE.total_seconds() + 1)
    assert _deliver(rt, second).action == "thread_reply"  # type: ignore[union-attr]
    assert len(h.slack.calls("conversations.replies")) == 1
    assert _deliver(rt, third).action == "coalesced"  # type: ignore[union-attr]
    assert len(_replies(h)) == 2
    for event in (alert, first, second, third):
        assert _named(h, event.execution) == 1, event.execution


def test_the_poster_dying_after_its_record_leaves_nothing_to_do(h: Harness) -> None:
    """The record is the incident write that ends the delivery: dying after it, everything is
    done — the redeliveries post nothing and look nothing up."""
    rt, (alert, first, second, third) = _two_waiting(h)
    h.store.kill_after_record.add(second.execution)
    with pytest.raises(Killed):
        _deliver(rt, second)
    assert _deliver(rt, second).action == "duplicate"  # type: ignore[union-attr]
    assert _deliver(rt, third).action == "coalesced"  # type: ignore[union-attr]
    assert h.slack.calls("conversations.replies") == []
    assert len(_replies(h)) == 2
    for event in (alert, first, second, third):
        assert _named(h, event.execution) == 1, event.execution


def test_a_missed_run_incident_does_not_swallow_a_real_failure() -> None:
    """A job with only a missed-run incident open fails: that failure is diagnosed with its logs
    (even when the read budget is down to its reserve) and gets an alert of its own — it is not
    counted into the missed run as a repeat of unknown cause."""
    plan = storm_plan(jobs=2, per_job=2, within=0.0, duplicates=0.0, seed=4)
    config = HarnessConfig(
        workers=1,
        scale=FROZEN,
        start=START,
        logging_budget_per_minute=2,  # one read for repeats, one more kept for new incidents
    )
    with Harness(config, plan) as h:
        rt = h.runtime()
        jobs = sorted(plan.jobs)
        quiet, missed = (
            [e for e in plan.events if e.job == jobs[0]],
            [e for e in plan.events if e.job == jobs[1]],
        )
        job_path = h._job_path(jobs[1])
        draft = new_incident(
            job_path=job_path, fingerprint=MISSED_RUN, execution="", now=h.vt.now()
        )
        h.store.inner.create(replace(draft, channel=CHANNEL, ts="1762074000.000100"))
        # The other job's repeat uses up the reads a repeat may make this minute.
        assert _deliver(rt, quiet[0]).action == "new_alert"  # type: ignore[union-attr]
        h.vt.advance(1)
        _deliver(rt, quiet[1])
        h.vt.advance(1)
        result = _deliver(rt, missed[0])
        assert result is not None
        assert result.action == "new_alert"
        assert result.report is not None
        assert not result.report.log_stats.skipped


def _job_event(event: PlannedEvent) -> JobEvent:
    return parse_cloud_event_data(PUBSUB_EVENT_TYPE, pubsub_data(event.entry, event.message_id))


def _claim_key(event: PlannedEvent) -> str:
    return claim_key(ClaimKind.EXECUTION, _job_event(event).ref.execution_path)


def test_a_repeat_that_waits_is_counted_in_one_write_without_a_claim(h: Harness) -> None:
    """Inside the window after a reply, a new repeat is counted (the parent's counter is right)
    and waits: one incident write, and no claim of its own is ever written."""
    rt = h.runtime()
    alert, first, second, *_ = h.plan.events
    _deliver(rt, alert)
    h.vt.advance(2)
    _deliver(rt, first)
    h.vt.advance(2)
    before = Counter(h.store.calls)
    with pytest.raises(Deferred, match="counted"):
        _deliver(rt, second)
    made = Counter(h.store.calls) - before
    assert made == Counter({"job_history": 1, "update": 1})
    key = _claim_key(second)
    assert key not in h.store.inner._deliveries
    [incident] = h.store.inner._incidents.values()
    assert second.execution in incident.pending
    assert incident.failures == 3
    # Its redelivery after the window claims it and posts it, once.
    h.vt.advance(COALESCE_WINDOW.total_seconds())
    result = _deliver(rt, second)
    assert result is not None
    assert result.action == "thread_reply"
    assert _named(h, second.execution) == 1


def test_a_repeat_another_delivery_holds_is_not_counted_without_its_claim(h: Harness) -> None:
    """While another delivery of the same execution holds its claim (it may have posted it and
    be about to count it), the unclaimed count is refused: this delivery is handed back to
    Pub/Sub (another delivery is in progress) and the incident does not change."""
    rt = h.runtime()
    alert, first, second, *_ = h.plan.events
    _deliver(rt, alert)
    h.vt.advance(2)
    _deliver(rt, first)
    h.vt.advance(2)
    key = _claim_key(second)
    held = h.store.inner.claim(key, now=rt.clock.now(), lease=CLAIM_LEASE)
    assert held.owned
    [before] = h.store.inner._incidents.values()
    with pytest.raises(TransientError, match="in progress"):
        _deliver(rt, second)
    [after] = h.store.inner._incidents.values()
    assert after == before
    assert second.execution not in after.pending


def test_a_repeat_counted_meanwhile_by_its_duplicate_still_gets_posted(h: Harness) -> None:
    """Two deliveries of one repeat: the second read the incident before the first counted it,
    and finds it counted when it reads again (logs skipped in a storm). It must not end its
    delivery as done while the repeat is still waiting: it waits too, and the repeat is named
    in the next reply."""
    rt = h.runtime()
    alert, first, second, *_ = h.plan.events
    opened = _deliver(rt, alert)
    assert opened is not None
    assert opened.report is not None
    h.vt.advance(2)
    _deliver(rt, first)
    h.vt.advance(2)
    [stale] = h.store.inner._incidents.values()
    with pytest.raises(Deferred):
        _deliver(rt, second)  # the first delivery: counted, waiting
    [counted] = h.store.inner._incidents.values()
    assert second.execution in counted.pending
    # The second delivery, after its diagnosis (as `_diagnose` decides on the incident read
    # again: the execution is already counted in it).
    event = _job_event(second)
    decision = Decision(Action.NOTHING, counted, execution=second.execution)
    read_at = rt.clock.now()
    diagnosed = Diagnosed(opened.report, counted.fingerprint, decision, History(), {}, read_at)
    key = _claim_key(second)
    delivery = Delivery(h.store.claim(key, now=rt.clock.now(), lease=CLAIM_LEASE))
    with pytest.raises(Deferred):
        _on_failure(event, delivery, rt, ([stale], None), read_at, diagnosed)
    rt.ledger.release(delivery)  # as process_event does on the way out
    # Its redelivery after the window posts it (its claim was not finished as done).
    h.vt.advance(COALESCE_WINDOW.total_seconds())
    result = _deliver(h.runtime(), second)
    assert result is not None
    assert result.action == "thread_reply"
    assert _named(h, second.execution) == 1


def test_a_reply_decided_on_a_stale_read_does_not_push_back_a_repeat_it_missed(
    h: Harness,
) -> None:
    """A repeat read its incident inside the window, and its diagnosis ran past the window's end:
    it posts a reply of its own. Another repeat counted meanwhile (after that read) is not named
    in that reply. The next window is measured from the read, so the missed repeat is posted by
    its redelivery 30 s after it was counted (Pub/Sub's second step) — not 40 s later, which is
    what kept the storm's channel from catching up."""
    rt = h.runtime()
    alert, first, second, third, _ = h.plan.events
    _deliver(rt, alert)
    h.vt.advance(2)
    _deliver(rt, first)  # the first reply: the window runs 30 s from here
    h.vt.advance(COALESCE_WINDOW.total_seconds() - 3)
    slow = _SlowDelivery(h, second)  # reads the incident inside the window, then diagnoses
    h.vt.advance(1)
    with pytest.raises(Deferred):
        _deliver(rt, third)  # counted after that read, and waiting
    h.vt.advance(3)  # the window has ended before the slow delivery decides
    assert slow.finish() == ["thread_reply"]
    assert third.execution not in _replies(h)[-1]
    # Pub/Sub's redeliveries of the waiting repeat: 10 s (inside the new window), then 30 s.
    h.vt.advance(10 - 3)
    with pytest.raises(Deferred):
        _deliver(h.runtime(), third)
    h.vt.advance(20)
    result = _deliver(h.runtime(), third)
    assert result is not None
    assert result.action == "thread_reply"
    for event in (alert, first, second, third):
        assert _named(h, event.execution) == 1, event.execution


def test_a_repeat_that_finds_its_incident_opened_meanwhile_starts_the_window_at_its_new_read(
    h: Harness,
) -> None:
    """Two executions of one job fail the same way at once. One reads no incident and diagnoses
    slowly; the other opens the incident meanwhile. The slow one, about to open it too, finds it
    open and replies in its thread instead — decided on the incident it has just read, so the
    window until the next reply runs from that read, not from the first read (which saw no
    incident at all). A repeat 25 s after that reply waits for the window; measured from the
    first read it would be posted at once, 5 s early, a second reply inside one window."""
    rt = h.runtime()
    alert, slow_one, later, *_ = h.plan.events
    slow = _SlowDelivery(h, slow_one)  # reads: no incident yet
    h.vt.advance(1)
    opened = _deliver(rt, alert)
    assert opened is not None
    assert opened.action == "new_alert"
    h.vt.advance(10)
    assert slow.finish() == ["thread_reply"]
    [incident] = h.store.inner._incidents.values()
    assert incident.last_reply_at == rt.clock.now()  # the new read, 11 s after the first
    h.vt.advance(COALESCE_WINDOW.total_seconds() - 5)
    with pytest.raises(Deferred):
        _deliver(rt, later)
    assert _named(h, later.execution) == 0
    for event in (alert, slow_one):
        assert _named(h, event.execution) == 1, event.execution
