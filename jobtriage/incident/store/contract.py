"""The store's contract: the protocol both stores implement, the claim model, and the
validation both apply (so that what works against `MemoryStore` works against Firestore).
See `jobtriage.incident.store` for what the store is for and how races are decided."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from jobtriage.errors import PermanentError, TransientError
from jobtriage.incident.model import Incident, State
from jobtriage.redact import scrub

DELIVERIES = "deliveries"
INCIDENTS = "incidents"
# How long a claim document is kept after the claim (for the TTL policy on `expire_at`).
DELIVERY_RETENTION = timedelta(days=30)
# At most this many open incidents are read for one job; more would mean a runaway fingerprint.
MAX_OPEN_PER_JOB = 50
# At most this many incidents awaiting an acknowledgement are read by one tick.
MAX_AWAITING_ACK = 50
# Rounds of read-then-conditional-write before giving up on a document that keeps changing.
MAX_CONTENDED_ROUNDS = 25

PERMISSION_FIX = (
    "grant the function's service account roles/datastore.user on the project (deploy/ does "
    "this), and check FIRESTORE_DATABASE names a Firestore database in Native mode"
)
DATABASE_FIX = (
    "create the Firestore database in Native mode, or set FIRESTORE_DATABASE to the database "
    "id to use"
)

# The Incident fields that hold a tuple of strings (stored as lists).
LIST_FIELDS = ("causes", "pending", "flushing", "coalesced")

_INCIDENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_PENDING = "pending"
_DONE = "done"
# Released by its holder after a post was started: free to take at once, but the record of that
# post (its attempt, or its ts) is kept for the next holder.
_RELEASED = "released"


# --- public types -----------------------------------------------------------------------------


class ClaimOutcome(StrEnum):
    NEW = "new"  # the claim is yours: post
    DONE = "done"  # already delivered: post nothing
    BUSY = "busy"  # another delivery holds a fresh claim: redeliver later (TransientError)
    TAKEOVER = "takeover"  # the previous holder's lease ran out unfinished: the claim is yours


@dataclass(frozen=True, slots=True)
class PostedMessage:
    """The Slack message a delivery posted, recorded right after posting."""

    channel: str
    ts: str
    thread_ts: str | None = None  # the thread it was posted in (None: the channel itself)


@dataclass(frozen=True, slots=True)
class PostAttempt:
    """A Slack post a delivery started (`begin_post`) without recording Slack's answer: it timed
    out, or the instance died. Whether the message is in Slack is unknown until someone looks."""

    started_at: datetime
    channel: str
    thread_ts: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: ClaimOutcome
    key: str
    holder: str  # token of the delivery holding the claim now: yours for NEW and TAKEOVER
    lease_until: datetime | None  # None once DONE
    attempt: int  # 1 for the first holder, +1 for every takeover
    posted: PostedMessage | None = None  # set when a post already happened (TAKEOVER, DONE)
    result: Mapping[str, Any] | None = None  # what `finish` stored (DONE only)
    # TAKEOVER only: the previous holder started a post and recorded no answer (look before posting)
    unsettled: PostAttempt | None = None
    # NEW only: the post start `claim(announce=)` put on the claim in the write that created it
    announced: PostAttempt | None = None
    # NEW only: the incident as `claim(change=)` stored it in the write that created the claim
    # (None: that change was not made; the caller makes it on its own)
    changed: Incident | None = None

    @property
    def owned(self) -> bool:
        """True when the caller now holds the claim and must finish or release it."""
        return self.outcome in (ClaimOutcome.NEW, ClaimOutcome.TAKEOVER)


@dataclass(frozen=True, slots=True)
class Finish:
    """A delivery claim ended in the same write as an incident's change (`create` / `update`):
    what `finish` would store, and the post the delivery made when it was not recorded on the
    claim yet (`Ledger.post_once(record=False)`: one write fewer on the common path)."""

    key: str
    result: Mapping[str, Any]
    posted: PostedMessage | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """A claim released in the same write as an incident's change, if `holder` still holds it
    — as `release(key, holder=holder)` would: the opening claim of the incident `create`
    stores, or the delivery of a repeat that waits (`update`)."""

    key: str
    holder: str
    # `update` only: released only when the incident as stored passes this (None: always)
    when: Callable[[Incident], bool] | None = None
    # the holder never started the post its claim announced (`release(unsent=True)`)
    unsent: bool = False

    def applies(self, incident: Incident) -> bool:
        return self.when is None or self.when(incident)


@dataclass(frozen=True, slots=True)
class Change:
    """An incident change (`update(incident_id, fn)`) made in the same write as a new claim
    (`claim(change=)`): the mark of the repeats the claiming delivery is about to post."""

    incident_id: str
    fn: Callable[[Incident], Incident]


@dataclass(frozen=True, slots=True)
class Begin:
    """A post's start (`begin_post`) recorded in the same write as an incident's change — the
    mark of the repeats a reply is about to name — when the incident as stored passes `when`.
    ClaimLost as `begin_post` would, by the time `update` returns."""

    key: str
    holder: str
    at: datetime
    lease: timedelta
    channel: str
    thread_ts: str | None = None
    when: Callable[[Incident], bool] | None = None

    def applies(self, incident: Incident) -> bool:
        return self.when is None or self.when(incident)


class UnknownIncident(PermanentError):
    """No incident with that id (e.g. a click on a message whose incident was never stored)."""


class UnknownClaim(PermanentError):
    """`record_post` / `finish` for a key that was never claimed, or was released."""


class ClaimLost(TransientError):
    """`begin_post` by a delivery that no longer holds the claim: its lease ran out and another
    delivery took over (or finished). It must not post; the claim's holder does."""


