"""FirestoreStore remembers the documents it just read or wrote, so that the next conditional
write on one starts without a read (`firestore._Seen`). These tests hold it to two promises:

- it saves the reads: a repeat's incident update right after the history query is one Commit,
  a post started right after the claim is one Commit;
- it never decides anything on its own: a version another instance has changed since is refused
  by Firestore (update_time precondition), re-read, and the change re-applied — nothing lost,
  no post by a delivery that was taken over.

Two stores on one project stand for two instances of the function. Both emulators enforce the
preconditions (the npm one as `standins/firestore-npm/server.cjs` runs it).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from jobtriage.incident.model import Incident, State
from jobtriage.incident.store import (
    Begin,
    Change,
    ClaimHeld,
    ClaimLost,
    ClaimOutcome,
    Finish,
    FirestoreStore,
    PostedMessage,
    Release,
)
from standins.firestore import RunningEmulator, counted_client

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
LATER = T0 + LEASE + timedelta(seconds=1)
JOB = "projects/acme/locations/asia-northeast3/jobs/nightly-export"
KEY = f"{JOB}/executions/nightly-export-7k2p9"


def incident() -> Incident:
    return Incident(
        id="inc0001",
        job_path=JOB,
        fingerprint="db_connection:ECONNREFUSED",
        state=State.OPEN,
        opened_at=T0,
        updated_at=T0,
        first_execution="nightly-export-7k2p9",
        last_execution="nightly-export-7k2p9",
        last_failure_at=T0,
    )


def bump(i: Incident) -> Incident:
    return replace(i, failures=i.failures + 1)


@pytest.fixture(params=["npm", "gcloud"])
def instances(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> tuple[FirestoreStore, FirestoreStore, Counter[str]]:
    """Two stores (two instances) on one fresh project; the RPCs of the first are counted."""
    fixture = "firestore_emulator" if request.param == "npm" else "gcloud_firestore_emulator"
    emulator: RunningEmulator = request.getfixturevalue(fixture)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)
    project = f"jobtriage-seen-{uuid.uuid4().hex[:10]}"
    client, rpcs = counted_client(emulator.host, project)
    first = FirestoreStore(client, project=project, timeout=5.0)
    return first, FirestoreStore(project=project, timeout=5.0), rpcs


def test_an_update_right_after_the_history_query_is_one_commit(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    store, _, rpcs = instances
    store.create(incident())
    store.claim(KEY, now=T0, lease=LEASE)
    assert [i.id for i in store.job_history(JOB)] == ["inc0001"]
    before = Counter(rpcs)
    result = {"action": "thread_reply", "incident": "inc0001", "ts": "1.2"}
    updated = store.update(
        "inc0001", bump, finish=Finish(KEY, result, PostedMessage("C0123", "1.2"))
    )
    assert updated.failures == 2
    assert rpcs - before == Counter({"Commit": 1})  # no read: the query's version was the base


def test_a_post_started_right_after_the_claim_is_one_commit(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    store, _, rpcs = instances
    claim = store.claim(KEY, now=T0, lease=LEASE)
    before = Counter(rpcs)
    store.begin_post(KEY, holder=claim.holder, at=T0, lease=LEASE, channel="C0123")
    assert rpcs - before == Counter({"Commit": 1})


def test_an_incident_another_instance_changed_meanwhile_loses_nothing(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    mine, theirs, rpcs = instances
    mine.create(incident())
    assert mine.job_history(JOB)[0].failures == 1  # remembered at failures=1
    theirs.update("inc0001", bump)  # the other instance: failures=2
    before = Counter(rpcs)
    final = mine.update("inc0001", bump)
    assert final.failures == 3  # re-applied on top of theirs, not over it
    assert theirs.get("inc0001") == final
    # the remembered version was refused, then the incident read and written again
    assert rpcs - before == Counter({"Commit": 2, "BatchGetDocuments": 1})


def test_a_no_change_on_a_remembered_version_looks_at_the_stored_one(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    mine, theirs, _ = instances
    mine.create(incident())
    mine.claim(KEY, now=T0, lease=LEASE)
    mine.job_history(JOB)
    theirs.update("inc0001", lambda i: replace(i, state=State.ACKNOWLEDGED))

    def ack_once(i: Incident) -> Incident:  # a change only to an incident still open
        return replace(i, held_back=i.held_back + 1) if i.state is State.ACKNOWLEDGED else i

    updated = mine.update("inc0001", ack_once, finish=Finish(KEY, {"action": "hold"}))
    assert (updated.state, updated.held_back) == (State.ACKNOWLEDGED, 1)
    assert theirs.claim(KEY, now=LATER, lease=LEASE).outcome is ClaimOutcome.DONE


def test_a_delivery_taken_over_by_another_instance_may_not_post(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    mine, theirs, _ = instances
    first = mine.claim(KEY, now=T0, lease=LEASE)
    taken = theirs.claim(KEY, now=LATER, lease=LEASE)  # my lease ran out; they took over
    assert taken.outcome is ClaimOutcome.TAKEOVER
    with pytest.raises(ClaimLost):
        mine.begin_post(KEY, holder=first.holder, at=LATER, lease=LEASE, channel="C0123")
    assert mine.release(KEY, holder=first.holder) is False  # not mine to release any more
    theirs.begin_post(KEY, holder=taken.holder, at=LATER, lease=LEASE, channel="C0123")
    again = mine.claim(KEY, now=LATER, lease=LEASE)
    assert again.outcome is ClaimOutcome.BUSY  # still theirs, with its post started


OPENING = f"opening:{JOB}:db_connection:ECONNREFUSED"


def test_a_new_incident_its_delivery_end_and_the_opening_release_are_one_commit(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    store, other, rpcs = instances
    store.claim(KEY, now=T0, lease=LEASE)
    held = store.claim(OPENING, now=T0, lease=LEASE)
    before = Counter(rpcs)
    done = Finish(KEY, {"action": "new_alert"}, PostedMessage("C0123", "1.2"))
    assert store.create(incident(), finish=done, release=Release(OPENING, held.holder))
    assert rpcs - before == Counter({"Commit": 1})
    # as another instance sees it: the incident, the delivery finished, the opening free
    assert other.get("inc0001") is not None
    assert other.claim(KEY, now=T0, lease=LEASE).outcome is ClaimOutcome.DONE
    assert other.claim(OPENING, now=T0, lease=LEASE).outcome is ClaimOutcome.NEW


def test_an_opening_another_instance_took_over_meanwhile_is_left_to_it(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    mine, theirs, _ = instances
    held = mine.claim(OPENING, now=T0, lease=LEASE)
    taken = theirs.claim(OPENING, now=LATER, lease=LEASE)  # my lease ran out
    assert taken.outcome is ClaimOutcome.TAKEOVER
    # my remembered version of the opening claim is stale: the commit with the release is
    # refused, the incident is created without it, and their claim is not mine to release
    assert mine.create(incident(), release=Release(OPENING, held.holder)) is True
    assert theirs.get("inc0001") is not None
    assert mine.claim(OPENING, now=LATER, lease=LEASE).outcome is ClaimOutcome.BUSY
    assert theirs.release(OPENING, holder=taken.holder) is True


def test_a_finished_claim_this_instance_saw_is_answered_without_an_rpc(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    mine, theirs, rpcs = instances
    first = mine.claim(KEY, now=T0, lease=LEASE)
    mine.begin_post(KEY, holder=first.holder, at=T0, lease=LEASE, channel="C0123")
    mine.record_post(KEY, "C0123", "1.2")
    mine.finish(KEY, result={"action": "new_alert"})
    before = Counter(rpcs)
    again = mine.claim(KEY, now=LATER, lease=LEASE)  # a duplicate delivery, same instance
    assert rpcs - before == Counter()
    assert (again.outcome, again.posted, again.result) == (
        ClaimOutcome.DONE,
        PostedMessage("C0123", "1.2"),
        {"action": "new_alert"},
    )
    # the other instance never saw it: it reads, and finds the same
    assert theirs.claim(KEY, now=LATER, lease=LEASE) == again


def test_a_claim_this_instance_saw_unfinished_is_read_again(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    mine, theirs, _ = instances
    mine.claim(KEY, now=T0, lease=LEASE)
    taken = theirs.claim(KEY, now=LATER, lease=LEASE)
    theirs.finish(KEY, result={"action": "thread_reply"})
    assert taken.outcome is ClaimOutcome.TAKEOVER
    # remembered as mine and pending; the stored claim is finished by them: that is the answer
    assert mine.claim(KEY, now=LATER, lease=LEASE).outcome is ClaimOutcome.DONE


def test_an_incident_change_and_the_post_it_announces_are_one_commit(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    store, other, rpcs = instances
    store.create(incident())
    held = store.claim(KEY, now=T0, lease=LEASE)
    before = Counter(rpcs)
    store.update("inc0001", bump, begin=Begin(KEY, held.holder, T0, LEASE, "C0123"))
    assert rpcs - before == Counter({"Commit": 1})
    assert other.claim(KEY, now=LATER + LEASE, lease=LEASE).unsettled is not None


def test_a_post_start_on_a_claim_another_instance_took_is_refused(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    mine, theirs, _ = instances
    mine.create(incident())
    held = mine.claim(KEY, now=T0, lease=LEASE)
    theirs.claim(KEY, now=LATER, lease=LEASE)  # my remembered version is stale now
    with pytest.raises(ClaimLost):
        mine.update("inc0001", bump, begin=Begin(KEY, held.holder, LATER, LEASE, "C0123"))
    stored = theirs.get("inc0001")
    assert stored is not None
    assert stored.failures == 2  # the change went alone; the post was not started


def test_an_alert_place_and_the_alerts_post_start_are_one_commit(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    store, other, rpcs = instances
    held = store.claim(KEY, now=T0, lease=LEASE)
    before = Counter(rpcs)
    begin = Begin(KEY, held.holder, T0, LEASE, "C0123")
    assert store.claim("alert-place:C0123:1:0", now=T0, lease=LEASE, done={}, begin=begin).owned
    assert rpcs - before == Counter({"Commit": 1})
    assert other.claim(KEY, now=LATER + LEASE, lease=LEASE).unsettled is not None


def test_a_place_taken_for_a_claim_another_instance_took_starts_no_post(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    mine, theirs, _ = instances
    held = mine.claim(KEY, now=T0, lease=LEASE)
    theirs.claim(KEY, now=LATER, lease=LEASE)  # my remembered version is stale now
    begin = Begin(KEY, held.holder, LATER, LEASE, "C0123")
    with pytest.raises(ClaimLost):
        mine.claim("alert-place:C0123:1:0", now=LATER, lease=LEASE, done={}, begin=begin)


def test_remembered_documents_are_bounded() -> None:
    from jobtriage.incident.store.firestore import SEEN_DOCUMENTS, _Seen

    seen = _Seen()
    for n in range(SEEN_DOCUMENTS + 10):
        seen.put(f"incidents/{n}", {"n": n}, n)
    assert seen.get("incidents/0") is None  # the oldest went first
    newest = seen.get(f"incidents/{SEEN_DOCUMENTS + 9}")
    assert newest is not None
    assert newest.to_dict() == {"n": SEEN_DOCUMENTS + 9}
    assert sum(seen.get(f"incidents/{n}") is not None for n in range(SEEN_DOCUMENTS + 10)) == (
        SEEN_DOCUMENTS
    )


def test_a_repeat_counted_without_a_claim_is_one_commit(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    store, other, rpcs = instances
    store.create(incident())
    store.job_history(JOB)
    before = Counter(rpcs)
    waiting = f"{JOB}/executions/nightly-export-w8m2q"
    store.update("inc0001", bump, unclaimed=waiting)
    assert rpcs - before == Counter({"Commit": 1})
    # Another instance holding that claim: refused in the commit, nothing written.
    other.claim(waiting, now=T0, lease=LEASE)
    with pytest.raises(ClaimHeld):
        store.update("inc0001", bump, unclaimed=waiting)
    stored = other.get("inc0001")
    assert stored is not None
    assert stored.failures == 2


def test_a_claim_and_the_mark_it_posts_under_are_one_commit(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    store, other, rpcs = instances
    store.create(incident())
    store.job_history(JOB)
    before = Counter(rpcs)
    claim = store.claim(KEY, now=T0, lease=LEASE, change=Change("inc0001", bump))
    assert rpcs - before == Counter({"Commit": 1})
    assert claim.changed is not None
    assert claim.changed.failures == 2
    # The incident changed by another instance since it was read here: the claim alone (the
    # caller makes the change), and the other instance's change stands.
    other.update("inc0001", bump)
    second = f"{KEY}-2"
    taken = store.claim(second, now=T0, lease=LEASE, change=Change("inc0001", bump))
    assert (taken.outcome, taken.changed) == (ClaimOutcome.NEW, None)
    stored = other.get("inc0001")
    assert stored is not None
    assert stored.failures == 3


def test_an_execution_claim_and_its_opening_claim_are_one_commit(
    instances: tuple[FirestoreStore, FirestoreStore, Counter[str]],
) -> None:
    store, other, rpcs = instances
    opening = f"opening:{JOB}:db_connection:ECONNREFUSED"
    before = Counter(rpcs)
    pair = store.claim_both(KEY, opening, now=T0, lease=LEASE, other_lease=LEASE)
    assert rpcs - before == Counter({"Commit": 1})
    assert pair is not None
    # Remembered: releasing the opening claim starts from the version written (no read).
    before = Counter(rpcs)
    assert store.release(opening, holder=pair[1].holder) is True
    assert rpcs - before == Counter({"Commit": 1})
    # Another instance's claim on either key: neither written.
    other.claim(f"{KEY}-2", now=T0, lease=LEASE)
    assert store.claim_both(f"{KEY}-3", f"{KEY}-2", now=T0, lease=LEASE, other_lease=LEASE) is None
    assert other.claim(f"{KEY}-3", now=T0, lease=LEASE).outcome is ClaimOutcome.NEW
