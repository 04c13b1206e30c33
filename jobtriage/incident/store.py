"""Where incidents and delivery claims live: Firestore when deployed, memory for local runs.

Two jobs, one store:

- **Delivery claims** make "no alert lost, none posted twice for one execution" hold even though
  Pub/Sub delivers at least once and a function instance can die at any point. The pipeline:

      claim = store.claim(key, now=now, lease=LEASE)     # LEASE > the function's timeout
      DONE      -> post nothing, acknowledge the event
      BUSY      -> raise TransientError: another delivery is on it; Pub/Sub redelivers later
      NEW       -> post; store.record_post(key, channel, ts) at once; bookkeeping;
                   store.finish(key, result={...})
      TAKEOVER  -> a previous delivery died holding the claim. If `claim.posted` is set the Slack
                   post already happened: skip it and finish the bookkeeping.
      on a failure before posting: store.release(key, holder=claim.holder), then re-raise

  Who wins a race is decided by Firestore, never by timing: `create()` of the claim document
  (exactly one creator, the rest get AlreadyExists), and a write conditioned on the
  `update_time` that was read (exactly one of several takeovers lands).

- **Incidents** (see `model.Incident`): create-if-absent, read, and `update(id, fn)` — an
  optimistic read-modify-write that re-reads and re-applies `fn` when another writer got there
  first, so a click and a new failure arriving together both count. `fn` must therefore be pure.

Both stores validate the same way (tz-aware datetimes, safe incident ids, Firestore-storable
results) so that what works against `MemoryStore` works against Firestore. The contract test in
tests/incident/test_store_contract.py runs the same functions against both.

Firestore layout (Native mode):

    deliveries/{sha256(key)}   key, state (pending|done), holder, claimed_at, lease_until,
                               attempt, posted_channel, posted_ts, result, expire_at
    incidents/{incident_id}    every `Incident` field, plus `open_job` (the job path while the
                               incident is not closed, else "") and `message` ("channel/ts" of
                               the parent message, or "") so that every query is a single
                               equality filter: no composite index to deploy.

`deliveries.expire_at` is meant for a Firestore TTL policy (claims are only needed for as long as
Pub/Sub may redeliver — hours, until the dead-letter topic takes the event — kept 30 days for
forensics).

Errors: Firestore unreachable, overloaded or timing out -> `TransientError` (redeliver);
permission denied, database missing or in Datastore mode -> `PermanentError` with the fix.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry, if_exception_type

from jobtriage.errors import PermanentError, TransientError, TriageError
from jobtriage.incident.model import Incident, State
from jobtriage.redact import scrub

if TYPE_CHECKING:
    from jobtriage.settings import Settings

DELIVERIES = "deliveries"
INCIDENTS = "incidents"
# How long a claim document is kept after the claim (for the TTL policy on `expire_at`).
DELIVERY_RETENTION = timedelta(days=30)
# At most this many open incidents are read for one job; more would mean a runaway fingerprint.
MAX_OPEN_PER_JOB = 50
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

_INCIDENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_PENDING = "pending"
_DONE = "done"


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


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: ClaimOutcome
    key: str
    holder: str  # token of the delivery holding the claim now: yours for NEW and TAKEOVER
    lease_until: datetime | None  # None once DONE
    attempt: int  # 1 for the first holder, +1 for every takeover
    posted: PostedMessage | None = None  # set when a post already happened (TAKEOVER, DONE)
    result: Mapping[str, Any] | None = None  # what `finish` stored (DONE only)

    @property
    def owned(self) -> bool:
        """True when the caller now holds the claim and must finish or release it."""
        return self.outcome in (ClaimOutcome.NEW, ClaimOutcome.TAKEOVER)


class UnknownIncident(PermanentError):
    """No incident with that id (e.g. a click on a message whose incident was never stored)."""


class UnknownClaim(PermanentError):
    """`record_post` / `finish` for a key that was never claimed, or was released."""


class IncidentStore(Protocol):
    """What the pipeline and the click handler need from storage. See the module docstring."""

    def claim(self, key: str, *, now: datetime, lease: timedelta) -> Claim: ...

    def record_post(self, key: str, channel: str, ts: str) -> None: ...

    def finish(self, key: str, *, result: Mapping[str, Any]) -> None: ...

    def release(self, key: str, *, holder: str | None = None) -> bool: ...

    def get(self, incident_id: str) -> Incident | None: ...

    def create(self, incident: Incident) -> bool: ...

    def update(self, incident_id: str, fn: Callable[[Incident], Incident]) -> Incident: ...

    def open_incident(self, job_path: str, fingerprint: str) -> Incident | None: ...

    def open_incidents(self, job_path: str) -> list[Incident]: ...

    def find_by_message(self, channel: str, ts: str) -> Incident | None: ...


def make_store(settings: Settings) -> IncidentStore:
    """The store `settings.incident_store` names; a Firestore client is built on first use."""
    if settings.incident_store == "memory":
        return MemoryStore()
    return FirestoreStore.from_settings(settings)


# --- validation and conversion shared by both stores ------------------------------------------


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
    changes: dict[str, Any] = {"state": State(incident.state)}
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
class _Delivery:
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

    def as_claim(self, outcome: ClaimOutcome) -> Claim:
        done = self.state == _DONE
        posted = (
            PostedMessage(self.posted_channel, self.posted_ts)
            if self.posted_channel and self.posted_ts
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
        )

    def to_doc(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(_Delivery)}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> _Delivery:
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
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PermanentError(f"delivery claim document is malformed: {exc}") from exc


def _fresh_claim(key: str, holder: str, now: datetime, lease: timedelta) -> _Delivery:
    return _Delivery(
        key=key,
        state=_PENDING,
        holder=holder,
        claimed_at=now,
        lease_until=now + lease,
        attempt=1,
        expire_at=now + DELIVERY_RETENTION,
    )


def _judge(
    current: _Delivery, *, holder: str, now: datetime, lease: timedelta
) -> tuple[ClaimOutcome, _Delivery | None]:
    """What a claim finds on an existing record, and the record to write if it takes over."""
    if current.state == _DONE:
        return ClaimOutcome.DONE, None
    if current.lease_until > now:
        return ClaimOutcome.BUSY, None
    taken = replace(
        current,
        holder=holder,
        claimed_at=now,
        lease_until=now + lease,
        attempt=current.attempt + 1,
        expire_at=now + DELIVERY_RETENTION,
    )
    return ClaimOutcome.TAKEOVER, taken


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


def _by_opening(incidents: list[Incident]) -> list[Incident]:
    return sorted(incidents, key=lambda i: (i.opened_at, i.id))


# --- memory -----------------------------------------------------------------------------------


class MemoryStore:
    """Everything in this process, behind one lock. For local runs and tests; lost on exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deliveries: dict[str, _Delivery] = {}
        self._incidents: dict[str, Incident] = {}

    def claim(self, key: str, *, now: datetime, lease: timedelta) -> Claim:
        now = _check_claim_args(key, now, lease)
        holder = secrets.token_hex(8)
        with self._lock:
            current = self._deliveries.get(key)
            if current is None:
                self._deliveries[key] = _fresh_claim(key, holder, now, lease)
                return self._deliveries[key].as_claim(ClaimOutcome.NEW)
            outcome, taken = _judge(current, holder=holder, now=now, lease=lease)
            if taken is not None:
                self._deliveries[key] = taken
                return taken.as_claim(outcome)
            return current.as_claim(outcome)

    def record_post(self, key: str, channel: str, ts: str) -> None:
        with self._lock:
            current = self._deliveries.get(key)
            if current is None:
                raise UnknownClaim(f"no delivery claim for {key!r} to record the post on")
            self._deliveries[key] = replace(current, posted_channel=channel, posted_ts=ts)

    def finish(self, key: str, *, result: Mapping[str, Any]) -> None:
        stored = _plain(dict(result), "result")
        with self._lock:
            current = self._deliveries.get(key)
            if current is None:
                raise UnknownClaim(f"no delivery claim for {key!r} to finish")
            self._deliveries[key] = replace(current, state=_DONE, result=stored)

    def release(self, key: str, *, holder: str | None = None) -> bool:
        with self._lock:
            current = self._deliveries.get(key)
            if current is None or current.state == _DONE:
                return False
            if holder is not None and current.holder != holder:
                return False
            del self._deliveries[key]
            return True

    def get(self, incident_id: str) -> Incident | None:
        _check_id(incident_id)
        with self._lock:
            return self._incidents.get(incident_id)

    def create(self, incident: Incident) -> bool:
        incident = _normalised(incident)
        with self._lock:
            if incident.id in self._incidents:
                return self._incidents[incident.id] == incident
            self._incidents[incident.id] = incident
            return True

    def update(self, incident_id: str, fn: Callable[[Incident], Incident]) -> Incident:
        _check_id(incident_id)
        # fn runs under the lock: it must not call back into the store.
        with self._lock:
            current = self._incidents.get(incident_id)
            if current is None:
                raise UnknownIncident(f"no incident {incident_id!r}")
            new = _checked_update(current, fn)
            if new is None:
                return current
            self._incidents[incident_id] = new
            return new

    def open_incident(self, job_path: str, fingerprint: str) -> Incident | None:
        found = [i for i in self.open_incidents(job_path) if i.fingerprint == fingerprint]
        return found[-1] if found else None

    def open_incidents(self, job_path: str) -> list[Incident]:
        with self._lock:
            found = [
                i for i in self._incidents.values() if i.job_path == job_path and not i.state.closed
            ]
        return _by_opening(found)[:MAX_OPEN_PER_JOB]

    def find_by_message(self, channel: str, ts: str) -> Incident | None:
        wanted = _message_key(channel, ts)
        if not wanted:
            return None
        with self._lock:
            found = [i for i in self._incidents.values() if _message_key(i.channel, i.ts) == wanted]
        return _by_opening(found)[-1] if found else None


