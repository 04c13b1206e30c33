"""Text that cannot fool a reader: invisible characters never reach an output, and job text
cannot turn into Slack formatting; exception messages and our own logs are scrubbed too."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from jobtriage.diagnosis.model import Check, RankedCause
from jobtriage.errors import PermanentError, TransientError
from jobtriage.notify import mrkdwn as M
from jobtriage.notify.alert import render_alert
from jobtriage.notify.builder_url import builder_url
from jobtriage.ownlog import JsonFormatter
from jobtriage.redact import MASK
from jobtriage.text import Text
from tests.notify import reports as R

INVISIBLE = "\u0085\u009b\u2028\u2029\u00ad\u200b\u200d\u202e\u2066\u2060\ufeff\u061c\U000e0041"


def test_slack_text_keeps_no_invisible_character() -> None:
    text = M.untrusted(f"Err{INVISIBLE}or at /app/x.js")
    assert text == "Error at /app/x.js"
    assert M.untrusted_plain(f"job{INVISIBLE}") == "job"


def test_job_text_cannot_format_outside_code() -> None:
    said = M.untrusted("Cannot find /app/*bold*/_private_/x~strike~ in DATABASE_URL")
    assert "*" not in said
    assert "~" not in said
    assert "_private_" not in said
    assert "DATABASE_URL" in said  # an underscore inside a word cannot format: it stays
    # inside code nothing is formatted: the path stays exact
    assert "/app/*bold*/_private_/x" in M.code_block(["/app/*bold*/_private_/x"], limit=200)


def _with_first_step(purpose: str, command: str) -> R.Report:
    report = R.esm_report()
    top = report.top
    assert top.finding is not None
    finding = replace(top.finding, checks=(Check(Text(en=purpose, ko=purpose), command),))
    return replace(report, causes=(RankedCause(top.cause, top.confidence, finding),))


def test_the_first_step_line_does_not_render_job_text_as_formatting() -> None:
    report = _with_first_step(
        f"Check that /app/dist/*bold*/main.js{INVISIBLE} exists",
        "gcloud storage ls gs://o4o-builds/app/dist/*bold*/",
    )
    message = render_alert(report, R.STATES["open"], lang="en")
    [do_now] = [b for b in message.blocks if b.get("block_id") == "jt:do_now"]
    head, _, code = do_now["text"]["text"].partition("\n```")
    confirm = head.rsplit("\n", 1)[-1]
    assert confirm.startswith("• *Confirm:* ")  # ours stays bold
    assert "*bold*" not in confirm
    assert "\u2217bold\u2217" in confirm
    assert "gs://o4o-builds/app/dist/*bold*/" in code  # a command inside code stays exact
    payload = json.dumps(message.payload(), ensure_ascii=False)
    for char in INVISIBLE:
        assert char not in payload


def test_secrets_in_a_message_are_scrubbed_at_the_exit() -> None:
    report = _with_first_step(
        "Retry with token=ghp_0123456789abcdefghijABCDEFGHIJ0123", "gcloud run jobs list"
    )
    message = render_alert(report, R.STATES["open"], lang="en")
    everything = json.dumps(message.payload()) + builder_url(message) + message.text
    assert "ghp_0123456789" not in everything
    assert MASK in json.dumps(message.payload())


def test_exception_messages_are_scrubbed() -> None:
    exc = PermanentError(
        "slack said: invalid_auth for xoxb-123456789012-123456789012-AbCdEfGhIjKl",
        fix="rotate\u202e the token",
    )
    assert "AbCdEfGhIjKl" not in str(exc)
    assert "\u202e" not in exc.fix
    assert "hunter2hunter2" not in str(TransientError("password=hunter2hunter2 rejected"))


def test_own_log_lines_are_scrubbed() -> None:
    record = logging.makeLogRecord(
        {
            "msg": "failed: %s",
            "args": (f"DB_PASSWORD=hunter2hunter2{INVISIBLE}",),
            "levelname": "ERROR",
            "job": f"x{INVISIBLE}postgres://u:pw123456789@db/app",
        }
    )
    line = JsonFormatter().format(record)
    assert "hunter2hunter2" not in line
    assert "pw123456789" not in line
    doc = json.loads(line)
    for char in INVISIBLE:
        assert char not in doc["message"]
        assert char not in doc["job"]
