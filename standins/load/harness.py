"""The whole product in one process, under load and faults: real clients, local stand-ins.

Shared by the tests under tests/load, tests/faults, tests/fuzz and by the bench/ scripts.

    with Harness(HarnessConfig(workers=3, scale=0.05), storm_plan(jobs=20, per_job=10)) as h:
        h.publish_plan()
        report = h.run()

What is real: every jobtriage module from `app.handle_cloud_event` down (parsing, claims,
evidence gathering through the google-cloud-run / google-cloud-logging clients, analyzers,
incident decisions, Block Kit, `SlackNotifier` over `slack_sdk.WebClient` with its retry
handlers), the incident store (`MemoryStore`, or `FirestoreStore` on an emulator when given).

What stands in for the cloud:
- `GoogleReplay` — Cloud Run Admin API and Logging API, one recorded scenario per execution, with
  Logging's 60 reads a minute enforced (answers 429 beyond it);
- `FakeSlack` — the Web API, with Slack's one message a second per channel (429 + Retry-After);
- `PubSub` — push delivery as Pub/Sub does it: at least once, an exception (or a crashed
  instance) is redelivered with exponential backoff from 10 s to 600 s, and after
  `max_attempts` the message is dead-lettered;
- worker threads — concurrent function instances, each with its own Runtime (own clients, own
  Logging read budget), sharing the store and the fakes like instances share Firestore and Slack.

Time: `VirtualTime(scale)` runs every clock and every wait of the run (Pub/Sub backoff, Slack's
Retry-After, quota windows, claim leases, the Logging read budget) `1/scale` times faster than
real time, so a one-minute storm is tested in seconds and benchmarked at scale 1.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import heapq
import hmac
import itertools
import json
import math
import random
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.signature import SignatureVerifier

from jobtriage import app
from jobtriage.errors import TransientError, TriageError
from jobtriage.event import PUBSUB_EVENT_TYPE
from jobtriage.evidence.gather import Sources
from jobtriage.incident.store import IncidentStore, MemoryStore
from jobtriage.notify import deliver
from jobtriage.notify.metadata import PostTag
from jobtriage.notify.parts import Message
from jobtriage.pipeline import EventResult
from jobtriage.runtime import Runtime
from jobtriage.settings import Settings
from standins.replay.google import Api, GoogleReplay, Scenario
from standins.slack import TOKEN, FakeSlack, Posted

FIXTURES = Path(__file__).resolve().parents[1] / "replay" / "scenarios"
CHANNEL = "C0STORM01"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
STORM_PROJECT = "storm-project"
# The recorded incidents a storm is made of: each job of the storm fails like one of them.
BASES = ("seed", "cloudsql_not_authorized", "oom_alembic", "task_timeout", "no_logs")


# --- time ---------------------------------------------------------------------------------------


# `HarnessConfig.scale` for a clock that moves only when told to (see `VirtualTime`).
FROZEN = math.inf


class VirtualTime:
    """One clock for the whole run, `1/scale` times faster than real time (scale 1: real time).

    `advance(s)` jumps ahead (a claim lease running out) without waiting. With `scale=FROZEN`
    the clock moves only by `advance` and by what the code under test sleeps (a test that
    delivers one event at a time and must not depend on how busy the machine is).
    """

    def __init__(self, scale: float = 1.0, *, base: datetime | None = None) -> None:
        self.scale = scale
        self.base = base or datetime.now(UTC)
        self._t0 = time.monotonic()
        self._skew = 0.0

    def monotonic(self) -> float:
        return (time.monotonic() - self._t0) / self.scale + self._skew

    def now(self) -> datetime:
        return self.base + timedelta(seconds=self.monotonic())

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if math.isinf(self.scale):
            self.advance(seconds)
        else:
            time.sleep(seconds * self.scale)

    def advance(self, seconds: float) -> None:
        self._skew += seconds


class ScaledRateLimitRetryHandler(deliver.BoundedRateLimitRetryHandler):
    """The product's 429 handler with its wait (Retry-After + up to 1 s) in virtual time."""

    def __init__(self, vt: VirtualTime, *, max_retry_count: int, max_retry_after: int) -> None:
        super().__init__(max_retry_count=max_retry_count, max_retry_after_seconds=max_retry_after)
        self.vt = vt

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        state.next_attempt_requested = True
        raw = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
        value = raw[0] if isinstance(raw, list) else raw
        self.vt.sleep(int(value or 1) + random.random())
        state.increment_current_attempt()