# --- Firestore --------------------------------------------------------------------------------


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Firestore and auth errors -> our retry-or-drop errors, decided here and only here."""
    from google.auth import exceptions as auth_exc

    try:
        yield
    except TriageError:
        raise
    except gexc.PermissionDenied as exc:
        raise PermanentError(
            f"Firestore {what}: permission denied: {exc.message}", fix=PERMISSION_FIX
        ) from exc
    except gexc.NotFound as exc:
        # Documents that may be missing are handled where they are read or written; a NotFound
        # that gets here means the database itself does not exist.
        raise PermanentError(f"Firestore {what}: {exc.message}", fix=DATABASE_FIX) from exc
    except gexc.FailedPrecondition as exc:
        # Conditional writes handle their own FailedPrecondition; here it is the database
        # (e.g. "not available for Firestore in Datastore Mode").
        raise PermanentError(f"Firestore {what}: {exc.message}", fix=DATABASE_FIX) from exc
    except gexc.InvalidArgument as exc:
        raise PermanentError(f"Firestore {what}: rejected the request: {exc.message}") from exc
    except auth_exc.DefaultCredentialsError as exc:
        raise PermanentError(
            f"Firestore {what}: no Google credentials: {exc}",
            fix="run with a service account (Application Default Credentials), or set "
            "FIRESTORE_EMULATOR_HOST for a local emulator, or INCIDENT_STORE=memory",
        ) from exc
    except (gexc.GoogleAPIError, auth_exc.GoogleAuthError) as exc:
        # Unavailable, deadline exceeded, aborted, resource exhausted, internal, unknown, and
        # RetryError (our retry budget ran out): all worth a redelivery.
        raise TransientError(f"Firestore {what}: {type(exc).__name__}: {exc}") from exc


def _retry_policy(timeout: float) -> Retry:
    # Bounded by `timeout` in total: the library's own defaults retry for 60-300 s, far past
    # the point where Pub/Sub redelivery is the better retry.
    return Retry(
        predicate=if_exception_type(
            gexc.ServiceUnavailable,
            gexc.DeadlineExceeded,
            gexc.InternalServerError,
            gexc.ResourceExhausted,
            gexc.Aborted,
        ),
        initial=0.1,
        maximum=1.0,
        multiplier=2.0,
        timeout=timeout,
    )


def _backoff(round_: int) -> None:
    """A short random pause before re-reading a document another writer just changed."""
    time.sleep(random.uniform(0, min(0.2, 0.005 * (2**round_))))  # noqa: S311 (jitter)


class FirestoreStore:
    """Firestore (Native mode) through google-cloud-firestore. The client is built on first use.

    Every call carries `timeout` and a retry bounded by it, so an unreachable Firestore turns
    into a `TransientError` within about `timeout` seconds.
    """

    def __init__(
        self,
        client: Any | None = None,
        *,
        project: str | None = None,
        database: str = "(default)",
        timeout: float = 10.0,
    ) -> None:
        self._client_obj = client
        self._project = project
        self._database = database
        self._timeout = timeout
        self._retry = _retry_policy(timeout)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> FirestoreStore:
        return cls(database=settings.firestore_database, timeout=settings.api_timeout_seconds)

    # -- plumbing --

    def _client(self) -> Any:
        with self._lock:
            if self._client_obj is None:
                from google.cloud import firestore

                with _translated("client"):
                    self._client_obj = firestore.Client(
                        project=self._project, database=self._database
                    )
            return self._client_obj

    @property
    def _call(self) -> dict[str, Any]:
        return {"retry": self._retry, "timeout": self._timeout}

    def _cas(self, snapshot: Any) -> Any:
        """A write option that only lands if the document is still as `snapshot` read it."""
        return self._client().write_option(last_update_time=snapshot.update_time)

    def _delivery(self, key: str) -> Any:
        return self._client().collection(DELIVERIES).document(_delivery_doc_id(key))

    def _incident_ref(self, incident_id: str) -> Any:
        return self._client().collection(INCIDENTS).document(_check_id(incident_id))

    def _query(self, field: str, value: str, what: str) -> list[Incident]:
        from google.cloud.firestore import FieldFilter

        query = (
            self._client()
            .collection(INCIDENTS)
            .where(filter=FieldFilter(field, "==", value))
            .limit(MAX_OPEN_PER_JOB)
        )
        with _translated(what):
            found = [_incident_from_doc(s.to_dict()) for s in query.stream(**self._call)]
        return _by_opening(found)

    # -- claims --

    def claim(self, key: str, *, now: datetime, lease: timedelta) -> Claim:
        now = _check_claim_args(key, now, lease)
        holder = secrets.token_hex(8)
        ref = self._delivery(key)
        with _translated("claim"):
            for round_ in range(MAX_CONTENDED_ROUNDS):
                fresh = _fresh_claim(key, holder, now, lease)
                try:
                    ref.create(fresh.to_doc(), **self._call)
                    return fresh.as_claim(ClaimOutcome.NEW)
                except gexc.AlreadyExists:
                    pass
                snap = ref.get(**self._call)
                if not snap.exists:
                    continue  # released since: create again
                current = _Delivery.from_doc(snap.to_dict())
                if current.holder == holder:
                    # Our own write landed although its answer was lost (retried after a timeout).
                    mine = ClaimOutcome.NEW if current.attempt == 1 else ClaimOutcome.TAKEOVER
                    return current.as_claim(mine)
                outcome, taken = _judge(current, holder=holder, now=now, lease=lease)
                if taken is None:
                    return current.as_claim(outcome)
                try:
                    ref.update(taken.to_doc(), option=self._cas(snap), **self._call)
                    return taken.as_claim(ClaimOutcome.TAKEOVER)
                except (gexc.FailedPrecondition, gexc.NotFound):
                    _backoff(round_)  # another delivery moved first: look again
        raise TransientError(f"claim {key!r}: the claim kept changing under us; retry later")

    def record_post(self, key: str, channel: str, ts: str) -> None:
        with _translated("record_post"):
            try:
                self._delivery(key).update(
                    {"posted_channel": channel, "posted_ts": ts}, **self._call
                )
            except gexc.NotFound:
                raise UnknownClaim(f"no delivery claim for {key!r} to record the post on") from None

    def finish(self, key: str, *, result: Mapping[str, Any]) -> None:
        stored = _plain(dict(result), "result")
        with _translated("finish"):
            try:
                self._delivery(key).update({"state": _DONE, "result": stored}, **self._call)
            except gexc.NotFound:
                raise UnknownClaim(f"no delivery claim for {key!r} to finish") from None

    def release(self, key: str, *, holder: str | None = None) -> bool:
        ref = self._delivery(key)
        with _translated("release"):
            for round_ in range(MAX_CONTENDED_ROUNDS):
                snap = ref.get(**self._call)
                if not snap.exists:
                    return False
                current = _Delivery.from_doc(snap.to_dict())
                if current.state == _DONE or (holder is not None and current.holder != holder):
                    return False
                try:
                    ref.delete(option=self._cas(snap), **self._call)
                    return True
                except (gexc.FailedPrecondition, gexc.NotFound):
                    _backoff(round_)
        raise TransientError(f"release {key!r}: the claim kept changing under us")

    # -- incidents --

    def get(self, incident_id: str) -> Incident | None:
        ref = self._incident_ref(incident_id)
        with _translated("get incident"):
            snap = ref.get(**self._call)
        return _incident_from_doc(snap.to_dict()) if snap.exists else None

    def create(self, incident: Incident) -> bool:
        incident = _normalised(incident)
        ref = self._incident_ref(incident.id)
        write_id = secrets.token_hex(8)
        with _translated("create incident"):
            try:
                ref.create(_incident_to_doc(incident, write_id), **self._call)
                return True
            except gexc.AlreadyExists:
                snap = ref.get(**self._call)
        # Our own write id there means our create landed although its answer was lost.
        return bool(snap.exists and (snap.to_dict() or {}).get(_WRITE_ID) == write_id)

    def update(self, incident_id: str, fn: Callable[[Incident], Incident]) -> Incident:
        ref = self._incident_ref(incident_id)
        write_id = secrets.token_hex(8)  # tells our own write from an equal one by someone else
        with _translated("update incident"):
            for round_ in range(MAX_CONTENDED_ROUNDS):
                snap = ref.get(**self._call)
                if not snap.exists:
                    raise UnknownIncident(f"no incident {incident_id!r}")
                doc = snap.to_dict()
                current = _incident_from_doc(doc)
                if (doc or {}).get(_WRITE_ID) == write_id:
                    return current  # our write landed although its answer was lost
                new = _checked_update(current, fn)
                if new is None:
                    return current
                try:
                    ref.update(
                        _incident_to_doc(new, write_id), option=self._cas(snap), **self._call
                    )
                    return new
                except (gexc.FailedPrecondition, gexc.NotFound):
                    _backoff(round_)  # someone else wrote first: re-read, re-apply fn
        raise TransientError(f"update incident {incident_id!r}: too many concurrent writers")

    def open_incident(self, job_path: str, fingerprint: str) -> Incident | None:
        found = [i for i in self.open_incidents(job_path) if i.fingerprint == fingerprint]
        return found[-1] if found else None

    def open_incidents(self, job_path: str) -> list[Incident]:
        if not job_path:
            return []
        found = self._query("open_job", job_path, "open incidents")
        # The derived field is written with the state, but never trust one over the other.
        return [i for i in found if not i.state.closed and i.job_path == job_path]

    def find_by_message(self, channel: str, ts: str) -> Incident | None:
        wanted = _message_key(channel, ts)
        if not wanted:
            return None
        found = self._query("message", wanted, "find incident by message")
        found = [i for i in found if _message_key(i.channel, i.ts) == wanted]
        return found[-1] if found else None


_INCIDENT_FIELD_NAMES = tuple(f.name for f in fields(Incident))
_WRITE_ID = "write_id"  # random per store call: which call wrote this version
_SCHEMA = 1


def _incident_to_doc(incident: Incident, write_id: str) -> dict[str, Any]:
    doc = {name: getattr(incident, name) for name in _INCIDENT_FIELD_NAMES}
    doc["state"] = incident.state.value
    doc["open_job"] = "" if incident.state.closed else incident.job_path
    doc["message"] = _message_key(incident.channel, incident.ts)
    doc["schema"] = _SCHEMA
    doc[_WRITE_ID] = write_id
    return doc


def _incident_from_doc(doc: Mapping[str, Any] | None) -> Incident:
    if doc is None:
        raise PermanentError("incident document has no data")
    # Fields added to Incident later are absent from older documents: their defaults apply.
    values = {k: v for k, v in doc.items() if k in _INCIDENT_FIELD_NAMES}
    try:
        values["state"] = State(values["state"])
        for name, value in list(values.items()):
            if isinstance(value, datetime):
                values[name] = _utc(value, name)
        return Incident(**values)
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentError(f"incident document is malformed: {exc}") from exc
