"""The job's service account lacks a role or scope on another Google API.

Nightly batches call BigQuery, Cloud Storage, Pub/Sub, Vertex AI or the IAM credentials API; when
the service account the job runs as has no role there, the client libraries print a 403 with the
permission it lacked (`bigquery.jobs.create`, `storage.objects.get`,
`iam.serviceAccounts.signBlob`),
`insufficient authentication scopes`, or "API has not been used in project … or it is disabled".
Cloud SQL and Secret Manager denials belong to `cloudsql_permission` and `secret_config`, and a
denied image pull to `image_pull`: their own signatures are more specific and outrank these.
"""

from __future__ import annotations

from analyzers import commands
from analyzers.base import (
    Analyzer,
    Cause,
    Check,
    Finding,
    Signature,
    service_account_fact,
    sig,
    signature_finding,
)
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.text import Text


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="Read the denied calls of this execution (the permission named in the 403)",
                ko="이 실행의 거부된 호출 로그 확인(403에 적힌 권한)",
            ),
            commands.read_logs(
                ref,
                extra='(textPayload:"403" OR textPayload:"PERMISSION_DENIED" OR '
                'textPayload:"does not have" OR textPayload:"Access Denied")',
            ),
        ),
        Check(
            Text(
                en="Roles the job's service account holds on the project",
                ko="Job 서비스 계정이 프로젝트에서 가진 역할 확인",
            ),
            commands.project_roles_of_job_sa(ref),
        ),
        Check(
            Text(en="APIs enabled in the project", ko="프로젝트에서 사용 설정된 API 확인"),
            commands.enabled_services(ref),
        ),
    )


CAUSE = Cause(
    id="gcp_permission",
    prior=0.06,
    name=Text(
        en="The job's service account lacks a permission on a Google API",
        ko="Job 서비스 계정에 Google API 권한이 없음",
    ),
    checks=_checks,
    workarounds=(
        Text(
            en="Grant the job's service account the narrowest role that holds the permission "
            "named in the error (e.g. roles/bigquery.jobUser + roles/bigquery.dataEditor on the "
            "dataset, roles/storage.objectAdmin on the bucket)",
            ko="오류에 적힌 권한을 가진 가장 좁은 역할을 Job 서비스 계정에 부여"
            "(예: 데이터셋에 roles/bigquery.jobUser + roles/bigquery.dataEditor, 버킷에 "
            "roles/storage.objectAdmin)",
        ),
        Text(
            en="If the error says the API is disabled: gcloud services enable <api> in the "
            "project it names, then re-run",
            ko="API가 비활성화되었다는 오류면 해당 프로젝트에서 gcloud services enable <api> 후 "
            "재실행",
        ),
        Text(
            en="Signing URLs (signBlob): grant roles/iam.serviceAccountTokenCreator on the "
            "service account to itself",
            ko="URL 서명(signBlob): 서비스 계정 자신에게 roles/iam.serviceAccountTokenCreator 부여",
        ),
    ),
    refute_hint=Text(
        en="no 403 or permission denial from a Google API in the log",
        ko="로그에 Google API의 403·권한 거부가 없음",
    ),
    docs=(
        "https://cloud.google.com/run/docs/securing/service-identity",
        "https://cloud.google.com/iam/docs/roles-permissions",
    ),
)

