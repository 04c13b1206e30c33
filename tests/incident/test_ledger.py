"""The post-once ledger against every store backend: claim keys, posting once, the opening claim,
the digest places."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from jobtriage.errors import TransientError
from jobtriage.incident.ledger import (
    ANNOUNCED_POST_ROOM,
    CLAIM_LEASE,
    DIGEST_AFTER,
    DIGEST_CARRY,
    DIGEST_WINDOW,
    ClaimKind,
    Delivery,
    Ledger,
    claim_key,
)
from jobtriage.incident.store import ClaimOutcome, IncidentStore, PostAttempt
from jobtriage.notify.metadata import PostKind, PostTag
from standins.clock import SteppingClock

# The start of a digest window, so that a test never straddles two windows.
START = datetime.fromtimestamp(
    (1_767_225_600 // DIGEST_WINDOW.total_seconds()) * DIGEST_WINDOW.total_seconds(), UTC
)
EXECUTION = "namespaces/p/jobs/j/executions/j-abc12"


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(START)


@pytest.fixture
def ledger(store: IncidentStore, clock: SteppingClock) -> Ledger:
    return Ledger(store, clock)


def test_claim_keys_are_the_stored_ones() -> None:
    # These keys are in deployed stores: changing one would forget every claim made before.
    assert claim_key(ClaimKind.EXECUTION, EXECUTION) == EXECUTION
    assert claim_key(ClaimKind.OPENING, "p/j", "fp1") == "opening:p/j:fp1"
    assert claim_key(ClaimKind.ALERT_PLACE, "C1", 42, 0) == "alert-place:C1:42:0"
    assert claim_key(ClaimKind.DIGEST, "C1", 42) == "digest:C1:42"
    with pytest.raises(ValueError, match="at least one part"):
        claim_key(ClaimKind.DIGEST)
    with pytest.raises(ValueError, match="path alone"):
        claim_key(ClaimKind.EXECUTION, "a", "b")


def test_a_post_is_made_once_and_reused_by_the_next_holder(
    ledger: Ledger, store: IncidentStore, clock: SteppingClock
) -> None:
    posts: list[str] = []

    def post(tag: PostTag) -> str:
        posts.append(tag.delivery)
        return f"17000000{len(posts)}.000100"

    first = Delivery(ledger.claim_execution(EXECUTION))
    assert first.claim.outcome is ClaimOutcome.NEW
    ts = ledger.post_once(first, "C1", post, kind=PostKind.ALERT)
    assert ledger.post_once(first, "C1", post, kind=PostKind.ALERT) == ts
    # The holder dies; once the lease is over the next delivery takes over and sees the post.
    clock.advance(CLAIM_LEASE.total_seconds() + 1)
    second = Delivery(ledger.claim_execution(EXECUTION))
    assert second.claim.outcome is ClaimOutcome.TAKEOVER
    assert ledger.post_once(second, "C1", post, kind=PostKind.ALERT) == ts
    assert posts == [EXECUTION]  # the tag names the delivery
    ledger.finish(second, {"action": "new_alert"})
    assert ledger.claim_execution(EXECUTION).outcome is ClaimOutcome.DONE


def test_a_released_claim_can_be_taken_at_once(ledger: Ledger) -> None:
    first = Delivery(ledger.claim_execution(EXECUTION))
    assert ledger.claim_execution(EXECUTION).outcome is ClaimOutcome.BUSY
    ledger.release(first)
    assert ledger.claim_execution(EXECUTION).outcome is ClaimOutcome.NEW


def test_one_incident_opens_at_a_time_per_fingerprint(ledger: Ledger) -> None:
    with ledger.opening("p/j", "fp1"):
        with pytest.raises(TransientError, match="being opened"), ledger.opening("p/j", "fp1"):
            pytest.fail("a second opening claim must not be granted")
        with ledger.opening("p/j", "fp2"):
            pass  # another fingerprint opens independently
    with ledger.opening("p/j", "fp1"):
        pass  # released once the first opening ended


def _deliveries(ledger: Ledger) -> Iterator[Delivery]:
    """Deliveries of distinct executions, each holding its own execution claim."""
    for n in itertools.count():
        yield Delivery(ledger.claim_execution(f"{EXECUTION}-{n:04d}"))


def test_the_digest_takes_over_after_the_first_places_of_a_window(
    ledger: Ledger, clock: SteppingClock
) -> None:
    digests: list[str] = []

    def post_digest(tag: PostTag) -> str:
        assert tag.kind is PostKind.DIGEST
        digests.append("d")
        return "1700000099.000100"

    new = _deliveries(ledger)
    places = [
        ledger.digest_thread("C1", post_digest, delivery=next(new)) for _ in range(DIGEST_AFTER)
    ]
    assert places == [None] * DIGEST_AFTER
    assert ledger.digest_thread("C1", post_digest, delivery=next(new)) == "1700000099.000100"
    assert ledger.digest_thread("C1", post_digest, delivery=next(new)) == "1700000099.000100"
    assert digests == ["d"]
    # Another channel has its own places; a window the storm has not reached starts over.
    assert ledger.digest_thread("C2", post_digest, delivery=next(new)) is None
    clock.advance((DIGEST_WINDOW + DIGEST_CARRY).total_seconds())
    assert ledger.digest_thread("C1", post_digest, delivery=next(new)) is None


def test_a_storm_straddling_two_windows_keeps_its_one_digest(
    ledger: Ledger, clock: SteppingClock
) -> None:
    """What on-call sees when a storm runs across the 10-minute boundary: one digest thread,
    not three more alerts of their own and a second digest. Carried into the next window, the
    thread is that window's digest for the rest of it, and carries on into the one after."""
    digests: list[str] = []

    def post_digest(tag: PostTag) -> str:
        digests.append("d")
        return "1700000099.000100"

    new = _deliveries(ledger)
    start = clock.now().timestamp() % DIGEST_WINDOW.total_seconds()
    clock.advance(DIGEST_WINDOW.total_seconds() - start - 20)  # 20 s before a boundary
    for _ in range(DIGEST_AFTER):
        assert ledger.digest_thread("C1", post_digest, delivery=next(new)) is None
    assert ledger.digest_thread("C1", post_digest, delivery=next(new)) == "1700000099.000100"
    clock.advance(30)  # 10 s into the next window
    for _ in range(DIGEST_AFTER + 2):
        assert ledger.digest_thread("C1", post_digest, delivery=next(new)) == "1700000099.000100"
    clock.advance(DIGEST_CARRY.total_seconds() + 60)  # past the carry, same window
    assert ledger.digest_thread("C1", post_digest, delivery=next(new)) == "1700000099.000100"
    clock.advance(DIGEST_WINDOW.total_seconds() - DIGEST_CARRY.total_seconds())  # the next one
    assert ledger.digest_thread("C1", post_digest, delivery=next(new)) == "1700000099.000100"
    assert digests == ["d"]
    # A channel without a storm in the window before takes places as usual at a window's start.
    assert ledger.digest_thread("C2", post_digest, delivery=next(new)) is None