def slack_client(base_url: str, vt: VirtualTime, *, timeout: int = 5) -> WebClient:
    """A WebClient with ALERT_POLICY's retries, its waits in virtual time."""
    policy = deliver.ALERT_POLICY
    handlers = deliver.RetryPolicy(
        timeout_seconds=timeout,
        rate_limit_retries=0,
        server_error_retries=policy.server_error_retries,
        connection_retries=policy.connection_retries,
        backoff_seconds=0.0 if math.isinf(vt.scale) else policy.backoff_seconds * vt.scale,
        jitter=False,
    ).handlers()
    scaled = ScaledRateLimitRetryHandler(
        vt,
        max_retry_count=policy.rate_limit_retries,
        max_retry_after=policy.max_retry_after_seconds,
    )
    return WebClient(
        token=TOKEN, base_url=base_url, timeout=timeout, retry_handlers=[scaled, *handlers]
    )


# --- the storm ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedEvent:
    """One Pub/Sub message of the plan: the audit entry of one execution's end."""

    job: str
    execution: str
    failed: bool
    at: float  # virtual seconds after the start
    entry: Mapping[str, Any]
    message_id: str


@dataclass
class Plan:
    scenarios: list[Scenario]
    events: list[PlannedEvent]

    @property
    def failed_executions(self) -> set[str]:
        return {e.execution for e in self.events if e.failed}

    @property
    def jobs(self) -> set[str]:
        return {e.job for e in self.events}


def base_scenario(name: str) -> Scenario:
    if name == "seed":
        return Scenario.embedded("seed")
    return Scenario.load(FIXTURES / name)


def _scenario_text(sc: Scenario) -> str:
    return json.dumps(
        {
            "event": sc.event,
            "execution": sc.execution,
            "tasks": sc.tasks,
            "job": sc.job,
            "executions": sc.executions,
            "logs": sc.logs,
        }
    )


def renamed(base: Scenario, *, job: str, execution: str, project: str = STORM_PROJECT) -> Scenario:
    """The recorded incident `base` as if job `job` had failed in execution `execution`."""
    ref = base.ref
    text = _scenario_text(base)
    # placeholders first: the execution name starts with the job name
    text = text.replace(ref.execution, "\x00E\x00").replace(ref.job, "\x00J\x00")
    text = text.replace(ref.project, project)
    text = text.replace("\x00E\x00", execution).replace("\x00J\x00", job)
    data = json.loads(text)
    return Scenario(name=f"{base.name}:{execution}", **data)


def with_logs(sc: Scenario, lines: list[str], *, stream: str = "stderr") -> Scenario:
    """`sc` with extra log lines written by its failed execution (hostile-input runs)."""
    ref = sc.ref
    template = next((e for e in sc.logs if stream in str(e.get("logName"))), None)
    assert template is not None, "the scenario has no line on that stream to copy"
    extra = []
    for i, text in enumerate(lines):
        entry = json.loads(json.dumps(template))
        entry["textPayload"] = text
        entry["insertId"] = f"hostile{i:04d}{ref.execution}"
        extra.append(entry)
    return Scenario(
        event=sc.event,
        execution=sc.execution,
        tasks=sc.tasks,
        job=sc.job,
        executions=sc.executions,
        logs=sc.logs + extra,
        name=sc.name + "+hostile",
    )


