"""The whole path of one event: claim → evidence → report → incident decision → Slack → record.

`main.py` only adapts HTTP and CloudEvents to the two functions here: `process_event` (a Cloud Run
Job execution ended) and `process_click` (someone clicked a button on one of our messages).
Everything outside the process comes in through `Runtime`, so tests and the demo pass local
stand-ins for Google, Slack and Firestore.

No duplicate, no loss, for one execution:
1. `claim` the execution in the store (create-if-absent decides races). Already delivered → do
   nothing; another delivery in flight → `TransientError` (Pub/Sub redelivers later).
2. Diagnose, decide, post. Right after the Slack call returns, `record_post` writes its ts — the
   only window in which a crash can repeat a post is between Slack answering and that one write.
3. Save the incident, `finish` the claim. A crash after step 2 is taken over by the redelivery,
   which sees the recorded post and only completes the bookkeeping.
A transient failure before anything was posted releases the claim and raises, so the redelivery
can start over at once. After a post it keeps the claim (with the post recorded on it): the
redelivery that takes over once the lease ends finishes the bookkeeping and posts nothing.

When many jobs fail at once (a failure storm), three things keep the channel and the quotas whole:
- a repeat of a job that already has an open incident reads logs only while this instance's
  Logging read budget has room beyond a reserve kept for new incidents; a repeat diagnosed
  without logs is counted in that job's open incident (it cannot tell its cause apart);
- the first `DIGEST_AFTER` new incidents of a `DIGEST_WINDOW` get their own message; the next
  ones are posted inside one digest thread, each still with its own buttons;
- two executions of one job opening the same incident at once: the second sees the first's
  incident once it holds the opening claim, and replies in its thread instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from jobtriage.diagnosis import Report, build_report, to_text
from jobtriage.errors import PermanentError, TransientError
from jobtriage.evidence import Evidence, JobEvent
from jobtriage.evidence.gather import Sources, gather
from jobtriage.incident.decide import (
    Action,
    Decision,
    acknowledge,
    apply_failure,
    decide_failure,
    decide_success,
    recover,
    resolve,
    snooze,
)
from jobtriage.incident.model import Incident
from jobtriage.incident.store import Claim, ClaimOutcome, IncidentStore, PostedMessage
from jobtriage.notify import actions
from jobtriage.notify.blocks import (
    Message,
    render_alert,
    render_digest,
    render_recovered,
    render_repeat,
    render_state_update,
)
from jobtriage.ownlog import get_logger
from jobtriage.settings import Settings
from jobtriage.text import Lang

# Longer than one delivery can take (the function's timeout, deploy/functions.tf): a claim older
# than this belongs to a delivery that died, and the next one takes over.
CLAIM_LEASE = timedelta(seconds=300)
# Opening an incident is one Slack post and one write.
OPENING_LEASE = timedelta(seconds=60)
# A storm: more than DIGEST_AFTER new incidents in one DIGEST_WINDOW (fixed windows, per channel).
DIGEST_AFTER = 3
DIGEST_WINDOW = timedelta(minutes=10)

LOCAL_CHANNEL = "local"

log = get_logger()


class Notifier(Protocol):
    """What the pipeline needs from Slack (`jobtriage.notify.deliver.SlackNotifier`)."""

    def post_alert(self, channel: str, message: Message) -> str: ...

    def reply(
        self, channel: str, thread_ts: str, message: Message, *, broadcast: bool = False
    ) -> str: ...

    def update(self, channel: str, ts: str, message: Message) -> None: ...

    def post_ephemeral(self, channel: str, user: str, text: str) -> None: ...

    def usergroup_members(self, usergroup: str) -> frozenset[str]: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything from outside the process. Built once per function instance (see `app.py`)."""

    settings: Settings
    sources: Sources
    store: IncidentStore
    notifier: Notifier
    clock: Callable[[], datetime] = utc_now
    # Called with every report built (the demo prints it; tests inspect it).
    on_report: Callable[[Evidence, Report], None] | None = None
    lang: Lang = field(init=False)
    # Members of the allow-list user group, and when they were read (seconds, monotonic).
    group_cache: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lang = self.settings.lang

    @property
    def channel(self) -> str:
        """Where alerts go. Without Slack settings the notifier writes to our logs instead
        (see `app.LogNotifier`), and this names that place."""
        return self.settings.slack_channel or LOCAL_CHANNEL