class ClaimHeld(TransientError):
    """`update(unclaimed=key)` while a claim `key` exists (held, kept with its post, or
    finished): nothing was written. The caller claims it and goes the claimed way."""


class IncidentStore(Protocol):
    """What the pipeline and the click handler need from storage. See the module docstring."""

    def claim(
        self,
        key: str,
        *,
        now: datetime,
        lease: timedelta,
        done: Mapping[str, Any] | None = None,
        begin: Begin | None = None,
        announce: PostAttempt | None = None,
        change: Change | None = None,
    ) -> Claim:
        """Create-if-absent decides who holds `key`. `done`: a claim that only marks something
        taken (nothing to post) is stored already finished with this result, in the same write.
        `begin`: when the claim comes back owned, that (other) claim's post has been started
        (`begin_post`; in the same write when it can be, and ClaimLost as `begin_post` says).
        `announce`: a NEW claim is created with this post already started on it, as
        `begin_post` at `announce.started_at` would (`Claim.announced`); a takeover ignores it.
        `change`: a NEW claim may be created together with that incident change, in one write
        when it can be (`Claim.changed`: the incident as stored; None: not made — a takeover,
        the incident changed since it was read, or the store could not put it in that write).
        Not with `begin` or `done`."""
        ...

    def claim_both(
        self, key: str, other: str, *, now: datetime, lease: timedelta, other_lease: timedelta
    ) -> tuple[Claim, Claim] | None:
        """Two NEW claims created in one write — a new failure's execution and the opening of
        its incident — or neither: None when either exists (claim them one by one)."""
        ...

    def begin_post(
        self,
        key: str,
        *,
        holder: str,
        at: datetime,
        lease: timedelta,
        channel: str,
        thread_ts: str | None = None,
    ) -> None: ...

    def record_post(self, key: str, channel: str, ts: str) -> None: ...

    def finish(self, key: str, *, result: Mapping[str, Any]) -> None: ...

    def release(self, key: str, *, holder: str | None = None, unsent: bool = False) -> bool:
        """Free the claim for the next delivery. A claim on which a post was started or recorded
        is kept (released, free to take, its post known); else it is deleted. `unsent`: the
        holder never started the post its claim announced (`claim(announce=)`): on a first
        holder's claim with nothing recorded, that announcement is forgotten too."""
        ...

    def finished(
        self, key: str, *, now: datetime, seen_only: bool = False
    ) -> Mapping[str, Any] | None:
        """The result of `key`'s claim if it is finished (and not expired at `now`), else None;
        nothing is created. Read when this instance has not seen it finished (a finished claim
        never changes); with `seen_only`, answered from what this instance has seen, never read."""
        ...

    def get(self, incident_id: str) -> Incident | None: ...

    def create(
        self, incident: Incident, *, finish: Finish | None = None, release: Release | None = None
    ) -> bool:
        """Store a new incident; False when one with that id exists already (not ours).
        `finish`: that delivery claim is finished in the same write. `release`: that claim is
        released as `release()` would, by the time `create` returns (in the same write when
        it can be)."""
        ...

    def update(
        self,
        incident_id: str,
        fn: Callable[[Incident], Incident],
        *,
        finish: Finish | None = None,
        release: Release | None = None,
        begin: Begin | None = None,
        unclaimed: str | None = None,
    ) -> Incident:
        """fn(current incident) stored as its next version. `finish`: that delivery claim is
        finished in the same write (one commit for a delivery's last incident change and its
        end), with its post recorded when `finish.posted` says so. `release`: that claim is
        released as `release()` would, by the time `update` returns (in the same write when it
        can be: a repeat that waits for the next reply). `begin`: that post's start recorded
        (`begin_post`), in the same write when it can be. `unclaimed`: stored only while there
        is no claim with that key, checked in the same write (`ClaimHeld` otherwise, nothing
        written): a repeat that only waits is counted without a claim of its own, and never
        while another delivery of it holds one. Not with `finish`, `release` or `begin`."""
        ...

    def open_incident(self, job_path: str, fingerprint: str) -> Incident | None: ...

    def open_incidents(self, job_path: str) -> list[Incident]: ...

    def awaiting_ack(self, before: datetime, *, limit: int | None = None) -> list[Incident]:
        """Incidents still waiting for someone (`Incident.awaiting_ack_since`) since `before` or
        earlier, longest waiting first, at most `limit` (default and most: `MAX_AWAITING_ACK`):
        what a tick reminds of."""
        ...

    def find_by_message(self, channel: str, ts: str) -> Incident | None: ...

    def job_history(self, job_path: str) -> list[Incident]:
        """The job's incidents, open and closed, newest opened first: at most
        `memory.HISTORY_LIMIT` (one bounded query)."""
        ...

    def project_confirmations(self, project: str) -> list[Incident]:
        """The project's incidents on-call confirmed a cause for, newest confirmation first: at
        most `memory.PROJECT_CONFIRMATIONS_LIMIT` (one bounded query)."""
        ...


