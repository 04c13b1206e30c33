"""What the event function receives from the push subscription deploy/ creates.

The subscription pushes Pub/Sub's standard request (no CloudEvent headers) to
`<function URL>/projects/<project>/topics/<topic>`. The functions framework turns it into a
CloudEvent; this test sends exactly such a request through `functions_framework.create_app` to a
stand-in for `on_job_event` and hands what arrives to the code's own event parser.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import functions_framework
import pytest

from jobtriage.event import PUBSUB_EVENT_TYPE, parse_cloud_event_data
from jobtriage.evidence.model import Outcome
from tests.deploy import terraform_model as tf

SAMPLE = Path(__file__).parent / "samples" / "accepted" / "failure_exit_code.json"

PROBE = """
import functions_framework

received = []


@functions_framework.cloud_event
def on_job_event(cloud_event):
    received.append(cloud_event)
"""


def push_path(project: str, topic: str) -> str:
    """The request path of the subscription's push endpoint, evaluated from deploy/pubsub.tf."""
    endpoint = tf.one(tf.resource("google_pubsub_subscription", "events").body["push_config"])[
        "push_endpoint"
    ]
    uri = "${google_cloudfunctions2_function.event[0].service_config[0].uri}"
    assert endpoint.startswith(uri)
    path = endpoint.removeprefix(uri)
    assert re.fullmatch(
        r"/projects/\$\{var\.project_id\}/topics/\$\{google_pubsub_topic\.events\.name\}", path
    )
    return f"/projects/{project}/topics/{topic}"


@pytest.fixture
def probe(tmp_path: Path) -> Any:
    source = tmp_path / "push_delivery_probe.py"
    source.write_text(PROBE, encoding="utf-8")
    app = functions_framework.create_app(target="on_job_event", source=str(source))
    import push_delivery_probe  # type: ignore[import-not-found]  # loaded by create_app

    push_delivery_probe.received.clear()
    return app, push_delivery_probe.received


def test_a_push_request_reaches_on_job_event_as_the_cloudevent_eventarc_would_send(
    probe: Any,
) -> None:
    app, received = probe
    entry = json.loads(SAMPLE.read_text(encoding="utf-8"))
    body = {
        "message": {
            "attributes": {"logging.googleapis.com/timestamp": entry["timestamp"]},
            "data": base64.b64encode(json.dumps(entry).encode()).decode(),
            "messageId": "15160438672984373",
            "message_id": "15160438672984373",
            "publishTime": "2026-06-01T03:00:43.753Z",
            "publish_time": "2026-06-01T03:00:43.753Z",
        },
        "subscription": "projects/example-project/subscriptions/jobtriage-job-outcomes-push",
    }
    path = push_path("example-project", "jobtriage-job-outcomes")

    response = app.test_client().post(path, json=body)

    assert response.status_code == 200, response.get_data(as_text=True)
    (event,) = received
    assert event["type"] == PUBSUB_EVENT_TYPE
    assert (
        event["source"]
        == "//pubsub.googleapis.com/projects/example-project/topics/jobtriage-job-outcomes"
    )
    assert event["id"] == "15160438672984373"
    assert event["time"] == "2026-06-01T03:00:43.753Z"
    assert event.data["message"]["data"] == body["message"]["data"]
    assert event.data["message"]["attributes"] == body["message"]["attributes"]
    # Unlike Eventarc's CloudEvent, the converted one carries no subscription name.
    assert "subscription" not in event.data

    job_event = parse_cloud_event_data(event["type"], event.data)
    assert job_event.ref.execution == "o4o-api-migrations-h5x5h"
    assert job_event.outcome is Outcome.FAILED


def test_an_exception_in_the_function_is_a_failed_delivery(tmp_path: Path) -> None:
    source = tmp_path / "push_delivery_failing_probe.py"
    source.write_text(
        "import functions_framework\n\n\n"
        "@functions_framework.cloud_event\n"
        "def on_job_event(cloud_event):\n"
        "    raise RuntimeError('Slack is down')\n",
        encoding="utf-8",
    )
    app = functions_framework.create_app(target="on_job_event", source=str(source))
    body = {
        "message": {"data": base64.b64encode(b"{}").decode(), "messageId": "1"},
        "subscription": "projects/p/subscriptions/s",
    }
    response = app.test_client().post("/projects/p/topics/t", json=body)
    # Any non-2xx answer makes Pub/Sub redeliver (and, after max_delivery_attempts, dead-letter).
    assert response.status_code >= 500


def test_a_tick_from_cloud_scheduler_arrives_as_a_tick(probe: Any) -> None:
    """What deploy/scheduler.tf publishes, pushed by the subscription, parsed by the code."""
    from jobtriage.event import TICK, TICK_ATTRIBUTE, Tick, parse_message

    scheduler = tf.one(tf.resource("google_cloud_scheduler_job", "tick").body["pubsub_target"])
    body_fields = dict(tf.merged("locals")["tick_body"])
    body_fields |= {"project": "example-project", "region": "asia-northeast3"}  # var.* evaluated
    app, received = probe
    body = {
        "message": {
            "attributes": scheduler["attributes"],
            "data": base64.b64encode(json.dumps(body_fields).encode()).decode(),
            "messageId": "16000000000000001",
            "publishTime": "2026-06-01T03:05:00.117Z",
        },
        "subscription": "projects/example-project/subscriptions/jobtriage-job-outcomes-push",
    }
    response = app.test_client().post(
        push_path("example-project", "jobtriage-job-outcomes"), json=body
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    (event,) = received
    assert event.data["message"]["attributes"] == {TICK_ATTRIBUTE: TICK}
    tick = parse_message(event["type"], event.data)
    assert isinstance(tick, Tick)
    assert (tick.project, tick.region) == ("example-project", "asia-northeast3")
    assert tick.published_at is not None
