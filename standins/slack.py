"""A fake Slack Web API for the real `slack_sdk.WebClient` (`base_url=fake.base_url`).

It records every request, answers like Slack does (`{"ok": true, "ts": ...}`), checks the bearer
token and the Block Kit limits Slack enforces (so an oversized message fails here as it would
there), and can be told to answer the next calls of a method with a 429 + Retry-After, a 5xx, or an
`ok: false` error.

Load and outage runs also use:
- `posts_per_second`: Slack's per-channel limit of chat.postMessage, about one message a second
  with short bursts (https://docs.slack.dev/apis/web-api/rate-limits#special-rate-limits),
  and `updates_per_minute` for chat.update (Tier 3, 50+ a minute): over them the answer is
  HTTP 429 with `Retry-After` (whole seconds, as Slack sends it). `clock` measures their time.
- `outage`: while set, every request gets that reply and nothing is posted (Slack down).
- `messages()`: what Slack accepted and would show, in order.
- `views`: the modals opened (views.open), each checked against Slack's modal limits
  (https://docs.slack.dev/reference/views/modal-views) and answered with a view id.

Message metadata (https://docs.slack.dev/messaging/message-metadata): chat.postMessage's
`metadata` is checked (an object with a string `event_type` and an object `event_payload`, else
`invalid_metadata_format`), stored with the message, kept by a chat.update without one, and
returned by conversations.history (the channel's messages and thread broadcasts, newest first)
and conversations.replies (the parent, then its replies, oldest first) only with
`include_all_metadata=true` — both with `oldest` / `latest` (exclusive unless `inclusive`),
`limit` and cursor pagination (`has_more`, `response_metadata.next_cursor`) as Slack answers.
`wall` gives the message ts its time (Unix seconds; default: a fixed 1764234000.000001, …),
so that `oldest` / `latest` mean what they mean in Slack; `history_per_minute` is Tier 3.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import json
import math
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs

from standins.server import FakeServer, Reply, Request

TOKEN = "xoxb-000000000000-000000000000-faketokenforthetests"
# Who the bot is, as Slack shows it on the messages it posted.
BOT_ID, APP_ID, BOT_USER = "B0JOBTRIAGE", "A0JOBTRIAGE", "U0JOBTRIAGE"
HISTORY_METHODS = ("conversations.history", "conversations.replies")


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]


@dataclass(frozen=True)
class Posted:
    """One message Slack accepted (chat.postMessage) or one edit it applied (chat.update)."""

    method: str
    channel: str
    ts: str
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]]
    broadcast: bool = False
    at: float = 0.0  # the fake's clock when it was accepted
    metadata: dict[str, Any] | None = None  # message metadata as posted (None: none)

    @property
    def top_level(self) -> bool:
        """Shown in the channel itself: a new message, or a reply also sent to the channel."""
        return self.method == "chat.postMessage" and (self.thread_ts is None or self.broadcast)

    def body(self) -> str:
        return json.dumps({"text": self.text, "blocks": self.blocks}, ensure_ascii=False)


@dataclass
class _Bucket:
    """A token bucket: `rate` tokens a second, at most `burst` saved up."""

    rate: float
    burst: float
    tokens: float = 0.0
    stamp: float | None = None

    def take(self, now: float) -> float:
        """0.0 when a token was taken; otherwise the seconds until one is there."""
        if self.stamp is None:
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass
class _Limits:
    posts_per_second: float | None
    post_burst: float
    updates_per_minute: float | None
    update_burst: float
    history_per_minute: float | None = None
    buckets: dict[tuple[str, str], _Bucket] = dataclass_field(default_factory=dict)

    def wait(self, method: str, channel: str, now: float) -> float:
        if method == "chat.postMessage" and self.posts_per_second:
            key, rate, burst = (method, channel), self.posts_per_second, self.post_burst
        elif method == "chat.update" and self.updates_per_minute:
            key, rate, burst = (method, ""), self.updates_per_minute / 60.0, self.update_burst
        elif method in HISTORY_METHODS and self.history_per_minute:
            key, rate, burst = (method, ""), self.history_per_minute / 60.0, 10.0
        else:
            return 0.0
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(rate, burst)
        return bucket.take(now)


def _args(req: Request) -> dict[str, Any]:
    """The call's arguments: the query string (GET methods), then the body's."""
    out: dict[str, Any] = {k: v[0] for k, v in req.query.items()}
    ctype = req.headers.get("content-type", "")
    if "json" in ctype:
        data = req.json()
        return out | data if isinstance(data, dict) else out
    form = parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
    out |= {k: v[0] for k, v in form.items()}
    for key in ("blocks", "metadata"):
        if isinstance(out.get(key), str) and out[key]:
            with contextlib.suppress(json.JSONDecodeError):  # else refused where it is checked
                out[key] = json.loads(out[key])
    return out


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _metadata_error(metadata: Any) -> str | None:
    """Slack's error for a `metadata` argument it would refuse, or None."""
    if metadata is None or metadata == "":
        return None
    if not isinstance(metadata, dict):
        return "invalid_metadata_format"
    if not isinstance(metadata.get("event_type"), str) or not metadata["event_type"]:
        return "invalid_metadata_format"
    if not isinstance(metadata.get("event_payload"), dict):
        return "invalid_metadata_format"
    return None


