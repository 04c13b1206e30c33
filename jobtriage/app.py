"""Wiring: builds the Runtime once per function instance and maps outcomes to retry or ack.

This is where "retry versus drop" (see `errors.py`) becomes HTTP: the CloudEvent handler lets a
`TransientError` escape (functions-framework answers 500 and Pub/Sub redelivers) and swallows
everything permanent after logging what to fix.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from itertools import count
from typing import Any

from jobtriage.clicks import HttpAnswer, process_click
from jobtriage.errors import BadEvent, Deferred, PermanentError, TransientError
from jobtriage.event import Tick, parse_message
from jobtriage.notify.metadata import PostTag
from jobtriage.notify.parts import Message
from jobtriage.ownlog import get_logger
from jobtriage.pipeline import EventResult, process_event
from jobtriage.runtime import Runtime
from jobtriage.settings import ConfigError, Settings
from jobtriage.ticks import TickResult, process_tick

log = get_logger()

# Seconds the interactivity function waits for Firestore (Slack's whole budget is 3 s).
CLICK_STORE_TIMEOUT = 1.0


class LogNotifier:
    """Used when Slack is not configured (local runs): every message goes into our own logs,
    so nothing is lost, and the reader is told why it did not reach Slack."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Message]] = []
        self._ts = count(1)

    def _record(self, kind: str, channel: str, message: Message) -> str:
        self.sent.append((kind, channel, message))
        ts = f"{1700000000 + next(self._ts)}.000100"
        log.warning(
            "Slack is not configured (SLACK_BOT_TOKEN, SLACK_CHANNEL); message logged instead",
            extra={"slack_kind": kind, "slack_text": message.text},
        )
        return ts

    def post_alert(self, channel: str, message: Message, *, tag: PostTag | None = None) -> str:
        return self._record("alert", channel, message)

    def reply(
        self,
        channel: str,
        thread_ts: str,
        message: Message,
        *,
        broadcast: bool = False,
        tag: PostTag | None = None,
    ) -> str:
        return self._record("reply", channel, message)

    def find_post(
        self,
        channel: str,
        delivery: str,
        *,
        thread_ts: str | None,
        oldest: datetime,
        latest: datetime,
    ) -> str | None:
        return None  # logged, never in Slack: an earlier attempt is there to be logged again

    def update(self, channel: str, ts: str, message: Message) -> None:
        self._record("update", channel, message)

    def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        self._record("ephemeral", channel, Message(text=text, blocks=()))

    def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> None:
        self._record("view", "", Message(text=str(view.get("callback_id", "")), blocks=()))

    def usergroup_members(self, usergroup: str) -> frozenset[str]:
        raise PermanentError(
            "Slack is not configured: cannot read the allow-list user group",
            fix="set SLACK_BOT_TOKEN and SLACK_CHANNEL",
        )


def build_runtime(settings: Settings, *, for_clicks: bool = False) -> Runtime:
    """Real clients from settings, each built lazily on first use."""
    from jobtriage.evidence.gather import Sources
    from jobtriage.incident.store import make_store
    from jobtriage.notify.deliver import ALERT_POLICY, CLICK_POLICY, SlackNotifier

    notifier: Any
    if settings.slack_enabled:
        notifier = SlackNotifier(settings, policy=CLICK_POLICY if for_clicks else ALERT_POLICY)
    else:
        notifier = LogNotifier()
    # Slack shows the clicker an error after 3 s: the click path gives Firestore one second.
    store_settings = (
        replace(settings, api_timeout_seconds=CLICK_STORE_TIMEOUT) if for_clicks else settings
    )
    return Runtime(
        settings=settings,
        sources=Sources.from_settings(settings),
        store=make_store(store_settings),
        notifier=notifier,
    )


_lock = threading.Lock()
_runtimes: dict[str, Runtime] = {}


def runtime(kind: str) -> Runtime:
    """The instance's Runtime for `kind` ("events" or "clicks"), built on first use and cached."""
    with _lock:
        rt = _runtimes.get(kind)
        if rt is None:
            rt = build_runtime(Settings.from_env(), for_clicks=kind == "clicks")
            _runtimes[kind] = rt
        return rt


def reset_runtimes() -> None:
    """Forget cached runtimes (tests change the environment between cases)."""
    with _lock:
        _runtimes.clear()


def handle_cloud_event(
    event_type: str | None, data: object, *, rt: Runtime | None = None, event_id: str = ""
) -> EventResult | TickResult | None:
    """Parse and process one event or tick. Raises only to ask for redelivery."""
    try:
        message = parse_message(event_type, data)
    except BadEvent as exc:
        log.warning(
            "event ignored: %s", exc, extra={"event_id": event_id[:100], "reason": str(exc)}
        )
        return None
    if isinstance(message, Tick):
        return handle_tick(message, rt=rt, event_id=event_id)
    job_event = message
    ctx = {
        "job": job_event.ref.job,
        "execution": job_event.ref.execution,
        "event_id": event_id[:100],
    }
    try:
        rt = rt or runtime("events")
        return process_event(job_event, rt)
    except Deferred as exc:
        log.info("deferred: %s", exc, extra=ctx)
        raise
    except TransientError as exc:
        log.warning("will be redelivered: %s", exc, extra=ctx)
        raise
    except ConfigError as exc:
        # A setting is wrong: redelivery helps once someone fixes it, and nothing is lost meanwhile.
        log.error("configuration error: %s", exc, extra=ctx)
        raise TransientError(str(exc)) from exc
    except PermanentError as exc:
        log.error("dropped: %s%s", exc, f" — fix: {exc.fix}" if exc.fix else "", extra=ctx)
        return None


def handle_tick(tick: Tick, *, rt: Runtime | None = None, event_id: str = "") -> TickResult | None:
    """Process one tick (jobtriage/ticks.py), retry or acknowledge as for an event."""
    ctx = {"tick": f"{tick.project}/{tick.region}", "event_id": event_id[:100]}
    try:
        return process_tick(tick, rt or runtime("events"))
    except TransientError as exc:
        log.warning("will be redelivered: %s", exc, extra=ctx)
        raise
    except ConfigError as exc:
        log.error("configuration error: %s", exc, extra=ctx)
        raise TransientError(str(exc)) from exc
    except PermanentError as exc:
        log.error("dropped: %s%s", exc, f" — fix: {exc.fix}" if exc.fix else "", extra=ctx)
        return None


def handle_slack_request(
    raw_body: bytes, headers: Mapping[str, str], *, rt: Runtime | None = None
) -> HttpAnswer:
    try:
        rt = rt or runtime("clicks")
        return process_click(raw_body, headers, rt)
    except ConfigError as exc:
        log.error("configuration error: %s", exc)
        return HttpAnswer(500, "not configured")
    except (TransientError, PermanentError) as exc:
        log.error("click failed: %s", exc)
        return HttpAnswer(503 if isinstance(exc, TransientError) else 500, "try again")
