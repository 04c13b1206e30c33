"""A log file of any size, in any of three formats, read once — for the command line.

Formats (`--input-format`, default `auto`):
- `json`: the array `gcloud logging read --format=json` prints (or an object with `entries`);
- `jsonl`: one JSON object per line — a LogEntry, or an application's own record (zap, pino,
  structlog), whose text is its `message` / `msg` / `textPayload` / `jsonPayload`;
- `text`: one line per line, an optional leading timestamp.
`auto` decides per file from its first bytes, and in JSON lines a line that is not JSON is kept as
text rather than refused (plain logs often hold a JSON line or two).

Any size: the file is streamed once in chunks. One Aho–Corasick pass per chunk (the analyzers'
needles, `LogIndex.know`) marks the lines that name a known error; those lines with a little
context, and the last `TAIL_LINES` lines, are kept — the error on line 1 of a 500k-line file is not
lost — and everything else is only counted. A gap then says exactly what was kept and dropped.
Memory stays bounded whatever the file's size. A JSON array must be parsed whole, so it is bounded
by `MAX_JSON_BYTES` (JSON lines have no such limit).

An empty file, a binary file (NUL bytes, a compressed archive, an executable) or a file that is not
in the format forced get an `InputFileError` that says what was found.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from jobtriage.errors import PermanentError
from jobtriage.evidence.cloud_logging import clean_text, line_from_resource, merge, parse_timestamp
from jobtriage.evidence.model import Gap, LogIndex, LogLine, Source, Stream, automaton
from jobtriage.redact import scrub

# The last lines always kept (where a failed job's error usually is).
TAIL_LINES = 100_000
# Lines kept before and after a line that names a known error.
CONTEXT = 2
# At most this many lines are kept for matching anywhere else in the file.
MAX_MATCHED = 20_000
# A JSON array is parsed whole: larger ones must be given as JSON lines.
MAX_JSON_BYTES = 256 * 1024 * 1024
CHUNK_BYTES = 8 * 1024 * 1024
_HEAD_BYTES = 64 * 1024

_LEADING_TIME = re.compile(
    r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s+"
)
_LOGENTRY_KEYS = ("textPayload", "jsonPayload", "protoPayload", "logName", "insertId")
_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed data (unpack it first: gunzip)"),
    (b"PK\x03\x04", "a zip archive (unpack it first)"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"BZh", "bzip2-compressed data (unpack it first: bunzip2)"),
    (b"\xfd7zXZ", "xz-compressed data (unpack it first: unxz)"),
)


class InputFormat(StrEnum):
    AUTO = "auto"
    TEXT = "text"
    JSON = "json"
    JSONL = "jsonl"


class InputFileError(PermanentError):
    """A file given on the command line cannot be used; the message says why and what to give
    (`ko`: the same in Korean, for `--lang ko`)."""

    def __init__(self, message: str, *, ko: str = "", fix: str = "") -> None:
        super().__init__(message, fix=fix)
        self.ko = scrub(ko)


@dataclass(frozen=True, slots=True)
class LogFile:
    lines: tuple[LogLine, ...]
    format: InputFormat
    total: int  # lines in the file (not counting empty ones)
    matched: int = 0  # lines kept before the tail because they name a known error (or context)

    @property
    def dropped(self) -> int:
        return max(0, self.total - len(self.lines))

    @property
    def gap(self) -> Gap | None:
        if not self.dropped:
            return None
        return Gap(
            Source.LOGS,
            f"the log file has {self.total:,} lines: kept the last {min(TAIL_LINES, self.total):,}"
            f" and {self.matched:,} earlier lines that name a known error (with {CONTEXT} lines"
            f" of context each); {self.dropped:,} other lines were not read",
            "give the execution's own lines only (gcloud logging read with its execution name) "
            "to have every line read",
            reason_ko=f"로그 파일이 {self.total:,}줄: 마지막 {min(TAIL_LINES, self.total):,}줄과 "
            f"알려진 오류를 담은 앞부분 {self.matched:,}줄(앞뒤 {CONTEXT}줄 포함)만 사용; "
            f"나머지 {self.dropped:,}줄은 읽지 않음",
            fix_ko="이 실행의 줄만 주면(실행 이름으로 gcloud logging read) 모든 줄을 읽음",
        )


def _open_error(path: Path, exc: OSError) -> InputFileError:
    if isinstance(exc, FileNotFoundError):
        return InputFileError(f"log file {path}: no such file", ko=f"로그 파일 {path}: 파일이 없음")
    if isinstance(exc, IsADirectoryError):
        return InputFileError(
            f"log file {path}: is a directory, not a file",
            ko=f"로그 파일 {path}: 파일이 아니라 디렉터리임",
        )
    return InputFileError(
        f"log file {path}: cannot read it ({exc.strerror})",
        ko=f"로그 파일 {path}: 읽을 수 없음({exc.strerror})",
    )


def _binary_kind(head: bytes) -> str | None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    sample = head[:8192]
    if b"\x00" in sample:
        return "binary data (it holds NUL bytes)"
    text = sample.decode("utf-8", "replace")
    if text and text.count("\ufffd") > len(text) // 10:
        return "binary data (most of it is not text)"
    return None


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


def _record_entry(record: dict[str, Any]) -> Any:
    """One JSON object → an entry for `merge`: a LogEntry as is, an application record as its
    jsonPayload (the message is taken from message / msg / textPayload)."""
    if any(key in record for key in _LOGENTRY_KEYS):
        return line_from_resource(record)
    return line_from_resource(
        {
            "jsonPayload": record,
            "severity": record.get("severity") or record.get("level"),
            "timestamp": record.get("timestamp") or record.get("time") or record.get("ts"),
        }
    )


def _json_error(path: Path, exc: json.JSONDecodeError) -> str:
    return f"log file {path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"


def _records_of_whole(path: Path, text: str) -> list[Any]:
    """A whole-file JSON document → its records (an array, or an object with `entries`)."""
    data = json.loads(text)
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        entries = data.get("entries")
        return entries if isinstance(entries, list) else [data]
    raise InputFileError(
        f"log file {path}: a JSON {type(data).__name__}, expected an array",
        ko=f"로그 파일 {path}: JSON {type(data).__name__}임, 배열이어야 함",
    )


def _entries_of_records(path: Path, records: list[Any]) -> list[Any]:
    entries = []
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise InputFileError(
                f"log file {path}: item {i + 1} is a JSON {type(record).__name__}, expected an "
                "object (a LogEntry as `gcloud logging read --format=json` prints it)",
                ko=f"로그 파일 {path}: {i + 1}번째 항목이 JSON {type(record).__name__}임, "
                "객체여야 함(`gcloud logging read --format=json`이 출력하는 LogEntry)",
            )
        entries.append(_record_entry(record))
    return entries


def _detect(head: str) -> InputFormat:
    start = head.lstrip()
    if start.startswith("["):
        return InputFormat.JSON
    if start.startswith("{"):
        return InputFormat.JSONL
    return InputFormat.TEXT


def _chunks(path: Path) -> Iterator[str]:
    """The file's text in chunks that end on a line boundary."""
    carry = ""
    try:
        with path.open("rb") as handle:
            while True:
                block = handle.read(CHUNK_BYTES)
                if not block:
                    break
                text = carry + block.decode("utf-8", "replace")
                cut = text.rfind("\n")
                if cut == -1:
                    carry = text
                    continue
                carry = text[cut + 1 :]
                yield text[: cut + 1]
    except OSError as exc:
        raise _open_error(path, exc) from None
    if carry:
        yield carry


