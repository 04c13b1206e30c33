"""The path of one event: a Cloud Run Job execution ended.

    claim the execution (incident/ledger.py) ─ already delivered → nothing; in flight → retry
    ├─ failure: evidence → report → incident decision → one of
    │     new alert   (own message, or inside the digest thread in a storm)
    │     repeat      (reply in the incident's thread, parent message redrawn; repeats within
    │                  a short window after a reply wait and go out together: repeats.py)
    │     hold        (counted in the incident, nothing posted)
    │     (an execution the Run API has never heard of: nothing posted, one log line)
    └─ success: confirmed by the Run API (incident/verify.py), recover every open incident
       of the job that failed before it, say so in its thread
    finish the claim (or release it, or keep it: see below)

No duplicate, no loss, for one execution:
1. Claim the execution in the store (create-if-absent decides races). Already delivered → do
   nothing; another delivery in flight → `TransientError` (Pub/Sub redelivers later). A
   failure reads its job's incidents first, and the claim goes into the first write the
   delivery has to make anyway:
   - a repeat of the job's one open incident: created with its reply announced (and, for a
     waiting repeat whose reply is due, with the mark of what that reply names);
   - most likely the first failure of an incident (no open failure incident): diagnosed
     first, then its execution and opening claims are created in one write;
   - most likely a repeat that only waits (inside its incident's window): diagnosed, then
     counted with NO claim, in a write refused while any claim of it exists (a delivery of
     it in flight, or one that posted it and died before counting it goes the claimed way).
   Anything the prediction got wrong claims on its own, with the diagnosis already made.
2. Diagnose, decide, post. The ledger notes on the claim that a post starts, then records the
   ts right after the Slack call returns. A post whose answer was lost in between (a timeout, a
   crash) is looked up in Slack by the next holder (its message metadata) before posting again.
3. Save the incident, finish the claim. A crash after step 2 is taken over by the redelivery,
   which sees the recorded post and only completes the bookkeeping.
A transient failure before anything was recorded releases the claim and raises, so the
redelivery can start over at once (and look for the post first, if one was started). After a
post it keeps the claim (with the post recorded on it): the redelivery that takes over once the
lease ends finishes the bookkeeping and posts nothing.

When many jobs fail at once (a failure storm), three things keep the channel and the quotas whole:
- a repeat of a job that already has an open incident reads logs only while this instance's
  Logging read budget has room beyond a reserve kept for new incidents; a repeat diagnosed
  without logs is counted in that job's open incident (it cannot tell its cause apart);
- the first `DIGEST_AFTER` new incidents of a `DIGEST_WINDOW` get their own message; the next
  ones are posted inside one digest thread, each still with its own buttons (the ledger);
- two executions of one job opening the same incident at once: the second sees the first's
  incident once it holds the opening claim, and replies in its thread instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from jobtriage.diagnosis import Report, build_report, to_text
from jobtriage.diagnosis.rank import base_priors
from jobtriage.errors import Deferred, PermanentError, TransientError
from jobtriage.evidence import JobEvent
from jobtriage.evidence.gather import gather
from jobtriage.incident.decide import (
    Action,
    Decision,
    apply_failure,
    decide_failure,
    decide_success,
    recover,
)
from jobtriage.incident.ledger import DIGEST_AFTER, DIGEST_WINDOW, ClaimKind, Delivery, claim_key
from jobtriage.incident.memory import History, learned_priors, ranked_causes
from jobtriage.incident.model import MISSED_RUN, Incident
from jobtriage.incident.recall import open_from_history, read_history
from jobtriage.incident.store import Claim, ClaimOutcome
from jobtriage.incident.verify import Refused, confirm_success
from jobtriage.notify.alert import render_alert
from jobtriage.notify.digest import render_digest
from jobtriage.notify.metadata import PostKind, PostTag
from jobtriage.notify.notifier import blocks_json, update_parent
from jobtriage.notify.recall import alert_slots
from jobtriage.notify.recovery import render_recovered
from jobtriage.ownlog import get_logger
from jobtriage.repeats import (
    counted,
    flush_change,
    known_repeat,
    likely_waits,
    post_repeat,
    reply_thread_of,
    wait_unclaimed,
)
from jobtriage.runtime import Runtime

log = get_logger()


@dataclass(frozen=True, slots=True)
class EventResult:
    action: str  # what happened, for logs and tests: new_alert, thread_reply, duplicate, …
    incident_id: str | None = None
    ts: str | None = None
    report: Report | None = None


def process_event(event: JobEvent, rt: Runtime) -> EventResult:
    ledger = rt.ledger
    if event.failed and (named := rt.waiting.named_in(event.ref.execution_path)):
        # Named in a reply this instance posted and stored: nothing left to do (no store call).
        log.info("already named in a reply; nothing to do", extra=_ctx(event) | {"incident": named})
        return EventResult("coalesced", named)
    if event.failed and (until := rt.waiting.until(event.ref.execution_path, rt.clock.now())):
        # Deferred here a moment ago: not before its incident's next reply (no store call).
        raise Deferred(
            f"{event.ref.execution} is counted in its incident; posted with the next reply "
            f"(not before {until:%H:%M:%S})"
        )
    # A failure reads its job's incidents first (one query): a repeat of the one open incident
    # will most likely reply in its thread, and its claim is created with that post announced
    # (no write of its own before posting).
    read_at = rt.clock.now()  # every decision below is made on what this read found
    read = open_from_history(rt.store, event.ref.job_path) if event.failed else None
    diagnosed: Diagnosed | None = None
    key = claim_key(ClaimKind.EXECUTION, event.ref.execution_path)
    if read is not None and likely_waits(read[0], event.ref.execution, key, read_at):
        # Most likely a repeat that only waits for its incident's next reply: diagnosed, then
        # counted in one write with no claim. Anything else claims below, with this diagnosis.
        found = _diagnose(event, rt, read, read_at)
        if isinstance(found, EventResult):
            return found
        diagnosed = found
        waited = wait_unclaimed(found.decision, event, found.fingerprint, key, rt)
        if waited is not None:
            return EventResult(*waited, report=found.report)
    claim: Claim | None = None
    if read is not None and diagnosed is None and _likely_opens(read, event.ref.execution):
        # Most likely the first failure of an incident: diagnosed, then its execution claim
        # and its incident's opening claim are created in one write.
        found = _diagnose(event, rt, read, read_at)
        if isinstance(found, EventResult):
            return found
        diagnosed = found
        draft = found.decision.incident
        if found.decision.action is Action.NEW_ALERT and draft is not None:
            pair = ledger.claim_opening(event.ref.execution_path, draft.job_path, draft.fingerprint)
            if pair is not None:
                claim, opening = pair
                diagnosed = replace(found, opening=opening)
    if claim is None:
        claim = ledger.claim_execution(
            event.ref.execution_path,
            announce=_expected_post(read[0]) if read else None,
            # A waiting repeat whose reply is due marks what it posts in the claim's write.
            change=flush_change(read[0], event.ref.execution, key, rt.clock.now())
            if read
            else None,
        )
    if claim.outcome is ClaimOutcome.DONE:
        log.info("already delivered; nothing to do", extra=_ctx(event) | {"claim": "done"})
        return EventResult("duplicate")
    if claim.outcome is ClaimOutcome.BUSY:
        raise TransientError(f"another delivery of {event.ref.execution} is in progress")
    delivery = Delivery(claim)
    try:
        if read is not None:
            result = _on_failure(event, delivery, rt, read, read_at, diagnosed)
        else:
            result = _on_success(event, rt)
    except TransientError:
        if delivery.posted is None:
            ledger.release(delivery)
        else:
            # Posted: releasing would forget the post and let the redelivery post it again. The
            # redelivery that takes over after the lease finishes the rest, and posts nothing:
            # the post is recorded on the claim (or, if even that fails, found in Slack by the
            # post's metadata).
            _keep(delivery, rt, event)
        raise
    except PermanentError as exc:
        ledger.finish(delivery, {"action": "error", "error": str(exc)[:300]})
        raise
    if not delivery.finished:  # else finished with the incident's last write
        ledger.finish(
            delivery, {"action": result.action, "incident": result.incident_id, "ts": result.ts}
        )
    return result


def _keep(delivery: Delivery, rt: Runtime, event: JobEvent) -> None:
    assert delivery.posted is not None
    ctx = _ctx(event) | {"ts": delivery.posted.ts}
    try:
        rt.ledger.record(delivery)
    except (TransientError, PermanentError) as exc:
        log.warning(
            "posted, but neither the bookkeeping nor the post's record could be written (%s); "
            "the next delivery looks for the post in Slack",
            exc,
            extra=ctx,
        )
        return
    log.warning(
        "posted, but the bookkeeping failed; the claim is kept until its lease ends", extra=ctx
    )


# --- failure ----------------------------------------------------------------------------------


def _likely_opens(read: tuple[list[Incident], list[Incident] | None], execution: str) -> bool:
    """No open failure incident for the job, and this execution counted in none of its
    incidents: most likely the first failure of a new incident."""
    open_now, job_history = read
    if any(not i.missed_run for i in open_now):
        return False
    return not any(counted(i, execution) for i in (*open_now, *(job_history or ())))


def _expected_post(open_now: list[Incident]) -> tuple[str, str | None] | None:
    """Where a repeat of this job will post: the thread of its one open failure incident (None
    when there are none or several)."""
    incident = reply_thread_of(open_now)
    return (incident.channel or "", incident.thread_root) if incident else None


@dataclass(frozen=True, slots=True)
class Diagnosed:
    """A failure diagnosed and decided, before anything is written about it."""

    report: Report
    fingerprint: str
    decision: Decision
    history: History
    ctx: dict[str, str]
    # When the incidents the decision was made on were read (a reply's window starts there)
    read_at: datetime
    # NEW_ALERT: the incident's opening claim, created with the execution's (`claim_opening`)
    opening: Claim | None = None


def _on_failure(
    event: JobEvent,
    delivery: Delivery,
    rt: Runtime,
    read: tuple[list[Incident], list[Incident] | None],
    read_at: datetime,
    diagnosed: Diagnosed | None = None,
) -> EventResult:
    if diagnosed is None:
        # Read before the claim (`process_event`) and before gathering: a repeat of a job with
        # an open incident may skip logs in a storm. The job's open incidents come from its
        # history (one query for both, most of the time).
        known = known_repeat(event, delivery, read[0], rt)
        if known is not None:
            # Already counted in an open incident (waiting for, or named in, a reply): no
            # diagnosis.
            return EventResult(*known)
        found = _diagnose(event, rt, read, read_at)
        if isinstance(found, EventResult):
            return found
        diagnosed = found
    return _act(event, delivery, rt, diagnosed)


def _diagnose(
    event: JobEvent,
    rt: Runtime,
    read: tuple[list[Incident], list[Incident] | None],
    read_at: datetime,
) -> Diagnosed | EventResult:
    """Evidence, report and the incident decision; an EventResult when there is nothing to
    decide (the Run API has never heard of the execution)."""
    job_path = event.ref.job_path
    open_now, job_history = read
    # Incidents of this job's failures (a missed-run incident says nothing about a cause).
    failing = [i for i in open_now if i.fingerprint != MISSED_RUN]
    evidence = gather(event, sources=rt.sources, urgent_logs=not failing)
    if evidence.execution_missing:
        # Verify before acting: the Run API has never heard of this execution (a forged or
        # mistaken event). One log line, and the event is acknowledged.
        log.warning(
            "the Run API has no execution %s; nothing posted",
            event.ref.execution,
            extra=_ctx(event) | {"reason": "execution not found"},
        )
        return EventResult("unverified")
    # The incident memory, read once: what the job's confirmed causes teach the ranking, and
    # what a new alert says about the incidents before it.
    history = read_history(
        rt.store,
        job_path,
        cache=rt.project_cache,
        monotonic=rt.clock.monotonic(),
        job=job_history,
    )
    report = build_report(evidence, priors=learned_priors(history, base_priors()))
    if rt.on_report is not None:
        rt.on_report(evidence, report)
    fingerprint = report.fingerprint
    current: Incident | None
    if evidence.log_stats.skipped and failing:
        # Without logs the cause cannot be told apart: count it where this job already fails.
        latest = max(failing, key=lambda i: (i.last_failure_at or i.opened_at, i.id))
        current = rt.store.get(latest.id)
        fingerprint = latest.fingerprint
    else:
        # From the read made before gathering (one query fewer). An incident of this cause
        # opened meanwhile is found under the opening claim (`_new_alert`); a click meanwhile
        # is applied to the fresh incident inside the store's transaction.
        current = _newest(i for i in open_now if i.fingerprint == fingerprint)
    ctx = _ctx(event) | {"cause": report.top.id, "fingerprint": fingerprint}
    decision = _decide(event, current, fingerprint, rt.clock.now(), rt)
    log.info("diagnosed: %s", decision.action, extra=ctx | {"reason": decision.reason})
    return Diagnosed(report, fingerprint, decision, history, ctx, read_at)


def _act(event: JobEvent, delivery: Delivery, rt: Runtime, diagnosed: Diagnosed) -> EventResult:
    """Post and store what the decision says, as the holder of the execution's claim."""
    report, fingerprint, decision, ctx = (
        diagnosed.report,
        diagnosed.fingerprint,
        diagnosed.decision,
        diagnosed.ctx,
    )
    job_path = event.ref.job_path
    read_at = diagnosed.read_at
    if decision.action is Action.NOTHING and decision.incident is not None:
        # Counted meanwhile by another delivery of it (the incident was read again: logs were
        # skipped): waiting, being posted or posted — go on as its redelivery would, so that a
        # waiting repeat is never finished unposted.
        known = known_repeat(event, delivery, [decision.incident], rt)
        if known is not None:
            return EventResult(*known, report=report)
    try:
        if decision.action is Action.NEW_ALERT:
            opened = _new_alert(
                decision, report, delivery, rt, diagnosed.history, held=diagnosed.opening
            )
            if opened is not None:
                return opened
            # Another execution of this job opened the incident meanwhile: a repeat after all,
            # decided on this new read (its reply's window starts there).
            read_at = rt.clock.now()
            current = rt.store.open_incident(job_path, fingerprint)
            decision = _decide(event, current, fingerprint, rt.clock.now(), rt)
            log.info("incident opened meanwhile: %s", decision.action, extra=ctx)
        if decision.action in (Action.THREAD_REPLY, Action.QUIET_REPLY):
            return _repeat(decision, report, delivery, rt, event, fingerprint, read_at)
        if decision.action is Action.HOLD and decision.incident is not None:
            now = rt.clock.now()
            held = rt.store.update(decision.incident.id, _reapply_failure(event, fingerprint, now))
            return EventResult("hold", held.id, report=report)
    except PermanentError as exc:
        # Slack refused for good (channel gone, token revoked…): the investigation must not be
        # lost with it, so the whole report goes into our own (redacted) logs.
        log.error(
            "could not post to Slack: %s — fix: %s\n%s",
            exc,
            exc.fix,
            to_text(report, lang=rt.lang),
            extra=ctx,
        )
        raise
    return EventResult(str(decision.action), decision.incident.id if decision.incident else None)


