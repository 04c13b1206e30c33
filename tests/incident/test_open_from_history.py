"""The job's open incidents from its history: one query instead of two, unless the history is a
full page (an open incident could then be older than the page)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from jobtriage.incident.decide import new_incident
from jobtriage.incident.memory import HISTORY_LIMIT
from jobtriage.incident.model import State
from jobtriage.incident.recall import open_from_history
from jobtriage.incident.store import MemoryStore

JOB = "projects/p/locations/r/jobs/nightly"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class _Counted:
    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        self.calls[name] += 1
        return getattr(self.inner, name)


def _store(incidents: int, *, open_every: int) -> MemoryStore:
    store = MemoryStore()
    for n in range(incidents):
        inc = new_incident(
            job_path=JOB,
            fingerprint=f"db_connection:{n}",
            execution=f"nightly-{n}",
            now=T0 + timedelta(minutes=n),
        )
        if n % open_every:
            inc = replace(inc, state=State.RESOLVED, resolved_at=inc.opened_at)
        assert store.create(inc)
    return store


def test_a_short_history_answers_both() -> None:
    store = _Counted(_store(10, open_every=3))
    open_now, history = open_from_history(store, JOB)  # type: ignore[arg-type]
    assert history is not None
    assert len(history) == 10
    assert open_now == store.inner.open_incidents(JOB)
    assert store.calls == {"job_history": 1}


def test_a_full_page_asks_for_the_open_ones_too() -> None:
    store = _Counted(_store(HISTORY_LIMIT + 5, open_every=50))
    open_now, history = open_from_history(store, JOB)  # type: ignore[arg-type]
    assert history is not None
    assert len(history) == HISTORY_LIMIT
    # the oldest open incident is not in the page, and is still found
    assert open_now[0].fingerprint == "db_connection:0"
    assert store.calls == {"job_history": 1, "open_incidents": 1}