def _utc(value: datetime, what: str) -> datetime:
    """A plain `datetime` in UTC. Naive datetimes are refused: their meaning is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {value.isoformat()}")
    v = value.astimezone(UTC)
    # Rebuild as a plain datetime: Firestore hands back a subclass carrying nanoseconds.
    return datetime(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, tzinfo=UTC)


def _plain(value: Any, where: str) -> Any:
    """A deep copy of `value` if Firestore can store it as a map value, else ValueError."""
    if type(value) is str:
        return scrub(value)  # the last check before a document is written (issue 9)
    if value is None or isinstance(value, bool | str | float):
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"{where}: integer out of Firestore's 64-bit range")
        return value
    if isinstance(value, datetime):
        return _utc(value, where)
    if isinstance(value, list | tuple):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str) or not k:
                raise ValueError(f"{where}: map keys must be non-empty strings, got {k!r}")
            out[k] = _plain(v, f"{where}.{k}")
        return out
    raise ValueError(f"{where}: {type(value).__name__} cannot be stored")


def _normalised(incident: Incident) -> Incident:
    """The incident exactly as either store hands it back: checked, datetimes in UTC."""
    if not isinstance(incident, Incident):
        raise TypeError(f"expected an Incident, got {type(incident).__name__}")
    _check_id(incident.id)
    if not incident.job_path or not incident.fingerprint:
        raise ValueError("an incident needs a job_path and a fingerprint")
    changes: dict[str, Any] = {
        "state": State(incident.state),
        # Firestore hands lists back; the model keeps tuples, so that equal incidents compare equal.
        **{name: tuple(str(c) for c in getattr(incident, name)) for name in LIST_FIELDS},
    }
    for f in fields(Incident):
        value = getattr(incident, f.name)
        if isinstance(value, datetime):
            changes[f.name] = _utc(value, f"Incident.{f.name}")
        elif type(value) is str and f.name not in ("id", "job_path", "fingerprint"):
            changes[f.name] = scrub(value)  # the last check before a document is written
    return replace(incident, **changes)


def _check_id(incident_id: str) -> str:
    if not isinstance(incident_id, str) or not _INCIDENT_ID.match(incident_id):
        raise ValueError(f"incident id must match {_INCIDENT_ID.pattern}, not {incident_id!r}")
    return incident_id


def _message_key(channel: str | None, ts: str | None) -> str:
    return f"{channel}/{ts}" if channel and ts else ""


def _delivery_doc_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _check_claim_args(key: str, now: datetime, lease: timedelta) -> datetime:
    if not key:
        raise ValueError("a delivery key must not be empty")
    if lease <= timedelta(0):
        raise ValueError(f"lease must be positive, got {lease}")
    return _utc(now, "now")


@dataclass(frozen=True, slots=True)
class _ClaimDocument:
    """One claim record, as stored."""

    key: str
    state: str
    holder: str
    claimed_at: datetime
    lease_until: datetime
    attempt: int
    expire_at: datetime
    posted_channel: str | None = None
    posted_ts: str | None = None
    result: dict[str, Any] | None = None
    # the last post started (`begin_post`): when, and where
    attempt_at: datetime | None = None
    attempt_channel: str | None = None
    attempt_thread_ts: str | None = None

    @property
    def sent_something(self) -> bool:
        """A post was started or recorded: forgetting this claim could post it twice."""
        return self.attempt_at is not None or self.posted_ts is not None

    def as_claim(self, outcome: ClaimOutcome) -> Claim:
        done = self.state == _DONE
        posted = (
            PostedMessage(
                self.posted_channel,
                self.posted_ts,
                self.attempt_thread_ts if self.attempt_channel == self.posted_channel else None,
            )
            if self.posted_channel and self.posted_ts
            else None
        )
        unsettled = (
            PostAttempt(self.attempt_at, self.attempt_channel, self.attempt_thread_ts)
            if outcome is ClaimOutcome.TAKEOVER
            and posted is None
            and self.attempt_at is not None
            and self.attempt_channel
            else None
        )
        return Claim(
            outcome=outcome,
            key=self.key,
            holder=self.holder,
            lease_until=None if done else self.lease_until,
            attempt=self.attempt,
            posted=posted,
            result=_plain(self.result, "result") if done and self.result is not None else None,
            unsettled=unsettled,
            announced=(
                PostAttempt(self.attempt_at, self.attempt_channel, self.attempt_thread_ts)
                if outcome is ClaimOutcome.NEW and self.attempt_at and self.attempt_channel
                else None
            ),
        )

    def to_doc(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(_ClaimDocument)}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> _ClaimDocument:
        try:
            return cls(
                key=str(doc["key"]),
                state=str(doc["state"]),
                holder=str(doc["holder"]),
                claimed_at=_utc(doc["claimed_at"], "claimed_at"),
                lease_until=_utc(doc["lease_until"], "lease_until"),
                attempt=int(doc["attempt"]),
                expire_at=_utc(doc["expire_at"], "expire_at"),
                posted_channel=doc.get("posted_channel"),
                posted_ts=doc.get("posted_ts"),
                result=_plain(doc.get("result"), "result"),
                attempt_at=(
                    _utc(doc["attempt_at"], "attempt_at") if doc.get("attempt_at") else None
                ),
                attempt_channel=doc.get("attempt_channel"),
                attempt_thread_ts=doc.get("attempt_thread_ts"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PermanentError(f"delivery claim document is malformed: {exc}") from exc


def _fresh_pair(
    key: str, other: str, now: datetime, lease: timedelta, other_lease: timedelta
) -> tuple[_ClaimDocument, _ClaimDocument]:
    """The two new claims of `claim_both`, checked as `claim` checks one."""
    now = _check_claim_args(key, now, lease)
    _check_claim_args(other, now, other_lease)
    if key == other:
        raise ValueError("claim_both needs two different keys")
    return (
        _fresh_claim(key, secrets.token_hex(8), now, lease),
        _fresh_claim(other, secrets.token_hex(8), now, other_lease),
    )


def _fresh_claim(
    key: str,
    holder: str,
    now: datetime,
    lease: timedelta,
    done: Mapping[str, Any] | None = None,
    announce: PostAttempt | None = None,
) -> _ClaimDocument:
    fresh = _ClaimDocument(
        key=key,
        state=_PENDING,
        holder=holder,
        claimed_at=now,
        lease_until=now + lease,
        attempt=1,
        expire_at=now + DELIVERY_RETENTION,
    )
    if announce is not None and done is None:
        if not announce.channel:
            raise ValueError("a post needs a channel")
        fresh = replace(
            fresh,
            attempt_at=_utc(announce.started_at, "announce.started_at"),
            attempt_channel=announce.channel,
            attempt_thread_ts=announce.thread_ts or None,
        )
    return _done_now(fresh, done)


def _done_now(record: _ClaimDocument, done: Mapping[str, Any] | None) -> _ClaimDocument:
    """`record` finished at once with `done` (`IncidentStore.claim(done=)`), or as it is."""
    if done is None:
        return record
    return replace(record, state=_DONE, result=_plain(dict(done), "result"))


def _judge(
    current: _ClaimDocument, *, holder: str, now: datetime, lease: timedelta
) -> tuple[ClaimOutcome, _ClaimDocument | None]:
    """What a claim finds on an existing record, and the record to write if it takes over."""
    if current.state == _DONE:
        return ClaimOutcome.DONE, None
    if current.state != _RELEASED and current.lease_until > now:
        return ClaimOutcome.BUSY, None
    taken = replace(
        current,
        state=_PENDING,
        holder=holder,
        claimed_at=now,
        lease_until=now + lease,
        attempt=current.attempt + 1,
        expire_at=now + DELIVERY_RETENTION,
    )
    return ClaimOutcome.TAKEOVER, taken


def _begun(
    current: _ClaimDocument,
    *,
    key: str,
    holder: str,
    at: datetime,
    lease: timedelta,
    channel: str,
    thread_ts: str | None,
) -> _ClaimDocument:
    """The record of a post about to start, or ClaimLost when `holder` no longer holds the claim.
    The lease is renewed from `at`: a takeover can only come after the post's longest duration."""
    if current.state != _PENDING or current.holder != holder:
        raise ClaimLost(f"claim {key!r} was taken over by another delivery; not posting")
    if not channel:
        raise ValueError("a post needs a channel")
    at = _utc(at, "at")
    return replace(
        current,
        attempt_at=at,
        attempt_channel=channel,
        attempt_thread_ts=thread_ts or None,
        lease_until=max(current.lease_until, at + lease),
    )