@dataclass
class _Scan:
    """What a streaming pass keeps: (line number, raw line) for matches and for the tail."""

    matched: dict[int, str]
    tail: deque[tuple[int, str]]
    total: int = 0


# Needles shorter than this ("403", "code", "panic: ") are too common to keep a line for on
# their own in a huge file; the analyzers still see them in the kept lines.
STREAM_NEEDLE_MIN = 8


def _hit_lines(machine: Any, chunk: str) -> list[int]:
    """Indexes (within the chunk) of the lines holding a needle."""
    lowered = chunk.lower()
    starts = sorted({end - len(needle) + 1 for end, needle in machine.iter(lowered)})
    lines: list[int] = []
    line_no, position = 0, 0
    for start in starts:
        line_no += lowered.count("\n", position, start)
        position = start
        if not lines or lines[-1] != line_no:
            lines.append(line_no)
    return lines


def _scan(path: Path) -> _Scan:
    machine = automaton(frozenset(n for n in LogIndex.known() if len(n) >= STREAM_NEEDLE_MIN))
    scan = _Scan(matched={}, tail=deque(maxlen=TAIL_LINES))
    number = 0
    for chunk in _chunks(path):
        raw_lines = chunk.split("\n")
        if raw_lines and raw_lines[-1] == "":
            raw_lines.pop()
        if machine is not None and len(scan.matched) < MAX_MATCHED:
            for index in _hit_lines(machine, chunk):
                lo, hi = max(0, index - CONTEXT), min(len(raw_lines), index + CONTEXT + 1)
                for j in range(lo, hi):
                    if raw_lines[j].strip():
                        scan.matched.setdefault(number + j, raw_lines[j])
                if len(scan.matched) >= MAX_MATCHED:
                    break
        kept = [(number + i, raw) for i, raw in enumerate(raw_lines) if raw.strip()]
        scan.tail.extend(kept)
        scan.total += len(kept)
        number += len(raw_lines)
    return scan


def _kept(scan: _Scan) -> list[str]:
    """The kept raw lines in file order: matches before the tail, then the tail."""
    first_tail = scan.tail[0][0] if scan.tail else 0
    before = [raw for n, raw in sorted(scan.matched.items()) if n < first_tail]
    return before + [raw for _, raw in scan.tail]


