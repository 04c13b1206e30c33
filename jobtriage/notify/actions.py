"""Button clicks from Slack: who clicked what, proven to come from Slack, parsed strictly.

A click on Acknowledge / Resolve / Snooze arrives at the interactivity function as a form post
(`payload=<url-encoded JSON>`, https://docs.slack.dev/reference/interaction-payloads/block_actions-payload).
The HTTP layer calls, in this order:

1. `verify_request(raw_body, headers, signing_secret=…, clock=…)` over the body bytes exactly as
   received (https://docs.slack.dev/authentication/verifying-requests-from-slack) — before parsing;
2. `parse_block_actions(raw_body)` → a `ClickRequest`.

Both raise a `ClickError` whose `http_status` the HTTP layer returns: 401 for a request that is not
provably from Slack right now, 400 for one that is but that we cannot read. Nothing here logs or
repeats the signing secret.

Every action id lives in `ButtonAction`; every button carries a small versioned value
(`v1|ack|<incident id>`, `v1|snooze|<incident id>|1h`) that `decode_value` parses strictly, so a
click on a message rendered by an older version is either understood exactly or refused with a
reason.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

from jobtriage.clock import SYSTEM_CLOCK
from jobtriage.clock import Clock as ProductClock
from jobtriage.errors import TriageError
from jobtriage.settings import ConfigError

log = logging.getLogger(__name__)

# Slack refuses requests older (or newer) than five minutes to stop replays.
# https://docs.slack.dev/authentication/verifying-requests-from-slack
MAX_CLOCK_SKEW_SECONDS = 300
# A block_actions payload carries the whole message; ours stay far below this. Anything larger is
# not a click on one of our messages.
MAX_BODY_BYTES = 1_000_000
# Button values may be 2000 characters, but select option values only 150
# (https://docs.slack.dev/reference/block-kit/composition-objects/option-object). Ours fit both.
MAX_VALUE_CHARS = 150

VALUE_VERSION = "v1"
_INCIDENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SLACK_ID = re.compile(r"[A-Z0-9]{2,32}")
_MESSAGE_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")


class ButtonAction(StrEnum):
    """Every action id our messages use (the `action_id` of the button or select)."""

    ACKNOWLEDGE = "jobtriage_ack"
    RESOLVE = "jobtriage_resolve"
    SNOOZE = "jobtriage_snooze"

    @property
    def code(self) -> str:
        """The short name used inside button values."""
        return _CODES[self]


_CODES: dict[ButtonAction, str] = {
    ButtonAction.ACKNOWLEDGE: "ack",
    ButtonAction.RESOLVE: "resolve",
    ButtonAction.SNOOZE: "snooze",
}
_BY_CODE = {code: action for action, code in _CODES.items()}


class Snooze(StrEnum):
    """How long a snooze lasts: the three choices offered in the message."""

    HOUR = "1h"
    DAY = "24h"
    UNTIL_SUCCESS = "success"

    @property
    def duration(self) -> timedelta | None:
        """The snooze length; None for "until the next successful execution"."""
        return {Snooze.HOUR: timedelta(hours=1), Snooze.DAY: timedelta(hours=24)}.get(self)


# ---- errors -----------------------------------------------------------------------------------


class ClickError(TriageError):
    """A click request we refuse. `http_status` is what the interactivity function answers."""

    http_status = 400


class Unauthorized(ClickError):
    """Not provably from Slack, now: answer 401."""

    http_status = 401


class MissingSignature(Unauthorized):
    """The signature or timestamp header is absent."""


class StaleRequest(Unauthorized):
    """The timestamp is malformed or more than five minutes from our clock (a replay?)."""


class BadSignature(Unauthorized):
    """The signature does not match the body: wrong secret, or the body was changed."""


class BadRequest(ClickError):
    """Signed by Slack, but not a click we can act on: answer 400."""

    http_status = 400


class MalformedPayload(BadRequest):
    """The body is not a `payload=` form with a block_actions JSON object of the expected shape."""


class UnknownAction(BadRequest):
    """The action id is not one of `ButtonAction` (a button from another app or a newer version)."""


class BadValue(BadRequest):
    """A button value that does not decode: wrong version, unknown action, malformed."""


class UnsupportedVersion(BadValue):
    """A value written by a version of jobtriage this one does not understand."""


# ---- button values ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ButtonValue:
    """What a button or snooze option says: which action, on which incident, for how long."""

    action: ButtonAction
    incident_id: str
    snooze: Snooze | None = None

    def __post_init__(self) -> None:
        if not _INCIDENT_ID.fullmatch(self.incident_id):
            raise ValueError(f"incident id must match {_INCIDENT_ID.pattern}")
        if (self.action is ButtonAction.SNOOZE) != (self.snooze is not None):
            raise ValueError("a snooze choice goes with the snooze action, and only with it")


def encode_value(value: ButtonValue) -> str:
    """`v1|<action>|<incident id>[|<snooze>]` — short enough for a select option (150 chars)."""
    parts = [VALUE_VERSION, value.action.code, value.incident_id]
    if value.snooze is not None:
        parts.append(value.snooze.value)
    return "|".join(parts)


def decode_value(raw: str) -> ButtonValue:
    """Parse a value written by `encode_value`; anything else raises `BadValue` and only that."""
    if not isinstance(raw, str) or not raw:
        raise BadValue("empty button value")
    if len(raw) > MAX_VALUE_CHARS:
        raise BadValue(f"button value longer than {MAX_VALUE_CHARS} characters")
    parts = raw.split("|")
    if parts[0] != VALUE_VERSION:
        if re.fullmatch(r"v[0-9]{1,4}", parts[0]):
            raise UnsupportedVersion(f"button value version {parts[0]} is not supported")
        raise BadValue("button value has no version prefix")
    if len(parts) < 3:
        raise BadValue("button value has too few parts")
    action = _BY_CODE.get(parts[1])
    if action is None:
        raise BadValue("button value names an unknown action")
    incident = parts[2]
    if not _INCIDENT_ID.fullmatch(incident):
        raise BadValue("button value has a malformed incident id")
    expected = 4 if action is ButtonAction.SNOOZE else 3
    if len(parts) != expected:
        raise BadValue(f"button value for {parts[1]} must have {expected} parts")
    snooze: Snooze | None = None
    if action is ButtonAction.SNOOZE:
        try:
            snooze = Snooze(parts[3])
        except ValueError:
            raise BadValue("button value has an unknown snooze choice") from None
    return ButtonValue(action=action, incident_id=incident, snooze=snooze)


# ---- request signature ------------------------------------------------------------------------


class _SignatureClock(Clock):
    """slack_sdk's verifier reads Unix seconds; ours is the product's one clock."""

    def __init__(self, clock: ProductClock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock.now().timestamp()


def verify_request(
    raw_body: bytes,
    headers: Mapping[str, str],
    *,
    signing_secret: str,
    clock: ProductClock = SYSTEM_CLOCK,
) -> None:
    """Prove the request comes from Slack, now; raise an `Unauthorized` subclass otherwise.

    `raw_body` must be the bytes exactly as received (in Flask, `request.get_data()` before touching
    `request.form`). Header names are matched case-insensitively.
    """
    if not isinstance(signing_secret, str) or not signing_secret.strip():
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: the interactivity function cannot verify clicks"
        )
    lowered = {str(k).lower(): v for k, v in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp")
    signature = lowered.get("x-slack-signature")
    if not timestamp or not signature:
        log.warning("slack click rejected: signature or timestamp header missing")
        raise MissingSignature("X-Slack-Signature and X-Slack-Request-Timestamp are required")
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        log.warning("slack click rejected: malformed timestamp header")
        raise StaleRequest("X-Slack-Request-Timestamp is not a Unix time")
    real_clock = _SignatureClock(clock)
    skew = real_clock.now() - int(timestamp)
    if abs(skew) > MAX_CLOCK_SKEW_SECONDS:
        log.warning("slack click rejected: timestamp %+.0f s from our clock", skew)
        raise StaleRequest(
            f"request timestamp is {abs(skew):.0f} s from now (limit {MAX_CLOCK_SKEW_SECONDS} s)"
        )
    verifier = SignatureVerifier(signing_secret, real_clock)
    try:
        valid = verifier.is_valid(body=raw_body, timestamp=timestamp, signature=signature)
    except UnicodeDecodeError:
        valid = False  # Slack sends UTF-8; other bytes were not signed by it
    if not valid:
        log.warning("slack click rejected: signature does not match the body")
        raise BadSignature("X-Slack-Signature does not match the request body")


# ---- block_actions payload --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClickRequest:
    """One click on one of our messages, as the incident logic needs it."""

    user_id: str
    user_name: str
    channel_id: str
    message_ts: str
    action: ButtonAction
    incident_id: str
    snooze: Snooze | None = None
    team_id: str | None = None
    api_app_id: str | None = None
    response_url: str | None = None
    # Slack's time of the click (Unix seconds); a replayed click carries the same one, so using
    # it as "now" makes applying the click twice give the same result.
    action_ts: float | None = None
    # Opens a modal (views.open) within 3 s of the click: the Resolve button asks what it was.
    trigger_id: str | None = None


def _obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where} must be an object")
    return value


def _str(value: object, where: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"{where} must be a non-empty string")
    if pattern is not None and not pattern.fullmatch(value):
        raise MalformedPayload(f"{where} is malformed")
    return value


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def read_payload(raw_body: bytes) -> dict[str, Any]:
    """The JSON object of a verified interactivity request (`payload=<JSON>`), whatever its
    type; raise `MalformedPayload` and nothing else."""
    if len(raw_body) > MAX_BODY_BYTES:
        raise MalformedPayload("request body too large")
    try:
        form = parse_qs(
            raw_body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=20,
        )
    except (UnicodeDecodeError, ValueError):
        raise MalformedPayload("body is not a UTF-8 form") from None
    payloads = form.get("payload", [])
    if len(payloads) != 1:
        raise MalformedPayload("body must carry exactly one payload= field")
    try:
        data = json.loads(payloads[0])
    except (ValueError, RecursionError):
        raise MalformedPayload("payload is not JSON") from None
    return _obj(data, "payload")


def parse_block_actions(raw_body: bytes) -> ClickRequest:
    """Read a verified interactivity request; raise a `BadRequest` subclass and nothing else."""
    payload = read_payload(raw_body)
    if payload.get("type") != "block_actions":
        raise MalformedPayload("payload type is not block_actions")

    user = _obj(payload.get("user"), "user")
    user_id = _str(user.get("id"), "user.id", _SLACK_ID)
    user_name = _opt_str(user.get("username")) or _opt_str(user.get("name")) or user_id

    container = payload.get("container")
    container = container if isinstance(container, dict) else {}
    channel = payload.get("channel")
    channel = channel if isinstance(channel, dict) else {}
    message = payload.get("message")
    message = message if isinstance(message, dict) else {}
    channel_id = _str(channel.get("id") or container.get("channel_id"), "channel.id", _SLACK_ID)
    message_ts = _str(message.get("ts") or container.get("message_ts"), "message.ts", _MESSAGE_TS)

    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        raise MalformedPayload("payload has no actions")
    first = _obj(actions[0], "actions[0]")
    action_id = _str(first.get("action_id"), "actions[0].action_id")
    try:
        action = ButtonAction(action_id)
    except ValueError:
        raise UnknownAction("the clicked element is not one of ours") from None
    if first.get("type") == "static_select":
        option = _obj(first.get("selected_option"), "actions[0].selected_option")
        raw_value = option.get("value")
    else:
        raw_value = first.get("value")
    value = decode_value(raw_value if isinstance(raw_value, str) else "")
    if value.action is not action:
        raise BadValue("button value does not match the element's action id")

    team = payload.get("team")
    team = team if isinstance(team, dict) else {}
    return ClickRequest(
        user_id=user_id,
        user_name=user_name,
        channel_id=channel_id,
        message_ts=message_ts,
        action=action,
        incident_id=value.incident_id,
        snooze=value.snooze,
        team_id=_opt_str(team.get("id")) or _opt_str(user.get("team_id")),
        api_app_id=_opt_str(payload.get("api_app_id")),
        response_url=_opt_str(payload.get("response_url")),
        action_ts=_action_ts(first.get("action_ts")),
        trigger_id=_trigger_id(payload.get("trigger_id")),
    )


# A trigger id as Slack sends it ("12345.98765.abcd2358fdea"); it opens a modal for 3 seconds.
_TRIGGER_ID = re.compile(r"[0-9]{1,20}\.[0-9]{1,20}\.[0-9a-f]{1,64}")


def _trigger_id(value: object) -> str | None:
    return value if isinstance(value, str) and _TRIGGER_ID.fullmatch(value) else None


def _action_ts(value: object) -> float | None:
    """`actions[0].action_ts` ("1764234000.123456"), or None when absent or not a Unix time."""
    if not isinstance(value, str) or not _MESSAGE_TS.fullmatch(value):
        return None
    return float(value)
