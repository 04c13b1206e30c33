"""The seed report's investigation commands (its §4), filled in with one execution's names.

Shell-quoting is applied to every name so that a hostile job or project name cannot turn a
copy-pasted command into something else.
"""

from __future__ import annotations

import shlex

from jobtriage.evidence import ExecutionRef


def _q(value: str) -> str:
    return shlex.quote(value)


def describe_execution(ref: ExecutionRef) -> str:
    return (
        f"gcloud run jobs executions describe {_q(ref.execution)}"
        f" --region={_q(ref.region)} --project={_q(ref.project)}"
    )


def log_filter(ref: ExecutionRef) -> str:
    """The Logging query for exactly this execution's lines (app output and platform lines)."""
    return (
        'resource.type="cloud_run_job"'
        f' AND resource.labels.job_name="{ref.job}"'
        f' AND resource.labels.location="{ref.region}"'
        f' AND labels."run.googleapis.com/execution_name"="{ref.execution}"'
    )


def read_logs(ref: ExecutionRef, *, extra: str = "", limit: int = 100) -> str:
    query = log_filter(ref) + (f" AND {extra}" if extra else "")
    return (
        f"gcloud logging read {_q(query)} --limit={limit}"
        f' --format="table(timestamp,severity,textPayload)" --project={_q(ref.project)}'
    )


def describe_job(ref: ExecutionRef, *, fmt: str = "yaml(spec)") -> str:
    return (
        f"gcloud run jobs describe {_q(ref.job)} --region={_q(ref.region)}"
        f" --project={_q(ref.project)} --format={_q(fmt)}"
    )


def list_tasks(ref: ExecutionRef) -> str:
    return (
        f"gcloud run jobs executions tasks list --execution={_q(ref.execution)}"
        f" --region={_q(ref.region)} --project={_q(ref.project)}"
    )


def job_service_account_roles(ref: ExecutionRef, service_account: str) -> str:
    return (
        f"gcloud projects get-iam-policy {_q(ref.project)}"
        ' --flatten="bindings[].members"'
        f" --filter={_q('bindings.members:serviceAccount:' + service_account)}"
        ' --format="table(bindings.role)"'
    )


def image_of(image: str) -> str:
    return f"gcloud artifacts docker images describe {_q(image)}"


def run_in_image(image: str, shell: str) -> str:
    return f"docker run --rm --entrypoint sh {_q(image)} -c {_q(shell)}"


def re_execute(ref: ExecutionRef) -> str:
    return (
        f"gcloud run jobs execute {_q(ref.job)} --region={_q(ref.region)}"
        f" --project={_q(ref.project)} --wait"
    )
