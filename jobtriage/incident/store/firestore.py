"""The Firestore store, deployed: claims decided by create() and update_time preconditions,
incidents by optimistic read-modify-write. Layout and error mapping: `jobtriage.incident.store`."""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry, if_exception_type

from jobtriage.errors import PermanentError, TransientError, TriageError
from jobtriage.incident.model import Incident, State

if TYPE_CHECKING:
    from jobtriage.settings import Settings

from jobtriage.incident.memory import HISTORY_LIMIT, PROJECT_CONFIRMATIONS_LIMIT
from jobtriage.incident.store.contract import (
    _DONE,
    DATABASE_FIX,
    DELIVERIES,
    INCIDENTS,
    LIST_FIELDS,
    MAX_CONTENDED_ROUNDS,
    MAX_OPEN_PER_JOB,
    PERMISSION_FIX,
    Begin,
    Change,
    Claim,
    ClaimHeld,
    ClaimOutcome,
    Finish,
    PostAttempt,
    Release,
    UnknownClaim,
    UnknownIncident,
    _awaiting,
    _begun,
    _begun_by,
    _by_opening,
    _check_change,
    _check_claim_args,
    _check_id,
    _check_limit,
    _check_unclaimed,
    _checked_update,
    _ClaimDocument,
    _delivery_doc_id,
    _done_now,
    _finish_fields,
    _fresh_claim,
    _fresh_pair,
    _judge,
    _message_key,
    _newest_confirmed,
    _newest_opened,
    _normalised,
    _plain,
    _released,
    _utc,
    confirmed_project,
)


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


# A release in another write's commit: (the claim's ref, its version as last seen, the record it
# leaves — None to delete it).
_Freed = tuple[Any, Any, dict[str, Any] | None]
# A post's start in another write's commit: (the claim's ref, its version as last seen, the
# record to write).
_Started = tuple[Any, Any, dict[str, Any]]

# How many documents an instance remembers the last version of (`_Seen`).
SEEN_DOCUMENTS = 128


class _Version:
    """A document as this instance last read or wrote it: what a conditional write needs
    (its data, its update_time), in the shape of a snapshot."""

    __slots__ = ("_data", "update_time")
    exists = True

    def __init__(self, data: Mapping[str, Any], update_time: Any) -> None:
        self._data = dict(data)
        self.update_time = update_time

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)


class _Seen:
    """The last version of the documents this instance read or wrote, most recent first, at
    most `SEEN_DOCUMENTS`. A read-modify-write starts from it instead of a read: its write is
    conditional on that update_time, so a version someone has changed since only costs the
    read it tried to save (the write is refused, the document is read, the change re-applied).
    Never the source of an answer on its own: every write it feeds is checked by Firestore."""

    def __init__(self, size: int = SEEN_DOCUMENTS) -> None:
        self._size = size
        self._docs: OrderedDict[str, _Version] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str) -> _Version | None:
        with self._lock:
            return self._docs.get(path)

    def put(self, path: str, data: Mapping[str, Any] | None, update_time: Any) -> None:
        if data is None or update_time is None:
            self.drop(path)
            return
        with self._lock:
            self._docs[path] = _Version(data, update_time)
            self._docs.move_to_end(path, last=False)
            while len(self._docs) > self._size:
                self._docs.popitem()

    def drop(self, path: str) -> None:
        with self._lock:
            self._docs.pop(path, None)


