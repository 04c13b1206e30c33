"""Posting the repeats of an open incident: one "failed again" reply per window, naming every
execution it covers (the decisions are `incident/coalesce.py`; this module posts and stores).

Called by the pipeline in two places:
- `known_repeat` — before any evidence is gathered: a redelivery of an execution the incident
  already counts (waiting, being posted, or posted) needs no diagnosis;
- `post_repeat` — after the diagnosis decided THREAD_REPLY / QUIET_REPLY for a new repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from jobtriage.diagnosis import Report
from jobtriage.errors import Deferred
from jobtriage.evidence import JobEvent
from jobtriage.incident.coalesce import (
    Step,
    add_pending,
    finish_flush,
    next_reply_at,
    start_flush,
    step_for_known,
    step_for_new,
)
from jobtriage.incident.decide import Action, Decision, apply_failure, snooze_active
from jobtriage.incident.ledger import Delivery
from jobtriage.incident.model import Incident
from jobtriage.incident.store import Change, ClaimHeld
from jobtriage.notify.metadata import PostKind
from jobtriage.notify.notifier import update_parent
from jobtriage.notify.parts import Message
from jobtriage.notify.repeat import render_repeat, render_repeats
from jobtriage.ownlog import get_logger
from jobtriage.runtime import Runtime

log = get_logger()

# What the pipeline's EventResult says, without importing it (the pipeline imports us).
Outcome = tuple[str, str | None, str | None]  # action, incident id, ts


def known_repeat(
    event: JobEvent, delivery: Delivery, open_now: list[Incident], rt: Runtime
) -> Outcome | None:
    """The execution is already counted in one of the job's open incidents: finish it without
    a diagnosis. None when it is not (the caller diagnoses)."""
    execution = event.ref.execution
    now = rt.clock.now()
    for incident in open_now:
        step = step_for_known(incident, execution, delivery.key, now)
        if step is None:
            continue
        if step is Step.DONE:
            return ("coalesced", incident.id, None)
        if step is not Step.RESUME and snooze_active(incident, now):
            held = rt.store.update(incident.id, _hold(execution))
            return (str(Action.HOLD), held.id, None)
        if step is Step.WAIT:
            rt.waiting.note(delivery.key, next_reply_at(incident), now=now)
            raise Deferred(f"{execution} is counted in its incident; posted with the next reply")
        return _flush(incident, delivery, rt, now=now, execution=execution)
    return None


def reply_thread_of(open_now: list[Incident]) -> Incident | None:
    """The job's one open failure incident with a thread to reply in (None: none, or several)."""
    failing = [i for i in open_now if not i.missed_run]
    if len(failing) != 1 or not failing[0].channel or not failing[0].thread_root:
        return None
    return failing[0]


def likely_waits(open_now: list[Incident], execution: str, key: str, now: datetime) -> bool:
    """A failure of a job whose one open failure incident is inside its window since the last
    reply (or being posted), not snoozed, and this execution not yet counted in it: most likely
    a repeat that only waits (`wait_unclaimed`: counted with no claim of its own)."""
    incident = reply_thread_of(open_now)
    if incident is None:
        return False
    if any(step_for_known(i, execution, key, now) is not None for i in open_now):
        return False
    if counted(incident, execution) or snooze_active(incident, now):
        return False
    return step_for_new(incident, now) is Step.DEFER


def flush_change(
    open_now: list[Incident], execution: str, key: str, now: datetime
) -> Change | None:
    """A redelivery of a waiting repeat after its window: it will post the repeats waiting in
    its incident (`known_repeat`, FLUSH). The mark of what it posts can go into the write that
    claims it (`IncidentStore.claim(change=)`); None when it will do something else."""
    for incident in open_now:
        step = step_for_known(incident, execution, key, now)
        if step is None:
            continue
        if step is not Step.FLUSH or snooze_active(incident, now) or not incident.thread_root:
            return None
        return Change(incident.id, _marker(key, now))
    return None


def _marker(key: str, now: datetime) -> Callable[[Incident], Incident]:
    def mark(current: Incident) -> Incident:
        started = start_flush(current, key=key, now=now)
        return current if started is None else started[0]

    return mark