@dataclass(frozen=True, slots=True)
class EventResult:
    action: str  # what happened, for logs and tests: new_alert, thread_reply, duplicate, …
    incident_id: str | None = None
    ts: str | None = None
    report: Report | None = None


def _ctx(event: JobEvent) -> dict[str, str]:
    return {"job": event.ref.job, "execution": event.ref.execution, "project": event.ref.project}


def process_event(event: JobEvent, rt: Runtime) -> EventResult:
    key = event.ref.execution_path
    claim = rt.store.claim(key, now=rt.clock(), lease=CLAIM_LEASE)
    if claim.outcome is ClaimOutcome.DONE:
        log.info("already delivered; nothing to do", extra=_ctx(event) | {"claim": "done"})
        return EventResult("duplicate")
    if claim.outcome is ClaimOutcome.BUSY:
        raise TransientError(f"another delivery of {event.ref.execution} is in progress")
    delivery = _Delivery(claim)
    try:
        handle = _on_failure if event.failed else _on_success
        result = handle(event, delivery, rt)
    except TransientError:
        if delivery.posted is None:
            rt.store.release(key, holder=claim.holder)
        else:
            # Posted and recorded: releasing would forget the post and let the redelivery post
            # it again. The redelivery that takes over after the lease finishes the rest.
            log.warning(
                "posted, but the bookkeeping failed; the claim is kept until its lease ends",
                extra=_ctx(event) | {"ts": delivery.posted.ts},
            )
        raise
    except PermanentError as exc:
        rt.store.finish(key, result={"action": "error", "error": str(exc)[:300]})
        raise
    rt.store.finish(
        key,
        result={"action": result.action, "incident": result.incident_id, "ts": result.ts},
    )
    return result


@dataclass
class _Delivery:
    """This delivery's claim, and the post it made and recorded (if any)."""

    claim: Claim
    posted: PostedMessage | None = None

    def __post_init__(self) -> None:
        self.posted = self.claim.posted

    @property
    def key(self) -> str:
        return self.claim.key


def _post_recorded(rt: Runtime, delivery: _Delivery, channel: str, post: Callable[[], str]) -> str:
    """Post once per execution: a post an earlier delivery recorded is reused, a new one is
    recorded right after Slack answers — nothing else happens in between, so a crash can repeat
    a post only in the time of that one write."""
    if delivery.posted is not None:
        return delivery.posted.ts
    ts = post()
    rt.store.record_post(delivery.key, channel, ts)
    delivery.posted = PostedMessage(channel, ts)
    return ts


def _blocks_json(message: Message) -> str:
    return json.dumps(message.payload()["blocks"], ensure_ascii=False, separators=(",", ":"))


def _parent_update(incident: Incident, lang: Lang) -> Message | None:
    if not incident.parent_blocks_json:
        return None
    blocks = json.loads(incident.parent_blocks_json)
    return render_state_update(blocks, incident, lang=lang)


def _update_parent(rt: Runtime, incident: Incident) -> None:
    """Keep the parent message showing the incident's current state. Best effort: the thread
    reply already told the channel; a failed edit is logged, not retried."""
    message = _parent_update(incident, rt.lang)
    if message is None or not incident.channel or not incident.ts:
        return
    try:
        rt.notifier.update(incident.channel, incident.ts, message)
    except (TransientError, PermanentError) as exc:
        log.warning(
            "could not update the parent message: %s",
            exc,
            extra={"incident": incident.id, "job_path": incident.job_path},
        )