def _begun_by(current: _ClaimDocument, begin: Begin) -> _ClaimDocument:
    """`_begun` with what `begin` names."""
    return _begun(
        current,
        key=begin.key,
        holder=begin.holder,
        at=begin.at,
        lease=begin.lease,
        channel=begin.channel,
        thread_ts=begin.thread_ts,
    )


def _finish_fields(finish: Finish) -> dict[str, Any]:
    """The claim fields `finish` sets: done, its result, and the post when it carries one."""
    changes: dict[str, Any] = {"state": _DONE, "result": _plain(dict(finish.result), "result")}
    if finish.posted is not None:
        changes |= {"posted_channel": finish.posted.channel, "posted_ts": finish.posted.ts}
    return changes


def _finished(current: _ClaimDocument, finish: Finish) -> _ClaimDocument:
    """The claim record once `finish` ended it."""
    return replace(current, **_finish_fields(finish))


def _released(current: _ClaimDocument, *, unsent: bool = False) -> _ClaimDocument | None:
    """What a release leaves: nothing when nothing was sent, else the record, free to take.
    `unsent`: the start on a first holder's claim was only announced, never begun (see
    `IncidentStore.release`)."""
    if unsent and current.attempt == 1 and current.posted_ts is None:
        return None
    return replace(current, state=_RELEASED) if current.sent_something else None