def wait_unclaimed(
    decision: Decision, event: JobEvent, fingerprint: str, key: str, rt: Runtime
) -> Outcome | None:
    """A repeat that waits for its incident's next reply, counted in one write and with no claim
    (none is needed: counting is idempotent, and this one posts nothing). The write is refused
    while a claim of this execution exists (`ClaimHeld`): another delivery of it is on it, or
    posted it and died before counting it — that case must go the claimed way, which finds its
    post. None when it does not wait after all, or was refused: the caller claims and acts."""
    incident = decision.incident
    if decision.action not in (Action.THREAD_REPLY, Action.QUIET_REPLY) or incident is None:
        return None
    now = rt.clock.now()
    if step_for_new(incident, now) is not Step.DEFER:
        return None
    execution = event.ref.execution
    try:
        stored = rt.store.update(
            incident.id, _waiter(execution, _counter(execution, fingerprint, now)), unclaimed=key
        )
    except ClaimHeld:
        return None
    if execution in stored.pending:
        rt.waiting.note(key, next_reply_at(stored), now=now)
        raise Deferred(f"{execution} counted; posted with the next reply of its incident")
    if execution in stored.flushing or execution in stored.coalesced:
        return ("coalesced", stored.id, None)  # another delivery of it named it
    return (str(Action.HOLD), stored.id, None)  # snoozed meanwhile: held back


def post_repeat(
    decision: Decision,
    report: Report,
    delivery: Delivery,
    rt: Runtime,
    event: JobEvent,
    fingerprint: str,
    *,
    read_at: datetime,
) -> Outcome:
    """A new repeat: post it now with any waiting ones, or count it and let it wait.

    `read_at`: when `decision.incident` was read. A reply posted alone was decided on that read,
    so the window until the next reply starts there: a repeat counted after the read (and so not
    named in this reply) is posted by its redelivery 30 s after it was counted at the latest,
    never pushed back by a reply that could not see it."""
    incident = decision.incident
    assert incident is not None
    execution = event.ref.execution
    now = rt.clock.now()
    count = _counter(execution, fingerprint, now)
    # An acknowledged incident replies quietly: in the thread only, no broadcast.
    broadcast = decision.action is Action.THREAD_REPLY and decision.held_back > 0
    nothing_waiting = not incident.pending and not incident.flushing
    if delivery.posted is not None or (
        nothing_waiting and step_for_new(incident, now) is Step.POST_NOW
    ):
        # This reply names this execution alone: no mark needed (a takeover after a crash finds
        # its post on its own claim and only counts it).
        replied_at = min(read_at, now)
        return _reply_alone(incident, delivery, rt, report, count, replied_at, broadcast, decision)
    if step_for_new(incident, now) is Step.DEFER:
        return _defer(incident, execution, count, rt, delivery)
    return _flush(
        incident,
        delivery,
        rt,
        now=now,
        execution=execution,
        report=report,
        count=count,
        broadcast=broadcast,
        action=str(decision.action),
    )


def _reply_alone(
    incident: Incident,
    delivery: Delivery,
    rt: Runtime,
    report: Report,
    count: Callable[[Incident], Incident],
    replied_at: datetime,
    broadcast: bool,
    decision: Decision,
) -> Outcome:
    """The common repeat: one reply for one execution, then one store transaction."""
    execution = report.summary.ref.execution
    in_digest = incident.thread_ts is not None
    message = render_repeat(report, count(incident), lang=rt.lang, with_job=in_digest)
    ts = _post_in_thread(incident, delivery, rt, message, execution, broadcast=broadcast)
    final = rt.store.update(
        incident.id,
        lambda cur: finish_flush(count(cur), (execution,), now=replied_at),
        finish=delivery.finish_with(str(decision.action), incident.id, ts),
    )
    update_parent(rt.notifier, final, rt.lang)
    return (str(decision.action), final.id, ts)


def _defer(
    incident: Incident,
    execution: str,
    count: Callable[[Incident], Incident],
    rt: Runtime,
    delivery: Delivery,
) -> Outcome:
    """Count the repeat now, post it with the next reply (Pub/Sub redelivers it)."""

    # Waiting: the claim is released in the same write, so that the redelivery starts at once.
    release = delivery.release_with(lambda stored: execution in stored.pending)
    waiting = rt.store.update(incident.id, _waiter(execution, count), release=release)
    if execution not in waiting.pending:
        return (str(Action.HOLD), waiting.id, None)
    delivery.released = True
    rt.waiting.note(delivery.key, next_reply_at(waiting), now=rt.clock.now())
    raise Deferred(f"{execution} counted; posted with the next reply of its incident")


def _waiter(
    execution: str, count: Callable[[Incident], Incident]
) -> Callable[[Incident], Incident]:
    """The incident with this repeat counted and waiting for the next reply (or, snoozed
    meanwhile, held back)."""

    def wait(current: Incident) -> Incident:
        counted = count(current)
        if counted.held_back > current.held_back:
            return counted  # snoozed meanwhile: held back, not waiting
        return add_pending(counted, execution)

    return wait


