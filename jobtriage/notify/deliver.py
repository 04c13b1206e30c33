"""Posting to Slack: the Web API calls we make, their retries, and what their failures mean.

`SlackNotifier` wraps `slack_sdk.WebClient`, built lazily on first use (never at import) or passed
in by tests and callers. Retries happen inside the client, bounded by a `RetryPolicy` so the whole
call fits the function's budget:

- HTTP 429: wait `Retry-After` seconds (https://docs.slack.dev/apis/web-api/rate-limits) unless it
  asks for longer than the policy allows — then give up at once and let Pub/Sub redeliver later;
- HTTP 5xx and connection failures: a few retries with exponential backoff.

A read timeout is not retried here: the message may already be posted, and a second post would show
the alert twice. It becomes a `TransientError`, and the pipeline's claim on the execution decides.

Every failure is classified in one place, `classify`: `PermanentError` (with what to fix) when a
retry cannot help, `TransientError` otherwise (see `jobtriage.errors`).
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse

from jobtriage.errors import PermanentError, TransientError, TriageError
from jobtriage.notify.metadata import PostTag, tagged_ts
from jobtriage.notify.mrkdwn import truncate
from jobtriage.notify.parts import Message
from jobtriage.redact import scrub, scrub_tree
from jobtriage.settings import Settings

log = logging.getLogger(__name__)

# The bot scopes each Web API method we call needs (https://docs.slack.dev/reference/methods/…).
# deploy/slack-app-manifest.yaml must grant all of them; a test holds the two together.
METHOD_SCOPES: Mapping[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    # only after an attempt whose answer was lost: is our message there already? (a public
    # channel needs channels:history, a private one groups:history)
    "conversations.history": frozenset({"channels:history", "groups:history"}),
    "conversations.replies": frozenset({"channels:history", "groups:history"}),
    # only with SLACK_ALLOWED_USERGROUP: who is in the group allowed to click
    "usergroups.users.list": frozenset({"usergroups:read"}),
    # the Resolve modal ("what was it?"): no scope, only the click's trigger_id
    "views.open": frozenset(),
}

BOT_NAME = "jobtriage"

# Looking for a message of ours (`SlackNotifier.find_post`): at most this many pages of this many
# messages. conversations.history / .replies are Tier 3 (about 50 calls a minute) for an internal
# app, and the window looked at is about a minute of the channel.
LOOKUP_PAGES = 3
LOOKUP_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long one Web API call may take in the worst case, and how that time is spent."""

    timeout_seconds: int = 5  # per HTTP request (WebClient takes whole seconds)
    rate_limit_retries: int = 2
    max_retry_after_seconds: int = 5  # a longer Retry-After is not waited for
    server_error_retries: int = 2
    connection_retries: int = 2
    backoff_seconds: float = 0.5  # 0.5 s, 1 s, 2 s … between 5xx / connection retries
    jitter: bool = True  # up to +1 s on each wait, so parallel instances do not retry in step

    def handlers(self) -> list[RetryHandler]:
        """Fresh retry handlers for one WebClient, in the order the client consults them."""
        calc: RetryIntervalCalculator = (
            BackoffRetryIntervalCalculator(backoff_factor=self.backoff_seconds)
            if self.jitter
            else _NoJitterBackoff(self.backoff_seconds)
        )
        handlers: list[RetryHandler] = []
        if self.rate_limit_retries:
            handlers.append(
                BoundedRateLimitRetryHandler(
                    max_retry_count=self.rate_limit_retries,
                    max_retry_after_seconds=self.max_retry_after_seconds,
                )
            )
        if self.server_error_retries:
            handlers.append(
                AnyServerErrorRetryHandler(
                    max_retry_count=self.server_error_retries, interval_calculator=calc
                )
            )
        if self.connection_retries:
            handlers.append(
                ConnectionErrorRetryHandler(
                    max_retry_count=self.connection_retries, interval_calculator=calc
                )
            )
        return handlers

    @property
    def worst_case_seconds(self) -> float:
        """An upper bound of one call's duration: every attempt times out, every wait is longest."""
        retries = max(self.rate_limit_retries, self.server_error_retries, self.connection_retries)
        jitter = 1.0 if self.jitter else 0.0
        waits = 0.0
        for attempt in range(retries):
            backoff = self.backoff_seconds * 2**attempt + jitter
            # the SDK sleeps Retry-After (about 1 s when absent) plus up to 1 s of its own jitter
            rate = (
                max(self.max_retry_after_seconds, 1) + 1.0
                if self.rate_limit_retries > attempt
                else 0.0
            )
            waits += max(backoff, rate)
        return (retries + 1) * self.timeout_seconds + waits