def _checked_update(current: Incident, fn: Callable[[Incident], Incident]) -> Incident | None:
    """fn(current) as the next stored version, or None when fn changed nothing."""
    new = fn(current)
    if not isinstance(new, Incident):
        raise TypeError(f"update function must return an Incident, got {type(new).__name__}")
    if new.id != current.id:
        raise ValueError(f"update function changed the incident id {current.id!r} -> {new.id!r}")
    new = _normalised(new)
    if replace(new, version=current.version) == current:
        return None
    return replace(new, version=current.version + 1)


def _check_change(change: Change | None, begin: Begin | None, done: object) -> None:
    """`claim(change=)` is the write of a delivery that goes on to post (no `done`), alone."""
    if change is not None and (begin is not None or done is not None):
        raise ValueError("claim(change=) goes with neither begin nor done")


def _check_unclaimed(
    unclaimed: str | None, finish: Finish | None, release: Release | None, begin: Begin | None
) -> None:
    """`update(unclaimed=)` is the write of a delivery that holds no claim: nothing to end."""
    if unclaimed is not None and (finish or release or begin):
        raise ValueError("update(unclaimed=) holds no claim: no finish, release or begin with it")


def _check_limit(limit: int | None) -> int:
    if limit is None:
        return MAX_AWAITING_ACK
    if not 1 <= limit <= MAX_AWAITING_ACK:
        raise ValueError(f"limit must be from 1 to {MAX_AWAITING_ACK}, not {limit}")
    return limit


