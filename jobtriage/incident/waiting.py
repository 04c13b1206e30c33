"""What this instance knows is waiting: repeats it counted in an incident whose next reply may not
go out before a given time (`incident.coalesce`: they are posted together with that reply), and
repeats a reply it posted has named.

Pub/Sub redelivers such a repeat after 10 s, then 20 s …; a redelivery that reaches the instance
that deferred it before that time is answered "not yet" (`Deferred`) without a store call. The
answer writes and posts nothing, so an entry that is out of date (the reply went out early, the
incident was snoozed) only delays the redelivery's turn until that time — never more than one
coalescing window — and cannot lose or repeat anything: after it, the redelivery takes the whole
path and the store decides.

A repeat is noted as named only after the write that moved it to the incident's `coalesced`
committed: from then on every delivery of it has nothing to do, so a redelivery on this
instance is acknowledged ("coalesced") without a store call either.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

# How many waiting executions an instance remembers (a storm's worth; the oldest are forgotten).
WAITING_REMEMBERED = 512


class Waiting:
    def __init__(self, size: int = WAITING_REMEMBERED) -> None:
        self._size = size
        self._until: OrderedDict[str, datetime] = OrderedDict()
        self._named: OrderedDict[str, str] = OrderedDict()  # execution path -> incident id
        self._lock = threading.Lock()

    def note(self, execution_path: str, until: datetime | None, *, now: datetime) -> None:
        """`execution_path` waits for a reply that may not go out before `until`."""
        if until is None or until <= now:
            return
        with self._lock:
            self._until[execution_path] = until
            self._until.move_to_end(execution_path)
            while len(self._until) > self._size:
                self._until.popitem(last=False)

    def until(self, execution_path: str, now: datetime) -> datetime | None:
        """When `execution_path` may be posted, if still ahead; else None (and forgotten)."""
        with self._lock:
            until = self._until.get(execution_path)
            if until is None:
                return None
            if now >= until:
                del self._until[execution_path]
                return None
            return until

    def note_named(self, execution_paths: list[str], incident_id: str) -> None:
        """These executions are named in a reply of `incident_id` (stored as coalesced)."""
        with self._lock:
            for path in execution_paths:
                self._until.pop(path, None)
                self._named[path] = incident_id
                self._named.move_to_end(path)
            while len(self._named) > self._size:
                self._named.popitem(last=False)

    def named_in(self, execution_path: str) -> str | None:
        """The incident whose reply named `execution_path`, if this instance posted it."""
        with self._lock:
            return self._named.get(execution_path)