class FirestoreStore:
    """Firestore (Native mode) through google-cloud-firestore. The client is built on first use.

    Every call carries `timeout` and a retry bounded by it, so an unreachable Firestore turns
    into a `TransientError` within about `timeout` seconds. Documents this instance just read
    or wrote are remembered (`_Seen`): the next conditional write on one starts without a read.
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
        self._seen = _Seen()

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

    def _snapshot(self, ref: Any, *, fresh: bool) -> Any:
        """The document as last seen (`fresh=False` and remembered), else as read now."""
        if not fresh and (seen := self._seen.get(ref.path)) is not None:
            return seen
        snap = ref.get(**self._call)
        self._remember(ref, snap)
        return snap

    def _remember(self, ref: Any, snap: Any) -> None:
        if snap.exists:
            self._seen.put(ref.path, snap.to_dict(), snap.update_time)
        else:
            self._seen.drop(ref.path)

    def _wrote(self, ref: Any, data: Mapping[str, Any], written: Any) -> None:
        """`data` is now the whole of the document at `ref`, as of the write result `written`."""
        self._seen.put(ref.path, data, getattr(written, "update_time", None))

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
            found = self._incidents_of(query)
        return _by_opening(found)

    def _incidents_of(self, query: Any) -> list[Incident]:
        """The incidents a query finds, each remembered as found (its next update starts there)."""
        found = []
        for snap in query.stream(**self._call):
            self._remember(snap.reference, snap)
            found.append(_incident_from_doc(snap.to_dict()))
        return found

    def _newest(
        self, field: str, value: str, order_by: str, limit: int, what: str
    ) -> list[Incident]:
        """`field == value`, newest `order_by` first, at most `limit`: one query, served by a
        composite index (deploy/firestore.tf)."""
        from google.cloud.firestore import FieldFilter, Query

        query = (
            self._client()
            .collection(INCIDENTS)
            .where(filter=FieldFilter(field, "==", value))
            .order_by(order_by, direction=Query.DESCENDING)
            .limit(limit)
        )
        with _translated(what):
            return self._incidents_of(query)

    # -- claims --

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
        now = _check_claim_args(key, now, lease)
        _check_change(change, begin, done)
        ref = self._delivery(key)
        if (finished := self._finished(ref, now)) is not None:
            return finished.as_claim(ClaimOutcome.DONE)
        with _translated("claim"):
            holder = secrets.token_hex(8)
            if change is not None:
                changed = self._claim_changing(ref, key, holder, now, lease, announce, change)
                if changed is not None:
                    return changed
            claim, begun = self._claim(ref, key, now, lease, done, begin, announce, holder)
        if begin is not None and claim.owned and not begun:
            self._begin_alone(begin)
        return claim

    def _claim(
        self,
        ref: Any,
        key: str,
        now: datetime,
        lease: timedelta,
        done: Mapping[str, Any] | None,
        begin: Begin | None,
        announce: PostAttempt | None,
        holder: str,
    ) -> tuple[Claim, bool]:
        """(the claim, whether `begin` went into the write that created it). `holder`: this
        delivery's token (a write of ours whose answer was lost is known by it)."""
        started = self._begin_write(begin)
        for round_ in range(MAX_CONTENDED_ROUNDS):
            fresh = _fresh_claim(key, holder, now, lease, done, announce)
            doc = fresh.to_doc()
            try:
                if started is None:
                    self._wrote(ref, doc, ref.create(doc, **self._call))
                    return fresh.as_claim(ClaimOutcome.NEW), False
                # One commit for the new claim and the other claim's post start.
                batch = self._client().batch()
                batch.create(ref, doc)
                batch.update(started[0], started[2], option=self._cas(started[1]))
                written = list(batch.commit(**self._call))
                self._wrote(ref, doc, written[0] if written else None)
                self._wrote(started[0], started[2], written[1] if written[1:] else None)
                return fresh.as_claim(ClaimOutcome.NEW), True
            except gexc.AlreadyExists:
                pass
            except (gexc.FailedPrecondition, gexc.NotFound):
                if started is None:
                    raise
                # the claim to start a post on changed since this instance saw it: without it
                self._seen.drop(started[0].path)
                started = None
                continue
            snap = self._snapshot(ref, fresh=True)
            if not snap.exists:
                continue  # released since: create again
            current = _ClaimDocument.from_doc(snap.to_dict())
            if current.holder == holder:
                # Our own write landed although its answer was lost (retried after a timeout).
                mine = ClaimOutcome.NEW if current.attempt == 1 else ClaimOutcome.TAKEOVER
                return current.as_claim(mine), False
            outcome, taken = _judge(current, holder=holder, now=now, lease=lease)
            if taken is None:
                return current.as_claim(outcome), False
            taken = _done_now(taken, done)
            try:
                self._write_claim(ref, taken, snap)
                return taken.as_claim(ClaimOutcome.TAKEOVER), False
            except (gexc.FailedPrecondition, gexc.NotFound):
                self._seen.drop(ref.path)
                _backoff(round_)  # another delivery moved first: look again
        raise TransientError(f"claim {key!r}: the claim kept changing under us; retry later")

    def claim_both(
        self, key: str, other: str, *, now: datetime, lease: timedelta, other_lease: timedelta
    ) -> tuple[Claim, Claim] | None:
        first, second = _fresh_pair(key, other, now, lease, other_lease)
        refs = self._delivery(key), self._delivery(other)
        docs = first.to_doc(), second.to_doc()
        batch = self._client().batch()
        for ref, doc in zip(refs, docs, strict=True):
            batch.create(ref, doc)
        with _translated("claim"):
            try:
                written = list(batch.commit(**self._call))
            except gexc.AlreadyExists:
                return None  # either exists; nothing was written
        for i, (ref, doc) in enumerate(zip(refs, docs, strict=True)):
            self._wrote(ref, doc, written[i] if written[i:] else None)
        return first.as_claim(ClaimOutcome.NEW), second.as_claim(ClaimOutcome.NEW)

    def _claim_changing(
        self,
        ref: Any,
        key: str,
        holder: str,
        now: datetime,
        lease: timedelta,
        announce: PostAttempt | None,
        change: Change,
    ) -> Claim | None:
        """One commit for a new claim and the incident change, from the incident as last seen.
        None when it cannot be one commit — the incident not seen here, the claim exists, or the
        incident changed since it was seen: then `_claim` claims alone (nothing was written)."""
        incident_ref = self._incident_ref(change.incident_id)
        seen = self._seen.get(incident_ref.path)
        if seen is None:
            return None
        current = _incident_from_doc(seen.to_dict())
        new = _checked_update(current, change.fn)
        fresh = _fresh_claim(key, holder, now, lease, None, announce)
        doc = fresh.to_doc()
        if new is None:
            return None  # nothing to change: a claim alone
        incident_doc = _incident_to_doc(new, secrets.token_hex(8))
        batch = self._client().batch()
        batch.create(ref, doc)
        batch.update(incident_ref, incident_doc, option=self._cas(seen))
        try:
            written = list(batch.commit(**self._call))
        except gexc.AlreadyExists:
            return None
        except (gexc.FailedPrecondition, gexc.NotFound):
            self._seen.drop(incident_ref.path)
            return None
        self._wrote(ref, doc, written[0] if written else None)
        self._wrote(incident_ref, incident_doc, written[1] if written[1:] else None)
        return replace(fresh.as_claim(ClaimOutcome.NEW), changed=new)

    def _seen_claim(self, ref: Any) -> tuple[_Version, _ClaimDocument] | None:
        """The claim at `ref` as this instance last read or wrote it (None: not remembered)."""
        seen = self._seen.get(ref.path)
        if seen is None:
            return None
        try:
            return seen, _ClaimDocument.from_doc(seen.to_dict())
        except PermanentError:
            return None

    def _finished(self, ref: Any, now: datetime) -> _ClaimDocument | None:
        """The claim as this instance last saw it, if that was finished and not yet expired. A
        finished claim never changes again (no claim takes it, no release frees it), so a
        duplicate delivery, a taken alert place or a window's digest is known without an RPC."""
        known = self._seen_claim(ref)
        if known is None:
            return None
        record = known[1]
        return record if record.state == _DONE and record.expire_at > now else None

    def _write_claim(self, ref: Any, record: _ClaimDocument, snap: Any) -> None:
        """`record` over the claim, if it is still as `snap` saw it (else FailedPrecondition)."""
        doc = record.to_doc()
        self._wrote(ref, doc, ref.update(doc, option=self._cas(snap), **self._call))

    def _claim_record(self, ref: Any, key: str, *, fresh: bool, what: str) -> tuple[Any, Any]:
        """(snapshot, claim record) of `key`; UnknownClaim when there is none."""
        snap = self._snapshot(ref, fresh=fresh)
        if not snap.exists:
            raise UnknownClaim(f"no delivery claim for {key!r} to {what}")
        return snap, _ClaimDocument.from_doc(snap.to_dict())

    def begin_post(
        self,
        key: str,
        *,
        holder: str,
        at: datetime,
        lease: timedelta,
        channel: str,
        thread_ts: str | None = None,
    ) -> None:
        ref = self._delivery(key)
        with _translated("begin_post"):
            for round_ in range(MAX_CONTENDED_ROUNDS):
                # The first round starts from the claim as this delivery wrote it (no read).
                snap, current = self._claim_record(
                    ref, key, fresh=round_ > 0, what="start a post on"
                )
                begun = _begun(
                    current,
                    key=key,
                    holder=holder,
                    at=at,
                    lease=lease,
                    channel=channel,
                    thread_ts=thread_ts,
                )
                try:
                    self._write_claim(ref, begun, snap)
                    return
                except (gexc.FailedPrecondition, gexc.NotFound):
                    self._seen.drop(ref.path)
                    if round_:
                        _backoff(round_)  # changed since we read it: a takeover, perhaps
        raise TransientError(f"begin_post {key!r}: the claim kept changing under us")

    def _set_claim_fields(self, key: str, changes: dict[str, Any], what: str) -> None:
        """A blind update of some fields of an existing claim (UnknownClaim if it is gone)."""
        ref = self._delivery(key)
        seen = self._seen.get(ref.path)
        try:
            written = ref.update(changes, **self._call)
        except gexc.NotFound:
            self._seen.drop(ref.path)
            raise UnknownClaim(f"no delivery claim for {key!r} to {what}") from None
        if seen is None:
            return
        self._wrote(ref, {**seen.to_dict(), **changes}, written)

    def record_post(self, key: str, channel: str, ts: str) -> None:
        with _translated("record_post"):
            self._set_claim_fields(
                key, {"posted_channel": channel, "posted_ts": ts}, "record the post on"
            )

    def finish(self, key: str, *, result: Mapping[str, Any]) -> None:
        stored = _plain(dict(result), "result")
        with _translated("finish"):
            self._set_claim_fields(key, {"state": _DONE, "result": stored}, "finish")

    def finished(
        self, key: str, *, now: datetime, seen_only: bool = False
    ) -> Mapping[str, Any] | None:
        ref = self._delivery(key)
        if (known := self._finished(ref, now)) is not None:
            return dict(known.result or {})
        if seen_only:
            return None
        with _translated("finished"):
            snap = self._snapshot(ref, fresh=True)
        if not snap.exists:
            return None
        current = _ClaimDocument.from_doc(snap.to_dict())
        return (
            dict(current.result or {})
            if current.state == _DONE and current.expire_at > now
            else None
        )

    def release(self, key: str, *, holder: str | None = None, unsent: bool = False) -> bool:
        ref = self._delivery(key)
        with _translated("release"):
            for round_ in range(MAX_CONTENDED_ROUNDS):
                # The first round starts from the claim as last seen: usually our own write.
                snap = self._snapshot(ref, fresh=round_ > 0)
                if not snap.exists:
                    return False
                current = _ClaimDocument.from_doc(snap.to_dict())
                if current.state == _DONE or (holder is not None and current.holder != holder):
                    if round_ == 0 and isinstance(snap, _Version):
                        continue  # as last seen only: look at the claim itself before saying no
                    return False
                kept = _released(current, unsent=unsent)
                try:
                    if kept is None:
                        ref.delete(option=self._cas(snap), **self._call)
                        self._seen.drop(ref.path)
                    else:
                        self._write_claim(ref, kept, snap)
                    return True
                except (gexc.FailedPrecondition, gexc.NotFound):
                    self._seen.drop(ref.path)
                    if round_:
                        _backoff(round_)
        raise TransientError(f"release {key!r}: the claim kept changing under us")

    # -- incidents --

    def get(self, incident_id: str) -> Incident | None:
        ref = self._incident_ref(incident_id)
        with _translated("get incident"):
            snap = self._snapshot(ref, fresh=True)
        return _incident_from_doc(snap.to_dict()) if snap.exists else None

    def _finish_in(self, batch: Any, finish: Finish) -> tuple[Any, dict[str, Any]]:
        """Add `finish` to `batch`: the claim's ref and the fields it sets."""
        ref = self._delivery(finish.key)
        changes = _finish_fields(finish)
        batch.update(ref, changes)
        return ref, changes

    def _commit(self, batch: Any, finish: Finish) -> list[Any]:
        """Commit a batch that also finishes a claim: UnknownClaim when that claim is gone."""
        try:
            return list(batch.commit(**self._call))
        except gexc.NotFound:
            claim_ref = self._delivery(finish.key)
            if not claim_ref.get(**self._call).exists:
                self._seen.drop(claim_ref.path)
                raise UnknownClaim(f"no delivery claim for {finish.key!r} to finish") from None
            raise

    def _remember_finish(self, ref: Any, changes: dict[str, Any], written: Any) -> None:
        seen = self._seen.get(ref.path)
        if seen is not None:
            self._wrote(ref, {**seen.to_dict(), **changes}, written)

    def create(
        self, incident: Incident, *, finish: Finish | None = None, release: Release | None = None
    ) -> bool:
        incident = _normalised(incident)
        ref = self._incident_ref(incident.id)
        write_id = secrets.token_hex(8)
        doc = _incident_to_doc(incident, write_id)
        with _translated("create incident"):
            freed = self._release_write(release)
            try:
                created, released = self._create(ref, doc, write_id, finish, freed)
            except (gexc.FailedPrecondition, gexc.NotFound):
                if freed is None:
                    raise
                # The claim to release changed since this instance saw it (taken over, perhaps):
                # create without it, and release it as `release` does (if still ours).
                self._seen.drop(freed[0].path)
                created, released = self._create(ref, doc, write_id, finish, None)
            if release is not None and not released:
                self.release(release.key, holder=release.holder, unsent=release.unsent)
            return created

    def _release_write(self, release: Release | None) -> _Freed | None:
        """What releasing `release` writes, from the claim as last seen: (ref, that version,
        the record left — None to delete it). None when it cannot go into the same commit (not
        seen here, or not ours as seen: `release` decides on the claim itself)."""
        if release is None:
            return None
        ref = self._delivery(release.key)
        known = self._seen_claim(ref)
        if known is None:
            return None
        seen, current = known
        if current.state == _DONE or current.holder != release.holder:
            return None
        kept = _released(current, unsent=release.unsent)
        return ref, seen, None if kept is None else kept.to_doc()

    def _release_in(self, batch: Any, freed: _Freed | None) -> None:
        """Add the release `_release_write` worked out to `batch` (conditional on the claim
        being as last seen)."""
        if freed is None:
            return
        freed_ref, seen, kept = freed
        if kept is None:
            batch.delete(freed_ref, option=self._cas(seen))
        else:
            batch.update(freed_ref, kept, option=self._cas(seen))

    def _released_in(self, freed: _Freed | None, written: list[Any]) -> None:
        """Remember what the commit with that release left (its result is the last one)."""
        if freed is None:
            return
        freed_ref, _, kept = freed
        if kept is None:
            self._seen.drop(freed_ref.path)
        else:
            self._wrote(freed_ref, kept, written[-1] if written else None)

    def _create(
        self,
        ref: Any,
        doc: dict[str, Any],
        write_id: str,
        finish: Finish | None,
        freed: _Freed | None,
    ) -> tuple[bool, bool]:
        """One commit for the incident, its claim's end and the post it records, and the
        opening claim's release: (created, released in that commit)."""
        try:
            if finish is None and freed is None:
                self._wrote(ref, doc, ref.create(doc, **self._call))
                return True, False
            batch = self._client().batch()
            batch.create(ref, doc)
            claim_ref, changes = self._finish_in(batch, finish) if finish else (None, {})
            self._release_in(batch, freed)
            written = self._commit(batch, finish) if finish else list(batch.commit(**self._call))
            self._wrote(ref, doc, written[0] if written else None)
            if claim_ref is not None:
                self._remember_finish(claim_ref, changes, written[1] if written[1:] else None)
            self._released_in(freed, written)
            return True, freed is not None
        except gexc.AlreadyExists:
            snap = self._snapshot(ref, fresh=True)
        # Our own write id there means our create (and its finish) landed although its
        # answer was lost.
        if snap.exists and (snap.to_dict() or {}).get(_WRITE_ID) == write_id:
            return True, freed is not None
        if finish is not None:
            self._finish_alone(finish)
        return False, False

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
        _check_unclaimed(unclaimed, finish, release, begin)
        ref = self._incident_ref(incident_id)
        write_id = secrets.token_hex(8)  # tells our own write from an equal one by someone else
        with _translated("update incident"):
            updated, released, begun = self._update(
                ref, incident_id, fn, write_id, finish, release, begin, unclaimed
            )
            if release is not None and not released and release.applies(updated):
                self.release(release.key, holder=release.holder, unsent=release.unsent)
        if begin is not None and not begun and begin.applies(updated):
            self._begin_alone(begin)
        return updated

    def _begin_alone(self, begin: Begin) -> None:
        self.begin_post(
            begin.key,
            holder=begin.holder,
            at=begin.at,
            lease=begin.lease,
            channel=begin.channel,
            thread_ts=begin.thread_ts,
        )

    def _begin_write(self, begin: Begin | None) -> _Started | None:
        """What `begin` writes, from the claim as last seen: (ref, that version, the record).
        None when it cannot go into the same commit (not seen here, or not ours as seen:
        `begin_post` decides on the claim itself, and says ClaimLost)."""
        if begin is None:
            return None
        ref = self._delivery(begin.key)
        known = self._seen_claim(ref)
        if known is None:
            return None
        seen, current = known
        try:
            begun = _begun_by(current, begin)
        except (PermanentError, TransientError):  # ClaimLost, as seen: let begin_post decide
            return None
        return ref, seen, begun.to_doc()

    def _update(
        self,
        ref: Any,
        incident_id: str,
        fn: Callable[[Incident], Incident],
        write_id: str,
        finish: Finish | None,
        release: Release | None,
        begin: Begin | None = None,
        unclaimed: str | None = None,
    ) -> tuple[Incident, bool, bool]:
        """(the incident as it is now, whether `release` and `begin` went into its commit)."""
        absent = None if unclaimed is None else self._delivery(unclaimed)
        for round_ in range(MAX_CONTENDED_ROUNDS):
            # The first round starts from the incident as last seen (usually read by this very
            # event a moment ago): no read unless someone wrote it since.
            snap = self._snapshot(ref, fresh=round_ > 0)
            if not snap.exists:
                raise UnknownIncident(f"no incident {incident_id!r}")
            doc = snap.to_dict()
            current = _incident_from_doc(doc)
            if (doc or {}).get(_WRITE_ID) == write_id:
                # our write (and its finish) landed although its answer was lost; whether its
                # release did is for `release` to find out
                return current, False, False
            new = _checked_update(current, fn)
            freed = (
                self._release_write(release)
                if release and release.applies(new or current)
                else None
            )
            started = self._begin_write(begin) if begin and begin.applies(new or current) else None
            if new is None:
                if isinstance(snap, _Version):
                    continue  # no change to what we last saw: check what is stored now
                if finish is not None:
                    self._finish_alone(finish)
                return current, False, False
            incident_doc = _incident_to_doc(new, write_id)
            try:
                if absent is not None:
                    self._update_unclaimed(ref, incident_doc, snap, absent, unclaimed)
                    return new, False, False
                if finish is None and freed is None and started is None:
                    written = ref.update(incident_doc, option=self._cas(snap), **self._call)
                    self._wrote(ref, incident_doc, written)
                    return new, False, False
                # One commit for all: the incident (if still as read), the claim's end, the
                # release.
                batch = self._client().batch()
                batch.update(ref, incident_doc, option=self._cas(snap))
                claim_ref, changes = self._finish_in(batch, finish) if finish else (None, {})
                self._release_in(batch, freed)
                if started is not None:
                    batch.update(started[0], started[2], option=self._cas(started[1]))
                results = (
                    self._commit(batch, finish) if finish else list(batch.commit(**self._call))
                )
                self._wrote(ref, incident_doc, results[0] if results else None)
                if claim_ref is not None:
                    self._remember_finish(claim_ref, changes, results[1] if results[1:] else None)
                if started is not None:
                    self._wrote(started[0], started[2], results[-1] if results else None)
                    if freed is not None:
                        # the release's result is the one before the post's start
                        self._released_in(freed, results[:-1])
                else:
                    self._released_in(freed, results)
                return new, freed is not None, started is not None
            except (gexc.FailedPrecondition, gexc.NotFound):
                self._seen.drop(ref.path)
                # any document may have changed: the release and the post's start go on their
                # own from now
                if freed is not None:
                    self._seen.drop(freed[0].path)
                if started is not None:
                    self._seen.drop(started[0].path)
                if round_:
                    _backoff(round_)  # someone else wrote first: re-read, re-apply fn
        raise TransientError(f"update incident {incident_id!r}: too many concurrent writers")

    def _update_unclaimed(
        self, ref: Any, incident_doc: dict[str, Any], snap: Any, absent: Any, key: str | None
    ) -> None:
        """One commit: the incident (if still as read), and no claim document at `absent` — a
        delete that must find nothing there (Firestore's `exists=False` precondition) writes
        nothing and fails the whole commit with AlreadyExists when the claim exists."""
        batch = self._client().batch()
        batch.update(ref, incident_doc, option=self._cas(snap))
        batch.delete(absent, option=self._client().write_option(exists=False))
        try:
            results = list(batch.commit(**self._call))
        except gexc.AlreadyExists:
            raise ClaimHeld(f"a delivery claim {key!r} exists; nothing written") from None
        self._wrote(ref, incident_doc, results[0] if results else None)

    def _finish_alone(self, finish: Finish) -> None:
        self._set_claim_fields(finish.key, _finish_fields(finish), "finish")

    def open_incident(self, job_path: str, fingerprint: str) -> Incident | None:
        found = [i for i in self.open_incidents(job_path) if i.fingerprint == fingerprint]
        return found[-1] if found else None

    def open_incidents(self, job_path: str) -> list[Incident]:
        if not job_path:
            return []
        found = self._query("open_job", job_path, "open incidents")
        # The derived field is written with the state, but never trust one over the other.
        return [i for i in found if not i.state.closed and i.job_path == job_path]

    def awaiting_ack(self, before: datetime, *, limit: int | None = None) -> list[Incident]:
        """One range query on the derived `awaiting_ack_since` (`_NOT_AWAITING`, far in the
        future, when nothing is awaited): a single-field index, no composite one."""
        from google.cloud.firestore import FieldFilter, Query

        before = _utc(before, "before")
        limit = _check_limit(limit)
        query = (
            self._client()
            .collection(INCIDENTS)
            .where(filter=FieldFilter(_AWAITING, "<=", before))
            .order_by(_AWAITING, direction=Query.ASCENDING)
            .limit(limit)
        )
        with _translated("incidents awaiting an acknowledgement"):
            found = self._incidents_of(query)
        # The derived field is written with the rest, but the incident itself decides.
        return _awaiting(found, before, limit)

    def find_by_message(self, channel: str, ts: str) -> Incident | None:
        wanted = _message_key(channel, ts)
        if not wanted:
            return None
        found = self._query("message", wanted, "find incident by message")
        found = [i for i in found if _message_key(i.channel, i.ts) == wanted]
        return found[-1] if found else None

    def job_history(self, job_path: str) -> list[Incident]:
        if not job_path:
            return []
        found = self._newest("job_path", job_path, "opened_at", HISTORY_LIMIT, "job history")
        return _newest_opened([i for i in found if i.job_path == job_path], HISTORY_LIMIT)

    def project_confirmations(self, project: str) -> list[Incident]:
        if not project:
            return []
        found = self._newest(
            "confirmed_project",
            project,
            "confirmed_at",
            PROJECT_CONFIRMATIONS_LIMIT,
            "project confirmations",
        )
        mine = [i for i in found if confirmed_project(i) == project]
        return _newest_confirmed(mine, PROJECT_CONFIRMATIONS_LIMIT)


