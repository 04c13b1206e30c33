"""The first failure of an incident, through the whole product (replayed Google APIs, the fake
Slack, the store), one delivery at a time on a frozen clock: diagnosed first, then its
execution claim and its incident's opening claim are created in one write — and a second
delivery of it, at any moment, posts nothing twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from jobtriage import app
from jobtriage.errors import TransientError
from jobtriage.event import PUBSUB_EVENT_TYPE, parse_cloud_event_data
from jobtriage.incident.ledger import CLAIM_LEASE, OPENING_LEASE, ClaimKind, claim_key
from jobtriage.pipeline import EventResult
from jobtriage.runtime import Runtime
from standins.load.harness import (
    FROZEN,
    Harness,
    HarnessConfig,
    PlannedEvent,
    pubsub_data,
    storm_plan,
)

START = datetime(2026, 11, 2, 9, 0, 1, tzinfo=UTC)
FINGERPRINT = "entrypoint_runtime:ERR_REQUIRE_ESM"  # what the plan's job fails with


@pytest.fixture
def h() -> Iterator[Harness]:
    plan = storm_plan(jobs=1, per_job=2, within=0.0, duplicates=0.0, seed=3)
    with Harness(HarnessConfig(workers=1, scale=FROZEN, start=START), plan) as harness:
        yield harness


def _deliver(rt: Runtime, event: PlannedEvent) -> EventResult | None:
    data = pubsub_data(event.entry, event.message_id)
    return app.handle_cloud_event(PUBSUB_EVENT_TYPE, data, rt=rt, event_id=event.message_id)


def _execution_key(event: PlannedEvent) -> str:
    data = pubsub_data(event.entry, event.message_id)
    ref = parse_cloud_event_data(PUBSUB_EVENT_TYPE, data).ref
    return claim_key(ClaimKind.EXECUTION, ref.execution_path)


def test_the_first_failure_takes_both_claims_in_one_write(h: Harness) -> None:
    alert = h.plan.events[0]
    result = _deliver(h.runtime(), alert)
    assert result is not None
    assert result.action == "new_alert"
    calls = Counter(h.store.calls)
    assert calls["claim_both"] == 1
    # The only other claim is the alert's place among the channel's first messages.
    assert calls["claim"] == 1
    assert calls["open_incident"] == 1  # under the opening claim: opened meanwhile?
    assert len(h.slack.messages()) == 1
    # The execution's claim ended with the incident's creation; the opening claim is free.
    done = h.store.inner.claim(
        _execution_key(alert), now=h.runtime().clock.now(), lease=CLAIM_LEASE
    )
    assert done.outcome.value == "done"


def test_a_duplicate_while_the_first_holds_the_claims_posts_nothing(h: Harness) -> None:
    """Another delivery of the same failure holds the execution claim: the pair cannot be
    written, this one claims alone, finds it busy and is redelivered later; by then the claim
    is done and nothing is posted again."""
    alert = h.plan.events[0]
    rt = h.runtime()
    held = h.store.inner.claim(_execution_key(alert), now=rt.clock.now(), lease=CLAIM_LEASE)
    with pytest.raises(TransientError, match="in progress"):
        _deliver(rt, alert)
    assert h.slack.messages() == []
    # Nothing was left taken: once the holder lets go, the failure opens its incident at once.
    assert h.store.inner.release(held.key, holder=held.holder) is True
    result = _deliver(rt, alert)
    assert result is not None
    assert result.action == "new_alert"
    again = _deliver(h.runtime(), alert)
    assert again is not None
    assert again.action == "duplicate"
    assert len(h.slack.messages()) == 1


def test_an_incident_being_opened_by_another_failure_makes_this_one_wait(h: Harness) -> None:
    """Another execution of the job holds the opening claim of the same incident: the pair
    cannot be written; this one claims its execution alone, finds the opening busy, lets its
    own claim go and is redelivered — then it replies in the incident the other opened."""
    first, second = h.plan.events[:2]
    rt = h.runtime()
    job_path = parse_cloud_event_data(
        PUBSUB_EVENT_TYPE, pubsub_data(first.entry, first.message_id)
    ).ref.job_path
    opening = claim_key(ClaimKind.OPENING, job_path, FINGERPRINT)
    held = h.store.inner.claim(opening, now=rt.clock.now(), lease=OPENING_LEASE)
    with pytest.raises(TransientError, match="being opened"):
        _deliver(rt, second)
    assert h.slack.messages() == []
    # Its execution claim was released: the redelivery starts at once.
    retry = h.store.inner.claim(_execution_key(second), now=rt.clock.now(), lease=CLAIM_LEASE)
    assert retry.outcome.value == "new"
    assert h.store.inner.release(retry.key, holder=retry.holder) is True
    # The other one opens the incident (its opening claim taken over as the same holder would).
    assert h.store.inner.release(opening, holder=held.holder) is True
    opened = _deliver(rt, first)
    assert opened is not None
    assert opened.action == "new_alert"
    [incident] = h.store.inner._incidents.values()
    assert incident.fingerprint == FINGERPRINT
    replied = _deliver(rt, second)
    assert replied is not None
    assert replied.action == "thread_reply"
    assert len(h.slack.messages()) == 2
