"""Reading the incident memory for one failure: the job's last incidents and the project's
confirmed causes, once, before the report is built (`memory.History`).

The job's incidents are read every time (one bounded query: what "seen before", the figures and
the job's own priors need must be current). The project's confirmations change rarely and weigh
a quarter as much: an instance keeps them `PROJECT_CACHE_SECONDS` (a warm instance then makes one
extra read per alert); a cause confirmed on another job meanwhile counts once the cache expires.

Best effort: a store that cannot answer costs the alert its memory (no "seen before", base
priors), never the alert itself — the rest of the event's store calls decide retry or not.
"""

from __future__ import annotations

from jobtriage.errors import PermanentError, TransientError
from jobtriage.incident.memory import History
from jobtriage.incident.model import Incident
from jobtriage.incident.store import IncidentStore
from jobtriage.ownlog import get_logger

log = get_logger()


# How long an instance keeps a project's confirmed incidents.
PROJECT_CACHE_SECONDS = 300.0

# project id -> (when read, `Clock.monotonic()`; its confirmed incidents)
ProjectCache = dict[str, tuple[float, tuple[Incident, ...]]]


def read_history(
    store: IncidentStore,
    job_path: str,
    *,
    cache: ProjectCache | None = None,
    monotonic: float = 0.0,
) -> History:
    """The history one alert reads: one bounded query for the job, and one for the project
    unless `cache` holds it from less than `PROJECT_CACHE_SECONDS` ago (`monotonic`: now)."""
    project = job_path.split("/")[1] if job_path.startswith("projects/") else ""
    try:
        job = store.job_history(job_path)
        cached = cache.get(project) if cache is not None else None
        if not project:
            confirmed: tuple[Incident, ...] = ()
        elif cached is not None and 0 <= monotonic - cached[0] <= PROJECT_CACHE_SECONDS:
            confirmed = cached[1]
        else:
            confirmed = tuple(store.project_confirmations(project))
            if cache is not None:
                cache[project] = (monotonic, confirmed)
    except (TransientError, PermanentError) as exc:
        log.warning("incident history unreadable: %s", exc, extra={"job_path": job_path})
        return History(job_path)
    return History(job_path, tuple(job), confirmed)
