"""The Cloud Run Admin API v2: the failed execution, its tasks, the job and its last success.

The real `google-cloud-run` clients over REST. With `CLOUD_RUN_EMULATOR_HOST` set they talk plain
HTTP to that host with anonymous credentials (the replay, tests); otherwise they use Application
Default Credentials (the function's service account needs `roles/run.viewer`). Clients are built on
first use, never at import, and then kept for the life of the instance.

Conversion to the evidence model happens here, and it is where configuration stops being
sensitive: plain env values are dropped (only the names are kept), args are kept only after
redaction, and Secret Manager references keep their secret and version but never a value. The
values that must not appear anywhere (`redaction.config_secrets`) travel, never shown, to the
evidence, which masks them in every log line and message.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jobtriage.evidence.model import (
    ContainerConfig,
    ExecutionInfo,
    ExecutionRef,
    JobInfo,
    SecretEnv,
    TaskAttempt,
    TaskTemplateConfig,
)
from jobtriage.evidence.redaction import config_secrets
from jobtriage.redact import MASK, redact
from jobtriage.settings import Settings

# The last success is looked for among the newest executions only: two pages of 25. Older than
# that, the comparison would say little about today's failure anyway.
LAST_SUCCESS_PAGE_SIZE = 25
LAST_SUCCESS_MAX_PAGES = 2
# A tick's missed-run check reads one page of the job's newest executions (jobtriage/ticks.py).
NEWEST_PAGE_SIZE = 20
# Tasks: most jobs have one; a fan-out job can have thousands. Read at most this many.
TASKS_PAGE_SIZE = 100
TASKS_MAX_PAGES = 3

# `--password hunter2` style: the value is the *next* arg, which redaction alone cannot see.
_SECRET_FLAG = re.compile(
    r"^--?[\w.-]*(pass(word|wd)?|secret|token|api[_-]?key|credentials?|private[_-]?key)[\w.-]*$",
    re.I,
)


@dataclass(frozen=True, slots=True)
class RunClients:
    """The three run_v2 clients one diagnosis needs."""

    executions: Any
    tasks: Any
    jobs: Any


def build_run_clients(settings: Settings) -> RunClients:
    """Real run_v2 clients over REST, pointed at the emulator host when one is configured."""
    from google.cloud import run_v2  # imported on first use: ~0.3 s that a cold start can skip

    credentials: Any = None
    options: dict[str, str] | None = None
    if settings.cloud_run_emulator_host:
        from google.auth.credentials import AnonymousCredentials

        credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
        options = {"api_endpoint": f"http://{settings.cloud_run_emulator_host}"}
    kwargs: dict[str, Any] = {
        "credentials": credentials,
        "transport": "rest",
        "client_options": options,
    }
    return RunClients(
        executions=run_v2.ExecutionsClient(**kwargs),
        tasks=run_v2.TasksClient(**kwargs),
        jobs=run_v2.JobsClient(**kwargs),
    )


@dataclass(frozen=True, slots=True)
class TaskList:
    attempts: tuple[TaskAttempt, ...]
    truncated: bool = False  # more tasks exist than were read


@dataclass(frozen=True, slots=True)
class LastSuccess:
    execution: ExecutionInfo | None
    looked_at: int  # how many executions were examined


@dataclass(frozen=True, slots=True)
class RecentExecutions:
    executions: tuple[ExecutionInfo, ...]

    def last_success(self, *, exclude: str, before: datetime | None) -> LastSuccess:
        """The newest successful execution other than `exclude` created before `before`."""
        best: ExecutionInfo | None = None
        for info in self.executions:
            if info.name == exclude or not succeeded(info):
                continue
            created = info.create_time or info.start_time
            if before is not None and created is not None and created >= before:
                continue
            best_created = (best.create_time or best.start_time) if best else None
            if best is None or (created or _EPOCH) > (best_created or _EPOCH):
                best = info
        return LastSuccess(best, len(self.executions))

    @property
    def newest(self) -> ExecutionInfo | None:
        """The most recently created of these executions."""
        return max(
            self.executions, key=lambda e: e.create_time or e.start_time or _EPOCH, default=None
        )

    def newest_success(self) -> ExecutionInfo | None:
        """The success that ended last (a running execution has not succeeded yet)."""
        done = [e for e in self.executions if succeeded(e)]
        return max(done, key=succeeded_at, default=None)


class CloudRun:
    """Reads one execution's resources. Each method raises the API's own errors; `gather` turns
    them into gaps."""

    def __init__(self, clients: RunClients | Callable[[], RunClients], *, timeout: float) -> None:
        self._clients = clients if isinstance(clients, RunClients) else None
        self._factory = None if isinstance(clients, RunClients) else clients
        self._lock = threading.Lock()
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> CloudRun:
        return cls(lambda: build_run_clients(settings), timeout=settings.api_timeout_seconds)

    @property
    def clients(self) -> RunClients:
        if self._clients is None:
            with self._lock:
                if self._clients is None:
                    assert self._factory is not None
                    self._clients = self._factory()
        return self._clients

    def execution(self, ref: ExecutionRef) -> ExecutionInfo:
        pb = self.clients.executions.get_execution(name=ref.execution_path, timeout=self.timeout)
        return execution_info(pb)

    def tasks(self, ref: ExecutionRef) -> TaskList:
        pager = self.clients.tasks.list_tasks(
            request={"parent": ref.execution_path, "page_size": TASKS_PAGE_SIZE},
            timeout=self.timeout,
        )
        attempts: list[TaskAttempt] = []
        truncated = False
        for n, page in enumerate(pager.pages, start=1):
            attempts.extend(task_attempt(t) for t in page.tasks)
            if n >= TASKS_MAX_PAGES:
                truncated = bool(page.next_page_token)
                break
        attempts.sort(key=lambda a: a.index)
        return TaskList(tuple(attempts), truncated)

    def job(self, ref: ExecutionRef) -> JobInfo:
        pb = self.clients.jobs.get_job(name=ref.job_path, timeout=self.timeout)
        return job_info(pb)

    def recent_executions(self, ref: ExecutionRef) -> RecentExecutions:
        """The job's newest executions: at most two pages (50), as the API lists them."""
        pager = self.clients.executions.list_executions(
            request={"parent": ref.job_path, "page_size": LAST_SUCCESS_PAGE_SIZE},
            timeout=self.timeout,
        )
        seen: list[ExecutionInfo] = []
        for n, page in enumerate(pager.pages, start=1):
            seen.extend(execution_info(pb) for pb in page.executions)
            if n >= LAST_SUCCESS_MAX_PAGES:
                break
        return RecentExecutions(tuple(seen))

    def newest_executions(
        self, job_path: str, *, page_size: int = NEWEST_PAGE_SIZE
    ) -> RecentExecutions:
        """One page of the job's executions — the newest: the API sorts them by creation time,
        descending (REST v2 projects.locations.jobs.executions.list) — a tick's bounded read."""
        pager = self.clients.executions.list_executions(
            request={"parent": job_path, "page_size": page_size}, timeout=self.timeout
        )
        page = next(iter(pager.pages), None)
        found = tuple(execution_info(pb) for pb in page.executions) if page is not None else ()
        return RecentExecutions(found[:page_size])

    def last_success(self, ref: ExecutionRef, *, before: datetime | None = None) -> LastSuccess:
        recent = self.recent_executions(ref)
        return recent.last_success(exclude=ref.execution, before=before)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def succeeded(info: ExecutionInfo) -> bool:
    """The execution completed successfully (all its tasks, by the Completed condition)."""
    if info.completed_state is not None:
        return info.completed_state == "CONDITION_SUCCEEDED"
    return info.task_count > 0 and info.succeeded_count == info.task_count


