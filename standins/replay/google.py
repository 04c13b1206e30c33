"""Recorded Google API answers, served on 127.0.0.1 for the real client libraries.

`GoogleReplay` answers like `run.googleapis.com` v2 (get execution, list tasks, get job, list
executions) and `logging.googleapis.com` v2 (`POST /v2/entries:list`) from one scenario folder —
or from several at once (a list of scenarios: many jobs failing together, as in a failure storm):

    event.json       the system_event audit LogEntry Cloud Run wrote (what Pub/Sub delivers)
    execution.json   GET  …/jobs/J/executions/E           (v2 REST JSON)
    tasks.json       GET  …/jobs/J/executions/E/tasks     (a list of Tasks, or {"tasks": [...]})
    job.json         GET  …/jobs/J
    executions.json  GET  …/jobs/J/executions             (newest first, the failed one included)
    logs.json        LogEntries of the execution (and possibly others: the filter must pick)
    audit.json       Admin Activity LogEntries (job edits, SetIamPolicy), served with the logs

Any file may be missing; the API then answers 404 (or an empty list). Entries.list honours the
filter (see `logfilter`), `orderBy`, `pageSize` and `pageToken`, and hides entries whose
`receiveTimestamp` is later than the replay's `log_clock` — that is how late logs are replayed.

Faults are injected per API (`inject`): 403 / 404 / 429 (with the quota error body Google sends)
/ 500 / 503, a delay, or both, for a number of calls or for good. A per-minute quota of Logging
reads can be set to rehearse a storm of failures. Every request is recorded; `count(api)` says how
many each API received.

    with GoogleReplay(Scenario.embedded("seed")) as replay:
        settings = replace(settings, cloud_run_emulator_host=replay.host,
                           cloud_logging_emulator_host=replay.host)
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from jobtriage.evidence.model import ExecutionRef
from standins.replay.logfilter import FilterError, compile_filter, parse_time
from standins.server import FakeServer, Reply, Request

SCENARIO_FILES = ("event", "execution", "tasks", "job", "executions", "logs", "audit")
MAX_PAGE_SIZE = 1000  # entries.list rejects more (LogEntries.list reference)
DEFAULT_LOG_PAGE_SIZE = 50
DEFAULT_RUN_PAGE_SIZE = 100


class Api(StrEnum):
    """The API methods the replay serves; fault injection and request counts use these."""

    GET_EXECUTION = "run.executions.get"
    LIST_TASKS = "run.tasks.list"
    GET_JOB = "run.jobs.get"
    LIST_EXECUTIONS = "run.executions.list"
    LIST_ENTRIES = "logging.entries.list"


RUN_APIS = (Api.GET_EXECUTION, Api.LIST_TASKS, Api.GET_JOB, Api.LIST_EXECUTIONS)

# The IAM permission each method checks: quoted in a 403 exactly as the APIs do.
_PERMISSION = {
    Api.GET_EXECUTION: "run.executions.get",
    Api.LIST_TASKS: "run.tasks.list",
    Api.GET_JOB: "run.jobs.get",
    Api.LIST_EXECUTIONS: "run.executions.list",
    Api.LIST_ENTRIES: "logging.logEntries.list",
}


class ScenarioError(ValueError):
    """A scenario folder is missing or holds a file that is not the JSON it should be."""


def _read_json(source: Traversable, name: str) -> Any:
    item = source / f"{name}.json"
    if not item.is_file():
        return None
    try:
        return json.loads(item.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{name}.json in {source}: not valid JSON ({exc})") from exc


def _as_list(value: Any, key: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, dict):
        value = value.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"{key}: expected a list")
    return [v for v in value if isinstance(v, dict)]


@dataclass
class Scenario:
    """One recorded incident: what each API answered about it."""

    event: dict[str, Any] | None = None
    execution: dict[str, Any] | None = None
    tasks: list[dict[str, Any]] = field(default_factory=list)
    job: dict[str, Any] | None = None
    executions: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    name: str = ""
    # Admin Activity entries (job edits, SetIamPolicy): entries.list serves them with the logs.
    audit: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path | Traversable) -> Scenario:
        source: Traversable = folder
        if not source.is_dir():
            raise ScenarioError(f"no scenario folder at {folder}")
        data = {name: _read_json(source, name) for name in SCENARIO_FILES}
        return cls(
            event=data["event"],
            execution=data["execution"],
            tasks=_as_list(data["tasks"], "tasks"),
            job=data["job"],
            executions=_as_list(data["executions"], "executions"),
            logs=_as_list(data["logs"], "entries"),
            audit=_as_list(data["audit"], "entries"),
            name=source.name,
        )

    @classmethod
    def embedded(cls, name: str = "seed") -> Scenario:
        """A recorded scenario of `standins/replay/scenarios/<name>/`."""
        return cls.load(resources.files("standins.replay") / "scenarios" / name)

    @property
    def ref(self) -> ExecutionRef:
        """The failed execution this scenario is about (from the event, else the execution)."""
        if self.event is not None:
            res = self.event.get("resource", {}).get("labels", {})
            labels = self.event.get("labels", {})
            return ExecutionRef(
                project=res["project_id"],
                region=res["location"],
                job=res["job_name"],
                execution=labels["run.googleapis.com/execution_name"],
            )
        if self.execution is not None:
            m = _EXECUTION_NAME.match(self.execution.get("name", ""))
            if m:
                return ExecutionRef(*m.groups())
        raise ScenarioError("scenario has neither event.json nor a named execution.json")


_EXECUTION_NAME = re.compile(
    r"^projects/([^/]+)/locations/([^/]+)/jobs/([^/]+)/executions/([^/]+)$"
)
_JOB = r"projects/[^/]+/locations/[^/]+/jobs/[^/]+"
_ROUTES = (
    (Api.LIST_TASKS, "GET", re.compile(rf"^/v2/({_JOB}/executions/[^/]+)/tasks$")),
    (Api.GET_EXECUTION, "GET", re.compile(rf"^/v2/({_JOB}/executions/[^/]+)$")),
    (Api.LIST_EXECUTIONS, "GET", re.compile(rf"^/v2/({_JOB})/executions$")),
    (Api.GET_JOB, "GET", re.compile(rf"^/v2/({_JOB})$")),
    (Api.LIST_ENTRIES, "POST", re.compile(r"^/v2/(entries:list)$")),
)


@dataclass
class Fault:
    """What an API does instead of answering: an HTTP error, a delay, or both."""

    status: int = 0  # 0: answer normally (after `delay`)
    delay: float = 0.0
    times: int | None = None  # how many calls it applies to; None: all of them


def error_body(status: int, message: str, *, reason: str | None = None) -> dict[str, Any]:
    """Google's JSON error shape (https://cloud.google.com/apis/design/errors#http_mapping)."""
    names = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
        504: "DEADLINE_EXCEEDED",
    }
    body: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": names.get(status, "UNKNOWN"),
    }
    if reason:
        body["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
            }
        ]
    return {"error": body}


