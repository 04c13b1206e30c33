"""The path of one click: someone pressed a button on one of our Slack messages.

verify the request → parse it → check the allow-list → apply it to the incident (one store
transaction) → redraw the parent message. Slack shows the user an error unless we answer within
3 seconds, so this does one store transaction and one chat.update (with the short CLICK_POLICY
retries) and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from jobtriage.errors import PermanentError, TransientError
from jobtriage.incident.decide import acknowledge, resolve, snooze
from jobtriage.incident.model import Incident
from jobtriage.notify import actions
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
    update_parent(rt.notifier, updated, rt.lang)
    return HttpAnswer(200)


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
