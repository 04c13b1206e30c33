"""What the job depends on, and who changed what around it: facts beyond the execution's logs.

Read by the sources next to this module (Cloud Build, Artifact Registry, Admin Activity audit
entries, Secret Manager, Cloud SQL Admin) and gathered by `jobtriage.evidence.dependencies`.
Everything is frozen, like the rest of the evidence; analyzers read it, the diagnosis turns it
into "Suspect changes". Text that came from outside (commit subjects, principals, operation
errors) is redacted when a source converts it and again at every exit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ImageBuild:
    """Where one image came from: its Cloud Build build, or else its OCI labels."""

    digest: str  # sha256:…
    commit: str | None = None  # full SHA as recorded
    repo: str | None = None  # a URL (https://github.com/o/r) or a repository name
    ref: str | None = None  # branch or tag
    trigger: str | None = None
    build_id: str | None = None
    log_url: str | None = None
    create_time: datetime | None = None
    finish_time: datetime | None = None
    subject: str | None = None  # the commit subject, when the build record carries it
    via: str = "cloud_build"  # or "oci_labels"

    @property
    def short_commit(self) -> str | None:
        return self.commit[:9] if self.commit else None


@dataclass(frozen=True, slots=True)
class JobEdit:
    """One Admin Activity entry that created, replaced or updated the job."""

    when: datetime | None
    who: str | None
    method: str  # CreateJob, ReplaceJob, UpdateJob
    fields: tuple[str, ...] = ()  # which parts of the template it changed, when known


@dataclass(frozen=True, slots=True)
class IamChange:
    """One SetIamPolicy on the project or on the job's service account, with its deltas."""

    when: datetime | None
    who: str | None
    target: str  # "project P" or the service account's email
    deltas: tuple[str, ...] = ()  # "-roles/cloudsql.client serviceAccount:x", "+roles/…"

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(d for d in self.deltas if d.startswith("-"))


@dataclass(frozen=True, slots=True)
class SecretVersion:
    """The version of one referenced secret that the execution resolved."""

    env: str
    secret: str
    requested: str  # "latest" or a number
    version: str | None = None  # the number it resolved to
    state: str | None = None  # ENABLED / DISABLED / DESTROYED
    create_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class SqlOperation:
    kind: str  # RESTART, MAINTENANCE, FAILOVER, UPDATE, …
    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    who: str | None = None


@dataclass(frozen=True, slots=True)
class SqlInstance:
    connection_name: str  # project:region:instance
    state: str | None = None  # RUNNABLE, MAINTENANCE, STOPPED, SUSPENDED, …
    operations: tuple[SqlOperation, ...] = ()


@dataclass(frozen=True, slots=True)
class Related:
    """Everything read beyond the Run and Logging APIs; empty when nothing was read."""

    failed_image: ImageBuild | None = None
    good_image: ImageBuild | None = None
    job_edits: tuple[JobEdit, ...] = ()
    iam_changes: tuple[IamChange, ...] = ()
    secrets: tuple[SecretVersion, ...] = ()
    sql: tuple[SqlInstance, ...] = ()
    calls: int = 0  # API calls made to read it (the cost figure)
