"""main.py through functions-framework's own app: both CloudEvent encodings, the push envelope,
and the demo posting for real when Slack is configured."""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import functions_framework
import pytest

from jobtriage import app
from jobtriage.cli import main as cli_main
from standins.replay.google import GoogleReplay, Scenario
from standins.slack import TOKEN, FakeSlack

ROOT = Path(__file__).resolve().parents[1]


def _message(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "message": {
            "data": base64.b64encode(json.dumps(entry).encode()).decode(),
            "messageId": "42",
            "publishTime": entry["timestamp"],
        },
        "subscription": "projects/netureyoutube/subscriptions/jobtriage-events",
    }


@pytest.fixture
def slack_and_google() -> Iterator[tuple[FakeSlack, Scenario]]:
    scenario = Scenario.embedded("seed")
    with GoogleReplay(scenario) as google, FakeSlack() as slack:
        os.environ.update(
            {
                "CLOUD_RUN_EMULATOR_HOST": google.host,
                "CLOUD_LOGGING_EMULATOR_HOST": google.host,
                "INCIDENT_STORE": "memory",
                "LOG_WAIT_SECONDS": "0",
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_CHANNEL": "C0MAIN",
                "SLACK_API_URL": slack.base_url,
            }
        )
        app.reset_runtimes()
        try:
            yield slack, scenario
        finally:
            app.reset_runtimes()


def _client() -> Any:
    return functions_framework.create_app(
        target="on_job_event", source=str(ROOT / "main.py")
    ).test_client()


@pytest.mark.parametrize("encoding", ["binary", "structured", "push"])
def test_every_encoding_reaches_slack_once(
    encoding: str, slack_and_google: tuple[FakeSlack, Scenario]
) -> None:
    slack, scenario = slack_and_google
    assert scenario.event is not None
    data = _message(scenario.event)
    attrs = {
        "specversion": "1.0",
        "id": "42",
        "source": "//pubsub.googleapis.com/projects/netureyoutube/topics/jobtriage",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
    }
    if encoding == "binary":
        headers = {f"ce-{k}": v for k, v in attrs.items()} | {"Content-Type": "application/json"}
        response = _client().post("/", data=json.dumps(data), headers=headers)
    elif encoding == "structured":
        body = attrs | {"datacontenttype": "application/json", "data": data}
        response = _client().post(
            "/", data=json.dumps(body), headers={"Content-Type": "application/cloudevents+json"}
        )
    else:  # what the push subscription in deploy/ sends: no ce-* headers at all
        response = _client().post("/projects/netureyoutube/topics/jobtriage", json=data)
    assert response.status_code == 200
    posts = slack.calls("chat.postMessage")
    assert len(posts) == 1
    assert "o4o-api-migrations" in posts[0].args["text"]


def test_a_bad_event_is_acknowledged_and_logged_once(
    slack_and_google: tuple[FakeSlack, Scenario], capsys: pytest.CaptureFixture[str]
) -> None:
    slack, _ = slack_and_google
    body = {
        "specversion": "1.0",
        "id": "43",
        "source": "//pubsub.googleapis.com/projects/p/topics/t",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "data": {"message": {"data": base64.b64encode(b"not json").decode()}},
    }
    response = _client().post(
        "/", data=json.dumps(body), headers={"Content-Type": "application/cloudevents+json"}
    )
    assert response.status_code == 200  # acknowledged: redelivery would fail the same way
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    ignored = [x for x in lines if x["message"].startswith("event ignored")]
    assert len(ignored) == 1
    assert ignored[0]["severity"] == "WARNING"
    assert "not JSON" in ignored[0]["message"]
    assert slack.calls() == []


def test_demo_posts_for_real_when_slack_is_configured(
    slack_and_google: tuple[FakeSlack, Scenario],
) -> None:
    slack, _ = slack_and_google
    out = io.StringIO()
    assert cli_main(["demo"], out=out) == 0
    assert "(posted)" in out.getvalue()
    posts = slack.calls("chat.postMessage")
    assert len(posts) == 1
    assert posts[0].args["channel"] == "C0MAIN"


def _structured(scenario: Scenario) -> dict[str, Any]:
    assert scenario.event is not None
    return {
        "specversion": "1.0",
        "id": "44",
        "source": "//pubsub.googleapis.com/projects/netureyoutube/topics/jobtriage",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "datacontenttype": "application/json",
        "data": _message(scenario.event),
    }


def test_a_transient_error_is_one_log_line_and_no_traceback(
    slack_and_google: tuple[FakeSlack, Scenario],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jobtriage.errors import TransientError

    _, scenario = slack_and_google

    def slow(*_: object, **__: object) -> None:
        raise TransientError("Slack chat.postMessage timed out")

    monkeypatch.setattr(app, "process_event", slow)
    response = _client().post(
        "/",
        data=json.dumps(_structured(scenario)),
        headers={"Content-Type": "application/cloudevents+json"},
    )
    assert response.status_code == 503  # Pub/Sub redelivers
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = [json.loads(x) for x in captured.out.splitlines() if x.startswith("{")]
    said = [x for x in lines if "timed out" in x["message"]]
    assert len(said) == 1
    assert said[0]["severity"] == "WARNING"
    assert said[0]["message"] == "will be redelivered: Slack chat.postMessage timed out"


def test_a_bug_still_shows_its_traceback(
    slack_and_google: tuple[FakeSlack, Scenario],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, scenario = slack_and_google

    def broken(*_: object, **__: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(app, "process_event", broken)
    response = _client().post(
        "/",
        data=json.dumps(_structured(scenario)),
        headers={"Content-Type": "application/cloudevents+json"},
    )
    assert response.status_code == 500
    bugs = [r for r in caplog.records if r.exc_info and r.exc_info[0] is KeyError]
    assert len(bugs) == 1  # Flask logs the exception with its traceback
