"""The execution's own log lines, read from Cloud Logging with a hard budget.

Reading logs is the most expensive part of a diagnosis: the project's Logging read quota is about
60 requests per minute (https://cloud.google.com/logging/quotas), shared with every dashboard and
script. So one diagnosis makes **at most two** `entries.list` calls (`MAX_REQUESTS`), each of one
page of up to 1000 entries, and a chatty execution is *sampled*, never paged without bound:

1. the tail: newest first, the last 1000 lines before the execution ended;
2. only when the tail was not the whole log: the lines that matter, oldest first — severity
   WARNING and above, Cloud Run's own `varlog/system` lines (exit codes, memory kills, timeouts),
   and stderr lines that mention an error. The two reads are merged (deduplicated by insertId) and
   put in time order; `LogStats.sampled` tells the report that it did not see everything.

Logs reach Logging a few seconds after the audit entry that triggered us. If the first read finds
nothing (or no exit line from Cloud Run yet) and the execution ended less than two minutes ago, we
wait `LOG_WAIT_SECONDS` once and read the tail again — that second read *is* the second request.
A 429 is retried once after a short back-off, also from the same budget; if Logging still refuses,
the diagnosis goes on without logs and says so.

When many jobs fail at once, two reads per diagnosis would overrun the project's quota (a storm of
200 failures wants 400 reads; the quota is 60 a minute, shared with every person reading logs).
So each instance also keeps a per-minute `ReadBudget` (LOGGING_READS_PER_MINUTE): a diagnosis it
cannot pay for is made without logs and says so ("logs skipped"), instead of taking 429s. Half of
the budget is kept for diagnoses that may open a new incident (`urgent`); a repeat of a job that
already has an open incident only reads logs while the other half lasts.

Every filter carries explicit timestamp bounds, so the backend scans only the execution's minutes
(the client library's own `list_entries` would otherwise add a silent "last 24 hours").
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from jobtriage.evidence.gaps import LOGGING_API, gap_for
from jobtriage.evidence.model import (
    RAW_LINE_CHARS,
    ExecutionRef,
    Gap,
    LogLine,
    LogStats,
    Source,
    Stream,
)
from jobtriage.redact import strip_invisible
from jobtriage.settings import Settings

PAGE_SIZE = 1000  # the API's maximum page size
MAX_REQUESTS = 2  # entries.list calls per diagnosis, retries and late-log polls included
LATE_LOGS_WINDOW = timedelta(minutes=2)  # only this soon after the end is waiting worthwhile
LAST_EXIT_BEFORE_END = timedelta(seconds=10)  # a task ends this soon after its last container
QUOTA_BACKOFF_SECONDS = 5.0
BEFORE_START = timedelta(minutes=1)
AFTER_END = timedelta(minutes=2)
# When we know nothing but the time of the audit entry: tasks may run for up to 24 h (GA limit).
UNKNOWN_START = timedelta(hours=24)

READ_SCOPE = "https://www.googleapis.com/auth/logging.read"

# stderr lines worth keeping from a chatty execution. Logging's `:` operator matches substrings.
_ERROR_WORDS = (
    "error",
    "exception",
    "traceback",
    "fatal",
    "panic",
    "denied",
    "refused",
    "failed",
    "cannot",
    "killed",
)

_TERMINAL_SYSTEM_LINES = (
    "Container called exit(",
    "Container terminated on signal",
    "Terminating task because",
)

# ANSI colour codes and C0 control characters (tab and newline excepted) say nothing to a reader
# and break matching, so they are removed on the way in.
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f]")


def build_logging_credentials(settings: Settings) -> Any:
    """Anonymous for an emulator; otherwise Application Default Credentials (read-only scope)."""
    if settings.cloud_logging_emulator_host:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    import google.auth

    credentials, _ = google.auth.default(scopes=[READ_SCOPE])
    return credentials


# --- the read budget ------------------------------------------------------------------------------


class ReadBudget:
    """At most `per_minute` entries.list calls in any 60 seconds, from this instance.

    A sliding window, not a token bucket: with N instances each allowed `per_minute`, the project
    never sees more than N × `per_minute` reads in any minute, which is what its quota counts.
    `reserve` of them are kept for urgent reads (a diagnosis that may open an incident).
    """

    def __init__(
        self,
        per_minute: int,
        *,
        reserve: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 1:
            raise ValueError("a read budget needs at least one read a minute")
        self.per_minute = per_minute
        self.reserve = per_minute // 2 if reserve is None else max(0, min(reserve, per_minute))
        self._clock = clock
        self._reads: deque[float] = deque()
        self._lock = threading.Lock()
        self.refused = 0  # reads not made because of the budget (for figures and logs)

    def take(self, *, urgent: bool) -> bool:
        """Spend one read if the budget allows it now."""
        with self._lock:
            now = self._clock()
            while self._reads and now - self._reads[0] >= 60.0:
                self._reads.popleft()
            limit = self.per_minute if urgent else self.per_minute - self.reserve
            if len(self._reads) >= limit:
                self.refused += 1
                return False
            self._reads.append(now)
            return True


class _OverBudget(Exception):
    """Raised inside `CloudLogging.read` when the budget refuses a read."""


class OverBudget(Exception):
    """Raised by `CloudLogging.query` when the budget refuses a read."""


def _skipped_gap(budget: ReadBudget, *, urgent: bool) -> Gap:
    if urgent:
        reason = (
            f"logs skipped: this instance's Logging read budget ({budget.per_minute} a minute) "
            "is used up by other failures"
        )
        reason_ko = (
            f"로그 생략: 이 인스턴스의 Logging 읽기 예산(분당 {budget.per_minute}회)을 다른 "
            "실패들이 모두 사용함"
        )
    else:
        reason = (
            "logs skipped: Logging reads are kept for new incidents while many jobs fail "
            f"(budget {budget.per_minute} a minute, half reserved)"
        )
        reason_ko = (
            "로그 생략: 여러 Job이 동시에 실패하는 동안 Logging 읽기는 새 인시던트에 남겨 둠"
            f"(예산 분당 {budget.per_minute}회, 절반 예약)"
        )
    return Gap(
        Source.LOGS,
        reason,
        "open the Logs Explorer link; raise LOGGING_READS_PER_MINUTE if the project's Logging "
        "read quota has room (it is shared with everyone reading logs)",
        reason_ko=reason_ko,
        fix_ko="로그 탐색기 링크를 열기; 프로젝트의 Logging 읽기 할당량에 여유가 있으면 "
        "LOGGING_READS_PER_MINUTE를 늘리기(모든 로그 조회와 공유됨)",
    )


# --- filters --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogWindow:
    start: datetime
    end: datetime


def window_for(
    *, start: datetime | None, end: datetime | None, event_time: datetime | None, now: datetime
) -> LogWindow:
    """Execution start − 1 min .. completion + 2 min; around the event when the run is unknown."""
    end = end or event_time or now
    start = start or (end - UNKNOWN_START)
    return LogWindow(start - BEFORE_START, end + AFTER_END)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def base_filter(ref: ExecutionRef, window: LogWindow) -> str:
    """Exactly this execution's entries (the clauses of Cloud Run's own `logUri`), time-bounded."""
    clauses = (
        *ref.log_clauses,
        f'timestamp>="{_ts(window.start)}"',
        f'timestamp<="{_ts(window.end)}"',
    )
    return "\nAND ".join(clauses)


def important_filter(ref: ExecutionRef, window: LogWindow) -> str:
    """The base filter narrowed to the lines a diagnosis cannot do without."""
    words = " OR ".join(f"textPayload:{_quoted(w)}" for w in _ERROR_WORDS)
    return (
        base_filter(ref, window)
        + '\nAND (severity>=WARNING OR logName:"varlog%2Fsystem"'
        + f' OR (logName:"stderr" AND ({words})))'
    )


# --- entries → lines ------------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """Untrusted log text made safe to keep: valid Unicode, no control or invisible characters,
    bounded to `RAW_LINE_CHARS` — `Evidence` redacts it and only then clips it."""
    text = text[:RAW_LINE_CHARS].encode("utf-8", "replace").decode("utf-8")
    return strip_invisible(_CONTROL.sub("", text))


def stream_of(log_name: str | None) -> Stream:
    name = unquote(log_name or "")
    if name.endswith("run.googleapis.com/stdout"):
        return Stream.STDOUT
    if name.endswith("run.googleapis.com/stderr"):
        return Stream.STDERR
    if name.endswith("run.googleapis.com/varlog/system"):
        return Stream.SYSTEM
    return Stream.OTHER


def payload_text(payload: Any) -> str:
    """The readable text of an entry's payload.

    jsonPayload → its message field, else compact JSON. protoPayload (audit entries) → only the
    status message: an audit entry embeds the whole execution, plain env values included.
    """
    if payload is None:
        return ""
    if isinstance(payload, str):
        return payload
    if isinstance(payload, dict):
        if "@type" in payload:
            status = payload.get("status")
            message = status.get("message") if isinstance(status, dict) else None
            return str(message or payload.get("methodName") or "")
        for key in ("message", "msg", "textPayload"):
            value = payload.get(key)
            if isinstance(value, str) and value:
                return value
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)
    return str(payload)


def _int_label(labels: dict[str, Any], key: str) -> int | None:
    value = labels.get(key)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    line: LogLine
    insert_id: str


def _entry(
    *,
    insert_id: str | None,
    log_name: str | None,
    labels: dict[str, Any] | None,
    severity: str | None,
    timestamp: datetime | None,
    payload: Any,
) -> _Entry:
    labels = labels or {}
    text = clean_text(payload_text(payload))
    line = LogLine(
        timestamp=timestamp,
        stream=stream_of(log_name),
        severity=(severity or "DEFAULT").upper(),
        text=text,
        task_index=_int_label(labels, "run.googleapis.com/task_index"),
        attempt=_int_label(labels, "run.googleapis.com/task_attempt"),
    )
    key = insert_id or f"{timestamp}|{log_name}|{text}"
    return _Entry(key, line, insert_id or "")


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as Logging writes it (nanoseconds allowed); None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("z", "Z")
    match = re.match(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$", text)
    if not match:
        return None
    base, frac, zone = match.groups()
    micro = (frac or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if zone in (None, "Z") else zone
    try:
        return datetime.fromisoformat(f"{base.replace(' ', 'T')}.{micro}{zone}").astimezone(UTC)
    except ValueError:
        return None


def line_from_resource(resource: dict[str, Any]) -> _Entry:
    """From a LogEntry in its REST/JSON form (what `gcloud logging read --format=json` prints)."""
    payload: Any = None
    for key in ("textPayload", "jsonPayload", "protoPayload"):
        if key in resource:
            payload = resource[key]
            break
    labels = resource.get("labels")
    return _entry(
        insert_id=resource.get("insertId") if isinstance(resource.get("insertId"), str) else None,
        log_name=resource.get("logName") if isinstance(resource.get("logName"), str) else None,
        labels=labels if isinstance(labels, dict) else None,
        severity=resource.get("severity") if isinstance(resource.get("severity"), str) else None,
        timestamp=parse_timestamp(resource.get("timestamp")),
        payload=payload,
    )


def merge(entries: Iterable[_Entry]) -> tuple[LogLine, ...]:
    """Deduplicate by insertId and put in time order (insertId breaks ties, as Logging does)."""
    unique: dict[str, _Entry] = {}
    for item in entries:
        unique.setdefault(item.key, item)
    floor = datetime.min.replace(tzinfo=UTC)
    ordered = sorted(unique.values(), key=lambda e: (e.line.timestamp or floor, e.insert_id))
    return tuple(e.line for e in ordered)


# --- the reader -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogRead:
    lines: tuple[LogLine, ...] = ()
    stats: LogStats = field(default_factory=LogStats)
    gaps: tuple[Gap, ...] = ()


def _looks_complete(lines: Iterable[LogLine], ended_at: datetime | None) -> bool:
    """Whether Cloud Run's line for the *last* attempt's end has arrived.

    Earlier attempts' exit lines do not count: the task ends a few seconds after its last
    container does, so the line we want lies within `LAST_EXIT_BEFORE_END` of the end.
    """
    for line in lines:
        if line.stream is Stream.SYSTEM and line.text.startswith(_TERMINAL_SYSTEM_LINES):
            if ended_at is None or line.timestamp is None:
                return True
            if line.timestamp >= ended_at - LAST_EXIT_BEFORE_END:
                return True
    return False


def _is_quota(exc: BaseException) -> bool:
    return getattr(exc, "code", None) == 429


class CloudLogging:
    """Reads one execution's log lines within `MAX_REQUESTS` entries.list calls.

    The request goes through the real client's JSON connection (endpoint, credentials, headers,
    error mapping), but as one explicit POST per page: the client's own `list_entries` pager
    follows page tokens by itself and, worse, builds a `Logger` per log name, which asks the
    metadata server where it runs — hidden network calls outside our timeout and budget.
    """

    def __init__(
        self,
        credentials: Any | Callable[[], Any],
        *,
        endpoint: str | None = None,
        timeout: float,
        budget: ReadBudget | None = None,
    ) -> None:
        self._credentials = credentials
        self._endpoint = endpoint
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self.timeout = timeout
        self.budget = budget

    @classmethod
    def from_settings(
        cls, settings: Settings, *, budget_clock: Callable[[], float] = time.monotonic
    ) -> CloudLogging:
        host = settings.cloud_logging_emulator_host
        per_minute = settings.logging_reads_per_minute
        return cls(
            lambda: build_logging_credentials(settings),
            endpoint=f"http://{host}" if host else None,
            timeout=settings.api_timeout_seconds,
            budget=ReadBudget(per_minute, clock=budget_clock) if per_minute else None,
        )

    def _client(self, project: str) -> Any:
        with self._lock:
            if callable(self._credentials):
                self._credentials = self._credentials()
            client = self._clients.get(project)
            if client is None:
                from google.cloud import logging as gcl

                options = {"api_endpoint": self._endpoint} if self._endpoint else None
                client = gcl.Client(  # type: ignore[no-untyped-call]
                    project=project,
                    credentials=self._credentials,
                    _use_grpc=False,
                    client_options=options,
                )
                self._clients[project] = client
            return client

    def _page(self, ref: ExecutionRef, filter_: str, order_by: str) -> tuple[list[_Entry], bool]:
        """One entries.list request: (entries, whether more pages exist)."""
        body = {
            "resourceNames": [f"projects/{ref.project}"],
            "filter": filter_,
            "orderBy": order_by,
            "pageSize": PAGE_SIZE,
        }
        response = self._client(ref.project).logging_api.api_request(
            method="POST", path="/entries:list", data=body, timeout=self.timeout
        )
        if not isinstance(response, dict):
            raise ValueError("entries.list answered something that is not a JSON object")
        items = response.get("entries") or []
        entries = [line_from_resource(item) for item in items if isinstance(item, dict)]
        return entries, bool(response.get("nextPageToken"))

    def query(
        self, project: str, filter_: str, *, order_by: str, page_size: int
    ) -> list[dict[str, Any]]:
        """One entries.list page of raw LogEntries, within the read budget (another source's
        read: Admin Activity audit entries). Raises the API's errors, or `OverBudget`."""
        if self.budget is not None and not self.budget.take(urgent=True):
            raise OverBudget("this instance's Logging read budget is used up")
        body = {
            "resourceNames": [f"projects/{project}"],
            "filter": filter_,
            "orderBy": order_by,
            "pageSize": page_size,
        }
        response = self._client(project).logging_api.api_request(
            method="POST", path="/entries:list", data=body, timeout=self.timeout
        )
        if not isinstance(response, dict):
            raise ValueError("entries.list answered something that is not a JSON object")
        return [e for e in response.get("entries") or [] if isinstance(e, dict)]

    def read(
        self,
        ref: ExecutionRef,
        *,
        window: LogWindow,
        ended_at: datetime | None,
        failed: bool,
        wait_seconds: float,
        sleep: Callable[[float], None],
        clock: Callable[[], datetime],
        urgent: bool = True,
    ) -> LogRead:
        """Read, sample and merge; never raises (a refusal becomes a gap).

        `urgent`: this diagnosis may open a new incident, so it may use the budget's reserve.
        """
        requests_made = 0
        fetched = 0
        sampled = False
        skipped = False
        collected: list[_Entry] = []

        def call(filter_: str, order_by: str) -> tuple[list[_Entry], bool]:
            nonlocal requests_made, fetched
            if self.budget is not None and not self.budget.take(urgent=urgent):
                raise _OverBudget
            requests_made += 1
            entries, more = self._page(ref, filter_, order_by)
            fetched += len(entries)
            return entries, more

        def done(*gaps: Gap) -> LogRead:
            lines = merge(collected)
            stats = LogStats(
                fetched=fetched,
                kept=len(lines),
                requests=requests_made,
                sampled=sampled,
                skipped=skipped,
            )
            return LogRead(lines, stats, tuple(gaps))

        def refused(exc: BaseException) -> LogRead:
            nonlocal skipped
            if isinstance(exc, _OverBudget) and self.budget is not None:
                skipped = not requests_made
                return done(_skipped_gap(self.budget, urgent=urgent))
            return done(gap_for(Source.LOGS, exc, api=LOGGING_API, ref=ref, timeout=self.timeout))

        tail = base_filter(ref, window)
        try:
            first, more = call(tail, "timestamp desc")
        except Exception as exc:
            if isinstance(exc, _OverBudget) or not _is_quota(exc):
                return refused(exc)
            # Quota is per minute and shared: one short back-off, then give up on logs.
            sleep(min(QUOTA_BACKOFF_SECONDS, max(wait_seconds, 1.0)))
            try:
                first, more = call(tail, "timestamp desc")
            except Exception as again:
                return refused(again)
            collected.extend(first)
            sampled = more
            return done()
        collected.extend(first)
        sampled = more
        if requests_made >= MAX_REQUESTS:
            return done()

        lines_so_far = [e.line for e in first]
        recent = ended_at is not None and clock() - ended_at < LATE_LOGS_WINDOW
        late = not lines_so_far or (failed and not _looks_complete(lines_so_far, ended_at))
        try:
            if late and recent and wait_seconds > 0:
                sleep(wait_seconds)
                second, more = call(tail, "timestamp desc")
                collected.extend(second)
                sampled = more
            elif more:
                second, _ = call(important_filter(ref, window), "timestamp asc")
                collected.extend(second)
        except Exception as exc:
            if isinstance(exc, _OverBudget):
                if first:
                    return done()  # the tail is in hand; the budget only saves the extra read
                return refused(exc)
            if first:
                # The tail is already in hand; the report says the rest is missing.
                gap = gap_for(Source.LOGS, exc, api=LOGGING_API, ref=ref, timeout=self.timeout)
                return done(
                    Gap(
                        gap.source,
                        f"partial logs: {gap.reason}",
                        gap.fix,
                        reason_ko=f"일부 로그만 읽음: {gap.says('ko')[0]}",
                        fix_ko=gap.says("ko")[1],
                    )
                )
            return refused(exc)
        return done()