def _ts_arg(value: Any) -> Decimal | None:
    """A `oldest` / `latest` argument as a number, None when absent; ValueError when not a ts."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(value) from None
    if not number.is_finite() or number < 0:
        raise ValueError(value)
    return number


def _cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _from_cursor(cursor: str) -> str:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError(cursor) from None
    if not text.startswith("next_ts:"):
        raise ValueError(cursor)
    return text[len("next_ts:") :]


def _text_len(node: Any) -> int:
    if isinstance(node, dict):
        own = len(node["text"]) if node.get("type") in ("mrkdwn", "plain_text") else 0
        return own + sum(_text_len(v) for k, v in node.items() if k != "text")
    if isinstance(node, list):
        return sum(_text_len(v) for v in node)
    return 0


def modal_errors(view: Any) -> list[str]:
    """The limits Slack rejects a modal view for (https://docs.slack.dev/reference/views/modal-views)."""
    if isinstance(view, str):
        view = json.loads(view)
    if not isinstance(view, dict) or view.get("type") != "modal":
        return ["view must be an object of type modal [json-pointer:/view/type]"]
    errors: list[str] = []
    for key in ("title", "submit", "close"):
        text = (view.get(key) or {}).get("text", "")
        if key == "title" and not text:
            errors.append("missing required field: title [json-pointer:/view/title]")
        if len(text) > 24:
            errors.append(f"must be less than 25 characters [json-pointer:/view/{key}/text]")
    if len(view.get("blocks") or []) > 100:
        errors.append("no more than 100 items allowed [json-pointer:/view/blocks]")
    if len(view.get("private_metadata") or "") > 3000:
        errors.append("must be less than 3001 characters [json-pointer:/view/private_metadata]")
    if len(view.get("callback_id") or "") > 255:
        errors.append("must be less than 256 characters [json-pointer:/view/callback_id]")
    for i, block in enumerate(view.get("blocks") or []):
        element = block.get("element") or {}
        options = element.get("options") or []
        if element.get("type") == "radio_buttons" and len(options) > 10:
            errors.append(f"no more than 10 items allowed [json-pointer:/view/blocks/{i}/element]")
        for j, option in enumerate(options):
            if len((option.get("text") or {}).get("text", "")) > 75:
                errors.append(
                    "must be less than 76 characters "
                    f"[json-pointer:/view/blocks/{i}/element/options/{j}/text/text]"
                )
    return errors


def block_kit_errors(blocks: list[dict[str, Any]]) -> list[str]:
    """The limits Slack rejects a message for, as its `invalid_blocks` error strings would say."""
    errors: list[str] = []
    if len(blocks) > 50:
        errors.append("no more than 50 items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        text = (block.get("text") or {}).get("text", "")
        if kind == "section" and len(text) > 3000:
            errors.append(f"must be less than 3001 characters [json-pointer:/blocks/{i}/text/text]")
        if kind == "header" and len(text) > 150:
            errors.append(f"must be less than 151 characters [json-pointer:/blocks/{i}/text/text]")
        fields = block.get("fields") or []
        if len(fields) > 10:
            errors.append(f"no more than 10 items allowed [json-pointer:/blocks/{i}/fields]")
        for j, field in enumerate(fields):
            if len(field.get("text", "")) > 2000:
                errors.append(
                    f"must be less than 2001 characters [json-pointer:/blocks/{i}/fields/{j}/text]"
                )
        if kind == "context" and len(block.get("elements") or []) > 10:
            errors.append(f"no more than 10 items allowed [json-pointer:/blocks/{i}/elements]")
        for j, element in enumerate(block.get("elements") or []):
            label = (
                (element.get("text") or {}).get("text", "")
                if element.get("type") == "button"
                else ""
            )
            if len(label) > 75:
                errors.append(
                    "must be less than 76 characters "
                    f"[json-pointer:/blocks/{i}/elements/{j}/text/text]"
                )
    return errors


class FakeSlack:
    """`with FakeSlack() as slack:` — then `WebClient(base_url=slack.base_url, token=TOKEN)`."""

    # Slack's undocumented cumulative limit is around 12,000 characters of block text.
    MAX_TOTAL_TEXT = 12_000

    def __init__(
        self,
        *,
        token: str = TOKEN,
        posts_per_second: float | None = None,
        post_burst: float = 3.0,
        updates_per_minute: float | None = None,
        update_burst: float = 10.0,
        history_per_minute: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] | None = None,
    ) -> None:
        self.token = token
        # user group id -> member ids, answered by usergroups.users.list
        self.usergroups: dict[str, list[str]] = {}
        self._script: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._limits = _Limits(
            posts_per_second, post_burst, updates_per_minute, update_burst, history_per_minute
        )
        self._clock = clock
        self._wall = wall
        self._last_micro = 0
        self._posted: list[Posted] = []
        # trigger_id and view of every modal opened (views.open)
        self.views: list[tuple[str, dict[str, Any]]] = []
        # (method, HTTP status or Slack error) of every answer that was not a success
        self.refused: Counter[tuple[str, str]] = Counter()
        self.outage: Reply | None = None
        self._late: Counter[str] = Counter()  # method -> calls still to be answered late
        self._late_seconds: dict[str, float] = {}
        self.server = FakeServer(self._respond)

    # ---- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> FakeSlack:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/api/"

    # ---- scripting ------------------------------------------------------------------------------

    def script(self, method: str, *replies: Reply) -> None:
        """The next calls of `method` get these replies in order; later ones get the usual."""
        with self._lock:
            self._script[method].extend(replies)

    def error(self, method: str, code: str, *, times: int = 1, **extra: Any) -> None:
        self.script(method, *[Reply(200, {"ok": False, "error": code, **extra})] * times)

    def rate_limited(self, method: str, *, retry_after: str | None = "0", times: int = 1) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        reply = Reply(429, {"ok": False, "error": "ratelimited"}, headers=headers)
        self.script(method, *[reply] * times)

    def server_error(self, method: str, *, status: int = 500, times: int = 1) -> None:
        self.script(method, *[Reply(status, "<html>upstream error</html>")] * times)

    def slow(self, method: str, *, seconds: float) -> None:
        self.script(method, Reply(200, {"ok": True, "ts": "1.000001"}, delay=seconds))

    def answer_late(self, method: str, *, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` are carried out as usual, then answered only after
        `seconds` (a client with a shorter timeout never learns that its post was accepted)."""
        with self._lock:
            self._late[method] += times
            self._late_seconds[method] = seconds

    def go_down(self, reply: Reply) -> None:
        """Answer every request with `reply` (and post nothing) until `come_back()`."""
        with self._lock:
            self.outage = reply

    def come_back(self) -> None:
        with self._lock:
            self.outage = None

    # ---- what was received ----------------------------------------------------------------------

    def messages(self, method: str | None = "chat.postMessage") -> list[Posted]:
        """What Slack accepted, in order (postMessage by default; None: edits too)."""
        with self._lock:
            return [p for p in self._posted if method is None or p.method == method]

    def calls(self, method: str | None = None) -> list[Call]:
        out = []
        for req in list(self.server.requests):
            name = req.path.rsplit("/", 1)[-1]
            if method is None or name == method:
                out.append(Call(method=name, args=_args(req), headers=req.headers))
        return out

    # ---- answering ------------------------------------------------------------------------------

    def _open_view(self, args: dict[str, Any]) -> Reply:
        trigger = args.get("trigger_id")
        if not trigger:
            return Reply(200, {"ok": False, "error": "invalid_arguments"})
        errors = modal_errors(args.get("view"))
        if errors:
            return Reply(200, {"ok": False, "error": "invalid_arguments", "errors": errors})
        view = args["view"] if isinstance(args["view"], dict) else json.loads(args["view"])
        with self._lock:
            self.views.append((str(trigger), view))
            view_id = f"V{len(self.views):08d}"
        return Reply(200, {"ok": True, "view": view | {"id": view_id}})

    def _next_ts(self) -> str:
        """A new message ts (called under the lock): unique, increasing, in `wall` time."""
        if self._wall is None:
            return f"1764234000.{next(self._ts):06d}"
        micro = max(int(self._wall() * 1_000_000), self._last_micro + 1)
        self._last_micro = micro
        return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"

    def _shown(self) -> list[Posted]:
        """Every message as Slack shows it now: chat.update applied (text, blocks, metadata)."""
        with self._lock:
            posted = list(self._posted)
        current: dict[tuple[str, str], Posted] = {}
        for p in posted:
            key = (p.channel, p.ts)
            if p.method == "chat.postMessage":
                current[key] = p
            elif key in current:
                before = current[key]
                current[key] = Posted(
                    method=before.method,
                    channel=before.channel,
                    ts=before.ts,
                    thread_ts=before.thread_ts,
                    text=p.text,
                    blocks=p.blocks,
                    broadcast=before.broadcast,
                    at=before.at,
                    metadata=p.metadata if p.metadata is not None else before.metadata,
                )
        return list(current.values())

    @staticmethod
    def _message_object(p: Posted, *, metadata: bool, replies: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "ts": p.ts,
            "text": p.text,
            "blocks": p.blocks,
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
        }
        if p.thread_ts:
            out["thread_ts"] = p.thread_ts
            if p.broadcast:
                out["subtype"] = "thread_broadcast"
        elif replies:
            out["thread_ts"] = p.ts
            out["reply_count"] = replies
        if metadata and p.metadata is not None:
            out["metadata"] = p.metadata
        return out

    def _history(self, method: str, args: dict[str, Any]) -> Reply:
        """conversations.history / conversations.replies over what was posted."""
        channel = str(args.get("channel") or "")
        if not channel:
            return Reply(200, {"ok": False, "error": "channel_not_found"})
        try:
            oldest = _ts_arg(args.get("oldest"))
        except ValueError:
            return Reply(200, {"ok": False, "error": "invalid_ts_oldest"})
        try:
            latest = _ts_arg(args.get("latest"))
        except ValueError:
            return Reply(200, {"ok": False, "error": "invalid_ts_latest"})
        inclusive = _truthy(args.get("inclusive"))
        with_metadata = _truthy(args.get("include_all_metadata"))
        shown = [p for p in self._shown() if p.channel == channel]

        def within(p: Posted) -> bool:
            ts = Decimal(p.ts)
            if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
                return False
            return not (latest is not None and (ts > latest or (ts == latest and not inclusive)))

        replies_of = Counter(p.thread_ts for p in shown if p.thread_ts)
        if method == "conversations.history":
            listed = sorted(
                (p for p in shown if (p.thread_ts is None or p.broadcast) and within(p)),
                key=lambda p: Decimal(p.ts),
                reverse=True,
            )
            limit_default, limit_max = 100, 999
        else:
            root_ts = str(args.get("ts") or "")
            parent = next((p for p in shown if p.ts == root_ts and not p.thread_ts), None)
            if parent is None:
                return Reply(200, {"ok": False, "error": "thread_not_found"})
            thread = sorted(
                (p for p in shown if p.thread_ts == root_ts and within(p)),
                key=lambda p: Decimal(p.ts),
            )
            listed = [parent, *thread]
            limit_default, limit_max = 1000, 1000
        try:
            limit = int(args.get("limit") or limit_default)
        except ValueError:
            return Reply(200, {"ok": False, "error": "invalid_limit"})
        limit = max(1, min(limit, limit_max))
        start = 0
        if args.get("cursor"):
            try:
                after = _from_cursor(str(args["cursor"]))
                start = next(i for i, p in enumerate(listed) if p.ts == after)
            except (ValueError, StopIteration):
                return Reply(200, {"ok": False, "error": "invalid_cursor"})
        page = listed[start : start + limit]
        more = start + limit < len(listed)
        body: dict[str, Any] = {
            "ok": True,
            "messages": [
                self._message_object(p, metadata=with_metadata, replies=replies_of[p.ts])
                for p in page
            ],
            "has_more": more,
            "response_metadata": {"next_cursor": _cursor(listed[start + limit].ts) if more else ""},
        }
        if method == "conversations.history":
            body["pin_count"] = 0
        return Reply(200, body)

    def _respond(self, req: Request) -> Reply:
        reply = self._answer(req)
        method = req.path.rsplit("/", 1)[-1]
        with self._lock:
            if self._late[method] > 0 and isinstance(reply.body, dict) and reply.body.get("ok"):
                self._late[method] -= 1
                reply = Reply(reply.status, reply.body, reply.headers, self._late_seconds[method])
        if reply.status != 200 or not (isinstance(reply.body, dict) and reply.body.get("ok")):
            code = reply.body.get("error") if isinstance(reply.body, dict) else None
            with self._lock:
                self.refused[(req.path.rsplit("/", 1)[-1], str(code or reply.status))] += 1
        return reply

    def _answer(self, req: Request) -> Reply:
        method = req.path.rsplit("/", 1)[-1]
        with self._lock:
            if self.outage is not None:
                return self.outage
            queue = self._script.get(method)
            scripted = queue.popleft() if queue else None
        if scripted is not None:
            return scripted
        auth = req.headers.get("authorization", "")
        if not auth:
            return Reply(200, {"ok": False, "error": "not_authed"})
        if auth != f"Bearer {self.token}":
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        args = _args(req)
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            if not args.get("channel"):
                return Reply(200, {"ok": False, "error": "channel_not_found"})
            blocks = args.get("blocks") or []
            if not args.get("text") and not blocks:
                return Reply(200, {"ok": False, "error": "no_text"})
            errors = block_kit_errors(blocks)
            if errors:
                return Reply(200, {"ok": False, "error": "invalid_blocks", "errors": errors})
            if _text_len(blocks) > self.MAX_TOTAL_TEXT:
                return Reply(200, {"ok": False, "error": "msg_blocks_too_long"})
            bad_metadata = _metadata_error(args.get("metadata"))
            if bad_metadata:
                return Reply(200, {"ok": False, "error": bad_metadata})
        with self._lock:
            now = self._clock()
            wait = self._limits.wait(method, str(args.get("channel") or ""), now)
            if wait > 0:
                retry_after = str(max(1, math.ceil(wait)))
                return Reply(
                    429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": retry_after}
                )
            ts = self._next_ts()
            if method in ("chat.postMessage", "chat.update"):
                thread = args.get("thread_ts")
                self._posted.append(
                    Posted(
                        method=method,
                        channel=str(args.get("channel")),
                        ts=ts if method == "chat.postMessage" else str(args.get("ts")),
                        thread_ts=str(thread) if thread else None,
                        text=str(args.get("text") or ""),
                        blocks=list(args.get("blocks") or []),
                        broadcast=_truthy(args.get("reply_broadcast")),
                        at=now,
                        metadata=args.get("metadata") or None,
                    )
                )
        if method == "chat.postMessage":
            return Reply(
                200,
                {
                    "ok": True,
                    "channel": args["channel"],
                    "ts": ts,
                    "message": {"text": args.get("text"), "ts": ts},
                },
            )
        if method == "chat.update":
            return Reply(
                200,
                {
                    "ok": True,
                    "channel": args["channel"],
                    "ts": args.get("ts"),
                    "text": args.get("text"),
                },
            )
        if method == "chat.postEphemeral":
            return Reply(200, {"ok": True, "message_ts": ts})
        if method == "views.open":
            return self._open_view(args)
        if method in HISTORY_METHODS:
            return self._history(method, args)
        if method == "usergroups.users.list":
            group = args.get("usergroup")
            if group not in self.usergroups:
                return Reply(200, {"ok": False, "error": "no_such_subteam"})
            return Reply(200, {"ok": True, "users": list(self.usergroups[group])})
        return Reply(200, {"ok": False, "error": "unknown_method"})