def _on_failure(event: JobEvent, delivery: _Delivery, rt: Runtime) -> EventResult:
    job_path = event.ref.job_path
    # Read before gathering: a repeat of a job with an open incident may skip logs in a storm.
    open_now = rt.store.open_incidents(job_path)
    evidence = gather(event, sources=rt.sources, urgent_logs=not open_now)
    report = build_report(evidence)
    if rt.on_report is not None:
        rt.on_report(evidence, report)
    fingerprint = report.fingerprint
    current: Incident | None
    if evidence.log_stats.skipped and open_now:
        # Without logs the cause cannot be told apart: count it where this job already fails.
        latest = max(open_now, key=lambda i: (i.last_failure_at or i.opened_at, i.id))
        current = rt.store.get(latest.id)
        fingerprint = latest.fingerprint
    else:
        current = rt.store.open_incident(job_path, fingerprint)
    ctx = _ctx(event) | {"cause": report.top.id, "fingerprint": fingerprint}
    now = rt.clock()
    decision = _decide(event, current, fingerprint, now, rt)
    log.info("diagnosed: %s", decision.action, extra=ctx | {"reason": decision.reason})
    try:
        if decision.action is Action.NEW_ALERT:
            opened = _new_alert(decision, report, delivery, rt)
            if opened is not None:
                return opened
            # Another execution of this job opened the incident meanwhile: a repeat after all.
            current = rt.store.open_incident(job_path, fingerprint)
            decision = _decide(event, current, fingerprint, rt.clock(), rt)
            log.info("incident opened meanwhile: %s", decision.action, extra=ctx)
        if decision.action in (Action.THREAD_REPLY, Action.QUIET_REPLY):
            return _repeat(decision, report, delivery, rt, event, fingerprint)
        if decision.action is Action.HOLD and decision.incident is not None:
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
    decision: Decision, report: Report, delivery: _Delivery, rt: Runtime
) -> EventResult | None:
    """Open the incident: post its alert and store it. None when another delivery opened the
    same incident meanwhile (the caller replies in its thread instead)."""
    draft = decision.incident
    assert draft is not None  # NEW_ALERT always carries the draft
    # Two *different* executions of one job failing the same way at the same moment must not
    # open two incidents: whoever holds this second claim opens it, the other is redelivered
    # and by then finds the incident open (a thread reply). Released once the incident exists,
    # so that the next incident for this fingerprint can open after this one is closed.
    opening_key = f"opening:{draft.job_path}:{draft.fingerprint}"
    opening = rt.store.claim(opening_key, now=rt.clock(), lease=OPENING_LEASE)
    if not opening.owned:
        raise TransientError(f"an incident for {draft.fingerprint} is being opened right now")
    try:
        if delivery.posted is None and (
            rt.store.open_incident(draft.job_path, draft.fingerprint) is not None
        ):
            return None  # opened by the delivery that held this claim just before us
        message = render_alert(report, draft, lang=rt.lang)
        channel = delivery.posted.channel if delivery.posted else rt.channel
        thread_ts = None if delivery.posted else _digest_thread(rt, channel)
        if thread_ts is None:
            ts = _post_recorded(
                rt, delivery, channel, lambda: rt.notifier.post_alert(channel, message)
            )
        else:
            ts = _post_recorded(
                rt, delivery, channel, lambda: rt.notifier.reply(channel, thread_ts, message)
            )
        stored = replace(
            draft,
            channel=channel,
            ts=ts,
            thread_ts=thread_ts,
            parent_blocks_json=_blocks_json(message),
        )
        rt.store.create(stored)
    finally:
        rt.store.release(opening_key, holder=opening.holder)
    return EventResult("new_alert", stored.id, ts, report)


