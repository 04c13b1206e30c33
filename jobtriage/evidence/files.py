"""Evidence from files, for the command line: diagnose without any access to the cloud.

    --log-file F        plain text (one line per line), a JSON array as
                        `gcloud logging read --format=json` prints it, or JSON lines
                        (one LogEntry — or one application JSON log record — per line)
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

from jobtriage.errors import PermanentError
from jobtriage.evidence.cloud_logging import clean_text, line_from_resource, merge, parse_timestamp
from jobtriage.evidence.cloud_run import execution_info, job_info
from jobtriage.evidence.model import (
    Evidence,
    ExecutionInfo,
    ExecutionRef,
    JobInfo,
    LogLine,
    LogStats,
    Stream,
)

# A log file larger than this is cut to its last MAX_FILE_LINES lines (and marked sampled).
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_FILE_LINES = 100_000
MAX_RESOURCE_BYTES = 10 * 1024 * 1024

_LEADING_TIME = re.compile(
    r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s+"
)
_V2_NAME = re.compile(r"^projects/([^/]+)/locations/([^/]+)/jobs/([^/]+)(?:/executions/([^/]+))?$")
_LOGENTRY_KEYS = ("textPayload", "jsonPayload", "protoPayload", "logName", "insertId")


class InputFileError(PermanentError):
    """A file given on the command line cannot be used; the message says why and what to give."""


def _read_bytes(path: Path, what: str, limit: int) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputFileError(f"{what} {path}: no such file") from None
    except OSError as exc:
        raise InputFileError(f"{what} {path}: cannot read it ({exc.strerror})") from None
    if path.is_dir():
        raise InputFileError(f"{what} {path}: is a directory, not a file")
    if size > limit:
        raise InputFileError(f"{what} {path}: {size:,} bytes is more than the {limit:,} we read")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{what} {path}: cannot read it ({exc.strerror})") from None


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").lstrip("\ufeff")


def _json_error(what: str, path: Path, exc: json.JSONDecodeError, *, line_offset: int = 0) -> str:
    return (
        f"{what} {path}: not valid JSON (line {exc.lineno + line_offset}, column {exc.colno}: "
        f"{exc.msg})"
    )


# --- logs -----------------------------------------------------------------------------------------


def _plain_line(raw: str) -> LogLine:
    timestamp = None
    match = _LEADING_TIME.match(raw)
    if match:
        timestamp = parse_timestamp(match.group(1))
        if timestamp is not None:
            raw = raw[match.end() :]
    return LogLine(
        timestamp=timestamp, stream=Stream.OTHER, severity="DEFAULT", text=clean_text(raw)
    )


def _record_line(record: Any, path: Path, where: str) -> Any:
    """One JSON value of a log file → an entry for `merge`."""
    if not isinstance(record, dict):
        raise InputFileError(
            f"log file {path}: {where} is a JSON {type(record).__name__}, expected an object "
            "(a LogEntry as `gcloud logging read --format=json` prints it)"
        )
    if any(key in record for key in _LOGENTRY_KEYS):
        return line_from_resource(record)
    # An application's own JSON log record (pino, structlog, ...): treat it as a jsonPayload.
    return line_from_resource(
        {
            "jsonPayload": record,
            "severity": record.get("severity") or record.get("level"),
            "timestamp": record.get("timestamp") or record.get("time"),
        }
    )


def parse_log_text(text: str, *, path: Path) -> tuple[tuple[LogLine, ...], bool]:
    """The lines of a log file's text, and whether it was cut to `MAX_FILE_LINES`."""
    stripped = text.strip()
    if not stripped:
        return (), False
    records: list[Any] | None = None
    if stripped[0] in "[{":
        try:
            whole = json.loads(stripped)
        except json.JSONDecodeError as exc:
            whole_error: json.JSONDecodeError | None = exc
        else:
            whole_error = None
            if isinstance(whole, list):
                records = whole
            elif isinstance(whole, dict):
                entries = whole.get("entries")
                records = entries if isinstance(entries, list) else [whole]
        if records is None and stripped[0] == "{":
            records = []
            for number, raw in enumerate(text.splitlines(), start=1):
                if not raw.strip():
                    continue
                try:
                    records.append(json.loads(raw))
                except json.JSONDecodeError as exc:
                    raise InputFileError(
                        f"log file {path}: line {number} is not valid JSON ({exc.msg}); "
                        "JSON lines need one complete JSON object per line"
                    ) from None
        elif (
            records is None and whole_error is not None and stripped.startswith(("[{", "[\n", "[]"))
        ):
            raise InputFileError(_json_error("log file", path, whole_error)) from None
    if records is None:  # plain text (also "[INFO] …"-style lines that merely start with '[')
        raws = text.splitlines()
        cut = len(raws) > MAX_FILE_LINES
        return tuple(_plain_line(r) for r in raws[-MAX_FILE_LINES:] if r.strip()), cut
    entries = [_record_line(r, path, f"item {i + 1}") for i, r in enumerate(records)]
    lines = merge(entries)
    cut = len(lines) > MAX_FILE_LINES
    return lines[-MAX_FILE_LINES:], cut