def pubsub_data(entry: Mapping[str, Any], message_id: str) -> dict[str, Any]:
    """The CloudEvent data Eventarc / a Pub/Sub push delivers for one LogEntry."""
    return {
        "message": {
            "data": base64.b64encode(json.dumps(entry).encode()).decode(),
            "messageId": message_id,
            "publishTime": str(entry.get("timestamp", "")),
            "attributes": {"logging.googleapis.com/timestamp": str(entry.get("timestamp", ""))},
        },
        "subscription": f"projects/{STORM_PROJECT}/subscriptions/jobtriage",
    }


def storm_plan(
    *,
    jobs: int = 20,
    per_job: int = 10,
    within: float = 60.0,
    duplicates: float = 0.1,
    seed: int = 20260112,
) -> Plan:
    """`jobs` × `per_job` failures arriving within `within` seconds in random order; a share
    `duplicates` of them is published twice (Pub/Sub and the sink deliver at least once)."""
    rng = random.Random(seed)
    bases = {name: base_scenario(name) for name in BASES}
    scenarios: list[Scenario] = []
    events: list[PlannedEvent] = []
    ids = itertools.count(1)
    for j in range(jobs):
        base = bases[BASES[j % len(BASES)]]
        job = f"{base.ref.job}-{j:02d}"
        for _ in range(per_job):
            suffix = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(5))
            sc = renamed(base, job=job, execution=f"{job}-{suffix}")
            scenarios.append(sc)
            assert sc.event is not None
            events.append(
                PlannedEvent(
                    job=job,
                    execution=sc.ref.execution,
                    failed=True,
                    at=rng.uniform(0.0, within),
                    entry=sc.event,
                    message_id=f"storm-{next(ids)}",
                )
            )
    for original in rng.sample(events, int(len(events) * duplicates)):
        # the same message delivered again, or the same entry published twice
        message_id = original.message_id if rng.random() < 0.5 else f"storm-{next(ids)}"
        events.append(
            PlannedEvent(
                job=original.job,
                execution=original.execution,
                failed=True,
                at=rng.uniform(original.at, within),
                entry=original.entry,
                message_id=message_id,
            )
        )
    rng.shuffle(events)
    events.sort(key=lambda e: e.at)
    return Plan(scenarios, events)


def single_plan(scenario: Scenario, *, copies: int = 1, at: float = 0.0) -> Plan:
    assert scenario.event is not None
    event = PlannedEvent(
        job=scenario.ref.job,
        execution=scenario.ref.execution,
        failed=True,
        at=at,
        entry=scenario.event,
        message_id="single-1",
    )
    return Plan([scenario], [event] * copies)


# --- Pub/Sub ------------------------------------------------------------------------------------


class Killed(BaseException):
    """The function instance died mid-delivery: nothing after this line runs, nothing answers."""


@dataclass
class Message_:
    event: PlannedEvent
    seq: int
    attempts: int = 0
    outcomes: list[str] = field(default_factory=list)
    taken_at: list[float] = field(default_factory=list)  # each delivery's start (virtual seconds)
    seconds: list[float] = field(default_factory=list)  # real duration of each delivery
    result: EventResult | None = None
    acked_at: float | None = None
    dead: bool = False


