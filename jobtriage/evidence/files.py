"""Evidence from files, for the command line: diagnose without any access to the cloud.

    --log-file F        plain text (one line per line), a JSON array as
                        `gcloud logging read --format=json` prints it, or JSON lines
                        (one LogEntry — or one application JSON log record — per line);
                        any size (see `jobtriage.evidence.logfile`)
    --execution-file F  the v2 REST JSON of an Execution
                        (GET https://run.googleapis.com/v2/projects/P/locations/R/jobs/J/executions/E)
    --job-file F        the v2 REST JSON of a Job

Files are untrusted: invalid UTF-8 is replaced, control characters removed, lines bounded, and a
wrong file gets an `InputFileError` whose message says what was expected — never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jobtriage.evidence.cloud_run import execution_info, job_info
from jobtriage.evidence.logfile import InputFileError, InputFormat, LogFile, read_log_file
from jobtriage.evidence.model import (
    Evidence,
    ExecutionInfo,
    ExecutionRef,
    Gap,
    JobInfo,
    LogLine,
    LogStats,
    Source,
)

MAX_RESOURCE_BYTES = 10 * 1024 * 1024
_V2_NAME = re.compile(r"^projects/([^/]+)/locations/([^/]+)/jobs/([^/]+)(?:/executions/([^/]+))?$")
# The execution a LogEntry file names is read from its first megabyte.
_REF_HEAD_BYTES = 1024 * 1024


def _read_bytes(path: Path, what: str, limit: int) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputFileError(f"{what} {path}: no such file", ko=f"{path}: 파일이 없음") from None
    except OSError as exc:
        raise InputFileError(
            f"{what} {path}: cannot read it ({exc.strerror})",
            ko=f"{path}: 읽을 수 없음({exc.strerror})",
        ) from None
    if path.is_dir():
        raise InputFileError(
            f"{what} {path}: is a directory, not a file", ko=f"{path}: 파일이 아니라 디렉터리임"
        )
    if size > limit:
        raise InputFileError(
            f"{what} {path}: {size:,} bytes is more than the {limit:,} we read",
            ko=f"{path}: {size:,}바이트는 읽을 수 있는 {limit:,}바이트보다 큼",
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(
            f"{what} {path}: cannot read it ({exc.strerror})",
            ko=f"{path}: 읽을 수 없음({exc.strerror})",
        ) from None


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").lstrip("\ufeff")


def _json_error(what: str, path: Path, exc: json.JSONDecodeError, *, line_offset: int = 0) -> str:
    return (
        f"{what} {path}: not valid JSON (line {exc.lineno + line_offset}, column {exc.colno}: "
        f"{exc.msg})"
    )


# --- logs (any size and format: jobtriage.evidence.logfile) ------------------------------------


def load_log_file(path: str | Path, fmt: InputFormat = InputFormat.AUTO) -> tuple[LogLine, ...]:
    """The log lines of a file in any of the three formats."""
    return read_log_file(path, fmt).lines


# --- Run API resources ----------------------------------------------------------------------------


def _resource(path: Path, what: str, kind: str) -> Any:
    text = _text(_read_bytes(path, what, MAX_RESOURCE_BYTES))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            _json_error(what, path, exc),
            ko=f"{path}: 올바른 JSON이 아님({exc.lineno}번째 줄, {exc.colno}번째 칸: {exc.msg})",
        ) from None
    if not isinstance(data, dict):
        raise InputFileError(
            f"{what} {path}: expected a JSON object (one {kind}), not a list",
            ko=f"{path}: 목록이 아니라 JSON 객체({kind} 하나)여야 함",
        )
    if data.get("apiVersion") and data.get("kind"):
        raise InputFileError(
            f"{what} {path}: this is a v1 {data.get('kind')} (what `gcloud run jobs ... describe` "
            f'prints); give the v2 REST JSON of the {kind} instead: curl -H "Authorization: '
            'Bearer $(gcloud auth print-access-token)" https://run.googleapis.com/v2/<name>',
            ko=f"{path}: v1 {data.get('kind')}임(`gcloud run jobs ... describe`의 출력); 대신 "
            f'{kind}의 v2 REST JSON을 지정: curl -H "Authorization: Bearer '
            '$(gcloud auth print-access-token)" https://run.googleapis.com/v2/<name>',
        )
    name = data.get("name")
    expected = "/executions/" if kind == "Execution" else "/jobs/"
    if not isinstance(name, str) or expected not in name or not _V2_NAME.match(name):
        raise InputFileError(
            f"{what} {path}: no v2 {kind} name (projects/P/locations/R/jobs/J"
            f'{"/executions/E" if kind == "Execution" else ""}) in its "name" field',
            ko=f'{path}: "name" 필드에 v2 {kind} 이름(projects/P/locations/R/jobs/J'
            f"{'/executions/E' if kind == 'Execution' else ''})이 없음",
        )
    if kind == "Job" and "/executions/" in name:
        raise InputFileError(
            f"{what} {path}: this is an Execution, not a Job",
            ko=f"{path}: Job이 아니라 Execution임",
        )
    from google.cloud import run_v2

    message_type = run_v2.Execution if kind == "Execution" else run_v2.Job
    try:
        return message_type.from_json(json.dumps(data), ignore_unknown_fields=True)
    except Exception as exc:  # protobuf's ParseError names the field that is wrong
        raise InputFileError(
            f"{what} {path}: not a valid v2 {kind}: {exc}",
            ko=f"{path}: 올바른 v2 {kind}가 아님: {exc}",
        ) from None


def load_execution_file(path: str | Path) -> ExecutionInfo:
    return execution_info(_resource(Path(path), "execution file", "Execution"))


def load_job_file(path: str | Path) -> JobInfo:
    return job_info(_resource(Path(path), "job file", "Job"))


def _ref_from_name(name: str) -> ExecutionRef | None:
    match = _V2_NAME.match(name)
    if not match:
        return None
    project, region, job, execution = match.groups()
    return ExecutionRef(project, region, job, execution or "")


def _ref_from_lines(path: Path) -> ExecutionRef | None:
    """A LogEntry file knows its execution: resource labels + the execution label (read from
    its first megabyte)."""
    with path.open("rb") as handle:
        head = handle.read(_REF_HEAD_BYTES)
    text = _text(head).strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:  # JSON lines (or a cut array): the first record is enough
            data = json.loads(text.splitlines()[0]) if text else None
        except json.JSONDecodeError:
            return None
    records: Iterable[Any] = data if isinstance(data, list) else [data]
    for record in records:
        if not isinstance(record, dict):
            continue
        labels = (record.get("resource") or {}).get("labels") or {}
        execution = (record.get("labels") or {}).get("run.googleapis.com/execution_name")
        if isinstance(labels, dict) and labels.get("job_name") and execution:
            return ExecutionRef(
                str(labels.get("project_id", "")),
                str(labels.get("location", "")),
                str(labels["job_name"]),
                str(execution),
            )
    return None


def evidence_from_files(
    *,
    log_file: str | Path | None = None,
    execution_file: str | Path | None = None,
    job_file: str | Path | None = None,
    ref: ExecutionRef | None = None,
    input_format: InputFormat = InputFormat.AUTO,
) -> Evidence:
    """Evidence built only from files. `ref` defaults to what the files name."""
    if log_file is None and execution_file is None and job_file is None:
        raise InputFileError(
            "nothing to diagnose: give --log-file, --execution-file or --job-file",
            ko="진단할 대상이 없음: --log-file, --execution-file 또는 --job-file을 지정",
        )
    execution_pb = (
        _resource(Path(execution_file), "execution file", "Execution")
        if execution_file is not None
        else None
    )
    job_pb = _resource(Path(job_file), "job file", "Job") if job_file is not None else None
    lines: tuple[LogLine, ...] = ()
    read: LogFile | None = None
    if log_file is not None:
        read = read_log_file(log_file, input_format)
        lines = read.lines
    if ref is None and execution_pb is not None:
        ref = _ref_from_name(execution_pb.name)
    if ref is None and log_file is not None:
        ref = _ref_from_lines(Path(log_file))
    if ref is None and job_pb is not None:
        job_ref = _ref_from_name(job_pb.name)
        if job_ref is not None:
            ref = ExecutionRef(job_ref.project, job_ref.region, job_ref.job, PLACEHOLDERS[3])
    if ref is None:
        ref = ExecutionRef(*PLACEHOLDERS)
    execution = execution_info(execution_pb) if execution_pb is not None else None
    job = job_info(job_pb) if job_pb is not None else None
    total = read.total if read is not None else 0
    # what was kept and dropped is said exactly by the log file's gap, not as "sampled"
    stats = LogStats(fetched=total, kept=len(lines), requests=0)
    gaps: list[Gap] = [read.gap] if read is not None and read.gap is not None else []
    gaps.extend(_not_given(ref, execution_pb is not None, job_pb is not None))
    return Evidence(
        ref=ref, execution=execution, job=job, logs=lines, log_stats=stats, gaps=tuple(gaps)
    )


# What the commands say where a name was not given (shell-quoted, so a pasted command fails
# loudly rather than acting on the wrong project).
PLACEHOLDERS = ("<PROJECT>", "<REGION>", "<JOB>", "<EXECUTION>")


def _not_given(ref: ExecutionRef, execution: bool, job: bool) -> list[Gap]:
    """An offline report states only what it read: every source it did not have is a gap."""
    gaps: list[Gap] = []
    missing = [
        p
        for p, v in zip(
            PLACEHOLDERS, (ref.project, ref.region, ref.job, ref.execution), strict=True
        )
        if v == p
    ]
    if missing:
        gaps.append(
            Gap(
                Source.EVENT,
                f"execution names not given: the commands below hold {', '.join(missing)}",
                "pass --project, --region, --job and --execution with --log-file",
                reason_ko="실행 이름이 주어지지 않음: 아래 명령에 "
                f"{', '.join(missing)}가 들어 있음",
                fix_ko="--log-file과 함께 --project, --region, --job, --execution을 지정",
            )
        )
    if not execution and not job:
        gaps.append(
            Gap(
                Source.JOB,
                "job configuration not given: Cloud SQL attachment, service account, image, "
                "secrets, limits and exit codes not checked",
                "pass --execution-file and --job-file (the v2 REST JSON), or run live",
                reason_ko="Job 설정이 주어지지 않음: Cloud SQL 연결, 서비스 계정, 이미지, 시크릿, "
                "한도, 종료 코드를 확인하지 못함",
                fix_ko="--execution-file과 --job-file(v2 REST JSON)을 지정하거나 라이브로 실행",
            )
        )
    gaps.append(
        Gap(
            Source.LAST_SUCCESS,
            "not checked offline: what changed since the last successful execution",
            "run live (--project --region --job --execution with Google credentials)",
            reason_ko="오프라인에서는 확인하지 못함: 마지막 성공 실행 이후의 변경 사항",
            fix_ko="라이브로 실행(--project --region --job --execution, Google 자격 증명 필요)",
        )
    )
    return gaps
