"""Thousands of generated requests against both entry points, through functions-framework.

The event function acknowledges junk (200, one log line with the reason) and never answers 500
for it: a 500 makes Pub/Sub redeliver the same junk for hours. Only malformed CloudEvents are
refused by the framework itself, with a 400. The interactivity function answers 401 to anything
not provably from Slack right now (unsigned, forged, replayed), 400 to signed requests it cannot
read, and never 500. Nothing logs a traceback.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
import os
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobtriage import app
from jobtriage.event import PUBSUB_EVENT_TYPE
from standins.load.harness import CHANNEL, SIGNING_SECRET, click_body, sign
from standins.replay.google import GoogleReplay, Scenario
from standins.slack import TOKEN, FakeSlack

MAIN = str(Path(__file__).resolve().parents[2] / "main.py")
SEED = Scenario.embedded("seed")
FUZZ = settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def services() -> Iterator[tuple[GoogleReplay, FakeSlack]]:
    with GoogleReplay(SEED) as replay, FakeSlack() as slack:
        yield replay, slack


@pytest.fixture
def clients(services: tuple[GoogleReplay, FakeSlack]) -> Iterator[tuple[Any, Any]]:
    replay, slack = services
    os.environ.update(
        {
            "CLOUD_RUN_EMULATOR_HOST": replay.host,
            "CLOUD_LOGGING_EMULATOR_HOST": replay.host,
            "INCIDENT_STORE": "memory",
            "LOG_WAIT_SECONDS": "0",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_CHANNEL": CHANNEL,
            "SLACK_API_URL": slack.base_url,
        }
    )
    app.reset_runtimes()
    events = functions_framework.create_app(target="on_job_event", source=MAIN).test_client()
    clicks = functions_framework.create_app(target="on_slack_action", source=MAIN).test_client()
    yield events, clicks
    app.reset_runtimes()


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        yield out
    assert "Traceback" not in out.getvalue()
    assert "Exception on /" not in out.getvalue()


def ce_headers(event_type: str = PUBSUB_EVENT_TYPE, event_id: str = "fuzz-1") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "ce-id": event_id,
        "ce-source": "//pubsub.googleapis.com/projects/p/topics/t",
        "ce-type": event_type,
        "ce-specversion": "1.0",
    }


def envelope(data: bytes) -> dict[str, Any]:
    return {"message": {"data": base64.b64encode(data).decode(), "messageId": "1"}}


# --- the event function -------------------------------------------------------------------------


@FUZZ
@given(body=st.binary(max_size=2000))
def test_binary_junk_is_acknowledged(clients: tuple[Any, Any], body: bytes) -> None:
    events, _ = clients
    with captured() as logs:
        answer = events.post("/", data=body, headers=ce_headers())
    assert answer.status_code == 200
    assert logs.getvalue().count("event ignored") == 1


@FUZZ
@given(data=json_values, event_type=st.sampled_from([PUBSUB_EVENT_TYPE, "x.y", ""]))
def test_json_junk_in_a_cloudevent_is_acknowledged(
    clients: tuple[Any, Any], data: Any, event_type: str
) -> None:
    events, _ = clients
    body = json.dumps(
        {
            "specversion": "1.0",
            "id": "fuzz-2",
            "source": "//pubsub.googleapis.com/projects/p/topics/t",
            "type": event_type or PUBSUB_EVENT_TYPE,
            "datacontenttype": "application/json",
            "data": data,
        }
    )
    with captured() as logs:
        answer = events.post(
            "/", data=body, headers={"Content-Type": "application/cloudevents+json"}
        )
    assert answer.status_code == 200
    assert logs.getvalue().count("event ignored") == 1


@FUZZ
@given(payload=st.binary(max_size=500) | json_values.map(lambda v: json.dumps(v).encode()))
def test_junk_inside_a_pubsub_message_is_acknowledged(
    clients: tuple[Any, Any], payload: bytes
) -> None:
    events, _ = clients
    with captured() as logs:
        answer = events.post("/", data=json.dumps(envelope(payload)), headers=ce_headers())
    assert answer.status_code == 200
    assert logs.getvalue().count("event ignored") == 1


_PATHS = (
    ("resource", "type"),
    ("resource", "labels", "job_name"),
    ("resource", "labels", "project_id"),
    ("resource", "labels", "location"),
    ("labels", "run.googleapis.com/execution_name"),
    ("logName",),
    ("protoPayload", "methodName"),
    ("protoPayload", "status", "code"),
    ("protoPayload", "status"),
    ("protoPayload", "response"),
    ("severity",),
    ("timestamp",),
    ("resource",),
)


@FUZZ
@given(mutations=st.lists(st.tuples(st.sampled_from(_PATHS), json_values), min_size=1, max_size=3))
def test_mutated_audit_entries_never_fail(
    clients: tuple[Any, Any], mutations: list[tuple[tuple[str, ...], Any]]
) -> None:
    """Real entries with fields replaced: read, or ignored with a reason; never a 500."""
    events, _ = clients
    entry = copy.deepcopy(SEED.event)
    assert entry is not None
    for path, value in mutations:
        node: Any = entry
        for key in path[:-1]:
            if not isinstance(node, dict) or not isinstance(node.get(key), dict):
                node = None
                break
            node = node[key]
        if isinstance(node, dict):
            node[path[-1]] = value
    with captured():
        answer = events.post(
            "/", data=json.dumps(envelope(json.dumps(entry).encode())), headers=ce_headers()
        )
    assert answer.status_code == 200


_TICK = {"kind": "tick", "version": 1, "project": "netureyoutube", "region": "asia-northeast3"}


@FUZZ
@given(
    mutations=st.lists(
        st.tuples(st.sampled_from(["kind", "version", "project", "region"]), json_values),
        min_size=1,
        max_size=3,
    ),
    marked=st.booleans(),
)
def test_mutated_ticks_never_fail(
    clients: tuple[Any, Any], mutations: list[tuple[str, Any]], marked: bool
) -> None:
    """Scheduler's tick with fields replaced: a tick, or one log line with the reason; never a
    500, never a traceback."""
    events, _ = clients
    body = dict(_TICK)
    for key, value in mutations:
        body[key] = value
    message = envelope(json.dumps(body).encode())
    if marked:
        message["message"]["attributes"] = {"jobtriage": "tick"}
    with captured() as logs:
        answer = events.post("/", data=json.dumps(message), headers=ce_headers())
    assert answer.status_code == 200
    ignored = logs.getvalue().count("event ignored")
    ticked = logs.getvalue().count('"tick: ')
    assert ignored + ticked == 1, logs.getvalue()[-2000:]


def test_malformed_cloudevents_are_refused_by_the_framework(clients: tuple[Any, Any]) -> None:
    events, _ = clients
    with captured():
        for body in (b"junk", b"{}", b'{"message": {"data": "eA=="}}'):
            answer = events.post("/", data=body, headers={"Content-Type": "application/json"})
            assert answer.status_code == 400


# --- the interactivity function -----------------------------------------------------------------


@FUZZ
@given(
    body=st.binary(max_size=1500),
    headers=st.dictionaries(
        st.sampled_from(
            ["X-Slack-Signature", "X-Slack-Request-Timestamp", "Content-Type", "X-Other"]
        ),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
    ),
)
def test_unsigned_requests_are_401(
    clients: tuple[Any, Any], body: bytes, headers: dict[str, str]
) -> None:
    _, clicks = clients
    with captured():
        answer = clicks.post("/", data=body, headers=headers)
    assert answer.status_code == 401


@FUZZ
@given(
    body=st.binary(max_size=1500)
    | json_values.map(lambda v: ("payload=" + urllib.parse.quote(json.dumps(v))).encode())
)
def test_signed_junk_is_400(clients: tuple[Any, Any], body: bytes) -> None:
    """Signed but unreadable: 400. Slack signs only UTF-8 bodies, so other bytes are 401."""
    _, clicks = clients
    with captured():
        answer = clicks.post("/", data=body, headers=sign(body))
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        assert answer.status_code == 401
    else:
        assert answer.status_code == 400


@FUZZ
@given(
    action=st.sampled_from(["ack", "resolve", "snooze:1h", "snooze:24h", "snooze:success"]),
    incident=st.from_regex(r"[a-f0-9]{32}", fullmatch=True),
    age=st.integers(min_value=301, max_value=10**8),
    future=st.booleans(),
)
def test_replayed_and_forged_clicks_are_401(
    clients: tuple[Any, Any], action: str, incident: str, age: int, future: bool
) -> None:
    _, clicks = clients
    body = click_body(incident, action)
    now = int(time.time())
    stale = sign(body, timestamp=now + age if future else now - age)
    forged = sign(body, secret="not-the-signing-secret")
    tampered = sign(body)
    with captured():
        assert clicks.post("/", data=body, headers=stale).status_code == 401
        assert clicks.post("/", data=body, headers=forged).status_code == 401
        assert clicks.post("/", data=body + b"&x=1", headers=tampered).status_code == 401
        # the same request, signed now, is read: an unknown incident gets a polite 200
        assert clicks.post("/", data=body, headers=sign(body)).status_code == 200