def quota_body(service: str, project_number: str, limit: int | None) -> dict[str, Any]:
    """The 429 a per-minute read quota produces, as Logging and Cloud Run send it."""
    is_logging = service.startswith("logging")
    limit_name = (
        "ReadRequestsPerMinutePerProject" if is_logging else "ReadPerMinutePerProjectRegion"
    )
    limit_text = "Read requests per minute" if is_logging else "Read requests per minute per region"
    metric = f"{service}/read_requests" if is_logging else f"{service}/read_regional"
    return {
        "error": {
            "code": 429,
            "message": (
                f"Quota exceeded for quota metric 'Read requests' and limit '{limit_text}' of "
                f"service '{service}' for consumer 'project_number:{project_number}'."
            ),
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "RATE_LIMIT_EXCEEDED",
                    "domain": "googleapis.com",
                    "metadata": {
                        "service": service,
                        "quota_metric": metric,
                        "quota_limit": limit_name,
                        "quota_limit_value": str(limit if limit is not None else 60),
                        "consumer": f"projects/{project_number}",
                        "quota_location": "global",
                    },
                },
                {
                    "@type": "type.googleapis.com/google.rpc.Help",
                    "links": [
                        {
                            "description": "Request a higher quota limit.",
                            "url": "https://cloud.google.com/docs/quotas/help/request_increase",
                        }
                    ],
                },
            ],
        }
    }


