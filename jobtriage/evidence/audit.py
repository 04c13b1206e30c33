"""Admin Activity audit entries: who changed the job, and who changed IAM, in the window.

One Logging read (the `google-cloud-logging` client we already use, within the same read budget)
of `cloudaudit.googleapis.com%2Factivity` between the last success and the failed execution:

- the job's own entries (`resource.type="cloud_run_job"`): `Jobs.CreateJob`, `Jobs.ReplaceJob`
  (v1), `Jobs.UpdateJob` (v2) → principal, time, and which parts of the template changed
  (image, command, args, env names, secret references, service account, Cloud SQL instances),
  compared with the edit before it, the oldest with the last successful execution;
  `Jobs.SetIamPolicy` on the job → an IAM change;
- `SetIamPolicy` on the project (Resource Manager) and on the job's service account (IAM), with
  their binding deltas (`serviceData.policyDelta.bindingDeltas`: ADD/REMOVE role member).

Principals and members are untrusted text: redacted here, and again at every exit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from jobtriage.evidence.cloud_logging import CloudLogging, parse_timestamp
from jobtriage.evidence.model import ExecutionRef, TaskTemplateConfig
from jobtriage.evidence.related import IamChange, JobEdit
from jobtriage.redact import redact

PAGE_SIZE = 50
_JOB_METHODS = ("Jobs.CreateJob", "Jobs.ReplaceJob", "Jobs.UpdateJob")


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def activity_filter(
    ref: ExecutionRef, *, since: datetime, until: datetime, service_account: str | None
) -> str:
    """The Logging filter for the job's edits and the IAM changes that can concern it."""
    job = (
        f'(resource.type="cloud_run_job" AND resource.labels.job_name={_q(ref.job)} '
        f"AND resource.labels.location={_q(ref.region)})"
    )
    project_iam = '(resource.type="project" AND protoPayload.methodName="SetIamPolicy")'
    parts = [job, project_iam]
    if service_account:
        parts.append(
            f'(resource.type="service_account" AND protoPayload.methodName:"SetIAMPolicy" '
            f"AND resource.labels.email_id={_q(service_account)})"
        )
    return "\n".join(
        (
            f"logName={_q(f'projects/{ref.project}/logs/cloudaudit.googleapis.com%2Factivity')}",
            f'timestamp>="{_ts(since)}"',
            f'timestamp<="{_ts(until)}"',
            "(" + " OR ".join(parts) + ")",
        )
    )


def _walk_containers(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "containers" and isinstance(item, list):
                yield from (c for c in item if isinstance(c, dict))
            else:
                yield from _walk_containers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_containers(item)


def _find(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if key in value:
            return value[key]
        for item in value.values():
            found = _find(item, key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _find(item, key)
            if found is not None:
                return found
    return None


def _shape_of_request(request: Any) -> dict[str, str]:
    """The comparable parts of a job spec as an audit request carries it (v1 or v2)."""
    containers = list(_walk_containers(request))
    if not containers:
        return {}
    main = containers[0]
    env = main.get("env") or []
    names = sorted(str(e.get("name")) for e in env if isinstance(e, dict) and e.get("name"))
    secrets = sorted(
        f"{e.get('name')}←{ref.get('secret') or ref.get('name')}"
        f"@{ref.get('version') or ref.get('key')}"
        for e in env
        if isinstance(e, dict)
        for ref in [_find(e, "secretKeyRef")]
        if isinstance(ref, dict)
    )
    instances = _find(request, "instances")
    annotations = _find(request, "annotations") or {}
    sql = (
        annotations.get("run.googleapis.com/cloudsql-instances")
        if isinstance(annotations, dict)
        else None
    )
    return {
        "image": str(main.get("image") or ""),
        "command": " ".join(map(str, main.get("command") or [])),
        "args": " ".join(map(str, main.get("args") or [])),
        "env_names": " ".join(names),
        "secret_versions": ", ".join(secrets),
        "service_account": str(
            _find(request, "serviceAccount") or _find(request, "serviceAccountName") or ""
        ),
        "cloudsql_instances": ", ".join(sorted(map(str, instances)))
        if isinstance(instances, list)
        else str(sql or ""),
    }


def shape_of_config(config: TaskTemplateConfig, image: str | None = None) -> dict[str, str]:
    """The same comparable parts of an execution's configuration (the baseline)."""
    main = config.main
    if main is None:
        return {}
    names = sorted(set(main.env_names) | {s.env for s in main.secret_env})
    return {
        "image": image or main.image,
        "command": " ".join(main.command),
        "env_names": " ".join(names),
        "secret_versions": ", ".join(
            sorted(f"{s.env}←{s.secret}@{s.version}" for s in main.secret_env)
        ),
        "service_account": config.service_account or "",
        "cloudsql_instances": ", ".join(sorted(config.cloudsql_instances)),
    }


def _changed(before: dict[str, str], after: dict[str, str]) -> tuple[str, ...]:
    if not before or not after:
        return ()
    return tuple(k for k in after if k in before and before[k] != after[k])


def _principal(entry: dict[str, Any]) -> str | None:
    who = (entry.get("protoPayload") or {}).get("authenticationInfo", {}).get("principalEmail")
    return redact(str(who)) if who else None


def _deltas(payload: dict[str, Any]) -> tuple[str, ...]:
    delta = (
        (payload.get("serviceData") or {}).get("policyDelta")
        or (payload.get("metadata") or {}).get("datasetChange")
        or {}
    )
    out: list[str] = []
    for item in delta.get("bindingDeltas") or []:
        if not isinstance(item, dict):
            continue
        sign = "-" if str(item.get("action")).upper() == "REMOVE" else "+"
        out.append(redact(f"{sign}{item.get('role', '?')} {item.get('member', '?')}"))
    return tuple(out)


def read_activity(
    logs: CloudLogging,
    ref: ExecutionRef,
    *,
    since: datetime,
    until: datetime,
    service_account: str | None,
    baseline: dict[str, str],
) -> tuple[tuple[JobEdit, ...], tuple[IamChange, ...]]:
    """The job's edits and the IAM changes in [since, until], oldest first (one Logging read)."""
    entries = logs.query(
        ref.project,
        activity_filter(ref, since=since, until=until, service_account=service_account),
        order_by="timestamp asc",
        page_size=PAGE_SIZE,
    )
    edits: list[JobEdit] = []
    iam: list[IamChange] = []
    previous = baseline
    for entry in entries:
        payload = entry.get("protoPayload") or {}
        if not isinstance(payload, dict):
            continue
        method = str(payload.get("methodName") or "")
        when = parse_timestamp(entry.get("timestamp"))
        resource_type = (entry.get("resource") or {}).get("type")
        if method.endswith("SetIamPolicy") or method.endswith("SetIAMPolicy"):
            labels = (entry.get("resource") or {}).get("labels") or {}
            if resource_type == "project":
                target = f"project {labels.get('project_id') or ref.project}"
            elif resource_type == "service_account":
                target = str(labels.get("email_id") or service_account or "service account")
            else:
                target = f"job {ref.job}"
            iam.append(IamChange(when, _principal(entry), redact(target), _deltas(payload)))
            continue
        short = next((m for m in _JOB_METHODS if method.endswith(m)), None)
        if short is None or resource_type != "cloud_run_job":
            continue
        shape = _shape_of_request(payload.get("request"))
        edits.append(
            JobEdit(when, _principal(entry), short.split(".", 1)[1], _changed(previous, shape))
        )
        previous = shape or previous
    return tuple(edits), tuple(iam)