def _digest_thread(rt: Runtime, channel: str) -> str | None:
    """Where a new incident's alert goes: None for a message of its own, or the ts of the digest
    thread once `DIGEST_AFTER` incidents were opened in this `DIGEST_WINDOW`.

    The places are claims (created once, decided by the store), so concurrent deliveries agree
    without a counter: each new incident takes the first free one of the window's places.
    """
    now = rt.clock()
    window = int(now.timestamp() // DIGEST_WINDOW.total_seconds())
    for place in range(DIGEST_AFTER):
        taken = rt.store.claim(
            f"alert-place:{channel}:{window}:{place}", now=now, lease=DIGEST_WINDOW * 2
        )
        if taken.owned:
            rt.store.finish(taken.key, result={"place": place})
            return None
    digest = rt.store.claim(f"digest:{channel}:{window}", now=now, lease=OPENING_LEASE)
    if digest.outcome is ClaimOutcome.DONE and digest.posted is not None:
        return digest.posted.ts
    if not digest.owned:
        raise TransientError("the digest message for many failing jobs is being posted")
    ts = _post_recorded(
        rt,
        _Delivery(digest),
        channel,
        lambda: rt.notifier.post_alert(
            channel, render_digest(after=DIGEST_AFTER, window=DIGEST_WINDOW, lang=rt.lang)
        ),
    )
    rt.store.finish(digest.key, result={"ts": ts})
    log.warning(
        "many jobs failing: new incidents go into a digest thread",
        extra={"channel": channel, "ts": ts},
    )
    return ts


def _repeat(
    decision: Decision,
    report: Report,
    delivery: _Delivery,
    rt: Runtime,
    event: JobEvent,
    fingerprint: str,
) -> EventResult:
    incident = decision.incident
    assert incident is not None
    root = incident.thread_root
    assert incident.channel
    assert root
    channel = incident.channel
    in_digest = incident.thread_ts is not None
    message = render_repeat(report, incident, lang=rt.lang, with_job=in_digest)
    # An acknowledged incident replies quietly: in the thread only, no broadcast.
    broadcast = decision.action is Action.THREAD_REPLY and decision.held_back > 0
    ts = _post_recorded(
        rt,
        delivery,
        channel,
        lambda: rt.notifier.reply(channel, root, message, broadcast=broadcast),
    )
    updated = rt.store.update(incident.id, _reapply_failure(event, fingerprint, rt.clock()))
    _update_parent(rt, updated)
    return EventResult(str(decision.action), updated.id, ts, report)


def _closer(
    event: JobEvent, now: datetime, closed_here: list[bool]
) -> Callable[[Incident], Incident]:
    def close(cur: Incident) -> Incident:
        closed_here[:] = [not cur.state.closed]  # the store may call this more than once
        return recover(cur, execution=event.ref.execution, now=now)

    return close


def _on_success(event: JobEvent, delivery: _Delivery, rt: Runtime) -> EventResult:
    job_path = event.ref.job_path
    now = rt.clock()
    decisions = decide_success(
        rt.store.open_incidents(job_path),
        execution=event.ref.execution,
        now=now,
        finished_at=event.timestamp,
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
            rt.notifier.reply(updated.channel, root, message)
        _update_parent(rt, updated)
        recovered.append(updated.id)
    log.info(
        "execution succeeded; %d incident(s) recovered",
        len(recovered),
        extra=_ctx(event) | {"incidents": recovered},
    )
    return EventResult("recovered" if recovered else "success", recovered[0] if recovered else None)


# --- clicks -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


def process_click(
    raw_body: bytes, headers: Mapping[str, str], rt: Runtime, *, unix_clock: Any = None
) -> HttpAnswer:
    """A Slack interactivity request: verify, apply to the incident, update the message.

    Slack shows the user an error unless we answer within 3 seconds, so this does one store
    transaction and one chat.update (with the short CLICK_POLICY retries) and nothing else.
    """
    secret = rt.settings.slack_signing_secret
    if not secret:
        log.error("SLACK_SIGNING_SECRET is not set: every click is refused")
        return HttpAnswer(500, "not configured")
    try:
        if unix_clock is not None:
            actions.verify_request(raw_body, headers, signing_secret=secret, clock=unix_clock)
        else:
            actions.verify_request(raw_body, headers, signing_secret=secret)
    except actions.Unauthorized as exc:
        log.warning("click refused: %s", exc, extra={"status": 401})
        return HttpAnswer(401, "invalid signature")
    try:
        click = actions.parse_block_actions(raw_body)
    except actions.BadRequest as exc:
        log.warning("click refused: %s", exc, extra={"status": 400})
        return HttpAnswer(400, "bad request")
    audit = {
        "user": click.user_id,
        "action": str(click.action),
        "incident": click.incident_id,
        "channel": click.channel_id,
        "audit": True,
    }
    try:
        allowed = _allowed(rt, click.user_id)
    except (TransientError, PermanentError) as exc:
        # Fail closed: without the group's members nobody outside the id list may click.
        log.warning("allow-list group unreadable: %s", exc, extra=audit | {"result": "unchecked"})
        _ephemeral(rt, click, _UNCHECKED.get(rt.lang, _UNCHECKED["en"]))
        return HttpAnswer(200)
    if not allowed:
        log.warning("click not allowed for this user", extra=audit | {"result": "forbidden"})
        _ephemeral(rt, click, _NOT_ALLOWED.get(rt.lang, _NOT_ALLOWED["en"]))
        return HttpAnswer(200)
    if rt.store.get(click.incident_id) is None:
        log.warning("click on an unknown incident", extra=audit | {"result": "unknown"})
        _ephemeral(rt, click, _UNKNOWN.get(rt.lang, _UNKNOWN["en"]))
        return HttpAnswer(200)
    now = click_time(click, rt.clock())
    results: list[str] = []

    def apply(current: Incident) -> Incident:
        if click.action is actions.ButtonAction.ACKNOWLEDGE:
            t = acknowledge(current, user=click.user_id, now=now)
        elif click.action is actions.ButtonAction.RESOLVE:
            t = resolve(current, user=click.user_id, now=now)
        else:
            choice = click.snooze or actions.Snooze.HOUR
            duration = choice.duration
            t = snooze(
                current,
                user=click.user_id,
                now=now,
                until=now + duration if duration is not None else None,
                until_success=duration is None,
            )
        results.append(f"{t.result}{': ' + t.reason if t.reason else ''}")
        return t.incident

    updated = rt.store.update(click.incident_id, apply)
    log.info("click applied", extra=audit | {"result": results[-1] if results else "?"})
    _update_parent(rt, updated)
    return HttpAnswer(200)


# How far Slack's action_ts may be from our clock and still be used (the signature window).
CLICK_TS_SKEW = timedelta(minutes=5)


def click_time(click: actions.ClickRequest, now: datetime) -> datetime:
    """The click's own time when Slack sent a sane one, else ours: a replay of one click then
    computes exactly the same change (e.g. the same snooze end), which the store sees as none."""
    if click.action_ts is None:
        return now
    when = datetime.fromtimestamp(click.action_ts, UTC)
    return when if abs(when - now) <= CLICK_TS_SKEW else now


# How long the allow-list group's members are trusted before they are read again.
GROUP_CACHE_SECONDS = 300.0


def _allowed(rt: Runtime, user: str) -> bool:
    """Everyone when no allow-list is set; else the listed ids and the group's members."""
    users, group = rt.settings.slack_allowed_users, rt.settings.slack_allowed_usergroup
    if not users and not group:
        return True
    if user in users:
        return True
    if group is None:
        return False
    now = time.monotonic()
    cached = rt.group_cache.get(group)
    if cached is None or now - cached[0] > GROUP_CACHE_SECONDS:
        cached = (now, rt.notifier.usergroup_members(group))
        rt.group_cache[group] = cached
    return user in cached[1]


_UNCHECKED = {
    "en": "Could not check who may change this incident (Slack user group unreadable); try again.",
    "ko": "권한을 확인하지 못했습니다 (Slack 사용자 그룹을 읽을 수 없음). 다시 시도해 주세요.",
}
_NOT_ALLOWED = {
    "en": "You are not on the list of people who can change this incident.",
    "ko": "이 인시던트를 변경할 권한이 없습니다.",
}
_UNKNOWN = {
    "en": "This incident is no longer known (it may have been removed).",
    "ko": "이 인시던트를 찾을 수 없습니다 (삭제되었을 수 있습니다).",
}


def _ephemeral(rt: Runtime, click: actions.ClickRequest, text: str) -> None:
    try:
        rt.notifier.post_ephemeral(click.channel_id, click.user_id, text)
    except (TransientError, PermanentError) as exc:
        log.warning("could not send the ephemeral answer: %s", exc)
