"""The whole product through real `functions-framework` processes.

Two function processes (events and clicks) share a Firestore emulator, read a recorded Cloud Run /
Logging API (GoogleReplay) and post to a fake Slack Web API. The story on-call lives through:

failure → one alert · the same event again → nothing new · a second failure → a threaded reply
and the parent's counter · Acknowledge → the parent shows who · a success → "recovered" in the
thread and the parent closed.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from slack_sdk.signature import SignatureVerifier

from standins.firestore import RunningEmulator
from standins.replay.google import GoogleReplay, Scenario
from standins.slack import TOKEN, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-signing-secret-0123456789abcdef"
CHANNEL = "C0E2ETEST"
FIRST = "o4o-api-migrations-h5x5h"
SECOND = "o4o-api-migrations-x2k9p"
SUCCESS = "o4o-api-migrations-r7t3m"

pytestmark = pytest.mark.slow


def _rename(data: Any, old: str, new: str) -> Any:
    return json.loads(json.dumps(data).replace(old, new))


def _succeeded(template: dict[str, Any], name: str, created: datetime) -> dict[str, Any]:
    """A successful execution of the job named `name`, created at `created`."""
    old = str(template["name"]).rsplit("/", 1)[-1]
    execution: dict[str, Any] = _rename(template, old, name)
    execution["createTime"] = execution["startTime"] = created.isoformat().replace("+00:00", "Z")
    execution["completionTime"] = (
        (created + timedelta(seconds=40)).isoformat().replace("+00:00", "Z")
    )
    return execution


def scenario_with_rerun() -> Scenario:
    """The seed incident plus a second execution that fails the same way, and a later one that
    succeeds (the Run API confirms a success before anything is recovered)."""
    seed = Scenario.embedded("seed")
    assert seed.execution is not None
    rerun = Scenario(**{f: copy.deepcopy(getattr(seed, f)) for f in ("event", "job", "name")})
    rerun.execution = seed.execution
    good = next(e for e in seed.executions if e.get("succeededCount"))
    rerun.executions = [
        *seed.executions,
        _rename(seed.execution, FIRST, SECOND),
        # The rerun that works, after the failures were seen (the function runs on real time).
        _succeeded(good, SUCCESS, datetime.now(UTC) + timedelta(minutes=1)),
    ]
    rerun.tasks = seed.tasks + _rename(
        [t for t in seed.tasks if FIRST in t.get("name", "")], FIRST, SECOND
    )
    rerun.logs = seed.logs + _rename(
        [e for e in seed.logs if FIRST in json.dumps(e.get("labels", {}))], FIRST, SECOND
    )
    return rerun


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(
    target: str, signature: str, env: dict[str, str], log: Path, *, source: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "functions_framework",
            "--target",
            target,
            "--signature-type",
            signature,
            "--source",
            str(source or ROOT / "main.py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{target} exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{target} did not start: {log.read_text()[-2000:]}")


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def _cloud_event(entry: dict[str, Any], message_id: str) -> tuple[bytes, dict[str, str]]:
    """Binary-mode CloudEvent, the way a push subscription's envelope reaches the function."""
    data = {
        "message": {
            "data": base64.b64encode(json.dumps(entry).encode()).decode(),
            "messageId": message_id,
            "publishTime": entry["timestamp"],
        },
        "subscription": "projects/netureyoutube/subscriptions/jobtriage-events",
    }
    headers = {
        "Content-Type": "application/json",
        "ce-id": message_id,
        "ce-source": "//pubsub.googleapis.com/projects/netureyoutube/topics/jobtriage",
        "ce-specversion": "1.0",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
    }
    return json.dumps(data).encode(), headers


@pytest.fixture
def product(
    firestore_emulator: RunningEmulator,
    tmp_path: Path,
) -> Iterator[dict[str, Any]]:
    scenario = scenario_with_rerun()
    with GoogleReplay(scenario) as google, FakeSlack() as slack:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "CLOUD_RUN_", "CLOUD_LOGGING_", "FIRESTORE_", "GOOGLE_"))
        } | {
            "CLOUD_RUN_EMULATOR_HOST": google.host,
            "CLOUD_LOGGING_EMULATOR_HOST": google.host,
            "FIRESTORE_EMULATOR_HOST": firestore_emulator.host,
            "GOOGLE_CLOUD_PROJECT": f"e2e-{uuid.uuid4().hex[:10]}",
            "INCIDENT_STORE": "firestore",
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_CHANNEL": CHANNEL,
            "SLACK_API_URL": slack.base_url,
            "LOG_WAIT_SECONDS": "0",
            "PYTHONPATH": str(ROOT),
        }
        events, events_url = _start("on_job_event", "cloudevent", env, tmp_path / "events.log")
        clicks, clicks_url = _start("on_slack_action", "http", env, tmp_path / "clicks.log")
        try:
            yield {
                "scenario": scenario,
                "slack": slack,
                "events": events_url,
                "clicks": clicks_url,
                "logs": tmp_path,
            }
        finally:
            for proc in (events, clicks):
                proc.terminate()
                proc.wait(timeout=10)


