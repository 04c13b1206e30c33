"""Ticks through real `functions-framework` processes, the Firestore emulator and the fake Slack.

The event function's clock is the system's, moved forward by a file (tests/e2e/clocked.py), so
that half an hour passes between two ticks in an instant; the click function keeps the real time
(Slack's signature window). The story:

failure → one alert · a tick at once → no reminder yet, and nightly-export (expected every 26 h,
last success 30 h ago) gets one incident of its own · the same tick again, and three copies at
once → nothing new · nightly-export acknowledged · 31 minutes later a tick → exactly one reminder,
in the failure's thread, mentioning the on-call group; none for the acknowledged one · ticks
again, duplicated → nothing new · nightly-export succeeds → "recovered" in its thread.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from standins.firestore import RunningEmulator
from standins.replay.google import GoogleReplay, Scenario
from standins.replay.history import Run, job_history
from standins.slack import TOKEN, FakeSlack
from tests.e2e.test_flow import (
    CHANNEL,
    FIRST,
    ROOT,
    SECRET,
    _button,
    _cloud_event,
    _event_for,
    _post,
    _signed_click,
    _start,
)

pytestmark = pytest.mark.slow

PROJECT = "netureyoutube"
REGION = "asia-northeast3"
NIGHTLY = "nightly-export"
GROUP = "S0ONCALL"
TICK = {"kind": "tick", "version": 1, "project": PROJECT, "region": REGION}


def _tick(message_id: str, minutes: float = 0) -> tuple[bytes, dict[str, str]]:
    """A tick as Cloud Scheduler publishes it `minutes` from now and the push subscription
    delivers it."""
    published = datetime.now(UTC) + timedelta(minutes=minutes)
    data = {
        "message": {
            "data": base64.b64encode(json.dumps(TICK).encode()).decode(),
            "attributes": {"jobtriage": "tick"},
            "messageId": message_id,
            "publishTime": published.isoformat().replace("+00:00", "Z"),
        },
        "subscription": f"projects/{PROJECT}/subscriptions/jobtriage-job-outcomes-push",
    }
    headers = {
        "Content-Type": "application/json",
        "ce-id": message_id,
        "ce-source": f"//pubsub.googleapis.com/projects/{PROJECT}/topics/jobtriage-job-outcomes",
        "ce-specversion": "1.0",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
    }
    return json.dumps(data).encode(), headers


@pytest.fixture
def product(firestore_emulator: RunningEmulator, tmp_path: Path) -> Iterator[dict[str, Any]]:
    now = datetime.now(UTC)
    history = job_history(
        NIGHTLY,
        [
            Run("k2m9q", now - timedelta(hours=30), ok=True),
            Run("z8c1d", now - timedelta(hours=6), ok=False),
        ],
    )
    seed = Scenario.embedded("seed")
    clock_file = tmp_path / "clock-offset"
    clock_file.write_text("0")
    with GoogleReplay([seed, history]) as google, FakeSlack() as slack:
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
            "REMIND_AFTER_MINUTES": "30",
            "REMIND_USERGROUP": GROUP,
            "EXPECTED_INTERVALS": f"{NIGHTLY}=26h",
            "E2E_CLOCK_FILE": str(clock_file),
            "PYTHONPATH": str(ROOT),
        }
        events, events_url = _start(
            "on_job_event",
            "cloudevent",
            env,
            tmp_path / "events.log",
            source=ROOT / "tests" / "e2e" / "clocked.py",
        )
        clicks, clicks_url = _start("on_slack_action", "http", env, tmp_path / "clicks.log")
        try:
            yield {
                "seed": seed,
                "slack": slack,
                "google": google,
                "events": events_url,
                "clicks": clicks_url,
                "logs": tmp_path,
                "clock": clock_file,
            }
        finally:
            for proc in (events, clicks):
                proc.terminate()
                proc.wait(timeout=10)


def _at_once(url: str, bodies: list[tuple[bytes, dict[str, str]]]) -> list[int]:
    """Deliver all of them at the same moment (Pub/Sub redelivering to several instances)."""
    barrier = threading.Barrier(len(bodies))
    codes: list[int] = []

    def deliver(body: bytes, headers: dict[str, str]) -> None:
        barrier.wait(timeout=30)
        codes.append(_post(url, body, headers))

    threads = [threading.Thread(target=deliver, args=b) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return codes


def test_reminder_once_missed_run_once_and_duplicated_ticks_do_nothing_twice(
    product: dict[str, Any],
) -> None:
    slack: FakeSlack = product["slack"]
    events: str = product["events"]

    def posts() -> list[Any]:
        return slack.calls("chat.postMessage")

    def minutes_later(minutes: float) -> None:
        product["clock"].write_text(str(minutes * 60))

    # 1. A failure: one alert.
    body, headers = _cloud_event(_event_for(product["seed"].event, FIRST), "m-1")
    assert _post(events, body, headers) == 200
    assert len(posts()) == 1
    failure_alert = posts()[0].args
    failure_ts = "1764234000.000001"

    # 2. A tick at once: too early for a reminder; nightly-export has missed its run.
    assert _post(events, *_tick("t-1")) == 200
    assert len(posts()) == 2
    missed = posts()[1].args
    assert "thread_ts" not in missed  # a new alert of its own
    missed_text = json.dumps(missed["blocks"])
    assert f"{NIGHTLY} has not succeeded for 30 h" in missed_text
    assert f"{NIGHTLY}-k2m9q" in missed_text
    missed_ts = "1764234000.000002"

    # 3. The same tick redelivered, and three copies of another at once: nothing new.
    assert _post(events, *_tick("t-1")) == 200
    assert _at_once(events, [_tick("t-2")] * 3) == [200, 200, 200]
    assert len(posts()) == 2

    # 4. On-call acknowledges the missed run (the click function runs on the real clock).
    value = _button(missed["blocks"], "jobtriage_ack")
    click, click_headers = _signed_click(value, "jobtriage_ack", missed_ts)
    assert _post(product["clicks"], click, click_headers) == 200

    # 5. 31 minutes later: exactly one reminder, in the failure's thread, for the on-call group.
    minutes_later(31)
    assert _post(events, *_tick("t-3", 31)) == 200
    assert len(posts()) == 3
    reminder = posts()[2].args
    assert reminder["thread_ts"] == failure_ts
    assert f"<!subteam^{GROUP}>" in reminder["text"]
    assert f"<!subteam^{GROUP}>" in json.dumps(reminder["blocks"])
    assert "o4o-api-migrations" in json.dumps(reminder["blocks"])

    # 6. Ticks again, redelivered and duplicated: nothing new, and never for the acknowledged one.
    minutes_later(36)
    assert _post(events, *_tick("t-3", 31)) == 200
    assert _at_once(events, [_tick("t-4", 36)] * 3) == [200, 200, 200]
    minutes_later(24 * 60)
    assert _post(events, *_tick("t-5", 24 * 60)) == 200
    assert len(posts()) == 3
    assert not [p for p in posts() if p.args.get("thread_ts") == missed_ts]

    # 7. nightly-export succeeds: its incident recovers as usual, in its own thread.
    success = _event_for(product["seed"].event, FIRST, success=True)
    success = json.loads(json.dumps(success).replace("o4o-api-migrations", NIGHTLY))
    ended = datetime.now(UTC) + timedelta(days=1, minutes=1)
    success["timestamp"] = ended.isoformat()
    # The Run API knows that execution and that it succeeded (what a success is checked by).
    ran = job_history(NIGHTLY, [Run("h5x5h", ended, ok=True)])
    product["google"].scenario.executions.insert(0, ran.executions[0])
    minutes_later(24 * 60 + 2)
    assert _post(events, *_cloud_event(success, "m-2")) == 200
    assert len(posts()) == 4
    recovered = posts()[3].args
    assert recovered["thread_ts"] == missed_ts
    assert "recovered" in json.dumps(slack.calls("chat.update")[-1].args["blocks"]).lower()

    # Nothing anywhere else, no traceback, and the failure's alert was never touched by a tick.
    assert all(c.args.get("channel") == CHANNEL for c in slack.calls())
    assert failure_alert["channel"] == CHANNEL
    for log in ("events.log", "clicks.log"):
        assert "Traceback" not in (product["logs"] / log).read_text()