class PubSub:
    """Push delivery as Pub/Sub does it (deploy/pubsub.tf): at least once; a failed delivery is
    redelivered after min(600, 10 × 2^(n−1)) s; no answer (a dead instance) after the ack
    deadline; after `max_attempts` the message goes to the dead-letter topic."""

    def __init__(
        self,
        vt: VirtualTime,
        *,
        min_backoff: float = 10.0,
        max_backoff: float = 600.0,
        max_attempts: int = 20,
        ack_deadline: float = 180.0,
    ) -> None:
        self.vt = vt
        self.min_backoff, self.max_backoff = min_backoff, max_backoff
        self.max_attempts, self.ack_deadline = max_attempts, ack_deadline
        self._due: list[tuple[float, int, Message_]] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self.messages: list[Message_] = []
        self.in_flight = 0
        self.closed = False

    def publish(self, event: PlannedEvent) -> Message_:
        with self._cond:
            msg = Message_(event, next(self._seq))
            self.messages.append(msg)
            heapq.heappush(self._due, (event.at, msg.seq, msg))
            self._cond.notify()
            return msg

    def take(self) -> Message_ | None:
        """The next due message (blocks until one is due); None once everything is settled."""
        with self._cond:
            while True:
                if self.closed or (not self._due and self.in_flight == 0):
                    self._cond.notify_all()
                    return None
                if self._due:
                    due, _, msg = self._due[0]
                    wait = due - self.vt.monotonic()
                    if wait <= 0:
                        heapq.heappop(self._due)
                        self.in_flight += 1
                        msg.attempts += 1
                        msg.taken_at.append(self.vt.monotonic())
                        return msg
                    self._cond.wait(timeout=min(wait * self.vt.scale, 0.5))
                else:
                    self._cond.wait(timeout=0.5)

    def _settle(self, msg: Message_, outcome: str, retry_in: float | None) -> None:
        with self._cond:
            self.in_flight -= 1
            msg.outcomes.append(outcome)
            if retry_in is None:
                msg.acked_at = self.vt.monotonic()
            elif msg.attempts >= self.max_attempts:
                msg.dead = True
            else:
                heapq.heappush(self._due, (self.vt.monotonic() + retry_in, msg.seq, msg))
            self._cond.notify_all()

    def ack(self, msg: Message_, result: EventResult | None) -> None:
        msg.result = result
        self._settle(msg, result.action if result else "ignored", None)

    def nack(self, msg: Message_, outcome: str) -> None:
        backoff = min(self.max_backoff, self.min_backoff * 2 ** (msg.attempts - 1))
        self._settle(msg, outcome, backoff)

    def no_answer(self, msg: Message_) -> None:
        self._settle(msg, "killed", self.ack_deadline)

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


# --- journal: what happened between Slack answering and the store recording it ------------------