def _page(
    items: list[dict[str, Any]], query: Mapping[str, Any], key: str, default_size: int
) -> dict[str, Any]:
    try:
        size = int(query.get("pageSize") or default_size)
        offset = int(query.get("pageToken") or 0)
    except (TypeError, ValueError):
        raise FilterError("pageSize and pageToken must be numbers here") from None
    if size <= 0:
        size = default_size
    chunk = items[offset : offset + size]
    body: dict[str, Any] = {key: chunk}
    if offset + size < len(items):
        body["nextPageToken"] = str(offset + size)
    return body


def _entry_sort_key(entry: Mapping[str, Any]) -> tuple[datetime, str]:
    ts = parse_time(str(entry.get("timestamp") or "")) or datetime.min.replace(tzinfo=UTC)
    return ts, str(entry.get("insertId") or "")


class GoogleReplay:
    """A local stand-in for the Cloud Run Admin API v2 and the Logging API v2.

    `log_clock`: the replay's "now" for Logging; entries received after it are not yet visible.
    `logging_reads_per_minute`: a quota like the real one; over it, entries.list answers 429.
    `clock`: monotonic seconds for that quota window (tests pass a fake).
    """

    def __init__(
        self,
        scenario: Scenario | Sequence[Scenario],
        *,
        log_clock: Callable[[], datetime] | None = None,
        logging_reads_per_minute: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        project_number: str = "502937184615",
    ) -> None:
        scenarios = [scenario] if isinstance(scenario, Scenario) else list(scenario)
        if not scenarios:
            raise ScenarioError("a replay needs at least one scenario")
        self.scenarios = tuple(scenarios)
        self.scenario = scenarios[0] if len(scenarios) == 1 else _merged(scenarios)
        self._logs_by_execution = _index_logs(self.scenario.logs)
        self._jobs = {
            str(sc.job.get("name")): sc.job for sc in reversed(scenarios) if sc.job is not None
        }
        self.log_clock = log_clock
        self.logging_reads_per_minute = logging_reads_per_minute
        self.project_number = project_number
        self._clock = clock
        self._faults: dict[Api, Fault] = {}
        self._reads: deque[float] = deque()
        self.quota_refusals = 0  # entries.list calls answered 429 by the per-minute quota
        self._calls: list[tuple[Api | None, Request]] = []
        self._lock = threading.Lock()
        self._server = FakeServer(self._respond)

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> GoogleReplay:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    def start(self) -> GoogleReplay:
        return self.__enter__()

    def stop(self) -> None:
        self.__exit__(None, None, None)

    @property
    def host(self) -> str:
        """host:port for CLOUD_RUN_EMULATOR_HOST and CLOUD_LOGGING_EMULATOR_HOST."""
        return self._server.host

    @property
    def url(self) -> str:
        return self._server.url

    # --- faults and records --------------------------------------------------------------------

    def inject(
        self, api: Api, *, status: int = 0, delay: float = 0.0, times: int | None = None
    ) -> None:
        """Make `api` fail with `status` and/or answer after `delay` s, for `times` calls."""
        with self._lock:
            self._faults[api] = Fault(status=status, delay=delay, times=times)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def requests(self, api: Api | None = None) -> list[Request]:
        with self._lock:
            return [req for kind, req in self._calls if api is None or kind == api]

    def count(self, api: Api) -> int:
        return len(self.requests(api))

    # --- dispatch -----------------------------------------------------------------------------

    def _respond(self, req: Request) -> Reply:
        api: Api | None = None
        match: re.Match[str] | None = None
        for candidate, method, pattern in _ROUTES:
            match = pattern.match(req.path)
            if match and req.method == method:
                api = candidate
                break
        with self._lock:
            self._calls.append((api, req))
            fault = self._faults.get(api) if api is not None else None
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[api]  # type: ignore[arg-type]
        if api is None or match is None:
            return Reply(
                404, error_body(404, f"The requested URL {req.path} was not found on this server.")
            )
        delay = fault.delay if fault else 0.0
        if fault is not None and fault.status:
            reply = self._fault_reply(api, fault.status, match.group(1))
        elif api is Api.LIST_ENTRIES and self._over_quota():
            reply = Reply(
                429,
                quota_body(
                    "logging.googleapis.com", self.project_number, self.logging_reads_per_minute
                ),
            )
        else:
            try:
                reply = self._answer(api, match.group(1), req)
            except FilterError as exc:
                reply = Reply(400, error_body(400, f"Invalid request: {exc}"))
        reply.delay = max(reply.delay, delay)
        return reply

    def _over_quota(self) -> bool:
        limit = self.logging_reads_per_minute
        if limit is None:
            return False
        now = self._clock()
        with self._lock:
            while self._reads and now - self._reads[0] >= 60.0:
                self._reads.popleft()
            if len(self._reads) >= limit:
                self.quota_refusals += 1
                return True
            self._reads.append(now)
            return False

    def _fault_reply(self, api: Api, status: int, name: str) -> Reply:
        if status == 429:
            service = "logging.googleapis.com" if api is Api.LIST_ENTRIES else "run.googleapis.com"
            return Reply(
                429, quota_body(service, self.project_number, self.logging_reads_per_minute)
            )
        if status == 403:
            resource = "projects/" + self.scenario.ref.project if api is Api.LIST_ENTRIES else name
            message = (
                f"Permission '{_PERMISSION[api]}' denied on resource '{resource}' "
                "(or it may not exist)."
            )
            return Reply(403, error_body(403, message, reason="IAM_PERMISSION_DENIED"))
        if status == 404:
            return Reply(404, error_body(404, _not_found(name)))
        if status == 500:
            return Reply(500, error_body(500, "Internal error encountered."))
        if status == 503:
            return Reply(503, error_body(503, "The service is currently unavailable."))
        return Reply(status, error_body(status, f"Injected HTTP {status}."))

    def _answer(self, api: Api, name: str, req: Request) -> Reply:
        query = {k: v[0] for k, v in req.query.items() if v}
        sc = self.scenario
        if api is Api.GET_EXECUTION:
            for candidate in ([sc.execution] if sc.execution else []) + sc.executions:
                if candidate.get("name") == name:
                    return Reply(200, candidate)
            return Reply(404, error_body(404, _not_found(name)))
        if api is Api.GET_JOB:
            job = self._jobs.get(name)
            if job is not None:
                return Reply(200, job)
            return Reply(404, error_body(404, _not_found(name)))
        if api is Api.LIST_TASKS:
            tasks = [t for t in sc.tasks if str(t.get("name", "")).startswith(name + "/tasks/")]
            tasks.sort(key=lambda t: int(t.get("index") or 0))
            return Reply(200, _page(tasks, query, "tasks", DEFAULT_RUN_PAGE_SIZE))
        if api is Api.LIST_EXECUTIONS:
            known = [
                e for e in sc.executions if str(e.get("name", "")).startswith(name + "/executions/")
            ]
            if not known and name not in self._jobs:
                return Reply(404, error_body(404, _not_found(name)))
            return Reply(200, _page(known, query, "executions", DEFAULT_RUN_PAGE_SIZE))
        return self._entries(req)

    def _entries(self, req: Request) -> Reply:
        try:
            body = req.json() or {}
        except ValueError:
            return Reply(400, error_body(400, "Invalid JSON payload received."))
        if not isinstance(body, dict):
            return Reply(400, error_body(400, "Invalid JSON payload received."))
        size = body.get("pageSize", DEFAULT_LOG_PAGE_SIZE)
        if not isinstance(size, int) or size < 0 or size > MAX_PAGE_SIZE:
            return Reply(
                400, error_body(400, f"Invalid page_size: {size}; must be in [0, {MAX_PAGE_SIZE}].")
            )
        names = body.get("resourceNames") or []
        projects = {
            n.split("/", 1)[1] for n in names if isinstance(n, str) and n.startswith("projects/")
        }
        order = body.get("orderBy") or "timestamp asc"
        if order not in ("timestamp asc", "timestamp desc"):
            return Reply(400, error_body(400, f"Invalid order_by: {order}"))
        predicate = compile_filter(str(body.get("filter") or ""))
        now = self.log_clock() if self.log_clock else None
        picked = []
        for entry in self._candidates(str(body.get("filter") or "")):
            project = str(entry.get("logName", "")).split("/")[1] if entry.get("logName") else ""
            if project not in projects:
                continue
            if now is not None:
                received = parse_time(
                    str(entry.get("receiveTimestamp") or entry.get("timestamp") or "")
                )
                if received is not None and received > now:
                    continue
            if predicate(entry):
                picked.append(entry)
        picked.sort(key=_entry_sort_key, reverse=order.endswith("desc"))
        return Reply(
            200,
            _page(
                picked,
                {"pageSize": size or DEFAULT_LOG_PAGE_SIZE, "pageToken": body.get("pageToken")},
                "entries",
                DEFAULT_LOG_PAGE_SIZE,
            ),
        )

    def _candidates(self, filter_: str) -> list[dict[str, Any]]:
        """The entries a filter can match at all: those of the execution it names, if it names
        one (the filter itself is still applied to each)."""
        named = _FILTER_EXECUTION.search(filter_)
        if named is None:
            return self.scenario.logs + self.scenario.audit
        return self._logs_by_execution.get(named.group(1), [])


