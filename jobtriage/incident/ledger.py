"""The post-once ledger: the claims that make every Slack post happen once, however often Pub/Sub
delivers and however many instances run.

All of it is claims in the store (create-if-absent decides races), of six named kinds:
- `EXECUTION`: one per execution — the delivery that holds it diagnoses and posts; a post is
  recorded on it right after Slack answers, so a redelivery reuses it instead of posting again.
- `OPENING`: one per (job, fingerprint) while an incident is being opened, so two executions
  failing the same way at once open one incident, not two.
- `ALERT_PLACE`: the first `DIGEST_AFTER` new incidents of a channel's `DIGEST_WINDOW` each take
  one place and get a message of their own.
- `DIGEST`: one per channel and window — the digest message the next new incidents reply under.
- `REMINDER`: one per incident — its one "nobody has acknowledged this" reply (jobtriage/ticks.py).
- `MISSED_RUN`: one per job and last success — the one incident of a job that has not succeeded
  within its expected interval since that success (jobtriage/ticks.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from jobtriage.clock import Clock
from jobtriage.errors import TransientError
from jobtriage.incident.store import Claim, ClaimOutcome, IncidentStore, PostedMessage
from jobtriage.ownlog import get_logger

# Longer than one delivery can take (the function's timeout, deploy/functions.tf): a claim older
# than this belongs to a delivery that died, and the next one takes over.
CLAIM_LEASE = timedelta(seconds=300)
# Opening an incident is one Slack post and one write.
OPENING_LEASE = timedelta(seconds=60)
# A storm: more than DIGEST_AFTER new incidents in one DIGEST_WINDOW (fixed windows, per channel).
DIGEST_AFTER = 3
DIGEST_WINDOW = timedelta(minutes=10)

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


@dataclass
class Delivery:
    """One claim, and the post it made and recorded (if any)."""

    claim: Claim
    posted: PostedMessage | None = None

    def __post_init__(self) -> None:
        self.posted = self.claim.posted

    @property
    def key(self) -> str:
        return self.claim.key


@dataclass(frozen=True, slots=True)
class Ledger:
    store: IncidentStore
    clock: Clock

    def claim_execution(self, execution_path: str) -> Claim:
        key = claim_key(ClaimKind.EXECUTION, execution_path)
        return self.store.claim(key, now=self.clock.now(), lease=CLAIM_LEASE)

    def finish(self, delivery: Delivery, result: Mapping[str, Any]) -> None:
        self.store.finish(delivery.key, result=result)

    def release(self, delivery: Delivery) -> None:
        self.store.release(delivery.key, holder=delivery.claim.holder)

    def post_once(self, delivery: Delivery, channel: str, post: Callable[[], str]) -> str:
        """Post once per claim: a post an earlier delivery recorded is reused, a new one is
        recorded right after Slack answers — nothing else happens in between, so a crash can
        repeat a post only in the time of that one write."""
        if delivery.posted is not None:
            return delivery.posted.ts
        ts = post()
        self.store.record_post(delivery.key, channel, ts)
        delivery.posted = PostedMessage(channel, ts)
        return ts

    @contextmanager
    def opening(self, job_path: str, fingerprint: str) -> Iterator[None]:
        """Hold the one opening claim of this job's fingerprint while an incident is opened;
        `TransientError` (redeliver later) while another delivery holds it. Released once the
        incident exists, so that the next incident for this fingerprint can open after this one
        is closed."""
        key = claim_key(ClaimKind.OPENING, job_path, fingerprint)
        opening = self.store.claim(key, now=self.clock.now(), lease=OPENING_LEASE)
        if not opening.owned:
            raise TransientError(f"an incident for {fingerprint} is being opened right now")
        try:
            yield
        finally:
            self.store.release(key, holder=opening.holder)

    def digest_thread(self, channel: str, post_digest: Callable[[], str]) -> str | None:
        """Where a new incident's alert goes: None for a message of its own, or the ts of the
        digest thread once `DIGEST_AFTER` incidents were opened in this `DIGEST_WINDOW`
        (`post_digest` posts that digest message, once per window).

        The places are claims (created once, decided by the store), so concurrent deliveries
        agree without a counter: each new incident takes the first free one of the window's
        places.
        """
        now = self.clock.now()
        window = int(now.timestamp() // DIGEST_WINDOW.total_seconds())
        for place in range(DIGEST_AFTER):
            key = claim_key(ClaimKind.ALERT_PLACE, channel, window, place)
            taken = self.store.claim(key, now=now, lease=DIGEST_WINDOW * 2)
            if taken.owned:
                self.store.finish(taken.key, result={"place": place})
                return None
        key = claim_key(ClaimKind.DIGEST, channel, window)
        digest = self.store.claim(key, now=now, lease=OPENING_LEASE)
        if digest.outcome is ClaimOutcome.DONE and digest.posted is not None:
            return digest.posted.ts
        if not digest.owned:
            raise TransientError("the digest message for many failing jobs is being posted")
        ts = self.post_once(Delivery(digest), channel, post_digest)
        self.store.finish(digest.key, result={"ts": ts})
        log.warning(
            "many jobs failing: new incidents go into a digest thread",
            extra={"channel": channel, "ts": ts},
        )
        return ts