def _newest(incidents: Iterable[Incident]) -> Incident | None:
    """The one `open_incident` would return: the last opened."""
    found = list(incidents)
    return found[-1] if found else None


def _decide(
    event: JobEvent, current: Incident | None, fingerprint: str, now: datetime, rt: Runtime
) -> Decision:
    return decide_failure(
        current,
        job_path=event.ref.job_path,
        fingerprint=fingerprint,
        execution=event.ref.execution,
        now=now,
        lang=rt.lang,
    )


def _reapply_failure(
    event: JobEvent, fingerprint: str, now: datetime
) -> Callable[[Incident], Incident]:
    """The incident change of one failure, applied inside the store's transaction to whatever
    the incident is by then (a click may have landed since we read it)."""

    def apply(current: Incident) -> Incident:
        return apply_failure(
            current,
            job_path=current.job_path,
            fingerprint=fingerprint,
            execution=event.ref.execution,
            now=now,
        )

    return apply


def _new_alert(
    decision: Decision,
    report: Report,
    delivery: Delivery,
    rt: Runtime,
    history: History,
    *,
    held: Claim | None = None,
) -> EventResult | None:
    """Open the incident: post its alert and store it. None when another delivery opened the
    same incident meanwhile (the caller replies in its thread instead)."""
    draft = decision.incident
    assert draft is not None  # NEW_ALERT always carries the draft
    ledger = rt.ledger
    # Two *different* executions of one job failing the same way at the same moment must not
    # open two incidents: whoever holds the opening claim opens it, the other is redelivered
    # and by then finds the incident open (a thread reply).
    with ledger.opening(draft.job_path, draft.fingerprint, held=held) as opening:
        if delivery.posted is None and (
            rt.store.open_incident(draft.job_path, draft.fingerprint) is not None
        ):
            return None  # opened by the delivery that held this claim just before us
        slots = alert_slots(
            draft,
            history,
            now=rt.clock.now(),
            last_success=report.baseline_finished_at,
            lang=rt.lang,
        )
        message = render_alert(
            report, draft, lang=rt.lang, seen_before=slots.seen_before, footer=slots.footer
        )
        channel = delivery.posted.channel if delivery.posted else rt.channel
        thread_ts = (
            delivery.posted.thread_ts
            if delivery.posted
            else ledger.digest_thread(channel, _post_digest(rt, channel), delivery=delivery)
        )

        def post(tag: PostTag) -> str:
            if thread_ts is None:
                return rt.notifier.post_alert(channel, message, tag=tag)
            return rt.notifier.reply(channel, thread_ts, message, tag=tag)

        ts = ledger.post_once(
            delivery,
            channel,
            post,
            kind=PostKind.ALERT,
            incident=draft.id,
            execution=draft.last_execution,
            thread_ts=thread_ts,
            record=False,  # recorded by the incident's creation, in the same write
        )
        stored = replace(
            draft,
            channel=channel,
            ts=ts,
            thread_ts=thread_ts,
            parent_blocks_json=blocks_json(message),
            causes=ranked_causes(report),
        )
        ledger.create(opening, stored, finish=delivery.finish_with("new_alert", stored.id, ts))
    return EventResult("new_alert", stored.id, ts, report)


