"""The post-once ledger: the claims that make every Slack post happen once, however often Pub/Sub
delivers and however many instances run.

All of it is claims in the store (create-if-absent decides races), of six named kinds:
- `EXECUTION`: one per execution — the delivery that holds it posts; a post is recorded on it
  right after Slack answers, so a redelivery reuses it instead of posting again. A repeat that
  only waits for the next reply holds none (`IncidentStore.update(unclaimed=)`).
- `OPENING`: one per (job, fingerprint) while an incident is being opened, so two executions
  failing the same way at once open one incident, not two.
- `ALERT_PLACE`: the first `DIGEST_AFTER` new incidents of a channel's `DIGEST_WINDOW` each take
  one place and get a message of their own.
- `DIGEST`: one per channel and window — the digest message the next new incidents reply under.
- `REMINDER`: one per incident — its one "nobody has acknowledged this" reply (jobtriage/ticks.py).
- `MISSED_RUN`: one per job and last success — the one incident of a job that has not succeeded
  within its expected interval since that success (jobtriage/ticks.py).

Reconcile instead of guessing: right before a Slack post the claim records that a post started
(`begin_post`, which also renews the lease); every message carries its delivery key as Slack
message metadata (`jobtriage.notify.metadata`). A post whose answer was never recorded — Slack
answered after the client's timeout, or the instance died between Slack answering and the
record — leaves that start on the claim, and the next holder LOOKS FIRST: conversations.history
(or .replies in a thread) around the start, for a message with that key. Found: it is recorded
as this delivery's post and nothing is posted again. Not found: it posts. The lookup failing
(rate limit, missing scope): one log line, and it posts — an alert shown twice beats one lost.

A repeat usually replies in the thread of its job's one open incident, which is known before the
claim is taken: that claim is created with the reply's start already on it (`announce`), and the
reply needs no `begin_post` of its own while most of the lease is left (`ANNOUNCED_POST_ROOM`).
A release by a holder that never posted forgets the announcement (`unsent`), so the redelivery
does not look in Slack for a message that was never sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from jobtriage.clock import Clock
from jobtriage.errors import PermanentError, TransientError
from jobtriage.incident.model import Incident
from jobtriage.incident.store import (
    Begin,
    Change,
    Claim,
    ClaimOutcome,
    Finish,
    IncidentStore,
    PostAttempt,
    PostedMessage,
    Release,
)
from jobtriage.notify.metadata import PostKind, PostTag
from jobtriage.ownlog import get_logger

# What one Slack post can take (ALERT_POLICY: 3 attempts × 5 s, ≤ 12 s of waits; a test holds
# the two together) with room to spare. The lease is renewed when a post starts, so a holder that
# is still posting is never taken over; a holder that died is taken over after this, and the
# taker looks in Slack before posting again.
CLAIM_LEASE = timedelta(seconds=60)
# Around an unsettled post's start, how far the lookup reads the channel: Slack stamps a message
# when it accepts it, which is after the start and before the post's lease ran out; the margin is
# for clocks that differ between the instance and Slack.
LOOKUP_MARGIN = timedelta(seconds=10)
# An execution claim announced at its creation (`claim_execution(announce=)`) stands for the
# post's start while at least this much of its lease is left — the longest post (a test holds
# ALERT_POLICY to it) and room for clocks that differ; later, the post starts on its own write,
# which renews the lease.
ANNOUNCED_POST_ROOM = CLAIM_LEASE * 3 / 4
# Opening an incident is one Slack post and one write.
OPENING_LEASE = timedelta(seconds=60)
# A storm: more than DIGEST_AFTER new incidents in one DIGEST_WINDOW (fixed windows, per channel).
DIGEST_AFTER = 3
DIGEST_WINDOW = timedelta(minutes=10)
# A storm that has a digest thread keeps it for this long into the next window: new incidents
# there join it instead of taking that window's places (a storm straddling the boundary gets one
# digest, not a second one after three more messages of their own).
DIGEST_CARRY = timedelta(minutes=5)

log = get_logger()


class ClaimKind(StrEnum):
    EXECUTION = "execution"
    OPENING = "opening"
    ALERT_PLACE = "alert-place"
    DIGEST = "digest"
    REMINDER = "reminder"
    MISSED_RUN = "missed-run"


def claim_key(kind: ClaimKind, *parts: str | int) -> str:
    """The store key of a claim. An execution's key is its resource path as it is; the others
    are `<kind>:<part>:<part>…`."""
    if not parts:
        raise ValueError(f"a {kind} claim needs at least one part")
    if kind is ClaimKind.EXECUTION:
        if len(parts) != 1:
            raise ValueError("an execution claim is keyed by the execution's path alone")
        return str(parts[0])
    return ":".join([kind.value, *(str(p) for p in parts)])


class PostFinder(Protocol):
    """`Notifier.find_post`: a message of a delivery, found by its metadata (or None)."""

    def find_post(
        self,
        channel: str,
        delivery: str,
        *,
        thread_ts: str | None,
        oldest: datetime,
        latest: datetime,
    ) -> str | None: ...


@dataclass
class Delivery:
    """One claim, and the post it made and recorded (if any)."""

    claim: Claim
    posted: PostedMessage | None = None
    # Finished together with the incident's last change (`IncidentStore.update(finish=)`):
    # nothing left to finish.
    finished: bool = False
    # `posted` is not recorded on the claim yet (`post_once(record=False)`): the write that
    # finishes the delivery records it (`finish_with`), or `Ledger.finish` / `keep` does.
    unrecorded: bool = False
    # Released together with the incident's last change (`IncidentStore.update(release=)`):
    # a repeat that waits for the next reply.
    released: bool = False
    # Its post was started (`begin_post`) by the write that took its alert place.
    begun: bool = False
    # A post was sent to Slack (whatever came back): a release must not forget the claim's start.
    attempted: bool = False

    def __post_init__(self) -> None:
        self.posted = self.claim.posted

    def finish_with(self, action: str, incident: str | None, ts: str | None) -> Finish:
        """The `finish=` of the incident write that ends this delivery (the result `finish`
        would store, and the post to record if it is not yet), and the delivery marked as
        finished."""
        self.finished = True
        posted = self.posted if self.unrecorded else None
        return Finish(self.key, {"action": action, "incident": incident, "ts": ts}, posted)

    def begin_with(
        self,
        at: datetime,
        channel: str,
        thread_ts: str | None,
        when: Callable[[Incident], bool] | None = None,
    ) -> Begin:
        """The `begin=` of an incident write right before this delivery posts: its post's
        start (`Ledger.post_once(begun=True)` then posts without a write of its own)."""
        return Begin(self.key, self.claim.holder, at, CLAIM_LEASE, channel, thread_ts, when)

    def release_with(self, when: Callable[[Incident], bool]) -> Release:
        """The `release=` of an incident write that ends this delivery for now, if the stored
        incident passes `when` (then set `released`)."""
        return Release(self.key, self.claim.holder, when=when, unsent=not self.attempted)

    @property
    def key(self) -> str:
        return self.claim.key


@dataclass
class Opening:
    """The opening claim held while an incident is opened (`Ledger.opening`)."""

    release: Release
    released: bool = False


@dataclass(frozen=True, slots=True)
class Ledger:
    store: IncidentStore
    clock: Clock
    finder: PostFinder | None = None  # None: an unsettled post is posted again (no lookup)

    def claim_execution(
        self,
        execution_path: str,
        *,
        announce: tuple[str, str | None] | None = None,
        change: Change | None = None,
    ) -> Claim:
        """The execution's claim. `announce` (channel, thread): where this delivery expects to
        post; a new claim is created with that post already started on it (`Claim.announced`),
        so that `post_once` there needs no write of its own. `change`: the incident change it
        will make first, made in the same write when the store can (`Claim.changed`)."""
        key = claim_key(ClaimKind.EXECUTION, execution_path)
        now = self.clock.now()
        expected = PostAttempt(now, announce[0], announce[1]) if announce and announce[0] else None
        claim = self.store.claim(key, now=now, lease=CLAIM_LEASE, announce=expected, change=change)
        return self.reconciled(claim)

    def reconciled(self, claim: Claim) -> Claim:
        """`claim`, with the post of an earlier attempt recorded on it when Slack has it.

        Only a claim taken over from an attempt whose answer was never recorded
        (`claim.unsettled`) is looked up; every other claim comes back as it is."""
        attempt = claim.unsettled
        if not claim.owned or attempt is None or claim.posted is not None or self.finder is None:
            return claim
        ctx = {"claim": claim.key, "channel": attempt.channel, "attempt": claim.attempt}
        try:
            ts = self.finder.find_post(
                attempt.channel,
                claim.key,
                thread_ts=attempt.thread_ts,
                oldest=attempt.started_at - LOOKUP_MARGIN,
                latest=attempt.started_at + CLAIM_LEASE + LOOKUP_MARGIN,
            )
        except (TransientError, PermanentError) as exc:
            fix = f" — fix: {exc.fix}" if isinstance(exc, PermanentError) and exc.fix else ""
            log.warning(
                "could not look in Slack for an earlier attempt's post (%s%s); posting it, "
                "which may show it twice",
                exc,
                fix,
                extra=ctx,
            )
            return claim
        if ts is None:
            log.info("an earlier attempt's post is not in Slack; posting it", extra=ctx)
            return claim
        self.store.record_post(claim.key, attempt.channel, ts)
        log.info(
            "an earlier attempt's post is in Slack; recorded, not posted again",
            extra=ctx | {"ts": ts},
        )
        posted = PostedMessage(attempt.channel, ts, attempt.thread_ts)
        return replace(claim, posted=posted, unsettled=None)

    def finish(self, delivery: Delivery, result: Mapping[str, Any]) -> None:
        self.record(delivery)
        self.store.finish(delivery.key, result=result)

    def record(self, delivery: Delivery) -> None:
        """Record the delivery's post on its claim if `post_once(record=False)` left it to us."""
        if delivery.unrecorded and delivery.posted is not None:
            self.store.record_post(delivery.key, delivery.posted.channel, delivery.posted.ts)
            delivery.unrecorded = False

    def release(self, delivery: Delivery) -> None:
        if not delivery.released:
            self.store.release(
                delivery.key, holder=delivery.claim.holder, unsent=not delivery.attempted
            )

    def post_once(
        self,
        delivery: Delivery,
        channel: str,
        post: Callable[[PostTag], str],
        *,
        kind: PostKind,
        incident: str = "",
        execution: str = "",
        thread_ts: str | None = None,
        record: bool = True,
        begun: bool = False,
    ) -> str:
        """Post once per claim: a post an earlier delivery recorded (or `reconciled` found) is
        reused. A new one is announced on the claim first (`begin_post`: where, when; refused
        with `ClaimLost` once another delivery took over), carries its tag as Slack metadata,
        and is recorded right after Slack answers. Nothing else happens in between; a crash or
        a lost answer in that gap is found again by the next holder's lookup.

        `record=False`: the caller's next write records it (`Delivery.finish_with`), one write
        fewer. A crash before that write is the same gap as above, found by the lookup.
        `begun`: the caller's last write announced it already (`begin_with`). A claim created
        with this very post announced (`claim_execution(announce=)`) needs no write either, while
        `ANNOUNCED_POST_ROOM` of its lease is left."""
        if delivery.posted is not None:
            return delivery.posted.ts
        if not (begun or delivery.begun or self._announced(delivery, channel, thread_ts)):
            self.store.begin_post(
                delivery.key,
                holder=delivery.claim.holder,
                at=self.clock.now(),
                lease=CLAIM_LEASE,
                channel=channel,
                thread_ts=thread_ts,
            )
        delivery.attempted = True
        ts = post(PostTag(delivery.key, kind, incident=incident, execution=execution))
        delivery.posted = PostedMessage(channel, ts, thread_ts)
        delivery.unrecorded = not record
        if record:
            self.store.record_post(delivery.key, channel, ts)
        return ts

    def _announced(self, delivery: Delivery, channel: str, thread_ts: str | None) -> bool:
        """The claim was created with this post's start on it, and its lease still covers the
        post: no other delivery can take the claim over before the post has ended."""
        announced, lease_until = delivery.claim.announced, delivery.claim.lease_until
        return (
            announced is not None
            and not delivery.begun  # no other start was written over it since
            and lease_until is not None
            and announced.channel == channel
            and (announced.thread_ts or None) == (thread_ts or None)
            and self.clock.now() + ANNOUNCED_POST_ROOM <= lease_until
        )

    def claim_opening(
        self, execution_path: str, job_path: str, fingerprint: str
    ) -> tuple[Claim, Claim] | None:
        """A new failure's execution claim and its incident's opening claim, created in one
        write (`IncidentStore.claim_both`); None when either exists (claim them one by one:
        `claim_execution`, then `opening`)."""
        return self.store.claim_both(
            claim_key(ClaimKind.EXECUTION, execution_path),
            claim_key(ClaimKind.OPENING, job_path, fingerprint),
            now=self.clock.now(),
            lease=CLAIM_LEASE,
            other_lease=OPENING_LEASE,
        )

    @contextmanager
    def opening(
        self, job_path: str, fingerprint: str, *, held: Claim | None = None
    ) -> Iterator[Opening]:
        """Hold the one opening claim of this job's fingerprint while an incident is opened;
        `TransientError` (redeliver later) while another delivery holds it. Released once the
        incident exists (`create`, in the same write), so that the next incident for this
        fingerprint can open after this one is closed; on the way out otherwise. `held`: that
        claim, taken already (`claim_opening`)."""
        key = claim_key(ClaimKind.OPENING, job_path, fingerprint)
        claim = held or self.store.claim(key, now=self.clock.now(), lease=OPENING_LEASE)
        if claim.key != key:
            raise ValueError(f"{claim.key!r} is not the opening claim {key!r}")
        if not claim.owned:
            raise TransientError(f"an incident for {fingerprint} is being opened right now")
        opening = Opening(Release(key, claim.holder))
        try:
            yield opening
        finally:
            if not opening.released:
                self.store.release(key, holder=claim.holder)

    def create(self, opening: Opening, incident: Incident, *, finish: Finish) -> bool:
        """Store the new incident, finish the delivery and release the opening claim: one write."""
        created = self.store.create(incident, finish=finish, release=opening.release)
        opening.released = True
        return created

    def _carried_digest(self, channel: str, window: int, now: datetime) -> str | None:
        """The digest thread a storm already has: this window's, or — within `DIGEST_CARRY` of
        this window's start — the previous window's, carried into this one (this window's digest
        claim then names the same thread, so the storm keeps one thread however long it lasts).
        At most one read; None: no storm going on (or none this instance knows of yet)."""
        this = claim_key(ClaimKind.DIGEST, channel, window)
        before = claim_key(ClaimKind.DIGEST, channel, window - 1)
        since_start = now.timestamp() % DIGEST_WINDOW.total_seconds()
        carry = since_start < DIGEST_CARRY.total_seconds()
        # This window's digest is only looked up where this instance saw it already (else the
        # places below find it); the window before's is read while it may still carry.
        if ts := (self.store.finished(this, now=now, seen_only=True) or {}).get("ts"):
            return str(ts)
        if not carry:
            return None
        ts = (self.store.finished(before, now=now) or {}).get("ts")
        if not ts:
            return None
        taken = self.store.claim(this, now=now, lease=OPENING_LEASE, done={"ts": ts})
        if taken.owned:
            return str(ts)
        # This window's digest was decided meanwhile (carried by another delivery, or posted).
        if taken.result is not None and taken.result.get("ts"):
            return str(taken.result["ts"])
        if taken.posted is not None:
            return taken.posted.ts
        return str(ts)

    def digest_thread(
        self, channel: str, post_digest: Callable[[PostTag], str], *, delivery: Delivery
    ) -> str | None:
        """Where a new incident's alert goes: None for a message of its own, or the ts of the
        digest thread once `DIGEST_AFTER` incidents were opened in this `DIGEST_WINDOW`
        (`post_digest` posts that digest message, once per window). A place taken here starts
        the alert's post in the same write (`Delivery.begun`: `post_once` then posts without a
        write of its own).

        The places are claims (created once, decided by the store), so concurrent deliveries
        agree without a counter: each new incident takes the first free one of the window's
        places. A place names the delivery that took it, so a retry of that delivery (its post
        failed, Pub/Sub redelivered) finds its own place again instead of using up another.
        """
        now = self.clock.now()
        window = int(now.timestamp() // DIGEST_WINDOW.total_seconds())
        # A retry whose alert post already started or landed keeps where that post went (its own
        # place, found below), so the lookup for it searches the right place.
        fresh = delivery.posted is None and delivery.claim.unsettled is None
        if fresh and (carried := self._carried_digest(channel, window, now)) is not None:
            return carried
        begin = None if delivery.posted else delivery.begin_with(now, channel, None)
        for place in range(DIGEST_AFTER):
            key = claim_key(ClaimKind.ALERT_PLACE, channel, window, place)
            # Taken and finished in one write: a place only marks that the alert is counted;
            # the same write starts the alert's post.
            mark = {"place": place, "by": delivery.key}
            taken = self.store.claim(key, now=now, lease=DIGEST_WINDOW * 2, done=mark, begin=begin)
            if taken.owned:
                delivery.begun = begin is not None
                return None
            if taken.result is not None and taken.result.get("by") == delivery.key:
                return None  # taken by an earlier attempt of this very delivery
        key = claim_key(ClaimKind.DIGEST, channel, window)
        digest = self.reconciled(self.store.claim(key, now=now, lease=OPENING_LEASE))
        if digest.outcome is ClaimOutcome.DONE and digest.posted is not None:
            return digest.posted.ts
        if not digest.owned:
            raise TransientError("the digest message for many failing jobs is being posted")
        held = Delivery(digest)
        try:
            ts = self.post_once(held, channel, post_digest, kind=PostKind.DIGEST)
        except BaseException:
            if held.posted is None:
                # Not recorded as posted: let the next new incident take the digest at once,
                # instead of every one of them being refused until this claim's lease ends. A
                # post that was started stays on the claim: that next holder looks for it first.
                self.store.release(digest.key, holder=digest.holder)
            raise
        self.store.finish(digest.key, result={"ts": ts})
        log.warning(
            "many jobs failing: new incidents go into a digest thread",
            extra={"channel": channel, "ts": ts},
        )
        return ts