def test_a_retried_delivery_keeps_its_place(ledger: Ledger) -> None:
    """The alert post failed and Pub/Sub redelivered: the retry finds the place it took, and
    the other new incidents of the window still get theirs."""
    new = _deliveries(ledger)
    first = next(new)

    def no_digest(tag: PostTag) -> str:
        raise AssertionError("no digest yet: only one incident of the window has posted")

    for _ in range(5):
        assert ledger.digest_thread("C1", no_digest, delivery=first) is None
    others = [ledger.digest_thread("C1", no_digest, delivery=next(new)) for _ in range(2)]
    assert others == [None, None]


def test_a_retry_whose_alert_may_be_in_slack_keeps_its_place_once_a_digest_exists(
    ledger: Ledger, clock: SteppingClock
) -> None:
    """The first alert of a window started its post and died; meanwhile the window filled up
    and got its digest. The takeover still answers "a message of its own" (its place), so the
    lookup for the post that may have landed searches the channel, not the digest thread."""
    new = _deliveries(ledger)
    first = next(new)
    assert ledger.digest_thread("C1", lambda tag: "unused", delivery=first) is None
    for _ in range(DIGEST_AFTER - 1):
        ledger.digest_thread("C1", lambda tag: "unused", delivery=next(new))
    assert ledger.digest_thread("C1", lambda tag: "1700000099.000100", delivery=next(new))
    attempt = PostAttempt(started_at=clock.now(), channel="C1")
    retry = Delivery(replace(first.claim, outcome=ClaimOutcome.TAKEOVER, unsettled=attempt))
    assert ledger.digest_thread("C1", lambda tag: "unused", delivery=retry) is None
    # A new incident of the window goes into the digest, as before.
    assert ledger.digest_thread("C1", lambda tag: "unused", delivery=next(new)) == (
        "1700000099.000100"
    )


def test_a_failed_digest_post_lets_the_next_one_post_it_at_once(ledger: Ledger) -> None:
    new = _deliveries(ledger)
    for _ in range(DIGEST_AFTER):
        ledger.digest_thread("C1", lambda tag: "unused", delivery=next(new))

    def slack_down(tag: PostTag) -> str:
        raise TransientError("Slack answered 503")

    with pytest.raises(TransientError, match="503"):
        ledger.digest_thread("C1", slack_down, delivery=next(new))
    # Not "the digest is being posted" for the rest of the lease: the claim was released.
    assert ledger.digest_thread("C1", lambda tag: "1700000100.000200", delivery=next(new)) == (
        "1700000100.000200"
    )


# --- a claim created with its post announced ----------------------------------------------------

THREAD = "1700000000.000100"