class _NoJitterBackoff(RetryIntervalCalculator):
    def __init__(self, factor: float) -> None:
        self.factor = factor

    def calculate_sleep_duration(self, current_attempt: int) -> float:
        return self.factor * 2.0**current_attempt


# The event function also gathers evidence (Run API, Logging, a wait for late log lines) before it
# posts; Slack gets at most this much of its time per call. A test holds ALERT_POLICY to it.
ALERT_BUDGET_SECONDS = 30.0
ALERT_POLICY = RetryPolicy()
# A click must be answered within 3 s (https://docs.slack.dev/interactivity/handling-user-interaction):
# one short attempt, no waiting, leaving time to verify and to store the incident.
CLICK_BUDGET_SECONDS = 2.0
CLICK_POLICY = RetryPolicy(
    timeout_seconds=2,
    rate_limit_retries=0,
    server_error_retries=0,
    connection_retries=0,
    backoff_seconds=0.0,
    jitter=False,
)


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            if isinstance(value, list | tuple):
                return str(value[0]) if value else None
            return str(value)
    return None


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Slack's own 429 handler (it sleeps `Retry-After` + up to 1 s), only for waits we can afford.

    A `Retry-After` above `max_retry_after_seconds`, or one that is not a whole number of seconds,
    is not retried: the call fails with the 429, which `classify` turns into a `TransientError`.
    """

    def __init__(self, *, max_retry_count: int, max_retry_after_seconds: int) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_retry_after_seconds = max_retry_after_seconds

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        raw = _header(response.headers, "retry-after")
        if raw is None:
            return True  # the SDK waits about a second
        raw = raw.strip()
        return raw.isdigit() and int(raw) <= self.max_retry_after_seconds


class AnyServerErrorRetryHandler(ServerErrorRetryHandler):
    """Retries every 5xx, not only 500 and 503: Google's front end answers 502 and 504 too."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and 500 <= response.status_code <= 599


# ---- classification ---------------------------------------------------------------------------

_TRANSIENT_CODES = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)

_LAYOUT_CODES = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_array_arg",
        "invalid_json",
        "json_not_object",
        "invalid_metadata_format",
        "invalid_metadata_schema",
    }
)


def _fix(code: str, *, channel: str | None, needed: str | None) -> str:
    where = channel or "the alert channel"
    fixes = {
        "channel_not_found": (
            f"Slack cannot find channel {where} for this bot: set SLACK_CHANNEL to the channel id "
            f"(C…, from the channel's details), and for a private channel invite the bot: "
            f"/invite @{BOT_NAME}"
        ),
        "not_in_channel": f"invite the bot to {where}: /invite @{BOT_NAME}",
        "is_archived": (
            f"channel {where} is archived: unarchive it or point SLACK_CHANNEL elsewhere"
        ),
        "user_not_in_channel": f"the user is not in {where}; nothing to fix in jobtriage",
        "invalid_auth": (
            "SLACK_BOT_TOKEN is not valid: store the app's Bot User OAuth Token (xoxb-…) "
            "in Secret Manager and redeploy"
        ),
        "not_authed": (
            "SLACK_BOT_TOKEN is empty: store the bot token in Secret Manager and redeploy"
        ),
        "account_inactive": (
            "the bot's token belongs to a deleted user or an uninstalled app: reinstall the app "
            "and store its new bot token"
        ),
        "token_revoked": "the bot token was revoked: reinstall the app and store its new bot token",
        "token_expired": (
            "the bot token expired (token rotation is on): turn rotation off in the manifest "
            "or refresh the token"
        ),
        "missing_scope": (
            f"the bot token lacks scope {needed or '(see the error)'}: add it to "
            "deploy/slack-app-manifest.yaml, reinstall the app and store the new token"
        ),
        "no_permission": f"the workspace does not let the bot post in {where}: ask a Slack admin",
        "restricted_action": (
            f"a workspace policy stops the bot posting in {where}: ask a Slack admin"
        ),
        "ekm_access_denied": "the workspace's encryption keys deny access: ask a Slack admin",
        "cant_update_message": "the message was not posted by this bot token; it cannot be updated",
        "message_not_found": "the alert message was deleted; nothing to update",
        "edit_window_closed": "the workspace does not allow editing a message this old",
        "thread_not_found": "the incident's thread no longer exists",
        "expired_trigger_id": (
            "the click's trigger expired before the modal opened (Slack allows 3 s): the "
            "incident is resolved all the same; click Resolve again to say what it was"
        ),
    }
    if code in fixes:
        return fixes[code]
    if code in _LAYOUT_CODES:
        return (
            "Slack refused the message layout: this is a bug in jobtriage.notify (the message "
            "renderers); the error details are in this log entry"
        )
    return f"see https://docs.slack.dev/reference/methods for error {code!r}"


