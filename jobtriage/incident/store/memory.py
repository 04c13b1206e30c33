"""The in-memory store: local runs, the demo and the tests. One lock; the same validation
and the same answers as `FirestoreStore` (tests/incident/test_store_contract.py runs both)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from jobtriage.incident.memory import HISTORY_LIMIT, PROJECT_CONFIRMATIONS_LIMIT
from jobtriage.incident.model import Incident
from jobtriage.incident.store.contract import (
    _DONE,
    MAX_OPEN_PER_JOB,
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
    _begun_by,
    _by_opening,
    _check_change,
    _check_claim_args,
    _check_id,
    _check_limit,
    _check_unclaimed,
    _checked_update,
    _ClaimDocument,
    _done_now,
    _finished,
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
)


class MemoryStore:
    """Everything in this process, behind one lock. For local runs and tests; lost on exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deliveries: dict[str, _ClaimDocument] = {}
        self._incidents: dict[str, Incident] = {}

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
        holder = secrets.token_hex(8)
        with self._lock:
            current = self._deliveries.get(key)
            if current is None:
                if begin is not None:
                    self._begin(begin)
                changed = self._change(change)
                self._deliveries[key] = _fresh_claim(key, holder, now, lease, done, announce)
                return replace(self._deliveries[key].as_claim(ClaimOutcome.NEW), changed=changed)
            outcome, taken = _judge(current, holder=holder, now=now, lease=lease)
            if taken is not None:
                if begin is not None:
                    self._begin(begin)
                taken = _done_now(taken, done)
                self._deliveries[key] = taken
                return taken.as_claim(outcome)
            return current.as_claim(outcome)

    def claim_both(
        self, key: str, other: str, *, now: datetime, lease: timedelta, other_lease: timedelta
    ) -> tuple[Claim, Claim] | None:
        first, second = _fresh_pair(key, other, now, lease, other_lease)
        with self._lock:
            if key in self._deliveries or other in self._deliveries:
                return None
            self._deliveries[key], self._deliveries[other] = first, second
            return first.as_claim(ClaimOutcome.NEW), second.as_claim(ClaimOutcome.NEW)

    def _change(self, change: Change | None) -> Incident | None:
        """Called under the lock: `change` applied (the incident as it is then), or None."""
        if change is None:
            return None
        current = self._incidents.get(change.incident_id)
        if current is None:
            return None
        new = _checked_update(current, change.fn)
        if new is not None:
            self._incidents[change.incident_id] = new
        return new  # None: nothing to change, as FirestoreStore says

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
        with self._lock:
            self._begin(Begin(key, holder, at, lease, channel, thread_ts))

    def _begin(self, begin: Begin) -> None:
        """Called under the lock."""
        current = self._deliveries.get(begin.key)
        if current is None:
            raise UnknownClaim(f"no delivery claim for {begin.key!r} to start a post on")
        self._deliveries[begin.key] = _begun_by(current, begin)

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

    def release(self, key: str, *, holder: str | None = None, unsent: bool = False) -> bool:
        with self._lock:
            return self._release(key, holder, unsent)

    def _release(self, key: str, holder: str | None, unsent: bool = False) -> bool:
        """Called under the lock."""
        current = self._deliveries.get(key)
        if current is None or current.state == _DONE:
            return False
        if holder is not None and current.holder != holder:
            return False
        kept = _released(current, unsent=unsent)
        if kept is None:
            del self._deliveries[key]
        else:
            self._deliveries[key] = kept
        return True

    def finished(
        self, key: str, *, now: datetime, seen_only: bool = False
    ) -> Mapping[str, Any] | None:
        # One process: everything stored here is seen.
        with self._lock:
            c = self._deliveries.get(key)
        return dict(c.result or {}) if c and c.state == _DONE and c.expire_at > now else None

    def get(self, incident_id: str) -> Incident | None:
        _check_id(incident_id)
        with self._lock:
            return self._incidents.get(incident_id)

    def create(
        self, incident: Incident, *, finish: Finish | None = None, release: Release | None = None
    ) -> bool:
        incident = _normalised(incident)
        with self._lock:
            claim = self._claim_to_finish(finish)
            created = incident.id not in self._incidents
            if created:
                self._incidents[incident.id] = incident
            if finish is not None and claim is not None:
                self._deliveries[finish.key] = _finished(claim, finish)
            if release is not None:
                self._release(release.key, release.holder, release.unsent)
            return created or self._incidents[incident.id] == incident

    def _claim_to_finish(self, finish: Finish | None) -> _ClaimDocument | None:
        """The claim `finish` ends (None without one); UnknownClaim when it does not exist.
        Called under the lock."""
        if finish is None:
            return None
        claim = self._deliveries.get(finish.key)
        if claim is None:
            raise UnknownClaim(f"no delivery claim for {finish.key!r} to finish")
        return claim

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
        _check_id(incident_id)
        _check_unclaimed(unclaimed, finish, release, begin)
        # fn runs under the lock: it must not call back into the store.
        with self._lock:
            current = self._incidents.get(incident_id)
            if current is None:
                raise UnknownIncident(f"no incident {incident_id!r}")
            claim = self._claim_to_finish(finish)
            new = _checked_update(current, fn)
            if new is not None and unclaimed is not None and unclaimed in self._deliveries:
                raise ClaimHeld(f"a delivery claim {unclaimed!r} exists; nothing written")
            if new is not None:
                self._incidents[incident_id] = new
            if finish is not None and claim is not None:
                self._deliveries[finish.key] = _finished(claim, finish)
            result = current if new is None else new
            if release is not None and release.applies(result):
                self._release(release.key, release.holder, release.unsent)
            if begin is not None and begin.applies(result):
                self._begin(begin)
            return result

    def open_incident(self, job_path: str, fingerprint: str) -> Incident | None:
        found = [i for i in self.open_incidents(job_path) if i.fingerprint == fingerprint]
        return found[-1] if found else None

    def open_incidents(self, job_path: str) -> list[Incident]:
        with self._lock:
            found = [
                i for i in self._incidents.values() if i.job_path == job_path and not i.state.closed
            ]
        return _by_opening(found)[:MAX_OPEN_PER_JOB]

    def awaiting_ack(self, before: datetime, *, limit: int | None = None) -> list[Incident]:
        before = _utc(before, "before")
        limit = _check_limit(limit)
        with self._lock:
            found = list(self._incidents.values())
        return _awaiting(found, before, limit)

    def find_by_message(self, channel: str, ts: str) -> Incident | None:
        wanted = _message_key(channel, ts)
        if not wanted:
            return None
        with self._lock:
            found = [i for i in self._incidents.values() if _message_key(i.channel, i.ts) == wanted]
        return _by_opening(found)[-1] if found else None

    # --- Firestore --------------------------------------------------------------------------------

    def job_history(self, job_path: str) -> list[Incident]:
        with self._lock:
            found = [i for i in self._incidents.values() if i.job_path == job_path]
        return _newest_opened(found, HISTORY_LIMIT)

    def project_confirmations(self, project: str) -> list[Incident]:
        if not project:
            return []
        with self._lock:
            found = [i for i in self._incidents.values() if i.project == project]
        return _newest_confirmed(found, PROJECT_CONFIRMATIONS_LIMIT)
