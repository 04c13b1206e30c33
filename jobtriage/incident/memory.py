"""The incident memory: what on-call confirmed an incident was, and what the next alert learns
from the incidents before it.

Pure functions over stored incidents, no I/O and no clock (the caller passes `now`):

- `confirm_cause` — the Resolve modal's answer ("what was it?") stored with the incident;
- `seen_before` — a new incident's predecessors of the same job and fingerprint (how often, since
  when, what the last one turned out to be, who closed it and how fast);
- `learned_priors` — how confirmed causes of the job (and of its project) move the priors the
  ranking starts from (`jobtriage.diagnosis.rank`);
- `job_figures` — failures in the last 7 days, the current streak, the median time to recover.

The store hands every list here bounded (`HISTORY_LIMIT`, `PROJECT_CONFIRMATIONS_LIMIT`), so
none of this reads more than a page of documents per alert.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from jobtriage.incident.decide import Transition, TransitionResult
from jobtriage.incident.model import Incident
from jobtriage.redact import scrub

if TYPE_CHECKING:
    from jobtriage.diagnosis.model import Report

# The modal's last choice: none of the ranked causes.
SOMETHING_ELSE = "other"
# A resolution note is a sentence or two ("pinned secret version 6"), not a post-mortem.
NOTE_MAX_CHARS = 500
# How many of a job's incidents, newest first, an alert reads (seen before, figures, priors).
HISTORY_LIMIT = 50
# How many of a project's confirmed incidents, newest first, the priors read.
PROJECT_CONFIRMATIONS_LIMIT = 100

_CAUSE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def valid_cause(cause: str) -> bool:
    """A cause id as the analyzers' registry names them (or `SOMETHING_ELSE`)."""
    return bool(_CAUSE_ID.match(cause))


# Ranked causes kept with an incident, for the Resolve modal (five, then "something else").
CAUSES_KEPT = 6


def ranked_causes(report: Report) -> tuple[str, ...]:
    """The report's cause ids, most likely first, as stored with a new incident."""
    return tuple(c.id for c in report.causes[:CAUSES_KEPT])


def confirm_cause(
    incident: Incident, *, cause: str, note: str | None, user: str, now: datetime
) -> Transition:
    """Store what on-call says the incident was. Allowed in any state (an incident that recovered
    by itself is worth remembering too); the same answer again changes nothing, a different one
    replaces it (the last word counts)."""
    if not valid_cause(cause):
        return Transition(incident, TransitionResult.REFUSED, f"not a cause id: {cause[:40]!r}")
    # Scrubbed here, as the store would, so that a replayed answer compares equal to the stored one.
    clean = scrub(" ".join((note or "").split())[:NOTE_MAX_CHARS]) or None
    if incident.confirmed_cause == cause and incident.resolution_note == clean:
        return Transition(
            incident, TransitionResult.UNCHANGED, f"already confirmed by {incident.confirmed_by}"
        )
    confirmed = replace(
        incident,
        confirmed_cause=cause,
        confirmed_by=user,
        confirmed_at=now,
        resolution_note=clean,
        updated_at=max(now, incident.updated_at),
    )
    return Transition(confirmed, TransitionResult.APPLIED)