def _awaiting(incidents: list[Incident], before: datetime, limit: int) -> list[Incident]:
    """The ones waiting since `before` or earlier, longest waiting first, at most `limit`."""
    due = [
        (since, i.id, i)
        for i in incidents
        if (since := i.awaiting_ack_since) is not None and since <= before
    ]
    return [i for _, _, i in sorted(due, key=lambda t: (t[0], t[1]))][:limit]


def _by_opening(incidents: list[Incident]) -> list[Incident]:
    return sorted(incidents, key=lambda i: (i.opened_at, i.id))


def _newest_opened(incidents: list[Incident], limit: int) -> list[Incident]:
    return sorted(incidents, key=lambda i: (i.opened_at, i.id), reverse=True)[:limit]


def _newest_confirmed(incidents: list[Incident], limit: int) -> list[Incident]:
    confirmed = [i for i in incidents if i.confirmed_cause and i.confirmed_at is not None]
    return sorted(confirmed, key=lambda i: (i.confirmed_at or i.opened_at, i.id), reverse=True)[
        :limit
    ]


def confirmed_project(incident: Incident) -> str:
    """The project of a confirmed incident, else "": the one field the project's confirmations
    are queried by (`FirestoreStore.project_confirmations`)."""
    return incident.project if incident.confirmed_cause and incident.confirmed_at else ""


# --- memory -----------------------------------------------------------------------------------
