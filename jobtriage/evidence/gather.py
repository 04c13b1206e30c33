"""Gather all evidence about one execution, once, before any analyzer runs.

`gather` never raises. Each source is read in isolation: a 403, a 404, a quota refusal, a timeout,
a 5xx or a bug in our own conversion code becomes a `Gap` with the fix spelled out, and the rest of
the evidence is still collected. When the Run API cannot be read at all, the audit entry that
triggered us (`JobEvent`) still says which execution failed, how, when and who started it.

Cost per diagnosis: four Cloud Run reads (execution, tasks, job, up to two pages of the job's
executions) made concurrently, then at most two Logging reads (see `cloud_logging`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from google.api_core.exceptions import NotFound

from jobtriage.clock import SYSTEM_CLOCK, Clock
from jobtriage.evidence.cloud_logging import CloudLogging, LogRead, window_for
from jobtriage.evidence.cloud_run import CloudRun, LastSuccess, RecentExecutions, TaskList
from jobtriage.evidence.dependencies import RelatedSources, gather_related
from jobtriage.evidence.gaps import LOGGING_API, RUN_API, gap_for
from jobtriage.evidence.model import (
    Evidence,
    ExecutionInfo,
    ExecutionRef,
    Gap,
    JobEvent,
    JobInfo,
    Source,
)
from jobtriage.evidence.related import Related
from jobtriage.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sources:
    """Where evidence comes from: the seam between the diagnosis and Google's APIs.

    `from_settings` builds the real clients (lazily, on first use); tests build them pointed at
    the replay, and pass a virtual `Clock` so that waiting for late logs takes no real time.
    A source set to None is skipped and recorded as a gap.
    """

    run: CloudRun | None
    logs: CloudLogging | None
    log_wait_seconds: float = 8.0
    clock: Clock = SYSTEM_CLOCK
    # Builds, audit entries, secrets, Cloud SQL (`dependencies`); None: not read.
    related: RelatedSources | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> Sources:
        return cls(
            run=CloudRun.from_settings(settings),
            logs=CloudLogging.from_settings(settings, budget_clock=clock.monotonic),
            log_wait_seconds=settings.log_wait_seconds,
            clock=clock,
            related=RelatedSources.from_settings(settings),
        )


@dataclass(frozen=True, slots=True)
class _Outcome:
    value: Any = None
    gap: Gap | None = None
    missing: bool = False  # the API answered 404: the resource does not exist


def _attempt(source: Source, run: CloudRun, ref: ExecutionRef, read: Callable[[], T]) -> _Outcome:
    try:
        return _Outcome(read())
    except Exception as exc:
        gap = gap_for(source, exc, api=RUN_API, ref=ref, timeout=run.timeout)
        return _Outcome(gap=gap, missing=isinstance(exc, NotFound))


def _read_run(run: CloudRun, ref: ExecutionRef) -> dict[Source, _Outcome]:
    reads: dict[Source, Callable[[], Any]] = {
        Source.EXECUTION: lambda: run.execution(ref),
        Source.TASKS: lambda: run.tasks(ref),
        Source.JOB: lambda: run.job(ref),
        Source.LAST_SUCCESS: lambda: run.recent_executions(ref),
    }
    # The four reads are independent; concurrently they cost one round trip instead of four.
    with ThreadPoolExecutor(max_workers=len(reads), thread_name_prefix="evidence") as pool:
        futures = {
            source: pool.submit(_attempt, source, run, ref, read) for source, read in reads.items()
        }
        return {source: future.result() for source, future in futures.items()}


def gather(
    event_or_ref: JobEvent | ExecutionRef, *, sources: Sources, urgent_logs: bool = True
) -> Evidence:
    """Everything known about one execution. Never raises; what is missing is listed in `gaps`.

    `urgent_logs=False` (a repeat of a job that already has an open incident) lets the Logging
    read budget skip the logs first when it runs short (see `cloud_logging.ReadBudget`).
    """
    event = event_or_ref if isinstance(event_or_ref, JobEvent) else None
    ref = event.ref if event is not None else event_or_ref
    assert isinstance(ref, ExecutionRef)
    gaps: list[Gap] = []

    execution: ExecutionInfo | None = None
    job: JobInfo | None = None
    tasks: TaskList = TaskList(())
    last: LastSuccess = LastSuccess(None, 0)
    missing = False
    if sources.run is None:
        gaps.append(
            Gap(
                Source.EXECUTION,
                "the Cloud Run Admin API was not consulted",
                reason_ko="Cloud Run Admin API를 조회하지 않음",
            )
        )
    else:
        results = _read_run(sources.run, ref)
        for outcome in results.values():
            if outcome.gap is not None:
                gaps.append(outcome.gap)
        execution = results[Source.EXECUTION].value
        missing = results[Source.EXECUTION].missing
        job = results[Source.JOB].value
        tasks = results[Source.TASKS].value or tasks
        recent: RecentExecutions | None = results[Source.LAST_SUCCESS].value
        if recent is not None:
            # "Before this failure": a success that came after it is a recovery, not a baseline.
            before = (execution.create_time if execution else None) or (
                event.timestamp if event else None
            )
            last = recent.last_success(exclude=ref.execution, before=before)
        if tasks.truncated:
            gaps.append(
                Gap(
                    Source.TASKS,
                    f"only the first {len(tasks.attempts)} tasks were read",
                    "the task list of a large fan-out is bounded; see the console for the rest",
                    reason_ko=f"처음 {len(tasks.attempts)}개 태스크만 읽음",
                    fix_ko="태스크가 많으면 목록을 제한함; 나머지는 콘솔에서 확인",
                )
            )
        if results[Source.LAST_SUCCESS].gap is None and last.execution is None:
            gaps.append(
                Gap(
                    Source.LAST_SUCCESS,
                    f"no successful execution among the job's {last.looked_at} most recent",
                    "nothing to compare with: 'what changed' is left out",
                    reason_ko=f"Job의 최근 {last.looked_at}개 실행 중 성공한 실행이 없음",
                    fix_ko="비교할 대상이 없어 '변경 사항'은 생략함",
                )
            )

    # The v2 API has no job generation for an execution; the audit entry has it.
    generation = event.job_generation if event is not None else None
    if execution is not None and execution.job_generation is None and generation:
        execution = replace(execution, job_generation=generation)

    # Builds, edits, secrets, Cloud SQL: read while the logs are read (waiting for late lines).
    related_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="related-gather")
    related_future = (
        related_pool.submit(
            gather_related,
            sources.related,
            ref=ref,
            logs=sources.logs,
            event=event,
            failed=execution,
            last_success=last.execution,
            now=sources.clock.now,
        )
        if sources.related is not None
        else None
    )

    logs = LogRead()
    if sources.logs is None:
        gaps.append(
            Gap(
                Source.LOGS,
                "Cloud Logging was not consulted",
                reason_ko="Cloud Logging을 조회하지 않음",
            )
        )
    else:
        logs = _read_logs(sources, ref, event, execution, urgent=urgent_logs)
        gaps.extend(logs.gaps)

    related = Related()
    if related_future is not None:
        try:
            related, related_gaps = related_future.result()
            gaps.extend(related_gaps)
        except Exception as exc:  # a bug of ours must not blank the report
            gaps.append(
                Gap(
                    Source.AUDIT,
                    f"unexpected error reading what changed around the job: "
                    f"{type(exc).__name__}: {exc}",
                    reason_ko=f"Job 주변 변경 사항을 읽는 중 예상하지 못한 오류: "
                    f"{type(exc).__name__}: {exc}",
                )
            )
    related_pool.shutdown(wait=False)

    return Evidence(
        ref=ref,
        related=related,
        event=event,
        execution=execution,
        tasks=tasks.attempts,
        job=job,
        last_success=last.execution,
        logs=logs.lines,
        log_stats=logs.stats,
        gaps=tuple(gaps),
        execution_missing=missing,
    )


def _read_logs(
    sources: Sources,
    ref: ExecutionRef,
    event: JobEvent | None,
    execution: ExecutionInfo | None,
    *,
    urgent: bool = True,
) -> LogRead:
    assert sources.logs is not None
    try:
        now = sources.clock.now()
        event_time = event.timestamp if event is not None else None
        start = execution.start_time or execution.create_time if execution else None
        end = execution.completion_time if execution else None
        window = window_for(start=start, end=end, event_time=event_time, now=now)
        if event is not None:
            failed = event.failed
        elif execution is not None:
            failed = execution.completed_state != "CONDITION_SUCCEEDED"
        else:
            failed = True
        return sources.logs.read(
            ref,
            window=window,
            ended_at=end or event_time,
            failed=failed,
            wait_seconds=sources.log_wait_seconds,
            sleep=sources.clock.sleep,
            clock=sources.clock.now,
            urgent=urgent,
        )
    except Exception as exc:  # a bug of ours must not blank the report
        gap = gap_for(Source.LOGS, exc, api=LOGGING_API, ref=ref, timeout=sources.logs.timeout)
        return LogRead(gaps=(gap,))
