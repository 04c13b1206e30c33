"""The path of one click: someone pressed a button on one of our Slack messages.

verify the request → parse it → check the allow-list → apply it to the incident (one store
transaction) → redraw the parent message. Slack shows the user an error unless we answer within
3 seconds, so this does one store transaction and one chat.update (with the short CLICK_POLICY
retries) and nothing else — but for Resolve, which also opens the "what was it?" modal
(views.open must use the click's trigger_id within those 3 seconds, so it goes first).

The modal's submission (a `view_submission` to the same URL, `notify/resolve_modal.py`) goes the
same way: verify → allow-list → store the confirmed cause and note with the incident → redraw.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from jobtriage.errors import PermanentError, TransientError
from jobtriage.incident.decide import acknowledge, resolve, snooze
from jobtriage.incident.memory import SOMETHING_ELSE, confirm_cause
from jobtriage.incident.model import Incident
from jobtriage.notify import actions, resolve_modal
from jobtriage.notify.notifier import update_parent
from jobtriage.ownlog import get_logger
from jobtriage.runtime import Runtime
from jobtriage.words import Word, say

# How far Slack's action_ts may be from our clock and still be used (the signature window).
CLICK_TS_SKEW = timedelta(minutes=5)
# How long the allow-list group's members are trusted before they are read again.
GROUP_CACHE_SECONDS = 300.0

log = get_logger()


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


def process_click(raw_body: bytes, headers: Mapping[str, str], rt: Runtime) -> HttpAnswer:
    """A Slack interactivity request: verify, apply to the incident, update the message."""
    secret = rt.settings.slack_signing_secret
    if not secret:
        log.error("SLACK_SIGNING_SECRET is not set: every click is refused")
        return HttpAnswer(500, "not configured")
    try:
        actions.verify_request(raw_body, headers, signing_secret=secret, clock=rt.clock)
    except actions.Unauthorized as exc:
        log.warning("click refused: %s", exc, extra={"status": 401})
        return HttpAnswer(401, "invalid signature")
    try:
        payload = actions.read_payload(raw_body)
        if resolve_modal.is_ours(payload):
            return _on_cause_answer(resolve_modal.parse_submission(payload), rt)
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
        _ephemeral(rt, click, say(Word.CLICK_UNCHECKED, rt.lang))
        return HttpAnswer(200)
    if not allowed:
        log.warning("click not allowed for this user", extra=audit | {"result": "forbidden"})
        _ephemeral(rt, click, say(Word.CLICK_NOT_ALLOWED, rt.lang))
        return HttpAnswer(200)
    if rt.store.get(click.incident_id) is None:
        log.warning("click on an unknown incident", extra=audit | {"result": "unknown"})
        _ephemeral(rt, click, say(Word.CLICK_UNKNOWN, rt.lang))
        return HttpAnswer(200)
    now = click_time(click, rt.clock.now())
    results: list[str] = []

    def apply(current: Incident) -> Incident:
        if current.last_click_at is not None and now < current.last_click_at:
            # Clicks apply in Slack's order: this one is older than the last one applied.
            results.append("stale")
            return current
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
        if not t.changed:
            return t.incident
        newest = max(now, current.last_click_at) if current.last_click_at else now
        return replace(t.incident, last_click_at=newest)

    updated = rt.store.update(click.incident_id, apply)
    if results and results[-1] == "stale":
        log.info(
            "click older than the last one applied; nothing changed",
            extra=audit | {"result": "stale"},
        )
        _ephemeral(rt, click, say(Word.CLICK_STALE, rt.lang))
        return HttpAnswer(200)
    log.info("click applied", extra=audit | {"result": results[-1] if results else "?"})
    if click.action is actions.ButtonAction.RESOLVE and updated.state.closed:
        _ask_what_it_was(rt, click, updated)
    update_parent(rt.notifier, updated, rt.lang)
    return HttpAnswer(200)


def _ask_what_it_was(rt: Runtime, click: actions.ClickRequest, incident: Incident) -> None:
    """Open the Resolve modal. Best effort: the incident is resolved either way."""
    if click.trigger_id is None:
        log.info("no trigger_id with the Resolve click: the modal is not opened")
        return
    try:
        view = resolve_modal.render_resolve_modal(incident, lang=rt.lang)
        rt.notifier.open_view(click.trigger_id, view)
    except (TransientError, PermanentError) as exc:
        log.warning("could not open the resolve modal: %s", exc, extra={"incident": incident.id})


def _on_cause_answer(answer: resolve_modal.CauseAnswer, rt: Runtime) -> HttpAnswer:
    """The modal was submitted: store what it was with the incident, redraw the parent."""
    audit = {
        "user": answer.user_id,
        "action": "confirm_cause",
        "incident": answer.incident_id,
        "cause": answer.cause,
        "audit": True,
    }
    try:
        allowed = _allowed(rt, answer.user_id)
    except (TransientError, PermanentError) as exc:
        log.warning("allow-list group unreadable: %s", exc, extra=audit | {"result": "unchecked"})
        return HttpAnswer(403, "not allowed")
    if not allowed:
        log.warning("cause not stored: user not allowed", extra=audit | {"result": "forbidden"})
        return HttpAnswer(403, "not allowed")
    if answer.cause is None:
        return _json_answer(resolve_modal.errors_answer(rt.lang))
    if rt.store.get(answer.incident_id) is None:
        log.warning("cause for an unknown incident", extra=audit | {"result": "unknown"})
        return HttpAnswer(200)  # closes the modal; nothing to store it on
    now = rt.clock.now()
    results: list[str] = []

    def apply(current: Incident) -> Incident:
        cause = answer.cause or SOMETHING_ELSE
        t = confirm_cause(current, cause=cause, note=answer.note, user=answer.user_id, now=now)
        results.append(f"{t.result}{': ' + t.reason if t.reason else ''}")
        return t.incident

    updated = rt.store.update(answer.incident_id, apply)
    log.info("cause confirmed", extra=audit | {"result": results[-1] if results else "?"})
    update_parent(rt.notifier, updated, rt.lang)
    return HttpAnswer(200)  # an empty 200 closes the modal


def _json_answer(body: Mapping[str, object]) -> HttpAnswer:
    return HttpAnswer(200, json.dumps(body), {"Content-Type": "application/json"})


def click_time(click: actions.ClickRequest, now: datetime) -> datetime:
    """The click's own time when Slack sent a sane one, else ours: a replay of one click then
    computes exactly the same change (e.g. the same snooze end), which the store sees as none."""
    if click.action_ts is None:
        return now
    when = datetime.fromtimestamp(click.action_ts, UTC)
    return when if abs(when - now) <= CLICK_TS_SKEW else now


def _allowed(rt: Runtime, user: str) -> bool:
    """Everyone when no allow-list is set; else the listed ids and the group's members."""
    users, group = rt.settings.slack_allowed_users, rt.settings.slack_allowed_usergroup
    if not users and not group:
        return True
    if user in users:
        return True
    if group is None:
        return False
    now = rt.clock.monotonic()
    cached = rt.group_cache.get(group)
    if cached is None or now - cached[0] > GROUP_CACHE_SECONDS:
        cached = (now, rt.notifier.usergroup_members(group))
        rt.group_cache[group] = cached
    return user in cached[1]


def _ephemeral(rt: Runtime, click: actions.ClickRequest, text: str) -> None:
    try:
        rt.notifier.post_ephemeral(click.channel_id, click.user_id, text)
    except (TransientError, PermanentError) as exc:
        log.warning("could not send the ephemeral answer: %s", exc)