def _event_for(
    seed_event: dict[str, Any], execution: str, *, success: bool = False
) -> dict[str, Any]:
    entry = _rename(seed_event, FIRST, execution)
    entry["insertId"] = f"e2e-{execution}"
    if success:
        entry["severity"] = "INFO"
        entry["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        entry["protoPayload"]["status"] = {
            "message": f"Execution {execution} has completed successfully."
        }
    return entry


def _signed_click(
    value: str, action_id: str, message_ts: str, *, trigger_id: str | None = None
) -> tuple[bytes, dict[str, str]]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U0ONCALL1", "username": "minji", "name": "minji", "team_id": "T0E2E"},
        "api_app_id": "A0E2E",
        "team": {"id": "T0E2E", "domain": "e2e"},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": CHANNEL},
        "channel": {"id": CHANNEL, "name": "alerts"},
        "message": {"ts": message_ts, "text": "…"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "jt:actions:0",
                "value": value,
                "action_ts": str(time.time()),
            }
        ],
    }
    if trigger_id is not None:
        payload["trigger_id"] = trigger_id
    return _signed(payload)


def _signed(payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = ("payload=" + quote(json.dumps(payload))).encode()
    ts = str(int(time.time()))
    sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sig,
    }


def _button(blocks: list[dict[str, Any]], action_id: str) -> str:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in the message")


def test_failure_repeat_acknowledge_recover(product: dict[str, Any]) -> None:
    slack: FakeSlack = product["slack"]
    seed_event = product["scenario"].event

    def posts() -> list[Any]:
        return slack.calls("chat.postMessage")

    # 1. A failure: one alert in the channel, not in a thread.
    body, headers = _cloud_event(_event_for(seed_event, FIRST), "m-1")
    assert _post(product["events"], body, headers) == 200
    assert len(posts()) == 1
    alert = posts()[0].args
    assert alert["channel"] == CHANNEL
    assert "thread_ts" not in alert
    assert "o4o-api-migrations" in alert["text"]
    assert "ERR_REQUIRE_ESM" in json.dumps(alert["blocks"])
    parent_ts = "1764234000.000001"

    # 2. The same event delivered again: nothing new reaches Slack.
    assert _post(product["events"], body, headers) == 200
    assert len(posts()) == 1

    # 3. A second failure of the same job, same cause: a threaded reply, the parent's counter.
    body2, headers2 = _cloud_event(_event_for(seed_event, SECOND), "m-2")
    assert _post(product["events"], body2, headers2) == 200
    assert len(posts()) == 2
    reply = posts()[1].args
    assert reply["thread_ts"] == parent_ts
    assert SECOND in json.dumps(reply["blocks"])
    updates = slack.calls("chat.update")
    assert updates
    assert updates[-1].args["ts"] == parent_ts
    parent_now = json.dumps(updates[-1].args["blocks"], ensure_ascii=False)
    assert "failed 2 times" in parent_now
    assert "failed once" not in parent_now

    # 4. Acknowledge, clicked on the parent: the parent shows who acknowledged.
    value = _button(alert["blocks"], "jobtriage_ack")
    click, click_headers = _signed_click(value, "jobtriage_ack", parent_ts)
    assert _post(product["clicks"], click, click_headers) == 200
    shown = json.dumps(slack.calls("chat.update")[-1].args["blocks"])
    assert "<@U0ONCALL1>" in shown

    # A forged click changes nothing.
    forged = click_headers | {"X-Slack-Signature": "v0=" + "0" * 64}
    updates_before = len(slack.calls("chat.update"))
    assert _post(product["clicks"], click, forged) == 401
    assert len(slack.calls("chat.update")) == updates_before

    # 5. A later success: "recovered" in the thread, and the parent closed.
    body3, headers3 = _cloud_event(_event_for(seed_event, SUCCESS, success=True), "m-3")
    assert _post(product["events"], body3, headers3) == 200
    assert len(posts()) == 3
    recovered = posts()[2].args
    assert recovered["thread_ts"] == parent_ts
    assert SUCCESS in json.dumps(recovered)
    final = json.dumps(slack.calls("chat.update")[-1].args["blocks"]).lower()
    assert "recovered" in final

    # Nothing was posted anywhere else, and no secret from the audit entry reached Slack.
    everything = json.dumps([c.args for c in slack.calls()])
    assert all(c.args.get("channel") == CHANNEL for c in slack.calls())
    for log in ("events.log", "clicks.log"):
        text = (product["logs"] / log).read_text()
        assert "Traceback" not in text
        assert "Vq7tM2xK9pLr4WzB" not in text  # the seed's plaintext DATABASE_URL password
    assert "Vq7tM2xK9pLr4WzB" not in everything