_FILTER_EXECUTION = re.compile(
    r'labels\."run\.googleapis\.com/execution_name"\s*=\s*"([a-z0-9-]+)"'
)
_EXECUTION_LABEL = "run.googleapis.com/execution_name"


def _index_logs(logs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_execution: dict[str, list[dict[str, Any]]] = {}
    for entry in logs:
        labels = entry.get("labels")
        name = labels.get(_EXECUTION_LABEL) if isinstance(labels, dict) else None
        if isinstance(name, str):
            by_execution.setdefault(name, []).append(entry)
    return by_execution


def _merged(scenarios: Sequence[Scenario]) -> Scenario:
    """One scenario holding what several say: every execution (each once, newest first), every
    task and every log entry. Jobs are looked up by name (`GoogleReplay._jobs`)."""
    executions: dict[str, dict[str, Any]] = {}
    for sc in scenarios:
        for candidate in ([sc.execution] if sc.execution else []) + sc.executions:
            executions.setdefault(str(candidate.get("name", "")), candidate)
    ordered = sorted(
        executions.values(), key=lambda e: str(e.get("createTime") or ""), reverse=True
    )
    tasks: dict[str, dict[str, Any]] = {}
    for sc in scenarios:
        for task in sc.tasks:
            tasks.setdefault(str(task.get("name", "")), task)
    return Scenario(
        event=scenarios[0].event,
        execution=None,
        tasks=list(tasks.values()),
        job=scenarios[0].job,
        executions=ordered,
        logs=[entry for sc in scenarios for entry in sc.logs],
        audit=[entry for sc in scenarios for entry in sc.audit],
        name="+".join(sc.name for sc in scenarios[:3]) + ("+…" if len(scenarios) > 3 else ""),
    )


def _not_found(name: str) -> str:
    parts = name.split("/")
    kind = "EXECUTION" if "/executions/" in name else "JOB"
    region = parts[3] if len(parts) > 3 else "?"
    project = parts[1] if len(parts) > 1 else "?"
    return (
        f"Resource '{parts[-1]}' of kind '{kind}' in region '{region}' in project '{project}' "
        "does not exist."
    )
