"""evidence.logfile: a log file of any size and format, read once, nothing important lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import analyzers  # noqa: F401  (declares the needles a huge file is scanned for)
from jobtriage.evidence.logfile import (
    CONTEXT,
    TAIL_LINES,
    InputFileError,
    InputFormat,
    read_log_file,
)
from jobtriage.evidence.model import Stream


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_text_whose_first_line_is_json_is_read_line_by_line(tmp_path: Path) -> None:
    # zap / pino / structlog first, then plain lines: neither refused nor half-read
    path = write(
        tmp_path,
        "app.log",
        '{"level":"info","msg":"starting migration","ts":"2026-01-12T03:00:00Z"}\n'
        "Error: connect ECONNREFUSED 10.0.0.3:5432\n"
        '{"level":"error","message":"migration aborted"}\n',
    )
    read = read_log_file(path)
    assert read.format is InputFormat.JSONL
    assert [line.text for line in read.lines] == [
        "starting migration",
        "Error: connect ECONNREFUSED 10.0.0.3:5432",
        "migration aborted",
    ]
    assert read.lines[2].severity == "ERROR"
    assert read.gap is None


def test_a_text_line_that_starts_with_a_bracket_is_text(tmp_path: Path) -> None:
    path = write(tmp_path, "app.log", "[INFO] starting\n[ERROR] relation users already exists\n")
    read = read_log_file(path)
    assert read.format is InputFormat.TEXT
    assert read.lines[1].text == "[ERROR] relation users already exists"
    assert read.lines[1].stream is Stream.OTHER


def test_forcing_a_format(tmp_path: Path) -> None:
    path = write(tmp_path, "app.log", '{"msg": "a"}\nnot json\n')
    as_text = read_log_file(path, InputFormat.TEXT)
    assert [line.text for line in as_text.lines] == ['{"msg": "a"}', "not json"]
    with pytest.raises(InputFileError, match=r"line 2 is not valid JSON .*--input-format text"):
        read_log_file(path, InputFormat.JSONL)
    with pytest.raises(InputFileError, match=r"not valid JSON \(line 2, column 1: Extra data"):
        read_log_file(path, InputFormat.JSON)


def test_a_gcloud_array_keeps_time_order(tmp_path: Path) -> None:
    entries = [
        {"textPayload": "second", "timestamp": "2026-01-12T03:00:02Z", "insertId": "b"},
        {"textPayload": "first", "timestamp": "2026-01-12T03:00:01Z", "insertId": "a"},
    ]
    read = read_log_file(write(tmp_path, "logs.json", json.dumps(entries)))
    assert read.format is InputFormat.JSON
    assert [line.text for line in read.lines] == ["first", "second"]


def test_an_error_on_line_one_of_a_huge_file_is_found(tmp_path: Path) -> None:
    chatter = "info: processed batch of users (1000 rows) in 212ms\n"
    path = tmp_path / "huge.log"
    with path.open("w", encoding="utf-8") as handle:
        handle.write('FATAL: password authentication failed for user "migrator"\n')
        handle.write(chatter * 500_000)
    read = read_log_file(path)
    assert read.total == 500_001
    assert read.lines[0].text.startswith("FATAL: password authentication failed")
    # the error, its context after it, and the tail
    assert len(read.lines) == 1 + CONTEXT + TAIL_LINES
    assert read.matched == 1 + CONTEXT
    gap = read.gap
    assert gap is not None
    assert "500,001 lines" in gap.reason
    assert f"{500_001 - TAIL_LINES - 1 - CONTEXT:,} other lines were not read" in gap.reason


def test_a_file_that_fits_is_read_whole(tmp_path: Path) -> None:
    read = read_log_file(write(tmp_path, "small.log", "a\n\nb\nc"))
    assert [line.text for line in read.lines] == ["a", "b", "c"]
    assert read.total == 3
    assert read.dropped == 0


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="is a directory, not a file"):
        read_log_file(tmp_path)
    with pytest.raises(InputFileError, match="no such file"):
        read_log_file(tmp_path / "nope.log")
