"""Event in: what the parser accepts, what it refuses, and that nothing arbitrary crashes it."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobtriage.errors import BadEvent
from jobtriage.event import decode_pubsub_data, parse_cloud_event_data, parse_log_entry
from jobtriage.evidence import Outcome

ENTRY: dict[str, Any] = {
    "insertId": "-a1b2c3d4e5",
    "logName": "projects/netureyoutube/logs/cloudaudit.googleapis.com%2Fsystem_event",
    "resource": {
        "type": "cloud_run_job",
        "labels": {
            "job_name": "o4o-api-migrations",
            "location": "asia-northeast3",
            "project_id": "netureyoutube",
        },
    },
    "labels": {"run.googleapis.com/execution_name": "o4o-api-migrations-h5x5h"},
    "severity": "ERROR",
    "timestamp": "2026-01-12T03:00:42.151119123Z",
    "protoPayload": {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "serviceName": "run.googleapis.com",
        "methodName": "/Jobs.RunJob",
        "resourceName": "namespaces/netureyoutube/executions/o4o-api-migrations-h5x5h",
        "status": {
            "code": 10,
            "message": "Execution o4o-api-migrations-h5x5h has failed to complete, "
            "0/1 tasks were a success.",
        },
        "response": {
            "metadata": {
                "name": "o4o-api-migrations-h5x5h",
                "labels": {"run.googleapis.com/jobGeneration": "7"},
                "annotations": {
                    "run.googleapis.com/creator": "deployer@netureyoutube.iam.gserviceaccount.com"
                },
            },
            "status": {
                "conditions": [
                    {
                        "type": "Completed",
                        "status": "False",
                        "message": "Task o4o-api-migrations-h5x5h-task0 failed with message: "
                        "The container exited with an error.",
                    }
                ]
            },
        },
    },
}


def envelope(entry: object) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(entry).encode()).decode()
    return {
        "message": {"data": data, "messageId": "1"},
        "subscription": "projects/p/subscriptions/s",
    }


def variant(**changes: Any) -> dict[str, Any]:
    entry = copy.deepcopy(ENTRY)
    for path, value in changes.items():
        node = entry
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[key]
        if value is None:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return entry


def test_failed_execution_is_read_whole() -> None:
    event = parse_cloud_event_data("google.cloud.pubsub.topic.v1.messagePublished", envelope(ENTRY))
    assert event.ref.project == "netureyoutube"
    assert event.ref.region == "asia-northeast3"
    assert event.ref.job == "o4o-api-migrations"
    assert event.ref.execution == "o4o-api-migrations-h5x5h"
    assert event.outcome is Outcome.FAILED
    assert event.status_code == 10
    assert "0/1 tasks" in event.status_message
    assert event.creator == "deployer@netureyoutube.iam.gserviceaccount.com"
    assert event.timestamp is not None
    assert event.timestamp.year == 2026
    assert event.completed_message is not None
    assert "exited with an error" in event.completed_message
    assert event.job_generation == "7"


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({"protoPayload__status__code": 4}, Outcome.TIMED_OUT),
        ({"protoPayload__status__code": 1}, Outcome.CANCELLED),
        ({"protoPayload__status__code": 13}, Outcome.FAILED),
        (
            {
                "protoPayload__status": {"message": "has completed successfully."},
                "severity": "INFO",
            },
            Outcome.SUCCEEDED,
        ),
        # severity ERROR without a code is still a failure
        ({"protoPayload__status": {"message": "x"}}, Outcome.FAILED),
    ],
)
def test_outcomes(changes: dict[str, Any], outcome: Outcome) -> None:
    assert parse_log_entry(variant(**changes)).outcome is outcome


def test_timeout_recognised_from_condition_message_too() -> None:
    entry = variant()
    entry["protoPayload"]["response"]["status"]["conditions"][0]["message"] = (
        "Task x-task0 failed with message: The configured timeout was reached."
    )
    assert parse_log_entry(entry).outcome is Outcome.TIMED_OUT


def test_execution_name_from_resource_name_when_label_missing() -> None:
    entry = variant(labels=None)
    entry["protoPayload"]["response"] = {}
    assert parse_log_entry(entry).ref.execution == "o4o-api-migrations-h5x5h"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"message": {"data": "!!!not base64!!!"}}, "not valid base64"),
        ({"message": {"data": base64.b64encode(b"\xff\xfe binary").decode()}}, "not JSON"),
        (
            {"message": {"data": base64.b64encode(b"[1, 2]").decode()}},
            "LogEntry is not a JSON object",
        ),
        ({"message": {"data": ""}}, "has no data"),
        ({"message": {}}, "has no data"),
        ({}, "event data.message is not a JSON object"),
        ("a string", "event data is not a JSON object"),
        (envelope(variant(resource__type="cloud_run_revision")), "not 'cloud_run_job'"),
        (
            envelope(variant(protoPayload__methodName="google.cloud.run.v1.Jobs.ReplaceJob")),
            "not '/Jobs.RunJob'",
        ),
        (envelope(variant(logName="projects/p/logs/run.googleapis.com%2Fstderr")), "system_event"),
        (envelope(variant(resource__labels__job_name=None)), "lacks job_name"),
        (envelope(variant(resource__labels__job_name="Bad Name; rm -rf /")), "not a valid"),
        (envelope(variant(protoPayload__status__code="10")), "not an integer"),
    ],
)
def test_what_the_operator_reads_for_bad_events(data: object, reason: str) -> None:
    with pytest.raises(BadEvent) as err:
        parse_cloud_event_data("google.cloud.pubsub.topic.v1.messagePublished", data)
    assert reason in str(err.value)


def test_other_event_types_are_refused_by_name() -> None:
    with pytest.raises(BadEvent, match=r"google\.cloud\.storage\.object\.v1\.finalized"):
        parse_cloud_event_data("google.cloud.storage.object.v1.finalized", envelope(ENTRY))


def test_huge_message_refused_before_decoding() -> None:
    data = {"message": {"data": "A" * 2_000_000}}
    with pytest.raises(BadEvent, match="larger than"):
        decode_pubsub_data(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        json_values,
        st.binary(max_size=200).map(lambda b: {"message": {"data": base64.b64encode(b).decode()}}),
        json_values.map(envelope),
    )
)
def test_arbitrary_payloads_only_ever_raise_bad_event(data: object) -> None:
    reason = "parsed"
    try:
        parse_cloud_event_data("google.cloud.pubsub.topic.v1.messagePublished", data)
    except BadEvent as exc:
        reason = str(exc)
    assert reason  # a parse, or a reason to log — never another exception


def _mutations() -> st.SearchStrategy[dict[str, Any]]:
    paths = [
        ("resource",),
        ("resource", "labels"),
        ("resource", "labels", "job_name"),
        ("labels",),
        ("protoPayload",),
        ("protoPayload", "status"),
        ("protoPayload", "status", "code"),
        ("protoPayload", "response"),
        ("protoPayload", "response", "metadata"),
        ("severity",),
        ("timestamp",),
        ("protoPayload", "response", "status", "conditions"),
    ]

    def apply(choice: tuple[tuple[str, ...], object]) -> dict[str, Any]:
        path, value = choice
        entry = copy.deepcopy(ENTRY)
        node: Any = entry
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return entry

    return st.tuples(st.sampled_from(paths), json_values).map(apply)


@settings(max_examples=400)
@given(_mutations())
def test_damaged_real_entries_never_crash(entry: dict[str, Any]) -> None:
    try:
        event = parse_log_entry(entry)
    except BadEvent:
        return
    assert event.ref.job
    assert event.ref.execution


# --- ticks -------------------------------------------------------------------------------------


def _tick_envelope(body: object, attributes: object = None) -> dict[str, Any]:
    message: dict[str, Any] = {"data": base64.b64encode(json.dumps(body).encode()).decode()}
    if attributes is not None:
        message["attributes"] = attributes
    return {"message": message, "subscription": "projects/p/subscriptions/s"}


def test_a_tick_is_recognised_by_its_attribute_and_its_body() -> None:
    from jobtriage.event import Tick, parse_message

    body = {"kind": "tick", "version": 1, "project": "netureyoutube", "region": "asia-northeast3"}
    data = _tick_envelope(body, {"jobtriage": "tick"})
    data["message"]["publishTime"] = "2026-03-02T09:00:00.123456789Z"
    tick = parse_message("google.cloud.pubsub.topic.v1.messagePublished", data)
    assert tick == Tick(
        "netureyoutube", "asia-northeast3", datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)
    )
    # an audit entry is still an audit entry
    assert not isinstance(parse_message(None, envelope(ENTRY)), Tick)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "kind": st.just("tick"),
                "version": json_values,
                "project": json_values,
                "region": json_values,
            }
        ),
    ),
    st.one_of(st.none(), json_values, st.just({"jobtriage": "tick"})),
)
def test_arbitrary_ticks_only_ever_raise_bad_event(body: object, attributes: object) -> None:
    from jobtriage.event import parse_message

    reason = "parsed"
    try:
        parse_message(None, _tick_envelope(body, attributes))
    except BadEvent as exc:
        reason = str(exc)
    assert reason
