"""The command line: what a user sees for the demo, offline files, and each kind of mistake."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from jobtriage.cli import main
from standins.replay.google import Scenario

SEED_PASSWORD = "Vq7tM2xK9pLr4WzB"  # in the seed's audit entry, as a plain env value


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


def test_demo_replays_the_seed_incident_end_to_end() -> None:
    code, text = run(["demo"])
    assert code == 0
    assert "o4o-api-migrations-h5x5h" in text
    assert "asia-northeast3" in text
    assert "entrypoint_runtime" in text.split("1. [", 1)[1].splitlines()[0]
    assert "ERR_REQUIRE_ESM" in text
    assert "dist/main.js migration:run → dist/migrate.js" in text  # what changed
    assert "Block Kit Builder: https://app.slack.com/block-kit-builder/#" in text
    assert "[Acknowledge]" in text
    assert SEED_PASSWORD not in text


def test_demo_in_korean_has_the_seed_sections() -> None:
    code, text = run(["demo", "--lang", "ko"])
    assert code == 0
    for section in (
        "현상 요약",
        "원인 후보",
        "조사 명령어",
        "핵심 판단",
        "임시 우회 방안",
        "변경 사항",
    ):
        assert section in text


def test_json_contract() -> None:
    code, text = run(["demo", "--format", "json"])
    assert code == 0
    doc = json.loads(text)
    causes = doc["causes"]
    assert [c["confidence"] for c in causes] == sorted(
        (c["confidence"] for c in causes), reverse=True
    )
    assert causes[0]["id"] == "entrypoint_runtime"
    assert 0 <= causes[-1]["confidence"] <= causes[0]["confidence"] <= 1
    assert all(isinstance(e, str) for c in causes for e in c["evidence"])
    assert {"summary", "changes", "gaps", "verdict", "differential", "links"} <= set(doc)
    assert doc["summary"]["execution"] == "o4o-api-migrations-h5x5h"
    differential = doc["differential"]
    assert [h["id"] for h in differential] == [c["id"] for c in causes if c["id"] != "unknown"]
    for h in differential:
        assert set(h) == {"id", "verdict", "reason", "confidence"}
        assert h["verdict"] in ("likely", "possible", "ruled_out", "unchecked")
        assert isinstance(h["reason"], str)
        assert h["reason"]
    assert differential[0] == {
        **differential[0],
        "id": "entrypoint_runtime",
        "verdict": "likely",
    }


def test_demo_names_the_suspect_changes_in_time_order() -> None:
    code, text = run(["demo", "--format", "json"])
    assert code == 0
    doc = json.loads(text)
    suspects = doc["suspects"]
    assert [s["kind"] for s in suspects] == ["secret_version", "commit", "job_edit"]
    assert [s["when"] for s in suspects] == sorted(s["when"] for s in suspects)
    assert all(set(s) == {"kind", "when", "who", "what", "lines_up", "link"} for s in suspects)
    secret, commit, edit = suspects
    assert "version 7" in secret["what"]
    assert not secret["lines_up"]
    assert "f6d12b51f" in commit["what"]
    assert commit["lines_up"]
    assert commit["link"].startswith("https://github.com/o4o-dev/o4o-platform/compare/")
    assert edit["who"] == "github-actions-deployer@netureyoutube.iam.gserviceaccount.com"
    # +DATABASE_URL does not line up with an ES-module crash
    env = next(c for c in doc["changes"] if c["field"] == "env_names")
    assert env["related_cause"] is None
    assert SEED_PASSWORD not in text


def test_slack_format_prints_block_kit() -> None:
    code, text = run(["demo", "--format", "slack"])
    assert code == 0
    payload = json.loads(text.split("\nBlock Kit Builder:", 1)[0])
    assert payload["text"]
    assert len(payload["blocks"]) <= 50


def test_offline_log_file_in_gcloud_json(tmp_path: Path) -> None:
    logs = Scenario.embedded("seed").logs
    path = tmp_path / "logs.json"
    path.write_text(json.dumps(logs))
    code, text = run(["diagnose", "--log-file", str(path), "--format", "json"])
    assert code == 0
    assert json.loads(text)["causes"][0]["id"] == "entrypoint_runtime"


def test_offline_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text(
        "Running migrations...\nError: P1001: Can't reach database server at `10.3.0.5`:`5432`\n"
    )
    code, text = run(["diagnose", "--log-file", str(path)])
    assert code == 0
    assert "db_connection" in text.split("1. [", 1)[1].splitlines()[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diagnose", "--log-file", "/nonexistent/logs.json"], "no such file"),
        (["diagnose"], "say which execution"),
    ],
)
def test_mistakes_get_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(argv)
    assert code == 2
    assert message in capsys.readouterr().err


def test_unreadable_json_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "execution.json"
    path.write_text("{not json")
    code, _ = run(["diagnose", "--execution-file", str(path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "execution.json" in err


def test_live_without_credentials_says_what_to_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud login
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # no metadata server
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    code, _ = run(
        [
            "diagnose",
            "--project",
            "p-123456",
            "--region",
            "us-central1",
            "--job",
            "j",
            "--execution",
            "j-abc12",
        ]
    )
    assert code == 2
    assert "gcloud auth application-default login" in capsys.readouterr().err


def test_slack_and_json_formats_print_only_their_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "app.log"
    log.write_text("Error: connect ECONNREFUSED 10.20.0.3:5432\n", encoding="utf-8")
    for fmt in ("json", "slack"):
        out = io.StringIO()
        assert main(["diagnose", "--log-file", str(log), "--format", fmt], out=out) == 0
        json.loads(out.getvalue())  # nothing else on stdout
    assert "Block Kit Builder: https://app.slack.com/block-kit-builder" in capsys.readouterr().err


def test_input_format_can_be_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "app.log"
    log.write_text('{"msg": "relation \\"users\\" already exists"}\nplain\n', encoding="utf-8")
    out = io.StringIO()
    assert main(["diagnose", "--log-file", str(log), "--format", "json"], out=out) == 0
    assert json.loads(out.getvalue())["verdict"]["cause"] == "migration_sql"
    args = ["diagnose", "--log-file", str(log), "--input-format", "jsonl"]
    assert main(args, out=io.StringIO()) == 2
    assert "line 2 is not valid JSON" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `… | head`: the reader went away. (This machine's pipes do not report EPIPE to a writer,
    # so the closed pipe is a stream that raises as a closed pipe does.)
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    log = tmp_path / "app.log"
    log.write_text("Error: connect ECONNREFUSED 10.20.0.3:5432\n", encoding="utf-8")
    assert main(["diagnose", "--log-file", str(log)], out=ClosedPipe()) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "BrokenPipeError" not in captured.err


def test_live_with_google_unreachable_says_so_and_exits_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("CLOUD_RUN_EMULATOR_HOST", closed)
    monkeypatch.setenv("CLOUD_LOGGING_EMULATOR_HOST", closed)
    monkeypatch.setenv("LOG_WAIT_SECONDS", "0")
    monkeypatch.setenv("API_TIMEOUT_SECONDS", "2")
    argv = ["diagnose", "--project", "p-1", "--region", "us-central1", "--job", "j"]
    code, text = run([*argv, "--execution", "j-abc12"])
    assert code == 3
    assert "could not reach the Cloud Run Admin API: the connection failed" in text
    assert "bug in jobtriage" not in text
    assert "nothing could be read from Google" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "english", "korean"),
    [
        ("", "the log file is empty", "로그 파일이 비어 있음"),
        ('{"msg": "a"}\n{"msg": \n', "line 2 is not valid JSON", "2번째 줄이 올바른 JSON이 아님"),
    ],
)
def test_input_errors_speak_the_reports_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, english: str, korean: str
) -> None:
    log = tmp_path / "app.log"
    log.write_text(content, encoding="utf-8")
    base = ["diagnose", "--log-file", str(log)]
    if "msg" in content:
        base += ["--input-format", "jsonl"]
    assert main([*base, "--lang", "ko"], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err.startswith("오류: ")
    assert korean in err
    assert main(base, out=io.StringIO()) == 2
    assert english in capsys.readouterr().err


def test_every_input_error_has_korean() -> None:
    # Every mistake the command line reports is said in Korean too (--lang ko).
    import ast

    root = Path(__file__).resolve().parents[1] / "jobtriage"
    missing = []
    for path in (root / "cli.py", root / "evidence" / "files.py", root / "evidence" / "logfile.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("InputFileError", "CliError")
                and not any(k.arg == "ko" for k in node.keywords)
            ):
                missing.append(f"{path.name}:{node.lineno}")
    assert missing == []
