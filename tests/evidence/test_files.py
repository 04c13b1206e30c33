"""Offline inputs for the command line: log files in three formats, v2 resources, clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobtriage.errors import PermanentError
from jobtriage.evidence.files import (
    InputFileError,
    evidence_from_files,
    load_execution_file,
    load_job_file,
    load_log_file,
)
from jobtriage.evidence.model import ExecutionRef, Stream

from .conftest import scenario

SEED = scenario("seed")
SEED_ENTRIES = [e for e in SEED.logs if "task_attempt" in json.dumps(e.get("labels", {}))]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_gcloud_json_array(tmp_path: Path) -> None:
    # gcloud prints newest first; the loader puts lines in time order
    newest_first = sorted(SEED_ENTRIES, key=lambda e: e["timestamp"], reverse=True)
    path = write(tmp_path, "logs.json", json.dumps(newest_first, indent=2))
    lines = load_log_file(path)
    assert len(lines) == 4 * 13 + 5  # the failed execution's and the day-before's entries
    assert lines[0].text == "[dotenv@17.2.1] injecting env (0) from .env"
    assert lines[0].timestamp == datetime(2026, 1, 11, 5, 47, 19, 500872, tzinfo=UTC)
    esm = [line for line in lines if "ERR_REQUIRE_ESM]" in line.text]
    assert len(esm) == 4
    assert esm[0].stream is Stream.STDERR
    assert esm[0].attempt == 0
    assert esm[0].task_index == 0
    assert lines[-1].text == "Container called exit(1)."
    assert lines[-1].stream is Stream.SYSTEM
    assert lines[-1].severity == "WARNING"


def test_json_lines_including_application_records(tmp_path: Path) -> None:
    records = [
        json.dumps(SEED_ENTRIES[0]),
        "",
        json.dumps(
            {
                "level": "error",
                "msg": "connect ECONNREFUSED 10.0.0.5:5432",
                "time": "2026-01-12T06:12:30Z",
            }
        ),
    ]
    path = write(tmp_path, "logs.jsonl", "\n".join(records) + "\n")
    lines = load_log_file(path)
    assert [line.text for line in lines] == [
        SEED_ENTRIES[0]["textPayload"],
        "connect ECONNREFUSED 10.0.0.5:5432",
    ]
    assert lines[1].severity == "ERROR"
    assert lines[1].timestamp == datetime(2026, 1, 12, 6, 12, 30, tzinfo=UTC)


def test_plain_text_one_line_per_line(tmp_path: Path) -> None:
    text = (
        "[INFO] starting migrations\n"
        "2026-01-12T06:12:05.214Z Error [ERR_REQUIRE_ESM]: require() of ES Module\n"
        "\n"
        "    at Object.<anonymous> (/app/dist/migrate.js:9:23)\r\n"
    )
    lines = load_log_file(write(tmp_path, "out.txt", text))
    assert [line.text for line in lines] == [
        "[INFO] starting migrations",
        "Error [ERR_REQUIRE_ESM]: require() of ES Module",
        "    at Object.<anonymous> (/app/dist/migrate.js:9:23)",
    ]
    assert lines[1].timestamp == datetime(2026, 1, 12, 6, 12, 5, 214000, tzinfo=UTC)
    assert lines[0].timestamp is None
    assert lines[0].stream is Stream.OTHER


def test_a_stray_bad_byte_in_text_is_replaced_not_refused(tmp_path: Path) -> None:
    lines = load_log_file(write(tmp_path, "junk.log", b"ok line\n\xff\xfebin\x1b[2Jary\nend\n"))
    assert lines[0].text == "ok line"
    assert lines[1].text == "\ufffd\ufffdbinary"
    for line in lines:
        line.text.encode("utf-8")


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"ok line\n\xff\xfe\x00bin" + bytes(range(256)), "binary data (it holds NUL bytes)"),
        (b"\x1f\x8b\x08\x00" + bytes(200), "gzip-compressed data (unpack it first: gunzip)"),
        (b"\x7fELF\x02\x01\x01" + bytes(100), "an executable (ELF)"),
        (bytes(range(128, 256)) * 20, "binary data (most of it is not text)"),
    ],
)
def test_a_binary_file_is_refused_saying_what_it_looks_like(
    tmp_path: Path, content: bytes, said: str
) -> None:
    path = write(tmp_path, "junk.log", content)
    with pytest.raises(InputFileError) as caught:
        load_log_file(path)
    assert str(caught.value) == f"log file {path}: this is {said}, not a log"


@pytest.mark.parametrize("content", ["", "  \n\n", "\ufeff\n"])
def test_an_empty_file_is_refused(tmp_path: Path, content: str) -> None:
    path = write(tmp_path, "empty.log", content)
    with pytest.raises(InputFileError) as caught:
        load_log_file(path)
    assert str(caught.value) == f"log file {path}: the log file is empty"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", '[{"textPayload": "a"},', "log file {path}: not valid JSON (line 1, column"),
        ("list.json", "[1, 2]", "log file {path}: item 1 is a JSON int, expected an object"),
    ],
)
def test_bad_log_files_say_what_is_wrong(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(InputFileError) as caught:
        load_log_file(path)
    assert str(caught.value).startswith(message.format(path=path))
    assert isinstance(caught.value, PermanentError)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(InputFileError, match=r"^log file .*nope\.json: no such file$"):
        load_log_file(path)
    with pytest.raises(InputFileError, match=r"^execution file .*nope\.json: no such file$"):
        load_execution_file(path)
    with pytest.raises(InputFileError, match=r"is a directory, not a file$"):
        load_job_file(tmp_path)


def test_execution_and_job_files(tmp_path: Path) -> None:
    execution = dict(SEED.execution or {}, someFieldFromTheFuture={"x": 1})
    ex = load_execution_file(write(tmp_path, "execution.json", json.dumps(execution)))
    assert ex.name == "o4o-api-migrations-h5x5h"
    assert ex.execution_reason == "NON_ZERO_EXIT_CODE"
    assert ex.config.main is not None
    assert "DATABASE_URL" in ex.config.main.env_names
    assert "Vq7tM2xK9pLr4WzB" not in repr(ex)
    job = load_job_file(write(tmp_path, "job.json", json.dumps(SEED.job)))
    assert (job.name, job.generation) == ("o4o-api-migrations", "14")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "execution file {path}: not valid JSON (line 1, column 2"),
        ("[]", "execution file {path}: expected a JSON object (one Execution), not a list"),
        ('{"name": "x"}', "execution file {path}: no v2 Execution name"),
        (
            '{"apiVersion": "run.googleapis.com/v1", "kind": "Execution", "metadata": {}}',
            "execution file {path}: this is a v1 Execution "
            "(what `gcloud run jobs ... describe` prints)",
        ),
        (
            '{"name": "projects/p/locations/r/jobs/j/executions/e", "taskCount": "many"}',
            "execution file {path}: not a valid v2 Execution:",
        ),
    ],
)
def test_bad_execution_files(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path, "execution.json", content)
    with pytest.raises(InputFileError) as caught:
        load_execution_file(path)
    assert str(caught.value).startswith(message.format(path=path))


def test_an_execution_given_as_a_job_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "job.json", json.dumps(SEED.execution))
    with pytest.raises(InputFileError, match="this is an Execution, not a Job"):
        load_job_file(path)


def test_evidence_from_files(tmp_path: Path) -> None:
    logs = write(tmp_path, "logs.json", json.dumps(SEED.logs))
    execution = write(tmp_path, "execution.json", json.dumps(SEED.execution))
    job = write(tmp_path, "job.json", json.dumps(SEED.job))
    ev = evidence_from_files(log_file=logs, execution_file=execution, job_file=job)
    assert ev.ref == ExecutionRef(
        "netureyoutube", "asia-northeast3", "o4o-api-migrations", "o4o-api-migrations-h5x5h"
    )
    assert ev.execution is not None
    assert ev.job is not None
    assert ev.log_stats.kept == len(SEED.logs)
    assert ev.log_stats.requests == 0
    assert ev.grep("ERR_REQUIRE_ESM")
    assert "Vq7tM2xK9pLr4WzB" not in repr(ev)  # the audit entry in the file: status message only

    only_logs = evidence_from_files(log_file=logs)
    assert only_logs.ref.job == "o4o-api-migrations"
    with pytest.raises(InputFileError, match="nothing to diagnose"):
        evidence_from_files()


def test_a_log_file_alone_reports_only_what_it_read(tmp_path: Path) -> None:
    log = write(tmp_path, "app.log", "Error: connect ECONNREFUSED 10.20.0.3:5432\n")
    ev = evidence_from_files(log_file=log)
    assert ev.ref == ExecutionRef("<PROJECT>", "<REGION>", "<JOB>", "<EXECUTION>")
    reasons = {str(g.source): g.reason for g in ev.gaps}
    assert "<PROJECT>, <REGION>, <JOB>, <EXECUTION>" in reasons["event"]
    assert "Cloud SQL attachment, service account" in reasons["job"]
    assert "not checked offline" in reasons["last_success"]
    named = evidence_from_files(
        log_file=log, ref=ExecutionRef("proj-1", "europe-west1", "migrate", "migrate-x1")
    )
    assert "event" not in {str(g.source) for g in named.gaps}


def test_the_offline_report_says_what_it_did_not_check(tmp_path: Path) -> None:
    from jobtriage.diagnosis import build_report, to_text

    log = write(tmp_path, "app.log", "Error: connect ECONNREFUSED 10.20.0.3:5432\n")
    text = to_text(build_report(evidence_from_files(log_file=log)))
    assert "No successful execution found" not in text
    assert "Not checked (see 'Could not check' below)" in text
    assert "--project='<PROJECT>'" in text
    assert "unknown" not in text
