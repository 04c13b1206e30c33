"""What the channel should see for an execution outcome, and what a click does to an incident.

Pure functions, no I/O and no clock: the caller passes `now`. They return data — a `Decision` or
a `Transition` — and the caller posts (via the Slack renderer, which turns the counts and
durations here into words) and stores.

A failure, given the open incident of the same job and fingerprint (if any):

| incident                                  | action        | what the thread gets            |
|-------------------------------------------|---------------|---------------------------------|
| none, closed, or another job/fingerprint  | NEW_ALERT     | a new parent message            |
| open                                      | THREAD_REPLY  | "failed again, 3rd time in 2 h" |
| acknowledged                              | QUIET_REPLY   | the same, without notifying     |
| snoozed, snooze still running             | HOLD          | nothing; `held_back` counts it  |
| snoozed, snooze over                      | THREAD_REPLY* | … and "N were held back"        |
| already counted this execution            | NOTHING       | nothing (a redelivery)          |

*QUIET_REPLY if it had been acknowledged before the snooze: the incident goes back to the state
it had before the snooze.

A success recovers every open incident of the job (`decide_success`), snoozed ones included
("snooze until next success" ends there), unless the success ended before the incident's last
failure (an out-of-order delivery).

Applying a decision to the stored incident goes through `IncidentStore.update`, which re-runs the
function when another writer got there first, so the same pure logic runs inside it:

    decision = decide_failure(store.open_incident(job, fp), ...)   # what to post
    store.update(incident.id, lambda cur: apply_failure(cur, ...))  # after posting

`apply_failure` leaves an incident alone when the failure no longer belongs to it (it was resolved
in between: the caller opens a new incident instead), and an execution already counted is never
counted twice, so a replay or a re-run inside `update` changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from jobtriage.incident.model import Incident, State, incident_id


class Action(StrEnum):
    NEW_ALERT = "new_alert"  # post a new parent message; create the incident
    THREAD_REPLY = "thread_reply"  # reply in the thread (noticeable); update the parent counter
    QUIET_REPLY = "quiet_reply"  # reply in the thread, no channel-wide notification
    HOLD = "hold"  # post nothing; the incident counts it in `held_back`
    RECOVER = "recover"  # reply "recovered"; update the parent; the incident is closed
    NOTHING = "nothing"  # post nothing, change nothing (`reason` says why)


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    # The incident as it should be stored after this event. For NEW_ALERT a draft to `create`
    # once the parent message is posted (its channel and ts are still unset).
    incident: Incident | None
    failures: int = 0  # failures of the incident, this one included: 3 -> "3rd time"
    window: timedelta = timedelta(0)  # from the incident's first failure to this event
    held_back: int = 0  # failures not posted while snoozed, to report with this post
    open_for: timedelta | None = None  # RECOVER: how long the incident was open
    execution: str = ""  # the execution this decision is about
    reason: str = ""  # short, for logs

    @property
    def posts(self) -> bool:
        """True when something goes to Slack."""
        return self.action not in (Action.HOLD, Action.NOTHING)


class TransitionResult(StrEnum):
    APPLIED = "applied"  # the incident changed
    UNCHANGED = "unchanged"  # already in that state (a replayed click): nothing changes
    REFUSED = "refused"  # makes no sense in the current state: nothing changes, see `reason`


@dataclass(frozen=True, slots=True)
class Transition:
    incident: Incident
    result: TransitionResult
    reason: str = ""

    @property
    def changed(self) -> bool:
        return self.result is TransitionResult.APPLIED


# --- execution outcomes -----------------------------------------------------------------------


def new_incident(
    *, job_path: str, fingerprint: str, execution: str, now: datetime, lang: str = "en"
) -> Incident:
    """The incident a first failure opens (channel and ts are filled in after posting)."""
    return Incident(
        id=incident_id(job_path, fingerprint, now),
        job_path=job_path,
        fingerprint=fingerprint,
        state=State.OPEN,
        opened_at=now,
        updated_at=now,
        failures=1,
        first_execution=execution,
        last_execution=execution,
        last_failure_at=now,
        lang=lang,
    )


def snooze_active(incident: Incident, now: datetime) -> bool:
    """True while a snooze holds failures back."""
    if incident.state is not State.SNOOZED:
        return False
    if incident.snooze_until_success:
        return True
    return incident.snoozed_until is not None and now < incident.snoozed_until


def decide_failure(
    incident: Incident | None,
    *,
    job_path: str,
    fingerprint: str,
    execution: str,
    now: datetime,
    lang: str = "en",
) -> Decision:
    """What a failed execution means for the open incident of its job and fingerprint."""
    if (
        incident is None
        or incident.state.closed
        or incident.job_path != job_path
        or incident.fingerprint != fingerprint
    ):
        draft = new_incident(
            job_path=job_path, fingerprint=fingerprint, execution=execution, now=now, lang=lang
        )
        return Decision(
            Action.NEW_ALERT,
            draft,
            failures=1,
            execution=execution,
            reason="no open incident for this job and cause",
        )

    if execution in (incident.last_execution, incident.first_execution):
        return Decision(
            Action.NOTHING,
            incident,
            failures=incident.failures,
            window=now - incident.opened_at,
            execution=execution,
            reason=f"execution {execution} is already counted in incident {incident.id}",
        )

    counted = replace(
        incident,
        failures=incident.failures + 1,
        last_execution=execution,
        last_failure_at=now,
        updated_at=now,
    )
    window = now - incident.opened_at

    if incident.state is State.SNOOZED:
        if snooze_active(incident, now):
            held = replace(counted, held_back=incident.held_back + 1)
            until = "the next success" if incident.snooze_until_success else incident.snoozed_until
            return Decision(
                Action.HOLD,
                held,
                failures=held.failures,
                window=window,
                held_back=held.held_back,
                execution=execution,
                reason=f"snoozed until {until}",
            )
        # The snooze is over: back to where it was before, and report what was held back.
        back = State.ACKNOWLEDGED if incident.acked_by else State.OPEN
        woken = replace(
            counted,
            state=back,
            snoozed_until=None,
            snooze_until_success=False,
            snoozed_by=None,
            held_back=0,
        )
        return Decision(
            Action.QUIET_REPLY if back is State.ACKNOWLEDGED else Action.THREAD_REPLY,
            woken,
            failures=woken.failures,
            window=window,
            held_back=incident.held_back,
            execution=execution,
            reason="snooze ended",
        )

    if incident.state is State.ACKNOWLEDGED:
        return Decision(
            Action.QUIET_REPLY,
            counted,
            failures=counted.failures,
            window=window,
            execution=execution,
            reason=f"acknowledged by {incident.acked_by}",
        )

    return Decision(
        Action.THREAD_REPLY,
        counted,
        failures=counted.failures,
        window=window,
        execution=execution,
        reason="open incident",
    )


def apply_failure(
    incident: Incident,
    *,
    job_path: str,
    fingerprint: str,
    execution: str,
    now: datetime,
) -> Incident:
    """The stored incident after one failure, for `IncidentStore.update`.

    Unchanged when the failure does not belong to this incident any more (closed meanwhile, or
    another job or cause): `decide_failure` then says NEW_ALERT, and its draft is a new incident
    to `create`, never an update of this one.
    """
    decision = decide_failure(
        incident, job_path=job_path, fingerprint=fingerprint, execution=execution, now=now
    )
    if decision.action is Action.NEW_ALERT or decision.incident is None:
        return incident
    return decision.incident


def recover(incident: Incident, *, execution: str, now: datetime) -> Incident:
    """The incident closed by a successful execution. Closed incidents come back unchanged."""
    if incident.state.closed:
        return incident
    return replace(
        incident,
        state=State.RECOVERED,
        recovered_execution=execution,
        recovered_at=now,
        snoozed_until=None,
        snooze_until_success=False,
        updated_at=now,
    )


def decide_success(
    incidents: list[Incident] | tuple[Incident, ...],
    *,
    execution: str,
    now: datetime,
    finished_at: datetime | None = None,
) -> list[Decision]:
    """What a successful execution means for the job's open incidents: each one recovers.

    `finished_at` is when the successful execution ended; a success that ended before an
    incident's last failure (delivered late) does not recover it. An empty list: nothing to say.
    """
    decisions: list[Decision] = []
    for incident in incidents:
        if incident.state.closed:
            continue
        last = incident.last_failure_at
        if finished_at is not None and last is not None and finished_at < last:
            decisions.append(
                Decision(
                    Action.NOTHING,
                    incident,
                    failures=incident.failures,
                    execution=execution,
                    reason=f"{execution} ended before the incident's last failure",
                )
            )
            continue
        recovered = recover(incident, execution=execution, now=now)
        decisions.append(
            Decision(
                Action.RECOVER,
                recovered,
                failures=incident.failures,
                window=now - incident.opened_at,
                held_back=incident.held_back,
                open_for=now - incident.opened_at,
                execution=execution,
                reason="a later execution succeeded",
            )
        )
    return decisions


# --- clicks -----------------------------------------------------------------------------------
# Pass the click's own time (Slack's action_ts) as `now`: a replayed click then computes exactly
# the same result, and the second application is UNCHANGED.


def _closed_reason(incident: Incident) -> str:
    if incident.state is State.RESOLVED:
        return f"already resolved by {incident.resolved_by}"
    return f"already recovered (execution {incident.recovered_execution} succeeded)"


def acknowledge(incident: Incident, *, user: str, now: datetime) -> Transition:
    """Someone is on it: later failures reply quietly. Ends a running snooze."""
    if incident.state.closed:
        return Transition(incident, TransitionResult.REFUSED, _closed_reason(incident))
    if incident.state is State.ACKNOWLEDGED:
        return Transition(
            incident, TransitionResult.UNCHANGED, f"already acknowledged by {incident.acked_by}"
        )
    acked = replace(
        incident,
        state=State.ACKNOWLEDGED,
        # Who acknowledged first stays (an acknowledge, then a snooze, then this click).
        acked_by=incident.acked_by or user,
        acked_at=incident.acked_at or now,
        snoozed_until=None,
        snooze_until_success=False,
        snoozed_by=None,
        updated_at=now,
    )
    return Transition(acked, TransitionResult.APPLIED)


def resolve(incident: Incident, *, user: str, now: datetime) -> Transition:
    """Closed by hand: the next failure with the same cause opens a new incident."""
    if incident.state is State.RESOLVED:
        return Transition(incident, TransitionResult.UNCHANGED, _closed_reason(incident))
    if incident.state.closed:
        return Transition(incident, TransitionResult.REFUSED, _closed_reason(incident))
    resolved = replace(
        incident,
        state=State.RESOLVED,
        resolved_by=user,
        resolved_at=now,
        snoozed_until=None,
        snooze_until_success=False,
        updated_at=now,
    )
    return Transition(resolved, TransitionResult.APPLIED)


def snooze(
    incident: Incident,
    *,
    user: str,
    now: datetime,
    until: datetime | None = None,
    until_success: bool = False,
) -> Transition:
    """Hold failures back until `until`, or until the job's next success (`until_success`)."""
    if (until is None) == (not until_success):
        raise ValueError("snooze needs exactly one of `until` or `until_success=True`")
    if incident.state.closed:
        return Transition(incident, TransitionResult.REFUSED, _closed_reason(incident))
    if until is not None and until <= now:
        return Transition(
            incident, TransitionResult.REFUSED, f"snooze end {until.isoformat()} is not after now"
        )
    if (
        incident.state is State.SNOOZED
        and incident.snoozed_until == until
        and incident.snooze_until_success == until_success
    ):
        return Transition(
            incident, TransitionResult.UNCHANGED, f"already snoozed by {incident.snoozed_by}"
        )
    snoozed = replace(
        incident,
        state=State.SNOOZED,
        snoozed_until=until,
        snooze_until_success=until_success,
        snoozed_by=user,
        updated_at=now,
    )
    return Transition(snoozed, TransitionResult.APPLIED)
