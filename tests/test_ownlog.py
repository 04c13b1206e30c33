"""Our own logs are JSON lines Cloud Logging parses, carry job/execution, and never a secret."""

from __future__ import annotations

import json

import pytest

from jobtriage.ownlog import get_logger


def test_json_line_with_severity_and_context(capsys: pytest.CaptureFixture[str]) -> None:
    log = get_logger()
    log.warning(
        "posting failed for %s",
        "postgres://u:topsecretpw@h/db",
        extra={"job": "o4o-api-migrations", "execution": "o4o-api-migrations-h5x5h"},
    )
    line = capsys.readouterr().out.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["severity"] == "WARNING"
    assert record["job"] == "o4o-api-migrations"
    assert record["execution"] == "o4o-api-migrations-h5x5h"
    assert "topsecretpw" not in line
    assert "[REDACTED]" in record["message"]


def test_exception_text_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    log = get_logger()
    try:
        raise RuntimeError("token=xoxb-1111111111-2222222222-abcdefabcdef")
    except RuntimeError:
        log.exception("failed", extra={"job": "j"})
    out = capsys.readouterr().out
    assert "xoxb-1111111111" not in out
    assert json.loads(out.strip().splitlines()[-1])["severity"] == "ERROR"
