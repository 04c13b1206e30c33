"""The Firestore store, deployed: claims decided by create() and update_time preconditions,
incidents by optimistic read-modify-write. Layout and error mapping: `jobtriage.incident.store`."""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
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
    Claim,
    ClaimOutcome,
    UnknownClaim,
    UnknownIncident,
    _awaiting,
    _begun,
    _by_opening,
    _check_claim_args,
    _check_id,
    _check_limit,
    _checked_update,
    _ClaimDocument,
    _delivery_doc_id,
    _fresh_claim,
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
            return [_incident_from_doc(s.to_dict()) for s in query.stream(**self._call)]

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
                current = _ClaimDocument.from_doc(snap.to_dict())
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
                snap = ref.get(**self._call)
                if not snap.exists:
                    raise UnknownClaim(f"no delivery claim for {key!r} to start a post on")
                current = _ClaimDocument.from_doc(snap.to_dict())
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
                    ref.update(begun.to_doc(), option=self._cas(snap), **self._call)
                    return
                except (gexc.FailedPrecondition, gexc.NotFound):
                    _backoff(round_)  # changed since we read it: a takeover, perhaps
        raise TransientError(f"begin_post {key!r}: the claim kept changing under us")

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
                current = _ClaimDocument.from_doc(snap.to_dict())
                if current.state == _DONE or (holder is not None and current.holder != holder):
                    return False
                kept = _released(current)
                try:
                    if kept is None:
                        ref.delete(option=self._cas(snap), **self._call)
                    else:
                        ref.update(kept.to_doc(), option=self._cas(snap), **self._call)
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

    def update(
        self,
        incident_id: str,
        fn: Callable[[Incident], Incident],
        *,
        finish: tuple[str, Mapping[str, Any]] | None = None,
    ) -> Incident:
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
                    return current  # our write (and its finish) landed although its answer was lost
                new = _checked_update(current, fn)
                if new is None:
                    if finish is not None:
                        self.finish(finish[0], result=finish[1])
                    return current
                try:
                    incident_doc = _incident_to_doc(new, write_id)
                    if finish is None:
                        ref.update(incident_doc, option=self._cas(snap), **self._call)
                    else:
                        # One commit for both: the incident (if still as read) and the claim.
                        batch = self._client().batch()
                        batch.update(ref, incident_doc, option=self._cas(snap))
                        batch.update(
                            self._delivery(finish[0]),
                            {"state": _DONE, "result": _plain(dict(finish[1]), "result")},
                        )
                        try:
                            batch.commit(**self._call)
                        except gexc.NotFound:
                            if not self._delivery(finish[0]).get(**self._call).exists:
                                raise UnknownClaim(
                                    f"no delivery claim for {finish[0]!r} to finish"
                                ) from None
                            raise
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
            found = [_incident_from_doc(s.to_dict()) for s in query.stream(**self._call)]
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