_INCIDENT_FIELD_NAMES = tuple(f.name for f in fields(Incident))
_WRITE_ID = "write_id"  # random per store call: which call wrote this version
_AWAITING = "awaiting_ack_since"  # Incident.awaiting_ack_since, derived, for `awaiting_ack`
# What `_AWAITING` holds when nothing is awaited: a time no cutoff reaches. Not null: the npm
# emulator cannot order a field that is null in some documents (standins/FIRESTORE_EMULATOR.md),
# and one type in the field keeps the ordering the same everywhere.
_NOT_AWAITING = datetime(9999, 12, 31, tzinfo=UTC)
_SCHEMA = 1


def _incident_to_doc(incident: Incident, write_id: str) -> dict[str, Any]:
    doc = {name: getattr(incident, name) for name in _INCIDENT_FIELD_NAMES}
    doc["state"] = incident.state.value
    for name in LIST_FIELDS:
        doc[name] = list(getattr(incident, name))
    doc["open_job"] = "" if incident.state.closed else incident.job_path
    doc[_AWAITING] = incident.awaiting_ack_since or _NOT_AWAITING
    doc["message"] = _message_key(incident.channel, incident.ts)
    doc["confirmed_project"] = confirmed_project(incident)
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
        for name in LIST_FIELDS:
            if name in values:
                values[name] = tuple(str(c) for c in values[name] or ())
        for name, value in list(values.items()):
            if isinstance(value, datetime):
                values[name] = _utc(value, name)
        return Incident(**values)
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentError(f"incident document is malformed: {exc}") from exc