_DENIED = Text(
    en="A Google API refused the job's service account (missing role)",
    ko="Google API가 Job 서비스 계정을 거부함(역할 없음)",
)
_BQ = Text(
    en="BigQuery refused the job's service account (missing BigQuery role)",
    ko="BigQuery가 Job 서비스 계정을 거부함(BigQuery 역할 없음)",
)
_GCS = Text(
    en="Cloud Storage refused the job's service account (missing bucket role)",
    ko="Cloud Storage가 Job 서비스 계정을 거부함(버킷 역할 없음)",
)
_SIGN = Text(
    en="The service account may not sign for itself (iam.serviceAccounts.signBlob)",
    ko="서비스 계정이 자신으로 서명할 권한이 없음(iam.serviceAccounts.signBlob)",
)
_DISABLED = Text(
    en="A Google API the job calls is not enabled in the project",
    ko="Job이 호출하는 Google API가 프로젝트에서 사용 설정되지 않음",
)
_SCOPES = Text(
    en="The credentials lack the OAuth scope the API needs",
    ko="자격 증명에 API가 요구하는 OAuth 범위(scope)가 없음",
)
_PUBSUB = Text(
    en="Pub/Sub refused the job's service account (missing publisher/subscriber role)",
    ko="Pub/Sub가 Job 서비스 계정을 거부함(publisher/subscriber 역할 없음)",
)

# Permissions that belong to other causes (Cloud SQL, Secret Manager, the image registry, a
# quota). The look-ahead is anchored at the start of the line: unanchored, `search` would find a
# position after the last excluded word and match anyway.
_OTHER_WORDS = (
    r"cloudsql|cloud sql admin|sqladmin|secretmanager|artifactregistry|containerregistry"
    r"|rate limit|quota"
)


def _unless_other(pattern: str = "") -> str:
    """`pattern` anywhere on a line that names none of the other causes' services."""
    return rf"^(?!.*(?:{_OTHER_WORDS})).*?(?:{pattern})"