def _modal_answer(view: dict[str, Any], cause: str, note: str) -> tuple[bytes, dict[str, str]]:
    """The Resolve modal submitted: a `view_submission` with the picked cause and the note."""
    values = {
        "jt:cause": {"cause": {"type": "radio_buttons", "selected_option": {"value": cause}}},
        "jt:note": {"note": {"type": "plain_text_input", "value": note}},
    }
    return _signed(
        {
            "type": "view_submission",
            "user": {"id": "U0ONCALL1", "username": "minji", "team_id": "T0E2E"},
            "api_app_id": "A0E2E",
            "team": {"id": "T0E2E", "domain": "e2e"},
            "trigger_id": "22222.33333.e2e",
            "view": view | {"id": "V0E2E", "state": {"values": values}},
        }
    )


def test_a_confirmed_cause_is_remembered_by_the_next_alert(product: dict[str, Any]) -> None:
    """failure → Resolve, "what was it?" answered in the modal → the same failure again: a new
    alert that says it was seen before, with that cause, who closed it and the note, and the
    job's figures in its footer."""
    slack: FakeSlack = product["slack"]
    seed_event = product["scenario"].event

    def posts() -> list[Any]:
        return slack.calls("chat.postMessage")

    body, headers = _cloud_event(_event_for(seed_event, FIRST), "m-1")
    assert _post(product["events"], body, headers) == 200
    first = posts()[0].args
    parent_ts = "1764234000.000001"
    first_blocks = json.dumps(first["blocks"], ensure_ascii=False)
    assert "jt:seen_before" not in first_blocks  # the job's first incident
    assert "1 failure in 7 days" in first_blocks  # its figures, from the first one on

    # Resolve: the incident closes and the modal asks what it was.
    value = _button(first["blocks"], "jobtriage_resolve")
    click, click_headers = _signed_click(
        value, "jobtriage_resolve", parent_ts, trigger_id="12345.98765.e2e"
    )
    assert _post(product["clicks"], click, click_headers) == 200
    ((trigger, view),) = slack.views
    assert trigger == "12345.98765.e2e"
    note = "rebuilt with type=module <!here> \u200bpostgres://app:Sup3rS3cret@db/app"
    answer, answer_headers = _modal_answer(view, "missing_artifact", note)
    assert _post(product["clicks"], answer, answer_headers) == 200
    assert "confirmed: `missing_artifact`" in json.dumps(slack.calls("chat.update")[-1].args)

    # The same failure again, in another execution: a new alert (the incident was closed)…
    body2, headers2 = _cloud_event(_event_for(seed_event, SECOND), "m-2")
    assert _post(product["events"], body2, headers2) == 200
    assert len(posts()) == 2
    again = posts()[1].args
    assert "thread_ts" not in again
    blocks = {b.get("block_id"): b for b in again["blocks"]}
    # …that remembers: seen before, the confirmed cause, who closed it, the note made harmless
    seen = json.dumps(blocks["jt:seen_before"], ensure_ascii=False)
    assert "2nd time since" in seen
    assert "last confirmed `missing_artifact`" in seen
    assert "resolved by <@U0ONCALL1>" in seen
    assert "rebuilt with type=module" in seen
    assert "<!here>" not in seen
    assert "\u200b" not in seen
    assert "Sup3rS3cret" not in json.dumps(again)
    # …and the job's figures: two failures this week, two runs failing in a row since the last
    # success the Run API names, one incident closed
    footer = json.dumps(blocks["jt:footer"], ensure_ascii=False)
    assert "2 failures in 7 days" in footer
    assert "2 failing runs in a row" in footer
    assert "(1 closed)" in footer
    # the strong ESM signature still leads: one confirmation elsewhere does not overrule it
    assert "ERR_REQUIRE_ESM" in json.dumps(blocks["jt:top"])
