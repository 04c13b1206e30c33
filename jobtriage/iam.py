"""What each deployed function is allowed to do, in one place.

deploy/iam.tf grants exactly these roles to each function's own service account — no more, and
none at a wider scope (tests/deploy checks both directions). When the code starts calling an API
that needs something new, add it here first; the deploy test then fails until Terraform grants it.

Scopes:
- `PROJECT`: a project-level binding (Cloud Run jobs and Logging entries can be anywhere in the
  project, and Firestore has no per-database binding).
- `BOT_TOKEN_SECRET` / `SIGNING_SECRET`: a binding on that one Secret Manager secret only. The
  names are the Terraform resource names of the secrets in deploy/secrets.tf.

Roles: https://cloud.google.com/run/docs/reference/iam/roles ,
https://cloud.google.com/logging/docs/access-control ,
https://cloud.google.com/firestore/docs/security/iam ,
https://cloud.google.com/secret-manager/docs/access-control ,
https://cloud.google.com/build/docs/iam-roles-permissions ,
https://cloud.google.com/artifact-registry/docs/access-control ,
https://cloud.google.com/sql/docs/postgres/iam-roles
Admin Activity audit entries (job edits, SetIamPolicy) are read with roles/logging.viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PROJECT: Final = "project"
# Scope names, not secrets.
BOT_TOKEN_SECRET: Final = "secret:slack_bot_token"  # noqa: S105
SIGNING_SECRET: Final = "secret:slack_signing_secret"  # noqa: S105


@dataclass(frozen=True, slots=True)
class Grant:
    role: str
    scope: str
    why: str


# The event function (`on_job_event`): diagnoses a finished execution and posts it to Slack.
EVENT_FUNCTION_ROLES: Final[tuple[Grant, ...]] = (
    Grant(
        "roles/run.viewer",
        PROJECT,
        "read the Execution, its Tasks, the Job and the last successful execution (Run API v2)",
    ),
    Grant(
        "roles/logging.viewer",
        PROJECT,
        "read the execution's own stdout/stderr and varlog/system lines (entries.list)",
    ),
    Grant(
        "roles/datastore.user",
        PROJECT,
        "claim the execution and record the incident in Firestore",
    ),
    Grant(
        "roles/cloudbuild.builds.viewer",
        PROJECT,
        "find the build behind each image digest: commit, repository, branch, trigger "
        "(builds.list)",
    ),
    Grant(
        "roles/artifactregistry.reader",
        PROJECT,
        "an image's OCI annotations (revision, source) when no build is found (versions.get)",
    ),
    Grant(
        "roles/secretmanager.viewer",
        PROJECT,
        "which version of each referenced secret ran, its state and create time; metadata only, "
        "never a payload (versions.get)",
    ),
    Grant(
        "roles/cloudsql.viewer",
        PROJECT,
        "the attached Cloud SQL instances' state and recent operations (instances.get, "
        "operations.list)",
    ),
    Grant(
        "roles/secretmanager.secretAccessor",
        BOT_TOKEN_SECRET,
        "SLACK_BOT_TOKEN, to post the report and thread replies",
    ),
)

# The Slack interactivity function (`on_slack_action`): applies a button click to an incident.
ACTION_FUNCTION_ROLES: Final[tuple[Grant, ...]] = (
    Grant(
        "roles/datastore.user",
        PROJECT,
        "read and update the incident a button click refers to",
    ),
    Grant(
        "roles/secretmanager.secretAccessor",
        BOT_TOKEN_SECRET,
        "SLACK_BOT_TOKEN, to update the original message after a click",
    ),
    Grant(
        "roles/secretmanager.secretAccessor",
        SIGNING_SECRET,
        "SLACK_SIGNING_SECRET, to verify that a request really comes from Slack",
    ),
)
