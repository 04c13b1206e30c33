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
    return " AND ".join(ref.log_clauses)


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


def run_in_image_on(image: str, shell: str, *, platform: str) -> str:
    """`run_in_image` for the platform Cloud Run runs (linux/amd64), also on an arm64 laptop."""
    return f"docker run --rm --platform={_q(platform)} --entrypoint sh {_q(image)} -c {_q(shell)}"


def image_platforms(image: str) -> str:
    """Which OS/CPU platforms an image (or its index) was built for."""
    return f"docker buildx imagetools inspect {_q(image)}"


def read_system_logs(ref: ExecutionRef, *, limit: int = 50) -> str:
    """Only the platform's own lines (exit, signal, memory, timeout) for this execution."""
    return read_logs(ref, extra='logName:"run.googleapis.com%2Fvarlog%2Fsystem"', limit=limit)


def job_service_account(ref: ExecutionRef) -> str:
    """The seed's §2.4 check, with the field path of a job's task template."""
    return describe_job(ref, fmt="yaml(spec.template.spec.template.spec.serviceAccountName)")


def job_containers(ref: ExecutionRef) -> str:
    """The job's image, command, args, env names, secret references and limits."""
    return describe_job(ref, fmt="yaml(spec.template.spec.template.spec.containers)")


def job_limits(ref: ExecutionRef) -> str:
    """Memory/CPU limits, task timeout and max retries of the job."""
    return describe_job(
        ref,
        fmt="yaml(spec.template.spec.template.spec.containers[0].resources,"
        "spec.template.spec.template.spec.timeoutSeconds,"
        "spec.template.spec.template.spec.maxRetries)",
    )


def list_executions(ref: ExecutionRef, *, limit: int = 5) -> str:
    """The job's recent executions: did another one run at the same time?"""
    return (
        f"gcloud run jobs executions list --job={_q(ref.job)} --region={_q(ref.region)}"
        f" --project={_q(ref.project)} --limit={limit}"
    )


def service_account_roles(project: str, service_account: str) -> str:
    """Roles a service account holds on `project` (which may not be the job's own project)."""
    return (
        f"gcloud projects get-iam-policy {_q(project)}"
        ' --flatten="bindings[].members"'
        f" --filter={_q('bindings.members:serviceAccount:' + service_account)}"
        ' --format="table(bindings.role)"'
    )


def sqladmin_enabled(ref: ExecutionRef) -> str:
    """Whether the Cloud SQL Admin API is enabled in the job's project (prints nothing if not)."""
    return (
        f"gcloud services list --enabled --project={_q(ref.project)}"
        ' --filter="config.name=sqladmin.googleapis.com"'
    )


def sql_instance(connection_name: str) -> str:
    """Describe a Cloud SQL instance from its connection name PROJECT:REGION:INSTANCE."""
    parts = connection_name.split(":")
    project, instance = (parts[0], parts[-1]) if len(parts) >= 2 else ("", connection_name)
    flags = f" --project={_q(project)}" if project else ""
    return (
        f"gcloud sql instances describe {_q(instance)}{flags}"
        ' --format="value(connectionName,state)"'
    )


def secret_versions(project: str, secret: str) -> str:
    """The versions of a secret and their state (ENABLED / DISABLED / DESTROYED)."""
    return f"gcloud secrets versions list {_q(secret)} --project={_q(project)}"


def secret_iam(project: str, secret: str) -> str:
    """Who may read a secret: the job's service account needs
    roles/secretmanager.secretAccessor."""
    return f"gcloud secrets get-iam-policy {_q(secret)} --project={_q(project)}"


def enabled_services(ref: ExecutionRef) -> str:
    """Which Google APIs the project has enabled ("API not enabled" errors)."""
    return f"gcloud services list --enabled --project={_q(ref.project)}"


def project_roles_of_job_sa(ref: ExecutionRef) -> str:
    """The project roles of whatever service account the job runs as (two steps, no nesting)."""
    return (
        f"SA=$(gcloud run jobs describe {_q(ref.job)} --region={_q(ref.region)}"
        f" --project={_q(ref.project)} --format='value(spec.template.spec.template.spec"
        f".serviceAccountName)'); gcloud projects get-iam-policy {_q(ref.project)}"
        ' --flatten="bindings[].members" --filter="bindings.members:serviceAccount:$SA"'
        ' --format="value(bindings.role)"'
    )


def bigquery_recent_jobs(ref: ExecutionRef, *, limit: int = 10) -> str:
    """The project's most recent BigQuery jobs with their state (a failed load shows its errors
    with `bq show -j JOB_ID`)."""
    return f"bq ls --jobs --all_users --max_results={limit} --project_id={_q(ref.project)}"


def job_network(ref: ExecutionRef) -> str:
    """The job's VPC wiring: connector or Direct VPC egress, and which traffic goes through it."""
    return describe_job(ref, fmt="yaml(spec.template.metadata.annotations)")
