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
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jobtriage.diagnosis.model import LearnedPriors
from jobtriage.incident.decide import Transition, TransitionResult
from jobtriage.incident.model import Incident, State
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


# --- what the next alert reads ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class History:
    """What one alert reads from the store, once: the job's last incidents (newest opened first,
    at most `HISTORY_LIMIT`) and the project's confirmed ones (newest confirmation first, at
    most `PROJECT_CONFIRMATIONS_LIMIT`)."""

    job_path: str = ""
    job: tuple[Incident, ...] = ()
    project: tuple[Incident, ...] = ()

    @property
    def full(self) -> bool:
        """The job's page was full: older incidents exist that were not read."""
        return len(self.job) >= HISTORY_LIMIT


@dataclass(frozen=True, slots=True)
class SeenBefore:
    """A new incident's predecessors of the same job and fingerprint."""

    times: int  # this incident included: 3 → "3rd time"
    since: datetime  # when the first of them opened
    at_least: bool  # the history page was full: there may have been more
    # The latest predecessor on-call confirmed a cause for, else the latest closed one.
    cause: str | None = None  # its confirmed cause (or SOMETHING_ELSE)
    closed_by: str | None = None  # who resolved it (None: it recovered by itself, or is open)
    recovered: bool = False  # a success closed it
    took: timedelta | None = None  # opened → closed
    note: str | None = None  # the resolution note, untrusted text (escape it when shown)


def seen_before(
    incident: Incident, history: Sequence[Incident], now: datetime
) -> SeenBefore | None:
    """The earlier incidents of `incident`'s job with its fingerprint, or None (first time).
    Incidents opened after `now` (clock skew between instances) and `incident` itself are left
    out."""
    same = [
        i
        for i in history
        if i.id != incident.id
        and i.job_path == incident.job_path
        and i.fingerprint == incident.fingerprint
        and i.opened_at <= now
    ]
    if not same:
        return None
    newest_first = sorted(same, key=lambda i: (i.opened_at, i.id), reverse=True)
    confirmed = [i for i in newest_first if i.confirmed_cause]
    closed = [i for i in newest_first if i.state.closed]
    last = confirmed[0] if confirmed else closed[0] if closed else None
    seen = SeenBefore(
        times=len(same) + 1,
        since=newest_first[-1].opened_at,
        at_least=len(history) >= HISTORY_LIMIT,
    )
    if last is None:
        return seen
    ended = last.closed_at
    return replace(
        seen,
        cause=last.confirmed_cause,
        closed_by=(last.resolved_by or last.confirmed_by) if last.state is State.RESOLVED else None,
        recovered=last.state is State.RECOVERED,
        took=ended - last.opened_at if ended is not None and ended >= last.opened_at else None,
        note=last.resolution_note,
    )


# The window of "failures in the last 7 days".
FIGURES_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class JobFigures:
    """The job's figures in the alert's footer."""

    failures_7d: int  # failures in the last FIGURES_WINDOW (a lower bound, see job_figures)
    streak: int  # consecutive failing executions, up to this one
    median_recovery: timedelta | None  # opened → closed, over the closed incidents read
    closed: int  # how many closed incidents the median is over
    at_least: bool  # the history page was full: the streak may be longer


def job_figures(
    history: Iterable[Incident], now: datetime, *, last_success: datetime | None = None
) -> JobFigures:
    """Failures in the last 7 days, the current streak and the median time to recover, from the
    job's incidents (the caller includes the one being opened).

    An incident counts its failures, not their times: one opened inside the window counts them
    all, one opened before it whose last failure is inside counts one (so the figure is a lower
    bound). The streak counts the failures of incidents opened after the last success — the
    execution the evidence names, else the latest incident a success recovered; a success
    closes every open incident of the job, so no failure before it is counted.
    """
    incidents = [i for i in history if i.opened_at <= now]
    since = now - FIGURES_WINDOW
    failures = 0
    for i in incidents:
        last = i.last_failure_at or i.opened_at
        if i.opened_at >= since:
            failures += max(1, i.failures)
        elif last >= since:
            failures += 1
    boundary = last_success
    if boundary is None:
        recoveries = [i.recovered_at for i in incidents if i.recovered_at is not None]
        boundary = max(recoveries) if recoveries else None
    streak = sum(
        max(1, i.failures) for i in incidents if boundary is None or i.opened_at > boundary
    )
    spans = [
        ended - i.opened_at
        for i in incidents
        if (ended := i.closed_at) is not None and ended >= i.opened_at
    ]
    return JobFigures(
        failures_7d=failures,
        streak=streak,
        median_recovery=_median(spans),
        closed=len(spans),
        at_least=boundary is None and len(incidents) > HISTORY_LIMIT,
    )


def _median(spans: Sequence[timedelta]) -> timedelta | None:
    if not spans:
        return None
    seconds = statistics.median(s.total_seconds() for s in spans)
    return timedelta(seconds=round(seconds))


# --- learned priors -----------------------------------------------------------------------------

# The base prior counts as this many confirmations (Dirichlet smoothing): one confirmation
# moves a cause a little, a habit of the job moves it up to the bound.
PRIOR_WEIGHT = 4.0
# A confirmation on another job of the project weighs this much of one on this job.
PROJECT_WEIGHT = 0.25
# How far history moves a prior: at most ×2, at least ÷2 — strong evidence still wins.
MAX_FACTOR = 2.0
# Factors closer to 1 than this are left out (no visible effect, and a shorter report).
FACTOR_EPSILON = 0.02


def learned_priors(history: History, base: Mapping[str, float]) -> LearnedPriors:
    """How the confirmed causes of the job (and, weaker, of the project's other jobs) move the
    base priors (`base`: cause id → prior). Each cause's factor is its smoothed share of the
    confirmations over its share of the prior, bounded to [÷2, ×2]; with nothing confirmed every
    factor is 1. A confirmation of a cause the registry does not know (or "something else")
    only dilutes the others."""
    total_prior = sum(p for p in base.values() if p > 0)
    if total_prior <= 0:
        return LearnedPriors()
    on_job = [i for i in history.job if i.confirmed_cause]
    elsewhere = [i for i in history.project if i.confirmed_cause and i.job_path != history.job_path]
    if not on_job and not elsewhere:
        return LearnedPriors()
    counts: dict[str, float] = {}
    for i, weight in [(i, 1.0) for i in on_job] + [(i, PROJECT_WEIGHT) for i in elsewhere]:
        cause = i.confirmed_cause or SOMETHING_ELSE
        counts[cause] = counts.get(cause, 0.0) + weight
    seen = sum(counts.values())
    factors: list[tuple[str, float]] = []
    for cause, prior in base.items():
        if prior <= 0:
            continue
        share = prior / total_prior
        smoothed = (counts.get(cause, 0.0) + PRIOR_WEIGHT * share) / (seen + PRIOR_WEIGHT)
        factor = min(MAX_FACTOR, max(1 / MAX_FACTOR, smoothed / share))
        if abs(factor - 1.0) >= FACTOR_EPSILON:
            factors.append((cause, round(factor, 4)))
    factors.sort(key=lambda cf: (-abs(cf[1] - 1.0), cf[0]))
    return LearnedPriors(
        factors=tuple(factors),
        job_confirmations=len(on_job),
        project_confirmations=len(elsewhere),
    )
