"""Evidence → Report: run the analyzers, rank, diff against the last success, fill in commands.

Pure: no I/O. The result is the one model the terminal, JSON and Slack renderers read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from analyzers import ANALYZERS, Analyzer, Check, Fact, Finding, commands
from jobtriage.console import console_links
from jobtriage.diagnosis.calibration import calibrate, contested
from jobtriage.diagnosis.changes import diff_executions
from jobtriage.diagnosis.differential import differential
from jobtriage.diagnosis.error_line import likely_error
from jobtriage.diagnosis.fallback import Model
from jobtriage.diagnosis.model import HistoryEffect, LearnedPriors, RankedCause, Report, Summary
from jobtriage.diagnosis.rank import rank, rank_with_history, run_analyzers
from jobtriage.diagnosis.suspects import suspect_changes
from jobtriage.evidence import Evidence, Outcome, Stream
from jobtriage.text import Text

# How many of the last lines the report shows when no cause was recognised.
LAST_LINES = 8
_TASKS_RATIO = re.compile(r"(\d+)/(\d+) tasks")


def _summary(evidence: Evidence) -> Summary:
    ref, event, ex = evidence.ref, evidence.event, evidence.execution
    outcome = event.outcome if event else Outcome.FAILED
    if ex is not None and ex.execution_reason == "CANCELLED":
        outcome = Outcome.CANCELLED
    total = ex.task_count if ex else 0
    failed = ex.failed_count if ex else 0
    if event and (not total) and (m := _TASKS_RATIO.search(event.status_message)):
        ok, total = int(m.group(1)), int(m.group(2))
        failed = total - ok
    failed_tasks = [t for t in evidence.tasks if t.failed] or list(evidence.tasks)
    first = failed_tasks[0] if failed_tasks else None
    cfg = evidence.config
    main = cfg.main
    return Summary(
        ref=ref,
        outcome=outcome,
        status_message=(event.status_message if event else "")
        or (ex.completed_message if ex and ex.completed_message else ""),
        tasks_total=total,
        tasks_failed=failed,
        attempts=(first.retried + 1) if first else None,
        max_retries=cfg.max_retries,
        exit_code=first.exit_code if first else None,
        term_signal=first.term_signal if first else None,
        duration=ex.duration if ex else None,
        started_by=(ex.creator if ex and ex.creator else None)
        or (event.creator if event else None),
        started_at=ex.start_time if ex else None,
        finished_at=(ex.completion_time if ex else None) or (event.timestamp if event else None),
        image=_image_that_ran(main.image if main else None, ex.image_digest if ex else None),
        timeout=cfg.timeout,
    )


def _image_that_ran(image: str | None, digest: str | None) -> str | None:
    """The image reference with the digest the execution resolved, when it is known."""
    if not image or "@" in image or not digest:
        return image or digest
    name = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return f"{name}@{digest}"


def seed_commands(evidence: Evidence) -> tuple[Check, ...]:
    """The seed report's §4, filled in with this execution's names."""
    ref = evidence.ref
    out = [
        Check(
            Text(en="Execution details", ko="Job 실행 상세 확인"), commands.describe_execution(ref)
        ),
        Check(Text(en="This execution's logs", ko="Job 로그 확인"), commands.read_logs(ref)),
        Check(
            Text(en="Current job configuration", ko="현재 Job 설정 확인"),
            commands.describe_job(ref),
        ),
        Check(
            Text(en="Tasks and their exit codes", ko="태스크별 종료 코드 확인"),
            commands.list_tasks(ref),
        ),
    ]
    main = evidence.config.main
    if main is not None and main.image:
        out.append(
            Check(
                Text(en="Look inside the image", ko="Docker 이미지 내부 확인"),
                commands.run_in_image(main.image, "ls -la /app /app/dist 2>&1 | head -50"),
            )
        )
    sa = evidence.config.service_account
    if sa:
        out.append(
            Check(
                Text(en="Roles of the job's service account", ko="Job 서비스 계정 권한 확인"),
                commands.job_service_account_roles(ref, sa),
            )
        )
    return tuple(out)


def _last_lines(evidence: Evidence) -> tuple[Fact, ...]:
    interesting = [
        line for line in evidence.logs if line.stream in (Stream.STDERR, Stream.SYSTEM)
    ] or list(evidence.logs)
    return tuple(Fact.from_line(line) for line in interesting[-LAST_LINES:])


def _error_line(evidence: Evidence) -> Fact | None:
    line = likely_error(evidence.logs)
    return Fact.from_line(line) if line is not None else None


def build_report(
    evidence: Evidence,
    analyzers: Sequence[Analyzer] = ANALYZERS,
    *,
    calibrated: bool = True,
    learned: bool = True,
    model: Model | None = None,
    priors: LearnedPriors | None = None,
) -> Report:
    """The report for one execution. `calibrated` and `learned` are on in the product; the
    corpus evaluation turns them off to measure the rules alone. `priors`: what the incident
    memory learned from the job's confirmed causes (`Report.history` says what it changed)."""
    analysis = run_analyzers(evidence, analyzers, learned=learned, model=model)

    def ranked(findings: Sequence[Finding]) -> tuple[tuple[RankedCause, ...], HistoryEffect | None]:
        if priors is None:
            return rank(findings, analyzers), None
        return rank_with_history(findings, analyzers, priors)

    causes, history = ranked(analysis.findings)
    opinion = analysis.second_opinion
    disputed = opinion is not None and causes[0].finding is not None and opinion != causes[0].id
    if causes[0].finding is not None and analysis.alternative is not None:
        # The cause similar failures had becomes the next one to check — never the top.
        widened, widened_history = ranked((*analysis.findings, analysis.alternative))
        if widened[0].id == causes[0].id:
            causes, history = widened, widened_history
    if calibrated:
        causes = calibrate(causes, disputed=disputed, contested=contested(causes))
    top = causes[0]
    gaps = evidence.gaps + analysis.gaps
    changes = diff_executions(
        last_success=evidence.last_success,
        failed=evidence.execution,
        job=evidence.job,
        top_cause=top.id if top.finding else None,
    )
    return Report(
        summary=_summary(evidence),
        causes=causes,
        commands=seed_commands(evidence),
        changes=changes,
        gaps=gaps,
        links=console_links(evidence.ref, evidence),
        log_stats=evidence.log_stats,
        last_lines=_last_lines(evidence) if top.finding is None else (),
        error_line=_error_line(evidence) if top.finding is None else None,
        baseline_execution=evidence.last_success.name if evidence.last_success else None,
        baseline_finished_at=evidence.last_success.completion_time
        if evidence.last_success
        else None,
        suspects=suspect_changes(evidence, top_cause=top.id if top.finding else None),
        differential=differential(causes, lines_read=len(evidence.logs), gaps=gaps),
        disputed_by=opinion if disputed else None,
        history=history,
    )