def read_log_file(path: str | Path, fmt: InputFormat = InputFormat.AUTO) -> LogFile:
    """Every line worth reading of a log file, and how much of it that was."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputFileError(
                f"log file {path}: is a directory, not a file",
                ko=f"로그 파일 {path}: 파일이 아니라 디렉터리임",
            )
        size = path.stat().st_size
        with path.open("rb") as handle:
            head_bytes = handle.read(_HEAD_BYTES)
    except OSError as exc:
        raise _open_error(path, exc) from None
    head_bytes = head_bytes.removeprefix(b"\xef\xbb\xbf")
    if not head_bytes.strip():
        raise InputFileError(
            f"log file {path}: the log file is empty", ko=f"로그 파일 {path}: 로그 파일이 비어 있음"
        )
    kind = _binary_kind(head_bytes)
    if kind is not None:
        raise InputFileError(
            f"log file {path}: this is {kind}, not a log",
            ko=f"로그 파일 {path}: 로그가 아니라 다음으로 보임 — {kind}",
        )
    head = head_bytes.decode("utf-8", "replace")
    chosen = _detect(head) if fmt is InputFormat.AUTO else fmt

    if chosen is InputFormat.JSON:
        if size > MAX_JSON_BYTES:
            raise InputFileError(
                f"log file {path}: {size:,} bytes of JSON array is more than the "
                f"{MAX_JSON_BYTES:,} read at once; give it as JSON lines "
                "(gcloud logging read --format=json | jq -c '.[]') or as text",
                ko=f"로그 파일 {path}: JSON 배열 {size:,}바이트는 한 번에 읽는 {MAX_JSON_BYTES:,}"
                "바이트보다 큼; JSON lines(gcloud logging read --format=json | jq -c '.[]') "
                "또는 텍스트로 지정",
            )
        text = path.read_bytes().decode("utf-8", "replace").lstrip("\ufeff")
        try:
            records = _records_of_whole(path, text)
        except json.JSONDecodeError as exc:
            if fmt is InputFormat.JSON or text.lstrip().startswith(("[{", "[\n", "[]")):
                raise InputFileError(
                    _json_error(path, exc),
                    ko=f"로그 파일 {path}: 올바른 JSON이 아님({exc.lineno}번째 줄, "
                    f"{exc.colno}번째 칸: {exc.msg})",
                ) from None
            chosen = InputFormat.TEXT  # "[INFO] …"-style text that merely starts with '['
        else:
            lines = merge(_entries_of_records(path, records))
            return _bounded(lines, InputFormat.JSON)

    scan = _scan(path)
    raws = _kept(scan)
    if chosen is InputFormat.TEXT:
        lines = tuple(_plain_line(raw) for raw in raws)
        return LogFile(lines, InputFormat.TEXT, scan.total, _matched(scan))
    return _jsonl(path, raws, scan, forced=fmt is InputFormat.JSONL)


def _matched(scan: _Scan) -> int:
    first_tail = scan.tail[0][0] if scan.tail else 0
    return sum(1 for n in scan.matched if n < first_tail)


def _jsonl(path: Path, raws: list[str], scan: _Scan, *, forced: bool) -> LogFile:
    parsed: list[Any] = []  # an entry for `merge`, or a plain LogLine
    for number, raw in enumerate(raws, start=1):
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            if forced:
                raise InputFileError(
                    f"log file {path}: line {number} is not valid JSON ({exc.msg}); "
                    "JSON lines need one complete JSON object per line "
                    "(--input-format text reads it as plain text)",
                    ko=f"로그 파일 {path}: {number}번째 줄이 올바른 JSON이 아님({exc.msg}); "
                    "JSON lines는 한 줄에 완전한 JSON 객체 하나가 필요함"
                    "(--input-format text로 일반 텍스트로 읽을 수 있음)",
                ) from None
            parsed.append(_plain_line(raw))
            continue
        if isinstance(record, dict):
            parsed.append(_record_entry(record))
        elif forced:
            raise InputFileError(
                f"log file {path}: line {number} is a JSON {type(record).__name__}, "
                "expected an object",
                ko=f"로그 파일 {path}: {number}번째 줄이 JSON {type(record).__name__}임, "
                "객체여야 함",
            )
        else:
            parsed.append(_plain_line(raw))
    if all(not isinstance(p, LogLine) for p in parsed):
        lines = merge(parsed)  # LogEntries: deduplicated and in time order
    else:  # mixed with text: the file's order (a text line's time is not known)
        lines = tuple(p if isinstance(p, LogLine) else p.line for p in parsed)
    return LogFile(lines, InputFormat.JSONL, scan.total, _matched(scan))


def _bounded(lines: tuple[LogLine, ...], fmt: InputFormat) -> LogFile:
    if len(lines) <= TAIL_LINES:
        return LogFile(lines, fmt, len(lines))
    return LogFile(lines[-TAIL_LINES:], fmt, len(lines))