def load_log_file(path: str | Path) -> tuple[LogLine, ...]:
    """The log lines of a file in any of the three formats."""
    lines, _ = _load_logs(Path(path))
    return lines


def _load_logs(path: Path) -> tuple[tuple[LogLine, ...], bool]:
    return parse_log_text(_text(_read_bytes(path, "log file", MAX_FILE_BYTES)), path=path)


# --- Run API resources ----------------------------------------------------------------------------


def _resource(path: Path, what: str, kind: str) -> Any:
    text = _text(_read_bytes(path, what, MAX_RESOURCE_BYTES))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(_json_error(what, path, exc)) from None
    if not isinstance(data, dict):
        raise InputFileError(f"{what} {path}: expected a JSON object (one {kind}), not a list")
    if data.get("apiVersion") and data.get("kind"):
        raise InputFileError(
            f"{what} {path}: this is a v1 {data.get('kind')} (what `gcloud run jobs ... describe` "
            f'prints); give the v2 REST JSON of the {kind} instead: curl -H "Authorization: '
            'Bearer $(gcloud auth print-access-token)" https://run.googleapis.com/v2/<name>'
        )
    name = data.get("name")
    expected = "/executions/" if kind == "Execution" else "/jobs/"
    if not isinstance(name, str) or expected not in name or not _V2_NAME.match(name):
        raise InputFileError(
            f"{what} {path}: no v2 {kind} name (projects/P/locations/R/jobs/J"
            f'{"/executions/E" if kind == "Execution" else ""}) in its "name" field'
        )
    if kind == "Job" and "/executions/" in name:
        raise InputFileError(f"{what} {path}: this is an Execution, not a Job")
    from google.cloud import run_v2

    message_type = run_v2.Execution if kind == "Execution" else run_v2.Job
    try:
        return message_type.from_json(json.dumps(data), ignore_unknown_fields=True)
    except Exception as exc:  # protobuf's ParseError names the field that is wrong
        raise InputFileError(f"{what} {path}: not a valid v2 {kind}: {exc}") from None


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
    """A LogEntry file knows its execution: resource labels + the execution label."""
    text = _text(_read_bytes(path, "log file", MAX_FILE_BYTES)).strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:  # JSON lines: the first record is enough
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
) -> Evidence:
    """Evidence built only from files. `ref` defaults to what the files name."""
    if log_file is None and execution_file is None and job_file is None:
        raise InputFileError("nothing to diagnose: give --log-file, --execution-file or --job-file")
    execution_pb = (
        _resource(Path(execution_file), "execution file", "Execution")
        if execution_file is not None
        else None
    )
    job_pb = _resource(Path(job_file), "job file", "Job") if job_file is not None else None
    lines: tuple[LogLine, ...] = ()
    cut = False
    if log_file is not None:
        lines, cut = _load_logs(Path(log_file))
    if ref is None and execution_pb is not None:
        ref = _ref_from_name(execution_pb.name)
    if ref is None and log_file is not None:
        ref = _ref_from_lines(Path(log_file))
    if ref is None and job_pb is not None:
        job_ref = _ref_from_name(job_pb.name)
        if job_ref is not None:
            ref = ExecutionRef(job_ref.project, job_ref.region, job_ref.job, "unknown")
    if ref is None:
        ref = ExecutionRef("unknown", "unknown", "unknown", "unknown")
    execution = execution_info(execution_pb) if execution_pb is not None else None
    job = job_info(job_pb) if job_pb is not None else None
    stats = LogStats(fetched=len(lines), kept=len(lines), requests=0, sampled=cut)
    return Evidence(ref=ref, execution=execution, job=job, logs=lines, log_stats=stats)