def succeeded_at(info: ExecutionInfo) -> datetime:
    """When a successful execution ended (its start, or creation, when the API omits the end)."""
    return info.completion_time or info.start_time or info.create_time or _EPOCH


# --- proto → model -------------------------------------------------------------------------------


def short_name(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    dt: datetime = value
    # DatetimeWithNanoseconds → a plain aware datetime (microsecond precision is plenty)
    return datetime(
        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, tzinfo=UTC
    )


def redact_args(args: Sequence[str], *, known: Iterable[str] = ()) -> tuple[str, ...]:
    """Args as the report may show them: secret-looking values masked, also `--password VALUE`."""
    known = tuple(known)
    out: list[str] = []
    mask_next = False
    for arg in args:
        if mask_next:
            out.append(MASK)
            mask_next = False
            continue
        out.append(redact(arg, known=known))
        mask_next = bool(_SECRET_FLAG.match(arg))
    return tuple(out)


def _container(pb: Any) -> ContainerConfig:
    env_names: list[str] = []
    plain_values: list[str] = []
    plain_env: list[tuple[str, str]] = []
    secrets: list[SecretEnv] = []
    for var in pb.env:
        if "value_source" in var and var.value_source.secret_key_ref.secret:
            ref = var.value_source.secret_key_ref
            secrets.append(SecretEnv(var.name, ref.secret, ref.version or "latest"))
        else:
            env_names.append(var.name)
            if var.value:
                plain_values.append(var.value)
                plain_env.append((var.name, var.value))
    limits = dict(pb.resources.limits) if "resources" in pb else {}
    known = config_secrets(plain_env, [*pb.command, *pb.args])
    return ContainerConfig(
        name=pb.name,
        image=pb.image,
        command=redact_args(list(pb.command), known=plain_values),
        args=redact_args(list(pb.args), known=plain_values),
        env_names=tuple(env_names),
        secret_env=tuple(secrets),
        memory_limit=limits.get("memory"),
        cpu_limit=limits.get("cpu"),
        mount_paths=tuple(m.mount_path for m in pb.volume_mounts if m.mount_path),
        working_dir=pb.working_dir or None,
        known_values=known,
    )


def _enum_name(value: Any, unspecified: str) -> str | None:
    name = getattr(value, "name", None)
    return None if not name or name.endswith(unspecified) else str(name)


def template_config(
    pb: Any, *, task_count: int | None = None, parallelism: int | None = None
) -> TaskTemplateConfig:
    """A run_v2 TaskTemplate (of an Execution or a Job) as the model's configuration."""
    instances: list[str] = []
    for volume in pb.volumes:
        if "cloud_sql_instance" in volume:
            instances.extend(volume.cloud_sql_instance.instances)
    timeout: timedelta | None = pb.timeout if "timeout" in pb else None
    vpc = pb.vpc_access if "vpc_access" in pb else None
    return TaskTemplateConfig(
        containers=tuple(_container(c) for c in pb.containers),
        service_account=pb.service_account or None,
        cloudsql_instances=tuple(dict.fromkeys(instances)),
        max_retries=pb.max_retries if "max_retries" in pb else None,
        timeout=timeout,
        task_count=task_count,
        parallelism=parallelism,
        vpc_connector=(vpc.connector or None) if vpc is not None else None,
        vpc_egress=_enum_name(vpc.egress, "UNSPECIFIED") if vpc is not None else None,
        execution_environment=_enum_name(pb.execution_environment, "UNSPECIFIED"),
    )


def _completed(conditions: Iterable[Any]) -> Any | None:
    for condition in conditions:
        if condition.type_ == "Completed":
            return condition
    return None


def image_digest(image: str) -> str | None:
    _, sep, digest = image.partition("@")
    return digest if sep and digest.startswith("sha256:") else None


def execution_info(pb: Any) -> ExecutionInfo:
    """A run_v2 Execution as the model's ExecutionInfo."""
    config = template_config(pb.template, task_count=pb.task_count, parallelism=pb.parallelism)
    completed = _completed(pb.conditions)
    reason = None
    if completed is not None and "execution_reason" in completed:
        reason = _enum_name(completed.execution_reason, "UNDEFINED")
    labels = {**dict(pb.annotations), **dict(pb.labels)}
    main = config.main
    return ExecutionInfo(
        name=short_name(pb.name),
        config=config,
        create_time=_time(pb.create_time),
        start_time=_time(pb.start_time),
        completion_time=_time(pb.completion_time),
        task_count=pb.task_count,
        succeeded_count=pb.succeeded_count,
        failed_count=pb.failed_count,
        cancelled_count=pb.cancelled_count,
        retried_count=pb.retried_count,
        creator=pb.creator or None,
        completed_state=_enum_name(completed.state, "UNSPECIFIED") if completed else None,
        completed_message=(completed.message or None) if completed else None,
        execution_reason=reason,
        log_uri=pb.log_uri or None,
        # The v2 API has no job-generation field; v1-style labels are honoured when present.
        job_generation=labels.get("run.googleapis.com/jobGeneration"),
        image_digest=image_digest(main.image) if main else None,
        other_conditions=_unsuccessful(pb.conditions),
    )


def _unsuccessful(conditions: Iterable[Any]) -> tuple[str, ...]:
    """'Type (REASON): message' of each non-Completed condition that did not succeed."""
    out: list[str] = []
    for condition in conditions:
        if condition.type_ == "Completed":
            continue
        state = _enum_name(condition.state, "UNSPECIFIED")
        if state == "CONDITION_SUCCEEDED" or not (condition.message or condition.reason):
            continue
        reason = _enum_name(condition.reason, "UNDEFINED") if "reason" in condition else None
        label = f"{condition.type_} ({reason})" if reason else condition.type_
        out.append(f"{label}: {condition.message}"[:500])
    return tuple(out)


def task_attempt(pb: Any) -> TaskAttempt:
    """A run_v2 Task as the model's TaskAttempt (its last attempt)."""
    exit_code: int | None = None
    term_signal: int | None = None
    status_code: int | None = None
    status_message: str | None = None
    if "last_attempt_result" in pb:
        result = pb.last_attempt_result
        status_code = result.status.code
        status_message = result.status.message or None
        if result.term_signal:
            term_signal = result.term_signal
        elif result.exit_code or status_code == 0:
            # exit code 0 on a failed attempt means "unset" (the container never exited cleanly)
            exit_code = result.exit_code
    completed = _completed(pb.conditions)
    failed = bool(status_code) or (
        completed is not None and _enum_name(completed.state, "UNSPECIFIED") == "CONDITION_FAILED"
    )
    if status_message is None and completed is not None and failed:
        status_message = completed.message or None
    return TaskAttempt(
        index=pb.index,
        retried=pb.retried,
        exit_code=exit_code,
        term_signal=term_signal,
        status_code=status_code,
        status_message=status_message,
        failed=failed,
        start_time=_time(pb.start_time),
        completion_time=_time(pb.completion_time),
    )


def job_info(pb: Any) -> JobInfo:
    """A run_v2 Job as the model's JobInfo (its current configuration)."""
    execution_template = pb.template
    config = template_config(
        execution_template.template,
        task_count=execution_template.task_count,
        parallelism=execution_template.parallelism,
    )
    return JobInfo(
        name=short_name(pb.name),
        config=config,
        generation=str(pb.generation) if pb.generation else None,
        creator=pb.creator or None,
        last_modifier=pb.last_modifier or None,
        update_time=_time(pb.update_time),
        execution_count=pb.execution_count if pb.execution_count else None,
    )