class Journal:
    """Store calls and Slack calls of every thread, in order."""

    WRITES = frozenset(
        {"claim", "begin_post", "record_post", "finish", "release", "create", "update"}
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: list[tuple[int, str, str]] = []  # (thread id, kind, detail)

    def add(self, kind: str, detail: str = "") -> None:
        with self._lock:
            self.entries.append((threading.get_ident(), kind, detail))

    def writes_between_post_and_record(self) -> list[int]:
        """For every Slack post: how many store writes that thread made before recording it."""
        out: list[int] = []
        pending: dict[int, int] = {}
        for thread, kind, _ in list(self.entries):
            if kind in ("post_alert", "reply"):
                pending[thread] = 0
            elif kind == "record_post" and thread in pending:
                out.append(pending.pop(thread))
            elif kind in self.WRITES and thread in pending:
                pending[thread] += 1
        return out


def _records_post(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """The delivery key whose Slack post this store call records, if it records one:
    `record_post`, or an incident write whose `finish` carries the post."""
    if name == "record_post":
        return str(args[0])
    finish = kwargs.get("finish")
    if name in ("create", "update") and finish is not None and finish.posted is not None:
        return str(finish.key)
    return None


class ObservedStore:
    """Any IncidentStore, with calls counted and journaled, and faults on demand:

    - `down`: every call raises what FirestoreStore raises when Firestore is unreachable;
    - `kill_on_record`: executions whose delivery dies right after Slack answered (before the
      post is recorded: `record_post`, or the incident write that records it); `kill_after_record`:
      … right after it was recorded.
    """

    def __init__(self, inner: IncidentStore, journal: Journal | None = None) -> None:
        self.inner = inner
        self.journal = journal or Journal()
        self.calls: Counter[str] = Counter()
        self.down = False
        self.kill_on_record: set[str] = set()
        self.kill_after_record: set[str] = set()
        self.killed: list[str] = []
        self.fail_next: Counter[str] = Counter()  # method -> how many calls fail transiently
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls[name] += 1
            recorded = _records_post(name, args, kwargs)
            if recorded is not None and name != "record_post":
                # An incident write that also records the post (`Finish.posted`): the record.
                self.journal.add("record_post", recorded)
            self.journal.add(name, str(args[0]) if args else "")
            with self._lock:
                fail = self.down or self.fail_next[name] > 0
                if self.fail_next[name] > 0:
                    self.fail_next[name] -= 1
            if fail:
                raise TransientError(f"Firestore {name}: ServiceUnavailable: 503 connect failed")
            if recorded is not None:
                self._maybe_kill(recorded, self.kill_on_record)
            result = target(*args, **kwargs)
            if recorded is not None:
                self._maybe_kill(recorded, self.kill_after_record)
            return result

        return call

    def _maybe_kill(self, key: str, executions: set[str]) -> None:
        name = key.rsplit("/", 1)[-1]
        with self._lock:
            if name in executions:
                executions.discard(name)
                self.killed.append(name)
                raise Killed(name)


class ObservedNotifier:
    """A Notifier whose calls are journaled (the real SlackNotifier underneath)."""

    def __init__(self, inner: Any, journal: Journal) -> None:
        self.inner, self.journal = inner, journal

    def post_alert(self, channel: str, message: Message, *, tag: PostTag | None = None) -> str:
        self.journal.add("post_alert")
        return str(self.inner.post_alert(channel, message, tag=tag))

    def reply(
        self,
        channel: str,
        thread_ts: str,
        message: Message,
        *,
        broadcast: bool = False,
        tag: PostTag | None = None,
    ) -> str:
        self.journal.add("reply")
        return str(self.inner.reply(channel, thread_ts, message, broadcast=broadcast, tag=tag))

    def find_post(
        self,
        channel: str,
        delivery: str,
        *,
        thread_ts: str | None,
        oldest: datetime,
        latest: datetime,
    ) -> str | None:
        self.journal.add("find_post", delivery)
        found = self.inner.find_post(
            channel, delivery, thread_ts=thread_ts, oldest=oldest, latest=latest
        )
        return str(found) if found is not None else None

    def update(self, channel: str, ts: str, message: Message) -> None:
        self.journal.add("update")
        self.inner.update(channel, ts, message)

    def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        self.journal.add("ephemeral")
        self.inner.post_ephemeral(channel, user, text)

    def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> None:
        self.journal.add("open_view")
        self.inner.open_view(trigger_id, view)

    def usergroup_members(self, usergroup: str) -> frozenset[str]:
        self.journal.add("usergroup_members")
        return frozenset(self.inner.usergroup_members(usergroup))


# --- clicks -------------------------------------------------------------------------------------


def sign(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Headers as Slack signs a request: v0=HMAC-SHA256(secret, "v0:<ts>:<body>")."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    signature = "v0=" + digest.hexdigest()
    if body.isascii():  # the same as slack_sdk's own signer, where it can sign at all
        assert signature == SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def click_body(
    incident_id: str, action: str, *, user: str = "U0ONCALL1", ts: str = "1.000001"
) -> bytes:
    """The form Slack posts when a user clicks one of our buttons (`action`: ack, resolve,
    snooze:1h, snooze:24h, snooze:success)."""
    code, _, choice = action.partition(":")
    action_id = {
        "ack": "jobtriage_ack",
        "resolve": "jobtriage_resolve",
        "snooze": "jobtriage_snooze",
    }[code]
    value = f"v1|{code}|{incident_id}" + (f"|{choice}" if choice else "")
    element: dict[str, Any] = {"action_id": action_id, "block_id": "jt:actions:0"}
    if code == "snooze":
        element |= {"type": "static_select", "selected_option": {"value": value}}
    else:
        element |= {"type": "button", "value": value}
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "oncall"},
        "team": {"id": "T0TEAM001"},
        "channel": {"id": CHANNEL},
        "container": {"channel_id": CHANNEL, "message_ts": ts},
        "message": {"ts": ts},
        "actions": [element],
    }
    return ("payload=" + urllib.parse.quote(json.dumps(payload))).encode()


# --- the harness --------------------------------------------------------------------------------


@dataclass
class HarnessConfig:
    workers: int = 3  # concurrent function instances (deploy: event_max_instances = 3)
    scale: float = 1.0  # real seconds per virtual second
    slack_posts_per_second: float | None = 1.0  # per channel; None: unlimited
    slack_updates_per_minute: float | None = 50.0  # chat.update, Tier 3
    slack_history_per_minute: float | None = 50.0  # conversations.history / .replies, Tier 3
    logging_quota_per_minute: int | None = 60  # the project's quota, enforced by the replay
    logging_budget_per_minute: int = 15  # LOGGING_READS_PER_MINUTE of each instance
    max_attempts: int = 20
    slack_timeout: int = 5
    api_timeout: float = 5.0
    via_framework: bool = False  # deliver as HTTP requests through functions-framework
    clicks: list[tuple[str, str]] = field(default_factory=list)  # (job, action) once it opens
    # The virtual clock's wall time at the start (default: now). Anything that depends on the
    # wall clock (the digest's 10-minute windows) is then the same on every run.
    start: datetime | None = None


@dataclass
class RunReport:
    config: HarnessConfig
    plan: Plan
    messages: list[Message_]
    posted: list[Posted]
    edits: list[Posted]
    wall_seconds: float
    virtual_seconds: float
    first_arrival: float
    last_arrival: float
    last_post: float
    google_requests: dict[str, int]
    slack_requests: dict[str, int]
    slack_refused: dict[str, int]
    store_calls: dict[str, int]
    budget_refused: int
    logging_quota_refusals: int
    unhandled: list[str]
    held: set[str]
    dead_letters: list[str]

    # --- accounting ---
    def mentions(self) -> dict[str, int]:
        """How many accepted posts name each failed execution."""
        counts: Counter[str] = Counter()
        for p in self.posted:
            counts.update(self.named_in(p.body()))
        return {name: counts.get(name, 0) for name in self.plan.failed_executions}

    @functools.cached_property
    def _names(self) -> re.Pattern[str]:
        names = self.plan.failed_executions
        return re.compile("|".join(sorted(map(re.escape, names), key=len, reverse=True)))

    def named_in(self, body: str) -> set[str]:
        """The failed executions a message names (the longest name wins: "job-1" is not in
        "job-10")."""
        return set(self._names.findall(body))

    def account(self) -> dict[str, list[str]]:
        """Each failed execution: posted once (alert or reply) or held; nothing else."""
        mentions = self.mentions()
        return {
            "posted": sorted(n for n, c in mentions.items() if c == 1 and n not in self.held),
            "held": sorted(n for n in self.held if mentions.get(n, 0) == 0),
            "duplicated": sorted(n for n, c in mentions.items() if c > 1),
            "lost": sorted(n for n, c in mentions.items() if c == 0 and n not in self.held),
            "posted_and_held": sorted(n for n in self.held if mentions.get(n, 0) > 0),
        }

    @property
    def top_level(self) -> list[Posted]:
        return [p for p in self.posted if p.top_level]

    @property
    def catch_up_seconds(self) -> float:
        """From the first failure's arrival to the last message the channel got."""
        return max(0.0, self.last_post - self.first_arrival)

    def last_post_story(self) -> list[str]:
        """Why the channel caught up when it did: the last message, the executions it names, and
        each delivery of them (when, and what it came to)."""
        if not self.posted:
            return []
        last = max(self.posted, key=lambda p: p.at)
        named = self.named_in(last.body())
        kind = "alert" if last.thread_ts is None else "reply"
        lines = [f"last message: a {kind} at {last.at:.1f} s"]
        for m in self.messages:
            if m.event.execution not in named:
                continue
            poster = " (posted it)" if m.result is not None and m.result.ts == last.ts else ""
            steps = ", ".join(f"{t:.1f} {o}" for t, o in zip(m.taken_at, m.outcomes, strict=False))
            lines.append(f"  {m.event.execution} arrived {m.event.at:.1f}{poster}: {steps}")
        return lines

    def actions(self) -> Counter[str]:
        return Counter(
            m.result.action if m.result else "ignored"
            for m in self.messages
            if m.acked_at is not None
        )


class Harness:
    def __init__(
        self,
        config: HarnessConfig,
        plan: Plan,
        *,
        store: IncidentStore | None = None,
        replay_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.plan = plan
        self.vt = VirtualTime(config.scale, base=config.start)
        self.journal = Journal()
        self.store = ObservedStore(store or MemoryStore(), self.journal)
        self.replay = GoogleReplay(
            plan.scenarios,
            logging_reads_per_minute=config.logging_quota_per_minute,
            clock=self.vt.monotonic,
            **dict(replay_options or {}),
        )
        self.slack = FakeSlack(
            posts_per_second=config.slack_posts_per_second,
            updates_per_minute=config.slack_updates_per_minute,
            history_per_minute=config.slack_history_per_minute,
            clock=self.vt.monotonic,
            wall=lambda: self.vt.now().timestamp(),  # message ts in the run's own time
        )
        self.pubsub = PubSub(self.vt, max_attempts=config.max_attempts)
        self.runtimes: list[Runtime] = []
        self.unhandled: list[str] = []
        self.click_answers: list[int] = []
        self.http: Any = None
        if config.via_framework:
            import functions_framework

            assert config.workers == 1, "one instance: functions-framework's app is per process"
            main = str(Path(__file__).resolve().parents[2] / "main.py")
            self.http = functions_framework.create_app(  # type: ignore[no-untyped-call]
                target="on_job_event", source=main
            ).test_client()
        self._stack = contextlib.ExitStack()

    # lifecycle
    def __enter__(self) -> Harness:
        self._stack.enter_context(self.replay)
        self._stack.enter_context(self.slack)
        return self

    def __exit__(self, *exc: object) -> None:
        self.pubsub.close()
        self._stack.close()

    def settings(self) -> Settings:
        return Settings(
            slack_bot_token=TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_channel=CHANNEL,
            slack_api_url=self.slack.base_url,
            incident_store="memory",
            cloud_run_emulator_host=self.replay.host,
            cloud_logging_emulator_host=self.replay.host,
            log_wait_seconds=0.0,
            api_timeout_seconds=self.config.api_timeout,
            logging_reads_per_minute=self.config.logging_budget_per_minute,
        )

    def runtime(self, *, clicks: bool = False) -> Runtime:
        """A function instance's Runtime: its own clients and read budget, the shared store."""
        from jobtriage.notify.deliver import CLICK_POLICY, SlackNotifier

        settings = self.settings()
        client = slack_client(self.slack.base_url, self.vt, timeout=self.config.slack_timeout)
        notifier = SlackNotifier(
            settings, client=client, policy=CLICK_POLICY if clicks else deliver.ALERT_POLICY
        )
        rt = Runtime(
            settings=settings,
            sources=Sources.from_settings(settings, clock=self.vt),
            store=self.store,
            notifier=ObservedNotifier(notifier, self.journal),
            clock=self.vt,
        )
        self.runtimes.append(rt)
        return rt

    def publish_plan(self, *, offset: float = 0.0) -> None:
        for event in self.plan.events:
            if offset:
                event = PlannedEvent(**{**event.__dict__, "at": event.at + offset})
            self.pubsub.publish(event)

    def deliver_once(self, msg: Message_, rt: Runtime) -> None:
        """One push delivery into the event function, answered as functions-framework would."""
        data = pubsub_data(msg.event.entry, msg.event.message_id)
        began = time.perf_counter()
        result: EventResult | None
        try:
            if self.http is not None:
                result = self._through_framework(data, msg.event.message_id)
            else:
                handled = app.handle_cloud_event(
                    PUBSUB_EVENT_TYPE, data, rt=rt, event_id=msg.event.message_id
                )
                result = handled if isinstance(handled, EventResult) else None
        except Killed:
            self.pubsub.no_answer(msg)
        except TriageError as exc:
            self.pubsub.nack(msg, f"retry:{type(exc).__name__}")
        except Exception as exc:  # a bug: functions-framework would answer 500
            self.unhandled.append(f"{type(exc).__name__}: {exc}")
            self.pubsub.nack(msg, f"crash:{type(exc).__name__}")
        else:
            self.pubsub.ack(msg, result)
        finally:
            msg.seconds.append(time.perf_counter() - began)

    def _through_framework(self, data: dict[str, Any], message_id: str) -> EventResult:
        """The delivery as an HTTP request into functions-framework and `main.on_job_event`
        (the pipeline's own result is not visible from outside: "delivered")."""
        body = {
            "specversion": "1.0",
            "id": message_id,
            "source": f"//pubsub.googleapis.com/projects/{STORM_PROJECT}/topics/jobtriage",
            "type": PUBSUB_EVENT_TYPE,
            "datacontenttype": "application/json",
            "data": data,
        }
        answer = self.http.post(
            "/", json=body, headers={"Content-Type": "application/cloudevents+json"}
        )
        if answer.status_code != 200:
            raise TransientError(f"the function answered {answer.status_code}")
        return EventResult("delivered")

    def _worker(self) -> None:
        rt = self.runtime()
        if self.http is not None:
            app._runtimes["events"] = rt  # the instance's cached Runtime (app.runtime)
        while True:
            msg = self.pubsub.take()
            if msg is None:
                return
            self.deliver_once(msg, rt)

    def _clicker(self, stop: threading.Event) -> None:
        pending = list(self.config.clicks)
        rt = self.runtime(clicks=True)
        while pending and not stop.is_set():
            for job, action in list(pending):
                opened = [i for i in self.store.inner.open_incidents(self._job_path(job)) if i.ts]
                if opened:
                    body = click_body(opened[0].id, action)
                    answer = app.handle_slack_request(
                        body, sign(body, timestamp=int(self.vt.now().timestamp())), rt=rt
                    )
                    self.click_answers.append(answer.status)
                    pending.remove((job, action))
            stop.wait(0.01)

    def _job_path(self, job: str) -> str:
        sc = next(s for s in self.plan.scenarios if s.ref.job == job)
        return sc.ref.job_path

    def run(self, *, timeout: float = 600.0) -> RunReport:
        started = time.monotonic()
        stop = threading.Event()
        threads = [
            threading.Thread(target=self._worker, name=f"instance-{i}", daemon=True)
            for i in range(self.config.workers)
        ]
        if self.config.clicks:
            threads.append(threading.Thread(target=self._clicker, args=(stop,), daemon=True))
        for t in threads:
            t.start()
        deadline = started + timeout
        for t in threads[: self.config.workers]:
            t.join(timeout=max(0.1, deadline - time.monotonic()))
        stop.set()
        for t in threads:
            t.join(timeout=5)
        self.pubsub.close()
        return self.report(time.monotonic() - started)

    def report(self, wall: float) -> RunReport:
        posted = self.slack.messages()
        edits = self.slack.messages("chat.update")
        arrivals = [m.event.at for m in self.pubsub.messages] or [0.0]
        held = {
            m.event.execution
            for m in self.pubsub.messages
            if m.result is not None and m.result.action == "hold"
        }
        google = {api.value: self.replay.count(api) for api in Api}
        slack_calls = Counter(c.method for c in self.slack.calls())
        budget_refused = sum(
            rt.sources.logs.budget.refused
            for rt in self.runtimes
            if rt.sources.logs is not None and rt.sources.logs.budget is not None
        )
        return RunReport(
            config=self.config,
            plan=self.plan,
            messages=list(self.pubsub.messages),
            posted=posted,
            edits=edits,
            wall_seconds=wall,
            virtual_seconds=self.vt.monotonic(),
            first_arrival=min(arrivals),
            last_arrival=max(arrivals),
            last_post=max((p.at for p in posted), default=0.0),
            google_requests=google,
            slack_requests=dict(slack_calls),
            slack_refused={f"{m} {c}": n for (m, c), n in self.slack.refused.items()},
            store_calls=dict(self.store.calls),
            budget_refused=budget_refused,
            logging_quota_refusals=self.replay.quota_refusals,
            unhandled=list(self.unhandled),
            held=held,
            dead_letters=[m.event.execution for m in self.pubsub.messages if m.dead],
        )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


Callback = Callable[[Harness], None]
