"""Event in: a Pub/Sub-delivered LogEntry becomes a `JobEvent`, or a `BadEvent` saying why not.

What arrives (see deploy/ and jobtriage/sink_filter.tftpl): a Logging sink routes the
`cloudaudit.googleapis.com/system_event` entry that Cloud Run writes when an execution ends
(`protoPayload.methodName="/Jobs.RunJob"`) to Pub/Sub; the function receives it as a CloudEvent
`google.cloud.pubsub.topic.v1.messagePublished` whose `data.message.data` is the base64 of the
LogEntry JSON. The same shape arrives as a plain Pub/Sub push envelope (functions-framework turns it
into a CloudEvent) and as a structured-mode CloudEvent.

Outcome: `protoPayload.status.code` 0/absent = succeeded, 4 = task timeout, 1 = cancelled,
anything else (10 = non-zero exit) = failed. Severity ERROR with no code is a failure too.

A **tick** comes the same way: Cloud Scheduler publishes to the same topic every few minutes
(deploy/scheduler.tf) a message with the attribute `jobtriage=tick` and the body
`{"kind": "tick", "version": 1, "project": "…", "region": "…"}`; `parse_message` returns it as a
`Tick` (what it does: jobtriage/ticks.py). A malformed tick is a `BadEvent` too.

Everything that is not such an entry raises `BadEvent` with a one-line reason; the entry point
logs it once and acknowledges (redelivery would fail the same way forever).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jobtriage.errors import BadEvent
from jobtriage.evidence.model import ExecutionRef, JobEvent, Outcome
from jobtriage.evidence.redaction import config_secrets

PUBSUB_EVENT_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"
SYSTEM_EVENT_LOG = "cloudaudit.googleapis.com%2Fsystem_event"
RUN_JOB_METHOD = "/Jobs.RunJob"
EXECUTION_LABEL = "run.googleapis.com/execution_name"

# Pub/Sub caps a message at 10 MB; a LogEntry is at most 256 KB. Anything far larger is not ours.
MAX_MESSAGE_BYTES = 1_000_000

# Names as Cloud Run allows them (lower-case letters, digits, hyphens; 63 max) and GCP project ids /
# regions. Checking them keeps hostile text out of API paths, commands and Slack.
_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^\d{6,20}$")
_REGION = re.compile(r"^[a-z]+-[a-z]+\d{1,2}$")

# A tick: the Pub/Sub attribute Cloud Scheduler sets, and the body's kind and version.
TICK_ATTRIBUTE = "jobtriage"
TICK = "tick"
TICK_VERSION = 1


@dataclass(frozen=True, slots=True)
class Tick:
    """A scheduled tick: time to look for incidents nobody answered and for runs that did not
    happen, in the project and region the Scheduler job names."""

    project: str
    region: str
    published_at: datetime | None = None  # when Pub/Sub accepted it (None: not said)


_CODE_OUTCOME = {0: Outcome.SUCCEEDED, 4: Outcome.TIMED_OUT, 1: Outcome.CANCELLED}


def _obj(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadEvent(f"{what} is not a JSON object")
    return value


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python < 3.12 cannot parse more than 6 fractional digits; Logging sends 9.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def decode_pubsub_data(data: object) -> Mapping[str, Any]:
    """The LogEntry inside a MessagePublishedData (`{"message": {"data": "<base64>"}}`)."""
    envelope = _obj(data, "event data")
    message = _obj(envelope.get("message"), "event data.message")
    raw = message.get("data")
    if raw is None or raw == "":
        raise BadEvent("Pub/Sub message has no data")
    if not isinstance(raw, str):
        raise BadEvent("Pub/Sub message data is not a base64 string")
    if len(raw) > MAX_MESSAGE_BYTES * 4 // 3 + 4:
        raise BadEvent(f"Pub/Sub message data is larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadEvent("Pub/Sub message data is not valid base64") from exc
    try:
        entry = json.loads(decoded)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadEvent("Pub/Sub message data is not JSON") from exc
    return _obj(entry, "LogEntry")


def parse_log_entry(entry: Mapping[str, Any]) -> JobEvent:
    """A system_event audit entry of `/Jobs.RunJob` → JobEvent. Raises BadEvent otherwise."""
    entry = _obj(entry, "LogEntry")
    resource = _obj(entry.get("resource"), "LogEntry.resource")
    if resource.get("type") != "cloud_run_job":
        raise BadEvent(f"resource type is {str(resource.get('type'))[:40]!r}, not 'cloud_run_job'")
    log_name = _str(entry.get("logName")) or ""
    if not log_name.endswith("/logs/" + SYSTEM_EVENT_LOG):
        raise BadEvent("not a Cloud Run system_event audit entry (logName)")
    payload = _obj(entry.get("protoPayload"), "LogEntry.protoPayload")
    if payload.get("methodName") != RUN_JOB_METHOD:
        raise BadEvent(f"method is {str(payload.get('methodName'))[:40]!r}, not '/Jobs.RunJob'")

    rlabels = _obj(resource.get("labels"), "LogEntry.resource.labels")
    labels = entry.get("labels")
    labels = labels if isinstance(labels, Mapping) else {}
    response = payload.get("response")
    response = response if isinstance(response, Mapping) else {}
    metadata = response.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}

    project = _str(rlabels.get("project_id"))
    region = _str(rlabels.get("location"))
    job = _str(rlabels.get("job_name"))
    execution = _str(labels.get(EXECUTION_LABEL)) or _str(metadata.get("name"))
    if execution is None:
        resource_name = _str(payload.get("resourceName")) or ""
        if "/executions/" in resource_name:
            execution = resource_name.rsplit("/executions/", 1)[1] or None
    missing = [
        n
        for n, v in (("project_id", project), ("location", region), ("job_name", job))
        if v is None
    ]
    if execution is None:
        missing.append("execution name")
    if missing:
        raise BadEvent(f"entry lacks {', '.join(missing)}")
    assert project
    assert region
    assert job
    assert execution
    for what, value, pattern in (
        ("project", project, _PROJECT),
        ("region", region, _REGION),
        ("job", job, _NAME),
        ("execution", execution, _NAME),
    ):
        if not pattern.match(value):
            raise BadEvent(f"{what} name {value[:70]!r} is not a valid Cloud Run name")

    status = payload.get("status")
    status = status if isinstance(status, Mapping) else {}
    code_raw = status.get("code", 0)
    if isinstance(code_raw, bool) or not isinstance(code_raw, int):
        raise BadEvent("protoPayload.status.code is not an integer")
    code = code_raw
    severity = _str(entry.get("severity")) or "DEFAULT"
    outcome = _CODE_OUTCOME.get(code, Outcome.FAILED)
    if code == 0 and severity in ("ERROR", "CRITICAL", "ALERT", "EMERGENCY"):
        outcome = Outcome.FAILED
    message = _str(status.get("message")) or ""

    annotations = metadata.get("annotations")
    annotations = annotations if isinstance(annotations, Mapping) else {}
    mlabels = metadata.get("labels")
    mlabels = mlabels if isinstance(mlabels, Mapping) else {}
    creator = _str(annotations.get("run.googleapis.com/creator"))
    auth = payload.get("authenticationInfo")
    if creator is None and isinstance(auth, Mapping):
        creator = _str(auth.get("principalEmail"))

    completed = None
    rstatus = response.get("status")
    if isinstance(rstatus, Mapping) and isinstance(rstatus.get("conditions"), list):
        for cond in rstatus["conditions"]:
            if isinstance(cond, Mapping) and cond.get("type") == "Completed":
                completed = _str(cond.get("message"))
                break
    if outcome is Outcome.FAILED and completed and "timeout was reached" in completed:
        outcome = Outcome.TIMED_OUT

    return JobEvent(
        ref=ExecutionRef(project=project, region=region, job=job, execution=execution),
        known_values=_spec_secrets(response),
        outcome=outcome,
        status_code=code,
        status_message=message[:500],
        timestamp=_time(entry.get("timestamp")),
        insert_id=(_str(entry.get("insertId")) or "")[:128],
        creator=creator[:200] if creator else None,
        completed_message=completed[:500] if completed else None,
        job_generation=_str(mlabels.get("run.googleapis.com/jobGeneration")),
    )


def _spec_secrets(response: Mapping[str, Any]) -> tuple[str, ...]:
    """The plain env values and args of the execution spec the audit entry embeds, to be masked
    wherever they appear (`jobtriage.evidence.redaction.config_secrets`)."""
    node: Any = response
    for key in ("spec", "template", "spec", "containers"):
        node = node.get(key) if isinstance(node, Mapping) else None
    if not isinstance(node, list):
        return ()
    found: list[str] = []
    for container in node[:10]:
        if not isinstance(container, Mapping):
            continue
        env = container.get("env")
        pairs = [
            (str(var.get("name") or ""), var["value"])
            for var in (env if isinstance(env, list) else [])
            if isinstance(var, Mapping) and isinstance(var.get("value"), str)
        ]
        args: list[str] = []
        for key in ("command", "args"):
            values = container.get(key)
            if isinstance(values, list):
                args.extend(a for a in values if isinstance(a, str))
        found.extend(config_secrets(pairs, args))
    return tuple(dict.fromkeys(found))


def _attributes(data: object) -> Mapping[str, Any]:
    envelope = data if isinstance(data, Mapping) else {}
    message = envelope.get("message")
    attributes = message.get("attributes") if isinstance(message, Mapping) else None
    return attributes if isinstance(attributes, Mapping) else {}


def parse_tick(body: Mapping[str, Any], *, published_at: datetime | None = None) -> Tick:
    """The body of a tick → Tick. Raises BadEvent("malformed tick: …") otherwise."""
    if body.get("kind") != TICK:
        raise BadEvent(f"malformed tick: kind is {str(body.get('kind'))[:40]!r}, not 'tick'")
    version = body.get("version")
    if isinstance(version, bool) or version != TICK_VERSION:
        raise BadEvent(f"malformed tick: version {str(version)[:20]!r} is not {TICK_VERSION}")
    project = _str(body.get("project"))
    region = _str(body.get("region"))
    if project is None or not _PROJECT.match(project):
        raise BadEvent(f"malformed tick: project {str(project)[:70]!r} is not a project id")
    if region is None or not _REGION.match(region):
        raise BadEvent(f"malformed tick: region {str(region)[:70]!r} is not a Cloud Run region")
    return Tick(project=project, region=region, published_at=published_at)


def parse_message(event_type: str | None, data: object) -> JobEvent | Tick:
    """The whole way in for the event function: CloudEvent type + data → JobEvent or Tick."""
    if event_type is not None and event_type != PUBSUB_EVENT_TYPE:
        raise BadEvent(f"event type {event_type[:80]!r} is not {PUBSUB_EVENT_TYPE!r}")
    marked = _attributes(data).get(TICK_ATTRIBUTE) == TICK
    try:
        body = decode_pubsub_data(data)
    except BadEvent as exc:
        if marked:
            raise BadEvent(f"malformed tick: {exc}") from exc
        raise
    if marked or body.get("kind") == TICK:
        message = data.get("message") if isinstance(data, Mapping) else None
        published = message.get("publishTime") if isinstance(message, Mapping) else None
        return parse_tick(body, published_at=_time(published))
    return parse_log_entry(body)


def parse_cloud_event_data(event_type: str | None, data: object) -> JobEvent:
    """The whole way in for the event function: CloudEvent type + data → JobEvent."""
    if event_type is not None and event_type != PUBSUB_EVENT_TYPE:
        raise BadEvent(f"event type {event_type[:80]!r} is not {PUBSUB_EVENT_TYPE!r}")
    return parse_log_entry(decode_pubsub_data(data))