SIGNATURES: tuple[Signature, ...] = (
    sig(
        "bigquery.",
        "BQ_PERMISSION",
        0.94,
        _BQ,
        r"bigquery\.[a-z]+\.[a-z]+\b.*(denied|permission)|(does not have"
        r"|denied).*bigquery\.[a-z]+\.[a-z]+",
    ),
    sig(
        "Access Denied: ",
        "BQ_PERMISSION",
        0.9,
        _BQ,
        r"Access Denied: (Table|Dataset|Project|BigQuery)",
    ),
    sig(
        "storage.",
        "GCS_PERMISSION",
        0.94,
        _GCS,
        r"(does not have|denied|permission).*storage\.(objects|buckets)\.[a-z]+"
        r"|storage\.(objects|buckets)\.[a-z]+.*(denied|access)",
    ),
    sig("signBlob", "SIGN_BLOB_DENIED", 0.94, _SIGN),
    sig(
        "iam.serviceAccounts.",
        "IAM_SA_DENIED",
        0.9,
        _SIGN,
        r"iam\.serviceAccounts\.(getAccessToken|actAs|signJwt|implicitDelegation)",
    ),
    sig(
        "pubsub.",
        "PUBSUB_PERMISSION",
        0.92,
        _PUBSUB,
        r"pubsub\.(topics|subscriptions)\.[a-z]+.*(denied|permission)|(denied"
        r"|does not have).*pubsub\.(topics|subscriptions)",
    ),
    sig("has not been used in project", "API_DISABLED", 0.93, _DISABLED, _unless_other()),
    sig("it is disabled. Enable it by visiting", "API_DISABLED", 0.93, _DISABLED, _unless_other()),
    sig("SERVICE_DISABLED", "API_DISABLED", 0.88, _DISABLED, _unless_other()),
    sig("insufficient authentication scopes", "SCOPES_INSUFFICIENT", 0.93, _SCOPES),
    sig("ACCESS_TOKEN_SCOPE_INSUFFICIENT", "SCOPES_INSUFFICIENT", 0.93, _SCOPES),
    # BigQuery reading an external table (Drive, Cloud Storage) with credentials that may not
    # read its source: the Drive scope, or a role on the bucket
    sig("Permission denied while getting Drive credentials", "SCOPES_INSUFFICIENT", 0.9, _SCOPES),
    sig("Permission denied while globbing file pattern", "PERMISSION_DENIED", 0.85, _DENIED),
    # The OAuth token endpoint refusing the scopes asked for (google-auth's RefreshError
    # "invalid_scope: Invalid OAuth scope or ID token audience provided.", the PHP / Node
    # clients' {"error": "invalid_scope", …}); the JSON APIs' 403 insufficientPermissions, whose
    # message is "Insufficient Permission" (not Firestore's "Missing or insufficient permissions")
    sig("invalid_scope", "SCOPES_INSUFFICIENT", 0.9, _SCOPES, r"\binvalid_scope\b"),
    sig(
        "Insufficient Permission",
        "SCOPES_INSUFFICIENT",
        0.86,
        _SCOPES,
        r"^(?!.*(?:gcloud\.sql|sqladmin|cloudsql)).*(?-i:\bInsufficient Permission\b)(?!s)",
    ),
    sig(
        "Permission '",
        "PERMISSION_DENIED",
        0.9,
        _DENIED,
        _unless_other(r"Permission '[a-z]+\.[a-zA-Z]+\.[a-zA-Z]+' denied"),
    ),
    sig(
        "does not have",
        "PERMISSION_DENIED",
        0.88,
        _DENIED,
        _unless_other(r"does not have [a-z]+\.[a-zA-Z]+\.[a-zA-Z]+ (access|permission)"),
    ),
    sig("Caller does not have required permission", "PERMISSION_DENIED", 0.88, _DENIED),
    sig("accessDenied", "PERMISSION_DENIED", 0.85, _DENIED, _unless_other(r"\baccessDenied\b")),
    sig("insufficientPermissions", "PERMISSION_DENIED", 0.85, _DENIED),
    sig(
        "exceptions.Forbidden",
        "PERMISSION_DENIED",
        0.85,
        _DENIED,
        _unless_other(r"exceptions\.Forbidden: 403"),
    ),
    sig(
        "exceptions.PermissionDenied",
        "PERMISSION_DENIED",
        0.85,
        _DENIED,
        _unless_other(r"exceptions\.PermissionDenied: 403"),
    ),
    sig("AccessDeniedException: 403", "PERMISSION_DENIED", 0.85, _DENIED, _unless_other()),
    sig("The caller does not have permission", "PERMISSION_DENIED", 0.8, _DENIED, _unless_other()),
    sig("PERMISSION_DENIED", "PERMISSION_DENIED", 0.72, _DENIED, _unless_other()),
    sig(
        "403",
        "PERMISSION_DENIED",
        0.75,
        _DENIED,
        _unless_other(
            r"\b403\b.*googleapis\.com|googleapis\.com.*\b403\b|GoogleJsonResponseException: 403"
        ),
    ),
    sig(
        "Error 403:",
        "PERMISSION_DENIED",
        0.72,
        _DENIED,
        _unless_other(r"googleapi: Error 403: (?!.*NOT_AUTHORIZED)"),
    ),
    sig("code = PermissionDenied", "PERMISSION_DENIED", 0.86, _DENIED, _unless_other()),
    # gax-java's exception for a PERMISSION_DENIED status.
    sig(
        "com.google.api.gax.rpc.PermissionDeniedException",
        "PERMISSION_DENIED",
        0.85,
        _DENIED,
        _unless_other(),
    ),
    sig("User not authorized to perform this action", "PERMISSION_DENIED", 0.88, _DENIED),
    # Google's wording of a PERMISSION_DENIED on a project (the identity lacks a role there, or
    # the project does not exist: secret_config reads CONSUMER_INVALID)
    sig(
        "Permission denied on resource project",
        "PERMISSION_DENIED",
        0.78,
        _DENIED,
        _unless_other(r"Permission denied on resource project \S+"),
    ),
)


def analyze(evidence: Evidence) -> Finding | None:
    """A Google API answered 403 / permission denied / API disabled to the job's identity."""
    sa = service_account_fact(evidence)
    return signature_finding(CAUSE, SIGNATURES, evidence, extra_facts=(sa,) if sa else ())


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