def _post_digest(rt: Runtime, channel: str) -> Callable[[PostTag], str]:
    def post(tag: PostTag) -> str:
        message = render_digest(after=DIGEST_AFTER, window=DIGEST_WINDOW, lang=rt.lang)
        return rt.notifier.post_alert(channel, message, tag=tag)

    return post


def _repeat(
    decision: Decision,
    report: Report,
    delivery: Delivery,
    rt: Runtime,
    event: JobEvent,
    fingerprint: str,
    read_at: datetime,
) -> EventResult:
    action, incident_id, ts = post_repeat(
        decision, report, delivery, rt, event, fingerprint, read_at=read_at
    )
    return EventResult(action, incident_id, ts, report)


# --- success ----------------------------------------------------------------------------------


def _on_success(event: JobEvent, rt: Runtime) -> EventResult:
    job_path = event.ref.job_path
    open_now = [i for i in rt.store.open_incidents(job_path) if not i.state.closed]
    if not open_now:
        log.info("execution succeeded; no open incident", extra=_ctx(event))
        return EventResult("success")
    # Verify before acting: only the Run API's word that this execution succeeded, after the
    # incident's last failure, closes anything (jobtriage/incident/verify.py).
    confirmed = confirm_success(rt.sources.run, event.ref, open_now)
    if isinstance(confirmed, Refused):
        log.warning(
            "success not confirmed; nothing recovered: %s",
            confirmed.reason,
            extra=_ctx(event) | {"reason": confirmed.reason},
        )
        return EventResult("unverified")
    for incident, why in confirmed.kept:
        log.info("incident stays open: %s", why, extra=_ctx(event) | {"incident": incident.id})
    now = rt.clock.now()
    decisions = decide_success(
        list(confirmed.incidents),
        execution=event.ref.execution,
        now=now,
        finished_at=confirmed.finished_at,
    )
    recovered: list[str] = []
    for decision in decisions:
        if decision.action is not Action.RECOVER or decision.incident is None:
            continue
        # Close first, then say so: the store decides which delivery closes the incident, so two
        # deliveries (or a redelivery) never both post "recovered". A crash between the two
        # loses only the recovery note; the incident is closed either way.
        closed_here: list[bool] = []
        updated = rt.store.update(decision.incident.id, _closer(event, now, closed_here))
        if not closed_here or not closed_here[0]:
            continue  # closed by someone else in between
        root = updated.thread_root
        if updated.channel and root:
            message = render_recovered(
                updated, event.ref, lang=rt.lang, with_job=updated.thread_ts is not None
            )
            tag = PostTag(
                claim_key(ClaimKind.EXECUTION, event.ref.execution_path),
                PostKind.RECOVERY,
                incident=updated.id,
                execution=event.ref.execution,
            )
            rt.notifier.reply(updated.channel, root, message, tag=tag)
        update_parent(rt.notifier, updated, rt.lang)
        recovered.append(updated.id)
    log.info(
        "execution succeeded; %d incident(s) recovered",
        len(recovered),
        extra=_ctx(event) | {"incidents": recovered},
    )
    return EventResult("recovered" if recovered else "success", recovered[0] if recovered else None)


def _closer(
    event: JobEvent, now: datetime, closed_here: list[bool]
) -> Callable[[Incident], Incident]:
    def close(cur: Incident) -> Incident:
        closed_here[:] = [not cur.state.closed]  # the store may call this more than once
        return recover(cur, execution=event.ref.execution, now=now)

    return close


def _ctx(event: JobEvent) -> dict[str, str]:
    return {"job": event.ref.job, "execution": event.ref.execution, "project": event.ref.project}
