"""One contract, every store: the same test functions run against MemoryStore, FirestoreStore on
the npm emulator and FirestoreStore on Google's emulator (where the machine has it).

Races decided by an update_time precondition run on every backend: the npm emulator enforces
those preconditions as our tests run it (standins/firestore-npm/server.cjs,
standins/FIRESTORE_EMULATOR.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar

import pytest

from jobtriage.incident.model import Incident, State
from jobtriage.incident.store import (
    Begin,
    Change,
    ClaimHeld,
    ClaimLost,
    ClaimOutcome,
    Finish,
    IncidentStore,
    PostAttempt,
    PostedMessage,
    Release,
    UnknownClaim,
    UnknownIncident,
)

T0 = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
LEASE = timedelta(minutes=5)
JOB = "projects/acme/locations/asia-northeast3/jobs/o4o-api-migrations"
OTHER_JOB = "projects/acme/locations/asia-northeast3/jobs/nightly-report"
KEY = f"{JOB}/executions/o4o-api-migrations-h5x5h"
LATER = T0 + LEASE + timedelta(seconds=1)
T = TypeVar("T")


def incident(n: int = 1, **changes: object) -> Incident:
    base = Incident(
        id=f"inc{n:04d}",
        job_path=JOB,
        fingerprint="entrypoint_runtime:ERR_REQUIRE_ESM",
        state=State.OPEN,
        opened_at=T0 + timedelta(minutes=n),
        updated_at=T0 + timedelta(minutes=n),
        first_execution="o4o-api-migrations-h5x5h",
        last_execution="o4o-api-migrations-h5x5h",
        last_failure_at=T0 + timedelta(minutes=n),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def race(n: int, fn: Callable[[int], T]) -> list[T]:
    """Run fn(i) in threads i = 0..n-1 released at the same moment; their results by i."""
    barrier = threading.Barrier(n)
    results: list[T | None] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = fn(i)
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


# --- delivery claims ---------------------------------------------------------------------------


def test_first_claim_is_new_and_a_finished_one_is_done(store: IncidentStore) -> None:
    first = store.claim(KEY, now=T0, lease=LEASE)
    assert first.outcome is ClaimOutcome.NEW
    assert first.owned
    assert first.attempt == 1
    assert first.posted is None
    assert first.lease_until == T0 + LEASE

    store.record_post(KEY, "C0123", "1740819600.000100")
    result = {"channel": "C0123", "ts": "1740819600.000100", "incident_id": "inc0001"}
    store.finish(KEY, result=result)

    again = store.claim(KEY, now=T0 + timedelta(hours=1), lease=LEASE)
    assert again.outcome is ClaimOutcome.DONE
    assert not again.owned
    assert again.result == result
    assert again.posted == PostedMessage("C0123", "1740819600.000100")
    assert again.lease_until is None


def test_fresh_claim_of_another_delivery_is_busy(store: IncidentStore) -> None:
    first = store.claim(KEY, now=T0, lease=LEASE)
    second = store.claim(KEY, now=T0 + LEASE - timedelta(seconds=1), lease=LEASE)
    assert second.outcome is ClaimOutcome.BUSY
    assert not second.owned
    assert second.holder == first.holder
    assert second.lease_until == T0 + LEASE


def test_expired_lease_is_taken_over_and_says_whether_it_posted(store: IncidentStore) -> None:
    store.claim(KEY, now=T0, lease=LEASE)
    store.record_post(KEY, "C0123", "1740819600.000100")  # posted, then died before finishing

    later = T0 + LEASE + timedelta(seconds=1)
    taken = store.claim(KEY, now=later, lease=LEASE)
    assert taken.outcome is ClaimOutcome.TAKEOVER
    assert taken.owned
    assert taken.attempt == 2
    assert taken.posted == PostedMessage("C0123", "1740819600.000100")
    assert taken.lease_until == later + LEASE

    # The new holder's lease is fresh again: a third delivery backs off.
    third = store.claim(KEY, now=later + timedelta(seconds=1), lease=LEASE)
    assert third.outcome is ClaimOutcome.BUSY
    assert third.holder == taken.holder


def test_takeover_before_any_post_has_nothing_posted(store: IncidentStore) -> None:
    store.claim(KEY, now=T0, lease=LEASE)
    taken = store.claim(KEY, now=T0 + LEASE, lease=LEASE)  # lease_until == now: expired
    assert taken.outcome is ClaimOutcome.TAKEOVER
    assert taken.posted is None


def test_release_lets_the_next_delivery_retry_at_once(store: IncidentStore) -> None:
    first = store.claim(KEY, now=T0, lease=LEASE)
    assert store.release(KEY, holder="someone-else") is False  # not the holder: kept
    assert store.claim(KEY, now=T0, lease=LEASE).outcome is ClaimOutcome.BUSY
    assert store.release(KEY, holder=first.holder) is True
    assert store.release(KEY) is False  # nothing left to release
    assert store.claim(KEY, now=T0 + timedelta(seconds=1), lease=LEASE).outcome is ClaimOutcome.NEW


def test_release_never_undoes_a_finished_delivery(store: IncidentStore) -> None:
    claim = store.claim(KEY, now=T0, lease=LEASE)
    store.finish(KEY, result={"channel": "C1", "ts": "1.2"})
    assert store.release(KEY, holder=claim.holder) is False
    assert store.claim(KEY, now=T0, lease=LEASE).outcome is ClaimOutcome.DONE


def test_recording_on_an_unclaimed_key_is_refused(store: IncidentStore) -> None:
    with pytest.raises(UnknownClaim):
        store.record_post("never-claimed", "C1", "1.2")
    with pytest.raises(UnknownClaim):
        store.finish("never-claimed", result={})


def test_claim_keys_of_any_shape_are_distinct(store: IncidentStore) -> None:
    keys = [KEY, KEY + "/", "a/b/../c", "한국어 키", "x" * 2000, "__name__"]
    assert [store.claim(k, now=T0, lease=LEASE).outcome for k in keys] == [ClaimOutcome.NEW] * 6


def test_claim_arguments_are_checked(store: IncidentStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.claim(KEY, now=datetime(2026, 3, 1, 9, 0), lease=LEASE)
    with pytest.raises(ValueError, match="lease"):
        store.claim(KEY, now=T0, lease=timedelta(0))
    with pytest.raises(ValueError, match="empty"):
        store.claim("", now=T0, lease=LEASE)
    store.claim(KEY, now=T0, lease=LEASE)
    with pytest.raises(ValueError, match="cannot be stored"):
        store.finish(KEY, result={"blob": object()})


def test_finish_result_round_trips(store: IncidentStore) -> None:
    store.claim(KEY, now=T0, lease=LEASE)
    result = {
        "channel": "C1",
        "ts": "1.2",
        "incident_id": "inc0001",
        "posted_at": T0,
        "replies": [1, 2.5, None, True, "텍스트"],
        "nested": {"a": {"b": "c"}},
    }
    store.finish(KEY, result=result)
    assert store.claim(KEY, now=T0, lease=LEASE).result == result


def test_racing_claims_yield_exactly_one_new(store: IncidentStore) -> None:
    for round_ in range(25):
        key = f"{KEY}-race-{round_}"
        claims = race(2, lambda _, key=key: store.claim(key, now=T0, lease=LEASE))
        outcomes = sorted(c.outcome for c in claims)
        assert outcomes == [ClaimOutcome.BUSY, ClaimOutcome.NEW], f"round {round_}"


def test_many_deliveries_racing_one_key_yield_one_new(store: IncidentStore) -> None:
    claims = race(8, lambda _: store.claim(KEY, now=T0, lease=LEASE))
    outcomes = [c.outcome for c in claims]
    assert outcomes.count(ClaimOutcome.NEW) == 1
    assert outcomes.count(ClaimOutcome.BUSY) == 7


def test_racing_takeovers_yield_exactly_one(store: IncidentStore) -> None:
    for round_ in range(10):
        key = f"{KEY}-takeover-{round_}"
        store.claim(key, now=T0, lease=LEASE)
        claims = race(2, lambda _, key=key: store.claim(key, now=LATER, lease=LEASE))
        outcomes = sorted(c.outcome for c in claims)
        assert outcomes == [ClaimOutcome.BUSY, ClaimOutcome.TAKEOVER], f"round {round_}"


# --- posts started, answers lost --------------------------------------------------------------


def test_a_started_post_renews_the_lease_and_a_takeover_sees_it_unsettled(
    store: IncidentStore,
) -> None:
    first = store.claim(KEY, now=T0, lease=LEASE)
    started = T0 + timedelta(seconds=200)  # evidence took a while
    store.begin_post(KEY, holder=first.holder, at=started, lease=LEASE, channel="C0123")
    # the lease now runs from the post's start: no takeover while it may still be answered
    assert store.claim(KEY, now=T0 + LEASE + timedelta(seconds=1), lease=LEASE).outcome is (
        ClaimOutcome.BUSY
    )
    taken = store.claim(KEY, now=started + LEASE, lease=LEASE)
    assert taken.outcome is ClaimOutcome.TAKEOVER
    assert taken.posted is None
    assert taken.unsettled == PostAttempt(started, "C0123", None)


def test_a_recorded_post_is_settled_and_remembers_its_thread(store: IncidentStore) -> None:
    first = store.claim(KEY, now=T0, lease=LEASE)
    store.begin_post(
        KEY, holder=first.holder, at=T0, lease=LEASE, channel="C0123", thread_ts="1740819000.000100"
    )
    store.record_post(KEY, "C0123", "1740819600.000100")
    taken = store.claim(KEY, now=LATER, lease=LEASE)
    assert taken.outcome is ClaimOutcome.TAKEOVER
    assert taken.unsettled is None
    assert taken.posted == PostedMessage("C0123", "1740819600.000100", "1740819000.000100")


def test_a_holder_that_was_taken_over_may_not_post(store: IncidentStore) -> None:
    first = store.claim(KEY, now=T0, lease=LEASE)
    taken = store.claim(KEY, now=LATER, lease=LEASE)
    assert taken.outcome is ClaimOutcome.TAKEOVER
    with pytest.raises(ClaimLost):
        store.begin_post(KEY, holder=first.holder, at=LATER, lease=LEASE, channel="C0123")
    store.begin_post(KEY, holder=taken.holder, at=LATER, lease=LEASE, channel="C0123")
    store.finish(KEY, result={"action": "new_alert"})
    with pytest.raises(ClaimLost):  # finished: nobody posts any more
        store.begin_post(KEY, holder=taken.holder, at=LATER, lease=LEASE, channel="C0123")
    with pytest.raises(UnknownClaim):
        store.begin_post("never-claimed", holder="x", at=T0, lease=LEASE, channel="C0123")


def test_release_after_a_started_post_keeps_the_record_and_frees_the_claim(
    store: IncidentStore,
) -> None:
    first = store.claim(KEY, now=T0, lease=LEASE)
    store.begin_post(KEY, holder=first.holder, at=T0, lease=LEASE, channel="C0123")
    assert store.release(KEY, holder=first.holder) is True  # the post timed out
    # free at once (not BUSY until the lease ends), but not forgotten (not NEW)
    again = store.claim(KEY, now=T0 + timedelta(seconds=1), lease=LEASE)
    assert again.outcome is ClaimOutcome.TAKEOVER
    assert again.owned
    assert again.attempt == 2
    assert again.unsettled == PostAttempt(T0, "C0123", None)
    assert store.claim(KEY, now=T0 + timedelta(seconds=2), lease=LEASE).outcome is (
        ClaimOutcome.BUSY
    )
    # found in Slack and recorded: the claim is settled for whoever comes next
    store.record_post(KEY, "C0123", "1740819600.000100")
    assert store.release(KEY, holder=again.holder) is True
    third = store.claim(KEY, now=T0 + timedelta(seconds=3), lease=LEASE)
    assert third.outcome is ClaimOutcome.TAKEOVER
    assert third.unsettled is None
    assert third.posted == PostedMessage("C0123", "1740819600.000100")


def test_an_announced_claim_starts_its_post_in_the_write_that_creates_it(
    store: IncidentStore,
) -> None:
    expected = PostAttempt(T0, "C0123", "1740819000.000100")
    first = store.claim(KEY, now=T0, lease=LEASE, announce=expected)
    assert first.outcome is ClaimOutcome.NEW
    assert first.announced == expected
    assert first.unsettled is None
    # the holder died after posting: a takeover looks for that post, as after `begin_post`
    taken = store.claim(KEY, now=T0 + LEASE, lease=LEASE, announce=PostAttempt(LATER, "C9", None))
    assert taken.outcome is ClaimOutcome.TAKEOVER
    assert taken.unsettled == expected
    assert taken.announced is None  # a takeover's own announcement is not written


def test_releasing_an_announced_post_that_was_never_sent_forgets_it(
    store: IncidentStore,
) -> None:
    first = store.claim(KEY, now=T0, lease=LEASE, announce=PostAttempt(T0, "C0123", None))
    assert store.release(KEY, holder=first.holder, unsent=True) is True
    again = store.claim(KEY, now=T0 + timedelta(seconds=1), lease=LEASE)
    assert again.outcome is ClaimOutcome.NEW  # nothing to look for in Slack
    assert again.unsettled is None


def test_releasing_an_announced_post_that_was_sent_keeps_it(store: IncidentStore) -> None:
    first = store.claim(KEY, now=T0, lease=LEASE, announce=PostAttempt(T0, "C0123", None))
    assert store.release(KEY, holder=first.holder) is True  # the post timed out
    again = store.claim(KEY, now=T0 + timedelta(seconds=1), lease=LEASE)
    assert again.outcome is ClaimOutcome.TAKEOVER
    assert again.unsettled == PostAttempt(T0, "C0123", None)


def test_unsent_never_forgets_an_earlier_holders_post(store: IncidentStore) -> None:
    first = store.claim(KEY, now=T0, lease=LEASE)
    store.begin_post(KEY, holder=first.holder, at=T0, lease=LEASE, channel="C0123")
    taken = store.claim(KEY, now=T0 + LEASE, lease=LEASE)  # the first holder died posting
    assert store.release(KEY, holder=taken.holder, unsent=True) is True  # the taker sent nothing
    again = store.claim(KEY, now=T0 + LEASE + timedelta(seconds=1), lease=LEASE)
    assert again.outcome is ClaimOutcome.TAKEOVER
    assert again.unsettled == PostAttempt(T0, "C0123", None)


def test_a_release_in_an_update_forgets_an_unsent_announcement(store: IncidentStore) -> None:
    store.create(incident(1))
    first = store.claim(KEY, now=T0, lease=LEASE, announce=PostAttempt(T0, "C0123", None))
    store.update(
        incident(1).id,
        lambda cur: replace(cur, pending=("run-x",)),
        release=Release(KEY, first.holder, unsent=True),
    )
    assert store.claim(KEY, now=T0 + timedelta(seconds=1), lease=LEASE).outcome is (
        ClaimOutcome.NEW
    )


# --- incidents ---------------------------------------------------------------------------------


def test_create_is_create_if_absent(store: IncidentStore) -> None:
    first = incident(1)
    assert store.create(first) is True
    assert store.create(replace(first, fingerprint="db_connection:ECONNREFUSED")) is False
    assert store.get(first.id) == first
    assert store.get("inc9999") is None


def test_racing_creates_store_one_incident(store: IncidentStore) -> None:
    variants = [incident(7, first_execution=f"exec-{i}") for i in range(4)]
    created = race(4, lambda i: store.create(variants[i]))
    assert created.count(True) == 1
    stored = store.get("inc0007")
    assert stored is not None
    assert stored == variants[created.index(True)]


def test_every_field_round_trips_and_datetimes_come_back_in_utc(store: IncidentStore) -> None:
    kst = timezone(timedelta(hours=9))
    full = incident(
        2,
        state=State.SNOOZED,
        opened_at=datetime(2026, 3, 1, 18, 0, 0, 654321, tzinfo=kst),
        failures=3,
        channel="C0123",
        ts="1740819600.000100",
        acked_by="U1",
        acked_at=T0,
        snoozed_until=T0 + timedelta(hours=1),
        snooze_until_success=False,
        snoozed_by="U2",
        held_back=2,
        lang="ko",
        parent_blocks_json='[{"type": "section", "text": "마이그레이션 실패"}]',
    )
    assert store.create(full) is True
    got = store.get(full.id)
    assert got == full
    assert got is not None
    assert got.opened_at.tzinfo == UTC
    assert got.opened_at == datetime(2026, 3, 1, 9, 0, 0, 654321, tzinfo=UTC)
    assert type(got.opened_at) is datetime
    assert got.state is State.SNOOZED


def test_incidents_are_checked_before_they_are_stored(store: IncidentStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.create(incident(3, opened_at=datetime(2026, 3, 1)))
    with pytest.raises(ValueError, match="incident id"):
        store.create(incident(3, id="a/b"))
    with pytest.raises(ValueError, match="incident id"):
        store.get("../x")


def test_update_applies_the_function_and_bumps_the_version(store: IncidentStore) -> None:
    store.create(incident(1))
    updated = store.update("inc0001", lambda i: replace(i, failures=i.failures + 1))
    assert updated.failures == 2
    assert updated.version == 1
    assert store.get("inc0001") == updated

    # A function that changes nothing writes nothing.
    same = store.update("inc0001", lambda i: i)
    assert same == updated
    assert same.version == 1

    # The function cannot move the incident or sneak a version in.
    with pytest.raises(ValueError, match="changed the incident id"):
        store.update("inc0001", lambda i: replace(i, id="inc0002"))
    bumped = store.update("inc0001", lambda i: replace(i, version=99, held_back=1))
    assert bumped.version == 2

    with pytest.raises(UnknownIncident):
        store.update("inc0404", lambda i: i)


def test_update_can_finish_the_delivery_in_the_same_write(store: IncidentStore) -> None:
    store.create(incident(1))
    store.claim(KEY, now=T0, lease=LEASE)
    result = {"action": "thread_reply", "incident": "inc0001", "ts": "1.2"}
    updated = store.update(
        "inc0001", lambda i: replace(i, failures=i.failures + 1), finish=Finish(KEY, result)
    )
    assert updated.failures == 2
    done = store.claim(KEY, now=LATER, lease=LEASE)
    assert done.outcome is ClaimOutcome.DONE
    assert done.result == result
    # A change that is no change still finishes the delivery.
    other = f"{KEY}-2"
    store.claim(other, now=T0, lease=LEASE)
    same = store.update("inc0001", lambda i: i, finish=Finish(other, {"action": "coalesced"}))
    assert same.version == updated.version
    assert store.claim(other, now=LATER, lease=LEASE).outcome is ClaimOutcome.DONE


def test_a_new_claim_can_carry_an_incident_change(store: IncidentStore) -> None:
    """`claim(change=)`: the mark of the repeats a delivery is about to post, in the write that
    creates its claim. Made only for a NEW claim; a takeover or a held claim changes nothing."""
    store.create(incident(1, pending=("e-1", "e-2")))
    store.open_incidents(JOB)  # seen here, as the pipeline's history read sees it

    def mark(i: Incident) -> Incident:
        return replace(i, pending=(), flushing=i.pending, flushing_by=KEY)

    announce = PostAttempt(T0, "C0123", "1740819000.1")
    first = store.claim(KEY, now=T0, lease=LEASE, announce=announce, change=Change("inc0001", mark))
    assert first.outcome is ClaimOutcome.NEW
    assert first.announced == announce
    assert first.changed is not None
    assert first.changed.flushing == ("e-1", "e-2")
    assert store.get("inc0001") == first.changed
    # Held by that delivery: nothing changes for a second one.
    busy = store.claim(
        KEY, now=T0, lease=LEASE, change=Change("inc0001", lambda i: replace(i, held_back=9))
    )
    assert (busy.outcome, busy.changed) == (ClaimOutcome.BUSY, None)
    # Its lease over, a takeover: no change either (the caller makes it on its own).
    again = store.claim(
        KEY, now=LATER, lease=LEASE, change=Change("inc0001", lambda i: replace(i, held_back=9))
    )
    assert again.outcome is ClaimOutcome.TAKEOVER
    assert again.changed is None
    stored = store.get("inc0001")
    assert stored is not None
    assert stored.held_back == 0
    with pytest.raises(ValueError, match="neither begin nor done"):
        store.claim("k2", now=T0, lease=LEASE, done={"x": 1}, change=Change("inc0001", mark))


def test_a_claim_change_on_an_incident_changed_since_is_made_on_the_incident_as_it_is(
    store: IncidentStore,
) -> None:
    """Someone else wrote the incident after this instance read it: the claim is still NEW,
    and the change is either made on the stored incident or left to the caller — never made
    on the old version."""
    store.create(incident(1, pending=("e-1",)))
    store.open_incidents(JOB)
    store.update("inc0001", lambda i: replace(i, pending=(*i.pending, "e-2")))

    def mark(i: Incident) -> Incident:
        return replace(i, pending=(), flushing=i.pending, flushing_by=KEY)

    claim = store.claim(KEY, now=T0, lease=LEASE, change=Change("inc0001", mark))
    assert claim.outcome is ClaimOutcome.NEW
    stored = store.get("inc0001")
    assert stored is not None
    if claim.changed is None:
        assert stored.pending == ("e-1", "e-2")
        assert stored.flushing == ()
    else:
        assert claim.changed == stored
        assert stored.flushing == ("e-1", "e-2")


def test_two_new_claims_in_one_write_or_neither(store: IncidentStore) -> None:
    """`claim_both`: a new failure's execution claim and its incident's opening claim."""
    opening = f"opening:{JOB}:entrypoint_runtime:ERR_REQUIRE_ESM"
    pair = store.claim_both(KEY, opening, now=T0, lease=LEASE, other_lease=LEASE)
    assert pair is not None
    first, second = pair
    assert (first.key, first.outcome, first.attempt) == (KEY, ClaimOutcome.NEW, 1)
    assert (second.key, second.outcome) == (opening, ClaimOutcome.NEW)
    assert first.holder != second.holder
    # Both held as claim() would have made them: a second delivery is BUSY on each.
    assert store.claim(KEY, now=T0, lease=LEASE).outcome is ClaimOutcome.BUSY
    assert store.claim(opening, now=T0, lease=LEASE).outcome is ClaimOutcome.BUSY
    # ... and they end as claims do.
    assert store.release(opening, holder=second.holder) is True
    store.finish(KEY, result={"action": "new_alert"})
    assert store.claim(KEY, now=LATER, lease=LEASE).outcome is ClaimOutcome.DONE
    # Either one existing: neither is written.
    other = f"{KEY}-2"
    assert store.claim_both(other, KEY, now=T0, lease=LEASE, other_lease=LEASE) is None
    assert store.claim(other, now=T0, lease=LEASE).outcome is ClaimOutcome.NEW
    third = f"{KEY}-3"
    assert store.claim_both(third, other, now=T0, lease=LEASE, other_lease=LEASE) is None
    assert store.claim(third, now=T0, lease=LEASE).outcome is ClaimOutcome.NEW
    with pytest.raises(ValueError, match="two different keys"):
        store.claim_both("k", "k", now=T0, lease=LEASE, other_lease=LEASE)


def test_an_unclaimed_update_is_stored_only_while_no_claim_exists(store: IncidentStore) -> None:
    """`update(unclaimed=key)`: a repeat that only waits is counted without a claim, never while
    a delivery of it holds one (or kept its post, or finished): then nothing is written."""
    store.create(incident(1))
    counted = store.update("inc0001", lambda i: replace(i, pending=("e-1",)), unclaimed=KEY)
    assert counted.pending == ("e-1",)
    assert store.get("inc0001") == counted
    # No claim document was left behind: the next claim of the key is a first one.
    first = store.claim(KEY, now=T0, lease=LEASE)
    assert (first.outcome, first.attempt) == (ClaimOutcome.NEW, 1)

    # Held: refused, the incident as it was.
    with pytest.raises(ClaimHeld):
        store.update("inc0001", lambda i: replace(i, pending=("e-1", "e-2")), unclaimed=KEY)
    assert store.get("inc0001") == counted
    # Released with a post started on it (the claim is kept): still refused.
    store.begin_post(KEY, holder=first.holder, at=T0, lease=LEASE, channel="C0123")
    assert store.release(KEY, holder=first.holder) is True
    with pytest.raises(ClaimHeld):
        store.update("inc0001", lambda i: replace(i, held_back=3), unclaimed=KEY)
    # Finished: refused too.
    taken = store.claim(KEY, now=T0, lease=LEASE)
    store.finish(taken.key, result={"action": "thread_reply"})
    with pytest.raises(ClaimHeld):
        store.update("inc0001", lambda i: replace(i, held_back=3), unclaimed=KEY)
    assert store.get("inc0001") == counted
    # A change that is no change writes nothing, and needs no check.
    assert store.update("inc0001", lambda i: i, unclaimed=KEY) == counted
    # Another key's claim is no obstacle; a claim ends nothing here.
    other = store.update("inc0001", lambda i: replace(i, held_back=1), unclaimed=f"{KEY}-2")
    assert other.held_back == 1
    with pytest.raises(ValueError, match="holds no claim"):
        store.update("inc0001", lambda i: i, unclaimed=KEY, finish=Finish(KEY, {"action": "x"}))


def test_an_unclaimed_update_loses_no_concurrent_change(store: IncidentStore) -> None:
    """Eight repeats counted at once without claims, each once."""
    store.create(incident(1))
    race(
        8,
        lambda n: store.update(
            "inc0001",
            lambda i: replace(i, pending=(*i.pending, f"e-{n}"), failures=i.failures + 1),
            unclaimed=f"{KEY}-{n}",
        ),
    )
    stored = store.get("inc0001")
    assert stored is not None
    assert sorted(stored.pending) == [f"e-{n}" for n in range(8)]
    assert stored.failures == 9


def test_a_finish_in_the_same_write_records_the_post_it_names(store: IncidentStore) -> None:
    """`post_once(record=False)`: the post is recorded by the write that ends the delivery."""
    store.create(incident(1))
    first = store.claim(KEY, now=T0, lease=LEASE)
    store.begin_post(
        KEY, holder=first.holder, at=T0, lease=LEASE, channel="C0123", thread_ts="1740819000.1"
    )
    posted = PostedMessage("C0123", "1740819600.2", "1740819000.1")
    result = {"action": "thread_reply", "incident": "inc0001", "ts": "1740819600.2"}
    store.update("inc0001", lambda i: replace(i, held_back=1), finish=Finish(KEY, result, posted))
    done = store.claim(KEY, now=LATER, lease=LEASE)
    assert done.outcome is ClaimOutcome.DONE
    assert done.posted == posted
    assert done.result == result


def test_create_can_finish_the_delivery_in_the_same_write(store: IncidentStore) -> None:
    store.claim(KEY, now=T0, lease=LEASE)
    posted = PostedMessage("C0123", "1740819600.3")
    result = {"action": "new_alert", "incident": "inc0001", "ts": "1740819600.3"}
    assert store.create(incident(1), finish=Finish(KEY, result, posted)) is True
    assert store.get("inc0001") == replace(incident(1), version=0)
    done = store.claim(KEY, now=LATER, lease=LEASE)
    assert (done.outcome, done.posted, done.result) == (ClaimOutcome.DONE, posted, result)
    # Someone else's incident under that id: not ours, but the delivery still ends.
    other = f"{KEY}-2"
    store.claim(other, now=T0, lease=LEASE)
    assert store.create(incident(1, failures=7), finish=Finish(other, {"action": "x"})) is False
    assert store.claim(other, now=LATER, lease=LEASE).outcome is ClaimOutcome.DONE
    with pytest.raises(UnknownClaim):
        store.create(incident(2), finish=Finish("never-claimed", {"action": "x"}))


def test_create_can_release_the_opening_claim_in_the_same_write(store: IncidentStore) -> None:
    opening = "opening:" + JOB + ":entrypoint_runtime:ERR_REQUIRE_ESM"
    held = store.claim(opening, now=T0, lease=LEASE)
    store.claim(KEY, now=T0, lease=LEASE)
    done = Finish(KEY, {"action": "new_alert"})
    assert store.create(incident(1), finish=done, release=Release(opening, held.holder)) is True
    # Free again: the next incident of this fingerprint may open (once this one is closed).
    assert store.claim(opening, now=T0, lease=LEASE).outcome is ClaimOutcome.NEW
    assert store.claim(KEY, now=LATER, lease=LEASE).outcome is ClaimOutcome.DONE


def test_create_releases_only_an_opening_claim_still_held(store: IncidentStore) -> None:
    opening = "opening:" + JOB + ":entrypoint_runtime:ERR_REQUIRE_ESM"
    mine = store.claim(opening, now=T0, lease=LEASE)
    theirs = store.claim(opening, now=LATER, lease=LEASE)  # my lease ran out: taken over
    assert theirs.outcome is ClaimOutcome.TAKEOVER
    assert store.create(incident(1), release=Release(opening, mine.holder)) is True
    assert store.get("inc0001") is not None  # the incident is stored all the same
    # Theirs is untouched: still held, by them.
    assert store.claim(opening, now=LATER, lease=LEASE).outcome is ClaimOutcome.BUSY
    assert store.release(opening, holder=theirs.holder) is True


def test_create_releases_the_opening_claim_when_the_incident_exists(
    store: IncidentStore,
) -> None:
    opening = "opening:" + JOB + ":entrypoint_runtime:ERR_REQUIRE_ESM"
    store.create(incident(1))
    held = store.claim(opening, now=T0, lease=LEASE)
    assert store.create(incident(1, failures=7), release=Release(opening, held.holder)) is False
    assert store.claim(opening, now=T0, lease=LEASE).outcome is ClaimOutcome.NEW


def test_update_can_start_the_post_in_the_same_write(store: IncidentStore) -> None:
    store.create(incident(1))
    held = store.claim(KEY, now=T0, lease=LEASE)
    begin = Begin(KEY, held.holder, T0, LEASE, "C0123", "1.1", when=lambda i: i.held_back == 1)
    store.update("inc0001", lambda i: replace(i, held_back=1), begin=begin)
    # a takeover now sees the post started (look in Slack before posting again)
    taken = store.claim(KEY, now=T0 + 2 * LEASE, lease=LEASE)
    assert taken.unsettled == PostAttempt(T0, "C0123", "1.1")


def test_a_post_start_the_incident_does_not_pass_is_not_recorded(store: IncidentStore) -> None:
    store.create(incident(1))
    held = store.claim(KEY, now=T0, lease=LEASE)
    begin = Begin(KEY, held.holder, T0, LEASE, "C0123", when=lambda i: i.held_back == 5)
    store.update("inc0001", lambda i: replace(i, held_back=1), begin=begin)
    assert store.claim(KEY, now=T0 + 2 * LEASE, lease=LEASE).unsettled is None


def test_a_post_start_by_a_holder_taken_over_is_refused_after_the_change(
    store: IncidentStore,
) -> None:
    store.create(incident(1))
    mine = store.claim(KEY, now=T0, lease=LEASE)
    store.claim(KEY, now=LATER, lease=LEASE)  # taken over
    begin = Begin(KEY, mine.holder, LATER, LEASE, "C0123")
    with pytest.raises(ClaimLost):
        store.update("inc0001", lambda i: replace(i, held_back=1), begin=begin)
    # the change itself is stored (as a separate begin_post after it would have left it)
    current = store.get("inc0001")
    assert current is not None
    assert current.held_back == 1


def test_a_claim_taken_can_start_another_claims_post(store: IncidentStore) -> None:
    held = store.claim(KEY, now=T0, lease=LEASE)
    begin = Begin(KEY, held.holder, T0, LEASE, "C0123")
    place = store.claim("alert-place:C0123:1:0", now=T0, lease=LEASE, done={"p": 0}, begin=begin)
    assert place.owned
    assert store.claim(KEY, now=T0 + 2 * LEASE, lease=LEASE).unsettled == PostAttempt(
        T0, "C0123", None
    )


def test_a_claim_not_taken_starts_no_post(store: IncidentStore) -> None:
    store.claim("alert-place:C0123:1:0", now=T0, lease=LEASE, done={"p": 0})
    held = store.claim(KEY, now=T0, lease=LEASE)
    begin = Begin(KEY, held.holder, T0, LEASE, "C0123")
    place = store.claim("alert-place:C0123:1:0", now=T0, lease=LEASE, done={"p": 1}, begin=begin)
    assert place.outcome is ClaimOutcome.DONE
    assert store.claim(KEY, now=T0 + 2 * LEASE, lease=LEASE).unsettled is None


def test_a_claim_can_be_taken_already_finished(store: IncidentStore) -> None:
    mark = {"place": 0, "by": KEY}
    taken = store.claim("alert-place:C0123:1:0", now=T0, lease=LEASE, done=mark)
    assert taken.owned
    again = store.claim("alert-place:C0123:1:0", now=T0, lease=LEASE, done={"place": 0, "by": "x"})
    assert again.outcome is ClaimOutcome.DONE
    assert again.result == mark  # the first one's mark, not the second's
    # A claim left pending (an older delivery died holding it) is taken over finished.
    store.claim("alert-place:C0123:1:1", now=T0, lease=LEASE)
    late = store.claim("alert-place:C0123:1:1", now=LATER, lease=LEASE, done=mark)
    assert late.outcome is ClaimOutcome.TAKEOVER
    final = store.claim("alert-place:C0123:1:1", now=LATER, lease=LEASE)
    assert (final.outcome, final.result) == (ClaimOutcome.DONE, mark)


def test_concurrent_updates_lose_nothing(store: IncidentStore) -> None:
    store.create(incident(1))
    per_thread = 8
    threads = 4

    def bump_many(_: int) -> bool:
        for _round in range(per_thread):
            store.update("inc0001", lambda i: replace(i, failures=i.failures + 1))
        return True

    race(threads, bump_many)
    final = store.get("inc0001")
    assert final is not None
    assert final.failures == 1 + threads * per_thread
    assert final.version == threads * per_thread


def test_open_incident_is_found_by_job_and_fingerprint(store: IncidentStore) -> None:
    esm = incident(1)
    db = incident(2, fingerprint="db_connection:ECONNREFUSED")
    elsewhere = incident(3, job_path=OTHER_JOB)
    for i in (db, esm, elsewhere):
        assert store.create(i)

    assert store.open_incident(JOB, esm.fingerprint) == esm
    assert store.open_incident(JOB, db.fingerprint) == db
    assert store.open_incident(JOB, "missing_artifact:x") is None
    assert store.open_incident(OTHER_JOB, db.fingerprint) is None
    assert store.open_incidents(JOB) == [esm, db]  # oldest first
    assert store.open_incidents(OTHER_JOB) == [elsewhere]
    assert store.open_incidents("projects/p/locations/r/jobs/none") == []


def test_closed_incidents_are_not_open(store: IncidentStore) -> None:
    resolved = incident(1)
    recovered = incident(2, fingerprint="db_connection:ECONNREFUSED")
    acked = incident(3, fingerprint="resource_limit:oom", state=State.ACKNOWLEDGED)
    snoozed = incident(4, fingerprint="image_pull:not_found", state=State.SNOOZED)
    for i in (resolved, recovered, acked, snoozed):
        store.create(i)
    store.update(resolved.id, lambda i: replace(i, state=State.RESOLVED, resolved_by="U1"))
    store.update(recovered.id, lambda i: replace(i, state=State.RECOVERED))

    assert store.open_incident(JOB, resolved.fingerprint) is None
    assert store.open_incident(JOB, recovered.fingerprint) is None
    assert [i.id for i in store.open_incidents(JOB)] == [acked.id, snoozed.id]

    # A new incident for the same cause is open again beside the closed one.
    again = incident(5)
    store.create(again)
    assert store.open_incident(JOB, again.fingerprint) == again


def test_find_by_message(store: IncidentStore) -> None:
    store.create(incident(1))
    store.create(incident(2, fingerprint="db_connection:ECONNREFUSED"))
    assert store.find_by_message("C0123", "1740819600.000100") is None

    posted = store.update("inc0002", lambda i: replace(i, channel="C0123", ts="1740819600.000100"))
    assert store.find_by_message("C0123", "1740819600.000100") == posted
    assert store.find_by_message("C0123", "1740819600.000101") is None
    assert store.find_by_message("C9999", "1740819600.000100") is None
    assert store.find_by_message("", "") is None

    # A click on an old message still finds its incident after it closed.
    closed = store.update("inc0002", lambda i: replace(i, state=State.RESOLVED))
    assert store.find_by_message("C0123", "1740819600.000100") == closed


# --- incidents awaiting an acknowledgement (the tick's reminder query) ----------------------------


def test_awaiting_ack_returns_only_what_waits_since_the_cutoff_longest_first(
    store: IncidentStore,
) -> None:
    # incident(n) opens at T0 + n minutes
    for stored in (
        incident(3),
        incident(1),
        incident(2, state=State.ACKNOWLEDGED, acked_by="U1", acked_at=T0),
        incident(4, reminded_at=T0 + timedelta(minutes=40)),
        incident(5, state=State.RESOLVED, resolved_by="U1", resolved_at=T0),
        incident(6, state=State.SNOOZED, snooze_until_success=True),
        # a timed snooze waits again from its end
        incident(7, state=State.SNOOZED, snoozed_until=T0 + timedelta(minutes=2, seconds=30)),
        incident(8, state=State.SNOOZED, snoozed_until=T0 + timedelta(hours=5)),
        incident(9),  # opened after the cutoff
    ):
        assert store.create(stored)
    cutoff = T0 + timedelta(minutes=3)
    assert [i.id for i in store.awaiting_ack(cutoff)] == ["inc0001", "inc0007", "inc0003"]
    assert [i.id for i in store.awaiting_ack(cutoff, limit=2)] == ["inc0001", "inc0007"]
    assert store.awaiting_ack(T0) == []


def test_awaiting_ack_follows_the_incident_as_it_changes(store: IncidentStore) -> None:
    assert store.create(incident(1))
    later = T0 + timedelta(hours=1)
    assert [i.id for i in store.awaiting_ack(later)] == ["inc0001"]
    store.update("inc0001", lambda cur: replace(cur, reminded_at=later))
    assert store.awaiting_ack(later) == []
    assert store.create(incident(2))
    store.update(
        "inc0002", lambda cur: replace(cur, state=State.ACKNOWLEDGED, acked_by="U1", acked_at=later)
    )
    assert store.awaiting_ack(later) == []


def test_awaiting_ack_arguments_are_checked(store: IncidentStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.awaiting_ack(datetime(2026, 3, 1, 9, 0))  # naive on purpose
    with pytest.raises(ValueError, match="limit"):
        store.awaiting_ack(T0, limit=0)


# --- the incident memory's fields ---------------------------------------------------------------


def test_ranked_causes_and_a_confirmation_come_back_as_stored(store: IncidentStore) -> None:
    stored = incident(1, causes=("secret_config", "db_connection", "unknown"))
    assert store.create(stored)
    got = store.get(stored.id)
    assert got is not None
    assert got.causes == ("secret_config", "db_connection", "unknown")
    assert isinstance(got.causes, tuple)

    def confirm(cur: Incident) -> Incident:
        return replace(
            cur,
            state=State.RESOLVED,
            resolved_by="U1",
            resolved_at=T0 + timedelta(minutes=20),
            confirmed_cause="secret_config",
            confirmed_by="U1",
            confirmed_at=T0 + timedelta(minutes=21),
            resolution_note="pinned secret version 6",
        )

    updated = store.update(stored.id, confirm)
    assert store.get(stored.id) == updated
    assert updated.confirmed_cause == "secret_config"
    assert updated.resolution_note == "pinned secret version 6"
    # the same change again is no change
    assert store.update(stored.id, confirm).version == updated.version


def test_job_history_is_newest_first_and_bounded(store: IncidentStore) -> None:
    from jobtriage.incident.memory import HISTORY_LIMIT

    for n in range(1, HISTORY_LIMIT + 4):
        assert store.create(incident(n, state=State.RESOLVED if n % 2 else State.OPEN))
    assert store.create(incident(900, job_path=OTHER_JOB))
    history = store.job_history(JOB)
    assert len(history) == HISTORY_LIMIT
    # open and closed alike, newest opened first; the oldest three fell off the page
    assert [i.id for i in history] == [f"inc{n:04d}" for n in range(HISTORY_LIMIT + 3, 3, -1)]
    assert store.job_history(OTHER_JOB) == [incident(900, job_path=OTHER_JOB)]
    assert store.job_history("projects/acme/locations/r/jobs/none") == []


def test_project_confirmations_are_the_confirmed_ones_newest_confirmation_first(
    store: IncidentStore,
) -> None:
    def confirmed(cause: str, minutes: int) -> Callable[[Incident], Incident]:
        def apply(cur: Incident) -> Incident:
            return replace(
                cur,
                state=State.RESOLVED,
                confirmed_cause=cause,
                confirmed_by="U1",
                confirmed_at=T0 + timedelta(hours=1, minutes=minutes),
            )

        return apply

    for n in (1, 2, 3):
        store.create(incident(n))
    store.create(incident(4, job_path=OTHER_JOB))
    store.create(incident(5, job_path="projects/elsewhere/locations/r/jobs/x"))
    store.update("inc0001", confirmed("secret_config", 30))
    store.update("inc0004", confirmed("db_connection", 10))
    store.update("inc0005", confirmed("db_connection", 20))  # another project
    found = store.project_confirmations("acme")
    assert [(i.id, i.confirmed_cause) for i in found] == [
        ("inc0001", "secret_config"),
        ("inc0004", "db_connection"),
    ]
    # a changed answer moves the incident to the front
    store.update("inc0004", confirmed("data_error", 40))
    assert [i.id for i in store.project_confirmations("acme")] == ["inc0004", "inc0001"]
    assert store.project_confirmations("") == []
    assert store.project_confirmations("nobody") == []