class _Counting:
    """The store, with its begin_post writes counted."""

    def __init__(self, store: IncidentStore) -> None:
        self.store = store
        self.begun = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def begin_post(self, key: str, **kwargs: object) -> None:
        self.begun += 1
        self.store.begin_post(key, **kwargs)  # type: ignore[arg-type]


class _Finder:
    """Slack's history as the lookup sees it: the posts made so far, by delivery key."""

    def __init__(self) -> None:
        self.posted: dict[str, str] = {}
        self.looked: list[tuple[str, str | None]] = []

    def find_post(
        self,
        channel: str,
        delivery: str,
        *,
        thread_ts: str | None,
        oldest: datetime,
        latest: datetime,
    ) -> str | None:
        self.looked.append((channel, thread_ts))
        return self.posted.get(delivery)


def _reply(finder: _Finder, *, fail: bool = False) -> Callable[[PostTag], str]:
    def post(tag: PostTag) -> str:
        finder.posted[tag.delivery] = "1700000100.000200"
        if fail:
            raise TransientError("Slack answered after the client's timeout")
        return finder.posted[tag.delivery]

    return post


def test_an_announced_post_needs_no_write_of_its_own(
    store: IncidentStore, clock: SteppingClock
) -> None:
    counting, finder = _Counting(store), _Finder()
    ledger = Ledger(counting, clock, finder)  # type: ignore[arg-type]
    delivery = Delivery(ledger.claim_execution(EXECUTION, announce=("C1", THREAD)))
    assert delivery.claim.announced is not None
    ledger.post_once(delivery, "C1", _reply(finder), kind=PostKind.REPLY, thread_ts=THREAD)
    assert counting.begun == 0
    # another place than the announced one starts on its own write
    other = Delivery(ledger.claim_execution(EXECUTION + "x", announce=("C1", THREAD)))
    ledger.post_once(other, "C1", _reply(finder), kind=PostKind.ALERT)
    assert counting.begun == 1


def test_an_announced_post_late_in_its_lease_starts_on_its_own_write(
    store: IncidentStore, clock: SteppingClock
) -> None:
    counting, finder = _Counting(store), _Finder()
    ledger = Ledger(counting, clock, finder)  # type: ignore[arg-type]
    delivery = Delivery(ledger.claim_execution(EXECUTION, announce=("C1", THREAD)))
    clock.advance((CLAIM_LEASE - ANNOUNCED_POST_ROOM).total_seconds() + 1)  # evidence was slow
    ledger.post_once(delivery, "C1", _reply(finder), kind=PostKind.REPLY, thread_ts=THREAD)
    assert counting.begun == 1  # the lease is renewed: no takeover while the post may run


def test_a_holder_that_died_after_an_announced_post_is_not_posted_again(
    store: IncidentStore, clock: SteppingClock
) -> None:
    finder = _Finder()
    ledger = Ledger(store, clock, finder)
    first = Delivery(ledger.claim_execution(EXECUTION, announce=("C1", THREAD)))
    ts = ledger.post_once(
        first,
        "C1",
        _reply(finder),
        kind=PostKind.REPLY,
        thread_ts=THREAD,
        record=False,
    )
    # dies before anything records the post; the lease ends, the redelivery takes over
    clock.advance(CLAIM_LEASE.total_seconds() + 1)
    second = Delivery(ledger.claim_execution(EXECUTION, announce=("C1", THREAD)))
    assert second.claim.outcome is ClaimOutcome.TAKEOVER
    assert finder.looked == [("C1", THREAD)]  # looked in the announced thread
    assert second.posted is not None
    assert second.posted.ts == ts


def test_a_timed_out_announced_post_is_looked_up_after_the_release(
    store: IncidentStore, clock: SteppingClock
) -> None:
    finder = _Finder()
    ledger = Ledger(store, clock, finder)
    first = Delivery(ledger.claim_execution(EXECUTION, announce=("C1", THREAD)))
    with pytest.raises(TransientError):
        ledger.post_once(
            first, "C1", _reply(finder, fail=True), kind=PostKind.REPLY, thread_ts=THREAD
        )
    ledger.release(first)  # what the pipeline does on a TransientError before anything recorded
    second = Delivery(ledger.claim_execution(EXECUTION, announce=("C1", THREAD)))
    assert second.claim.outcome is ClaimOutcome.TAKEOVER
    assert second.posted is not None  # found in Slack: not posted again
    assert finder.looked == [("C1", THREAD)]


def test_an_announced_post_never_sent_is_forgotten_on_release(
    store: IncidentStore, clock: SteppingClock
) -> None:
    finder = _Finder()
    ledger = Ledger(store, clock, finder)
    first = Delivery(ledger.claim_execution(EXECUTION, announce=("C1", THREAD)))
    ledger.release(first)  # e.g. the logs could not be read: nothing was posted
    second = ledger.claim_execution(EXECUTION, announce=("C1", THREAD))
    assert second.outcome is ClaimOutcome.NEW
    assert finder.looked == []  # nothing to look for in Slack