def classify(
    exc: BaseException, *, method: str, channel: str | None = None
) -> PermanentError | TransientError:
    """The one place that decides whether a failed Slack call is worth redelivering."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", 200)
        data = response.data if isinstance(getattr(response, "data", None), dict) else {}
        code = str(data.get("error") or f"http_{status}")
        if status == 429 or status >= 500 or code in _TRANSIENT_CODES:
            retry_after = _header(response.headers or {}, "retry-after")
            hint = f" (Retry-After {retry_after} s)" if retry_after else ""
            return TransientError(f"Slack {method} failed: {code}, HTTP {status}{hint}")
        details = data.get("errors") or data.get("response_metadata", {}).get("messages") or ""
        detail = f"; {truncate(str(details), 500)}" if details and code in _LAYOUT_CODES else ""
        needed = data.get("needed")
        return PermanentError(
            f"Slack {method} failed: {code}{detail}",
            fix=_fix(code, channel=channel, needed=str(needed) if needed else None),
        )
    if isinstance(exc, TimeoutError):
        return TransientError(f"Slack {method} timed out")
    if isinstance(exc, OSError | http.client.HTTPException):
        # URLError (refused, DNS), resets, remote disconnects: the network, not our request
        return TransientError(f"Slack {method} could not connect: {type(exc).__name__}: {exc}")
    if isinstance(exc, SlackClientError):
        return PermanentError(
            f"Slack {method} was not sent: {exc}",
            fix="a bug in how jobtriage.notify calls slack_sdk",
        )
    return TransientError(f"Slack {method} failed unexpectedly: {type(exc).__name__}")


# ---- the notifier -----------------------------------------------------------------------------


class SlackNotifier:
    """The four Web API calls the product makes, each returning data or raising a `TriageError`."""

    def __init__(
        self,
        settings: Settings,
        *,
        client: WebClient | None = None,
        policy: RetryPolicy = ALERT_POLICY,
    ) -> None:
        self._settings = settings
        self._client = client
        self._policy = policy

    @property
    def client(self) -> WebClient:
        """The WebClient, built on first use from the settings (token, base URL) and the policy."""
        if self._client is None:
            token = self._settings.slack_bot_token
            if not token:
                raise PermanentError(
                    "Slack is not configured: no bot token",
                    fix="set SLACK_BOT_TOKEN (from Secret Manager) on the function",
                )
            self._client = WebClient(
                token=token,
                base_url=self._settings.slack_api_url,
                timeout=self._policy.timeout_seconds,
                retry_handlers=self._policy.handlers(),
                logger=log,
            )
        return self._client

    def _call(
        self,
        method: str,
        channel: str,
        send: Callable[[], SlackResponse],
        *,
        quiet: bool = False,
    ) -> SlackResponse:
        """`send()`, its failure classified; logged here unless `quiet` (the caller logs it)."""
        try:
            return send()
        except TriageError:
            raise
        except Exception as exc:
            error = classify(exc, method=method, channel=channel)
            if quiet:
                raise error from exc
            log.warning(
                "slack %s failed (%s): %s%s",
                method,
                "permanent" if isinstance(error, PermanentError) else "transient",
                error,
                f" — fix: {error.fix}" if isinstance(error, PermanentError) and error.fix else "",
            )
            raise error from exc

    @staticmethod
    def _ts(method: str, response: SlackResponse) -> str:
        ts = response.get("ts")
        if not isinstance(ts, str) or not ts:
            # posted (ok: true) but unaddressable; posting again would show it twice
            raise PermanentError(f"Slack {method} answered without a message ts")
        return ts

    def post_alert(self, channel: str, message: Message, *, tag: PostTag | None = None) -> str:
        """Post a new alert; returns its ts (the incident's thread root). `tag` goes along as the
        message's metadata (`jobtriage.notify.metadata`)."""
        response = self._call(
            "chat.postMessage",
            channel,
            lambda: self.client.chat_postMessage(
                channel=channel,
                text=scrub(message.text),
                blocks=scrub_tree(list(message.blocks)),
                unfurl_links=False,
                unfurl_media=False,
                metadata=tag.metadata() if tag is not None else None,
            ),
        )
        return self._ts("chat.postMessage", response)

    def reply(
        self,
        channel: str,
        thread_ts: str,
        message: Message,
        *,
        broadcast: bool = False,
        tag: PostTag | None = None,
    ) -> str:
        """Reply in an incident's thread (also in the channel when `broadcast`); returns its ts."""
        response = self._call(
            "chat.postMessage",
            channel,
            lambda: self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                reply_broadcast=broadcast,
                text=scrub(message.text),
                blocks=scrub_tree(list(message.blocks)),
                unfurl_links=False,
                unfurl_media=False,
                metadata=tag.metadata() if tag is not None else None,
            ),
        )
        return self._ts("chat.postMessage", response)

    def find_post(
        self,
        channel: str,
        delivery: str,
        *,
        thread_ts: str | None,
        oldest: datetime,
        latest: datetime,
    ) -> str | None:
        """The ts of the message the delivery `delivery` posted in `channel` (in the thread
        `thread_ts`, if given) between `oldest` and `latest`, found by its metadata; None when
        there is none. At most `LOOKUP_PAGES` calls; a failure raises like every call here."""
        method = "conversations.replies" if thread_ts else "conversations.history"
        window = {
            "channel": channel,
            "oldest": f"{oldest.timestamp():.6f}",
            "latest": f"{latest.timestamp():.6f}",
            "inclusive": True,
            "include_all_metadata": True,
            "limit": LOOKUP_PAGE_SIZE,
        }
        cursor: str | None = None
        for _ in range(LOOKUP_PAGES):
            response = self._history_page(method, window, thread_ts, cursor)
            messages = response.get("messages")
            found = tagged_ts(messages if isinstance(messages, list) else [], delivery)
            if found is not None:
                return found
            meta = response.get("response_metadata")
            cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
            if not response.get("has_more") or not cursor:
                return None
        log.warning(
            "slack %s: not found in the first %d pages of %s; giving up the search",
            method,
            LOOKUP_PAGES,
            channel,
        )
        return None

    def _history_page(
        self, method: str, window: Mapping[str, Any], thread_ts: str | None, cursor: str | None
    ) -> SlackResponse:
        args = dict(window, cursor=cursor) if cursor else dict(window)
        channel = str(args["channel"])
        if thread_ts:
            return self._call(
                method,
                channel,
                lambda: self.client.conversations_replies(ts=thread_ts, **args),
                quiet=True,
            )
        return self._call(
            method, channel, lambda: self.client.conversations_history(**args), quiet=True
        )

    def update(self, channel: str, ts: str, message: Message) -> None:
        """Replace a message we posted (its blocks and its notification text)."""
        self._call(
            "chat.update",
            channel,
            lambda: self.client.chat_update(
                channel=channel,
                ts=ts,
                text=scrub(message.text),
                blocks=scrub_tree(list(message.blocks)),
            ),
        )

    def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        """A note only `user` sees (e.g. why a click was refused); `text` must be escaped."""
        self._call(
            "chat.postEphemeral",
            channel,
            lambda: self.client.chat_postEphemeral(channel=channel, user=user, text=scrub(text)),
        )

    def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> None:
        """Open a modal for the user whose click gave `trigger_id` (valid for 3 s)."""
        self._call(
            "views.open",
            "",
            lambda: self.client.views_open(trigger_id=trigger_id, view=scrub_tree(dict(view))),
        )

    def usergroup_members(self, usergroup: str) -> frozenset[str]:
        """The user ids in a Slack user group (for the click allow-list)."""
        response = self._call(
            "usergroups.users.list",
            "",
            lambda: self.client.usergroups_users_list(usergroup=usergroup),
        )
        users = response.get("users")
        return (
            frozenset(u for u in users if isinstance(u, str))
            if isinstance(users, list)
            else frozenset()
        )
