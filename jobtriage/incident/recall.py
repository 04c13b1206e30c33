"""Reading the incident memory for one failure: the job's last incidents and the project's
confirmed causes, once, before the report is built (`memory.History`).

Best effort: a store that cannot answer costs the alert its memory (no "seen before", base
priors), never the alert itself — the rest of the event's store calls decide retry or not.
"""

from __future__ import annotations

from jobtriage.errors import PermanentError, TransientError
from jobtriage.incident.memory import History
from jobtriage.incident.store import IncidentStore
from jobtriage.ownlog import get_logger

log = get_logger()


def read_history(store: IncidentStore, job_path: str) -> History:
    """The history one alert reads: two bounded queries, whatever the history's size."""
    project = job_path.split("/")[1] if job_path.startswith("projects/") else ""
    try:
        job = store.job_history(job_path)
        confirmed = store.project_confirmations(project) if project else []
    except (TransientError, PermanentError) as exc:
        log.warning("incident history unreadable: %s", exc, extra={"job_path": job_path})
        return History(job_path)
    return History(job_path, tuple(job), tuple(confirmed))