def _flush(
    incident: Incident,
    delivery: Delivery,
    rt: Runtime,
    *,
    now: datetime,
    execution: str,
    report: Report | None = None,
    count: Callable[[Incident], Incident] | None = None,
    broadcast: bool = False,
    action: str = str(Action.THREAD_REPLY),
) -> Outcome:
    """Mark what this delivery posts (one transaction: a second poster sees the mark and
    waits), post one reply naming it all, then mark it posted."""
    covered: list[tuple[str, ...]] = []
    deferred: list[bool] = []
    key = delivery.key

    def mark(current: Incident) -> Incident:
        covered[:], deferred[:] = [], []
        counted = count(current) if count is not None else current
        started = start_flush(counted, key=key, now=now, also=execution if count else None)
        if started is None:
            if count is None:
                return current
            deferred.append(True)  # someone else is posting: this one waits for the next reply
            return (
                counted
                if counted.held_back > current.held_back
                else add_pending(counted, execution)
            )
        marked, names = started
        covered.append(names)
        return marked

    premarked = delivery.claim.changed if count is None else None
    if premarked is not None and premarked.id == incident.id and premarked.flushing_by == key:
        # Marked in the write that created this delivery's claim (`flush_change`).
        marked, names, begun = premarked, premarked.flushing, False
    else:
        # The post's start goes into the same write as the mark, when there is something to
        # post (the mark function has run by the time the store asks).
        begin = (
            delivery.begin_with(
                now, incident.channel, incident.thread_root, lambda _: bool(covered and covered[0])
            )
            if delivery.posted is None and incident.channel and incident.thread_root
            else None
        )
        marked = rt.store.update(incident.id, mark, begin=begin)
        if deferred or not covered:
            raise Deferred(f"another delivery is posting the repeats of incident {incident.id}")
        names, begun = covered[0], begin is not None
    if not names:
        return ("coalesced", incident.id, None)
    message = _message(marked, names, report, execution, rt)
    ts = _post_in_thread(marked, delivery, rt, message, execution, broadcast=broadcast, begun=begun)
    final = rt.store.update(
        incident.id,
        lambda cur: finish_flush(cur, names, now=now),
        finish=delivery.finish_with(action, incident.id, ts),
    )
    # the others' redeliveries on this instance are acknowledged at once (`incident.waiting`)
    others = [f"{final.job_path}/executions/{n}" for n in names if n != execution]
    rt.waiting.note_named(others, final.id)
    update_parent(rt.notifier, final, rt.lang)
    if len(names) > 1:
        log.info(
            "%d repeats posted in one reply", len(names), extra={"incident": final.id, "ts": ts}
        )
    return (action, final.id, ts)


def _post_in_thread(
    incident: Incident,
    delivery: Delivery,
    rt: Runtime,
    message: Message,
    execution: str,
    *,
    broadcast: bool,
    begun: bool = False,
) -> str:
    """Post `message` once in the incident's thread, tagged with this delivery (metadata)."""
    channel, root = incident.channel, incident.thread_root
    assert channel
    assert root
    return rt.ledger.post_once(
        delivery,
        channel,
        lambda tag: rt.notifier.reply(channel, root, message, broadcast=broadcast, tag=tag),
        kind=PostKind.REPLY,
        incident=incident.id,
        execution=execution,
        thread_ts=root,
        record=False,  # recorded by the incident's next write (`finish_with`)
        begun=begun,
    )


def _message(
    incident: Incident, names: tuple[str, ...], report: Report | None, execution: str, rt: Runtime
) -> Message:
    in_digest = incident.thread_ts is not None
    if report is not None and execution in names:
        also = tuple(n for n in names if n != execution)
        return render_repeat(report, incident, lang=rt.lang, with_job=in_digest, also=also)
    return render_repeats(incident, names, lang=rt.lang, with_job=in_digest)


def counted(incident: Incident, execution: str) -> bool:
    """Already counted in the incident (as its last failure, waiting, or posted)."""
    return execution in (
        incident.last_execution,
        incident.first_execution,
        *incident.pending,
        *incident.flushing,
        *incident.coalesced,
    )


def _counter(execution: str, fingerprint: str, now: datetime) -> Callable[[Incident], Incident]:
    """The incident with this failure counted — once, however often it is applied."""

    def count(current: Incident) -> Incident:
        if counted(current, execution):
            return current
        return apply_failure(
            current,
            job_path=current.job_path,
            fingerprint=fingerprint,
            execution=execution,
            now=now,
        )

    return count


def _hold(execution: str) -> Callable[[Incident], Incident]:
    def hold(current: Incident) -> Incident:
        if execution not in current.pending:
            return current
        return replace(
            current,
            pending=tuple(e for e in current.pending if e != execution),
            held_back=current.held_back + 1,
        )

    return hold
