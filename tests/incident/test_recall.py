"""Reading the memory for one failure: two bounded store calls, whatever the history's size, and
an unreadable store costs the memory, not the alert."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from jobtriage.errors import TransientError
from jobtriage.incident.memory import HISTORY_LIMIT
from jobtriage.incident.model import Incident, State
from jobtriage.incident.recall import read_history
from jobtriage.incident.store import MemoryStore

T0 = datetime(2026, 11, 1, tzinfo=UTC)
JOB = "projects/acme/locations/r/jobs/migrate"


class Counting:
    def __init__(self, inner: Any, *, down: bool = False) -> None:
        self.inner, self.down, self.calls = inner, down, Counter[str]()

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if self.down:
                raise TransientError("Firestore job history: ServiceUnavailable")
            return getattr(self.inner, name)(*args, **kwargs)

        return call


def test_two_bounded_reads_whatever_the_size_of_the_history() -> None:
    store = MemoryStore()
    for n in range(HISTORY_LIMIT * 3):
        opened = T0 + timedelta(hours=n)
        store.create(
            Incident(
                id=f"i{n:05d}",
                job_path=JOB,
                fingerprint="secret_config:X",
                state=State.OPEN,
                opened_at=opened,
                updated_at=opened,
            )
        )
        if n % 2:
            store.update(
                f"i{n:05d}",
                lambda i: replace(
                    i,
                    state=State.RESOLVED,
                    confirmed_cause="secret_config",
                    confirmed_at=i.opened_at,
                ),
            )
    counting = Counting(store)
    history = read_history(counting, JOB)  # type: ignore[arg-type]
    assert counting.calls == Counter({"job_history": 1, "project_confirmations": 1})
    assert len(history.job) == HISTORY_LIMIT
    assert history.full
    assert history.job[0].id == f"i{HISTORY_LIMIT * 3 - 1:05d}"  # newest first
    assert len(history.project) == HISTORY_LIMIT * 3 // 2  # within its own limit of 100
    assert all(i.confirmed_cause for i in history.project)


def test_an_unreadable_store_gives_an_empty_history() -> None:
    down = Counting(MemoryStore(), down=True)
    history = read_history(down, JOB)  # type: ignore[arg-type]
    assert (history.job, history.project, history.job_path) == ((), (), JOB)


def test_a_warm_instance_reads_the_projects_confirmations_once_in_a_while() -> None:
    from jobtriage.incident.recall import PROJECT_CACHE_SECONDS, ProjectCache

    counting = Counting(MemoryStore())
    cache: ProjectCache = {}
    for second in (0.0, 10.0, PROJECT_CACHE_SECONDS):
        read_history(counting, JOB, cache=cache, monotonic=second)  # type: ignore[arg-type]
    # one extra read per alert: the job's history every time, the project's once
    assert counting.calls == Counter({"job_history": 3, "project_confirmations": 1})
    read_history(counting, JOB, cache=cache, monotonic=PROJECT_CACHE_SECONDS + 1)  # type: ignore[arg-type]
    assert counting.calls["project_confirmations"] == 2
    # another project is its own entry
    read_history(counting, "projects/other/locations/r/jobs/x", cache=cache, monotonic=1.0)  # type: ignore[arg-type]
    assert counting.calls["project_confirmations"] == 3
