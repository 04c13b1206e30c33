"""The job's identity may not use the Cloud SQL instance, or the Cloud SQL Admin API is off.

Recognises what Cloud Run's built-in connector, the Cloud SQL Auth Proxy and the language
connectors write when IAM says no: `boss::NOT_AUTHORIZED`, a missing `cloudsql.instances.get` /
`.connect` permission, a 403 from `generateEphemeral` (`notAuthorized`), the Python connector's
"does not seeem authorized" (sic), the Java connector's "Cloud SQL Admin API failed … 403", and
the Admin API being disabled (`Cloud SQL Admin API has not been used in project`,
`accessNotConfigured`, `SERVICE_DISABLED`). These lines name the real cause, so they outrank the
refused connection the application reports a moment later. Configuration is evidence too: a job
with Cloud SQL instances attached that runs as the default compute service account (or names
none) is reported as a weak, circumstantial finding of its own.
"""

from __future__ import annotations

import re

from analyzers import commands
from analyzers.base import (
    Analyzer,
    Cause,
    Check,
    Fact,
    Finding,
    Signature,
    build_finding,
    match_signatures,
    match_status,
    service_account_fact,
    sig,
    uses_default_service_account,
)
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.text import Text


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="See which service account the job runs as",
                ko="Job이 어떤 서비스 계정으로 실행되는지 확인",
            ),
            commands.job_service_account(ref),
        ),
        Check(
            Text(
                en="Read the Cloud SQL connector lines of this execution",
                ko="이 실행의 Cloud SQL 커넥터 로그 확인",
            ),
            commands.read_logs(
                ref,
                extra='(textPayload:"NOT_AUTHORIZED" OR textPayload:"cloudsql" OR '
                'textPayload:"Cloud SQL")',
            ),
        ),
    )


CAUSE = Cause(
    id="cloudsql_permission",
    prior=0.10,
    name=Text(
        en="The job's service account may not use the Cloud SQL instance",
        ko="Job 서비스 계정의 Cloud SQL 접근 권한 문제",
    ),
    checks=_checks,
    workarounds=(
        Text(
            en="Grant the job's service account roles/cloudsql.client in the instance's project "
            "(gcloud projects add-iam-policy-binding PROJECT --member=serviceAccount:SA "
            "--role=roles/cloudsql.client)",
            ko="인스턴스가 있는 프로젝트에서 Job 서비스 계정에 roles/cloudsql.client 부여 "
            "(gcloud projects add-iam-policy-binding PROJECT --member=serviceAccount:SA "
            "--role=roles/cloudsql.client)",
        ),
        Text(
            en="Enable the Cloud SQL Admin API in the job's project "
            "(gcloud services enable sqladmin.googleapis.com)",
            ko="Job 프로젝트에서 Cloud SQL Admin API 활성화 "
            "(gcloud services enable sqladmin.googleapis.com)",
        ),
        Text(
            en="Run the job as the same dedicated service account the service uses "
            "(gcloud run jobs update --service-account)",
            ko="서비스와 같은 전용 서비스 계정으로 Job 실행 "
            "(gcloud run jobs update --service-account)",
        ),
    ),
    refute_hint=Text(
        en="No NOT_AUTHORIZED / Admin API error from the Cloud SQL connector",
        ko="Cloud SQL 커넥터의 NOT_AUTHORIZED·Admin API 오류 없음",
    ),
)

_NOT_AUTHORIZED = Text(
    en="Cloud SQL refused the job's service account (missing roles/cloudsql.client)",
    ko="Cloud SQL이 Job 서비스 계정을 거부함(roles/cloudsql.client 없음)",
)
_API_DISABLED = Text(
    en="The Cloud SQL Admin API is disabled in the project",
    ko="프로젝트에서 Cloud SQL Admin API가 비활성화됨",
)
_DEFAULT_SA = Text(
    en="Cloud SQL is attached but the job runs as the default compute service account",
    ko="Cloud SQL이 연결되어 있으나 Job이 기본 Compute 서비스 계정으로 실행됨",
)

_SQL_CONTEXT = re.compile(r"(?i)sql")

_IAM_LOGIN = Text(
    en="Cloud SQL refused the IAM database login of the job's identity",
    ko="Cloud SQL이 Job 계정의 IAM DB 로그인을 거부함",
)
SIGNATURES: tuple[Signature, ...] = (
    Signature("boss::NOT_AUTHORIZED", "CLOUDSQL_NOT_AUTHORIZED", 0.95, _NOT_AUTHORIZED),
    Signature("cloudsql.instances.get", "CLOUDSQL_NOT_AUTHORIZED", 0.94, _NOT_AUTHORIZED),
    Signature("cloudsql.instances.connect", "CLOUDSQL_NOT_AUTHORIZED", 0.94, _NOT_AUTHORIZED),
    Signature(
        "generateEphemeral",
        "CLOUDSQL_NOT_AUTHORIZED",
        0.94,
        _NOT_AUTHORIZED,
        re.compile(r"(?i)403|notAuthorized|not authorized"),
    ),
    Signature(
        "ensure that the account has access to",
        "CLOUDSQL_NOT_AUTHORIZED",
        0.92,
        _NOT_AUTHORIZED,
    ),
    Signature("does not seeem authorized", "CLOUDSQL_NOT_AUTHORIZED", 0.94, _NOT_AUTHORIZED),
    Signature("does not seem authorized", "CLOUDSQL_NOT_AUTHORIZED", 0.94, _NOT_AUTHORIZED),
    Signature(
        "Cloud SQL Admin API failed",
        "CLOUDSQL_NOT_AUTHORIZED",
        0.9,
        _NOT_AUTHORIZED,
        re.compile(r"403"),
    ),
    Signature("NOT_AUTHORIZED", "CLOUDSQL_NOT_AUTHORIZED", 0.9, _NOT_AUTHORIZED, _SQL_CONTEXT),
    Signature(
        "Cloud SQL Admin API has not been used in project",
        "SQLADMIN_API_DISABLED",
        0.96,
        _API_DISABLED,
    ),
    Signature(
        "sqladmin.googleapis.com",
        "SQLADMIN_API_DISABLED",
        0.94,
        _API_DISABLED,
        re.compile(r"(?i)SERVICE_DISABLED|accessNotConfigured|is disabled|not been used"),
    ),
    Signature("accessNotConfigured", "SQLADMIN_API_DISABLED", 0.9, _API_DISABLED, _SQL_CONTEXT),
    Signature("SERVICE_DISABLED", "SQLADMIN_API_DISABLED", 0.9, _API_DISABLED, _SQL_CONTEXT),
    # Other clients (signatures reviewed against the failure corpus's development part)
    sig("IAM service account authentication failed", "CLOUDSQL_IAM_LOGIN", 0.93, _IAM_LOGIN),
    sig("IAM user authentication failed", "CLOUDSQL_IAM_LOGIN", 0.93, _IAM_LOGIN),
    sig("cloudsql.instances.login", "CLOUDSQL_IAM_LOGIN", 0.93, _IAM_LOGIN),
    # A connector's own call to the Admin API answered 403 (the Python connector's aiohttp
    # ClientResponseError, the Java socket factory's GoogleJsonResponseException)
    sig(
        "sqladmin.googleapis.com",
        "CLOUDSQL_NOT_AUTHORIZED",
        0.9,
        _NOT_AUTHORIZED,
        r"(?:\b403\b.*(?:Forbidden|denied|notAuthorized)|Error 403\b).*sqladmin\.googleapis\.com"
        r"|sqladmin\.googleapis\.com.*(?:\b403 Forbidden|Error 403\b|\b403\b.*notAuthorized)",
    ),
    # Cloud SQL for MySQL refusing a connector's automatic IAM login for a non-IAM user
    sig("Automatic IAM authentication", "CLOUDSQL_IAM_LOGIN", 0.93, _IAM_LOGIN),
    sig(
        "createEphemeral",
        "CLOUDSQL_NOT_AUTHORIZED",
        0.9,
        _NOT_AUTHORIZED,
        r"createEphemeral.*\b403\b",
    ),
    sig(
        "Insufficient Permission",
        "CLOUDSQL_NOT_AUTHORIZED",
        0.85,
        _NOT_AUTHORIZED,
        r"gcloud\.sql\.",
    ),
    sig(
        "sqladmin",
        "SQLADMIN_API_DISABLED",
        0.9,
        _API_DISABLED,
        r"sqladmin\.googleapis\.com.*(disabled|not been used)|(disabled|not been used).*sqladmin",
    ),
    sig(
        "The client is not authorized to make this request",
        "CLOUDSQL_NOT_AUTHORIZED",
        0.9,
        _NOT_AUTHORIZED,
    ),
    sig("Cloud SQL Admin API is not enabled", "SQLADMIN_API_DISABLED", 0.92, _API_DISABLED),
    # The Go connector / Auth Proxy v2 wrap an Admin API refusal in a RefreshError
    # ("failed to get instance metadata (connection name = ...): googleapi: Error 403").
    sig(
        "failed to get instance metadata",
        "CLOUDSQL_NOT_AUTHORIZED",
        0.93,
        _NOT_AUTHORIZED,
        r"failed to get instance metadata.*(?:\b403\b|NOT_AUTHORIZED|notAuthorized)",
    ),
    # Cloud SQL names a PostgreSQL IAM database user "sa@project.iam" (the service account's
    # e-mail without ".gserviceaccount.com"); a refused password login for one is an IAM login
    # the instance did not accept (the token's identity is not that user, or IAM authentication
    # is off), not a wrong password.
    sig(
        "password authentication failed for user",
        "CLOUDSQL_IAM_LOGIN",
        0.96,
        _IAM_LOGIN,
        r'password authentication failed for user "[^"@]+@[^"]+\.iam(?:\.gserviceaccount\.com)?"',
    ),
)


def _instance_project(connection_name: str, fallback: str) -> str:
    parts = connection_name.split(":")
    return parts[0] if len(parts) == 3 and parts[0] else fallback


def _specific_checks(evidence: Evidence) -> tuple[Check, ...]:
    checks: list[Check] = [
        Check(
            Text(
                en="Check that the Cloud SQL Admin API is enabled (empty output = disabled)",
                ko="Cloud SQL Admin API 활성화 여부 확인(출력이 없으면 비활성)",
            ),
            commands.sqladmin_enabled(evidence.ref),
        )
    ]
    sa = evidence.config.service_account
    for instance in evidence.config.cloudsql_instances[:2]:
        if sa:
            project = _instance_project(instance, evidence.ref.project)
            checks.append(
                Check(
                    Text(
                        en="Roles of {sa} in {project}, the project of {inst} "
                        "(look for roles/cloudsql.client)",
                        ko="{inst} 인스턴스 프로젝트({project})에서 {sa}의 역할 확인 "
                        "(roles/cloudsql.client 필요)",
                    ).format(sa=sa, project=project, inst=instance),
                    commands.service_account_roles(project, sa),
                )
            )
        checks.append(
            Check(
                Text(
                    en="Check that the instance {inst} exists and is running",
                    ko="{inst} 인스턴스가 존재하고 실행 중인지 확인",
                ).format(inst=instance),
                commands.sql_instance(instance),
            )
        )
    return tuple(checks)


def analyze(evidence: Evidence) -> Finding | None:
    """Cloud SQL IAM denied the job's service account, or the Admin API is disabled."""
    matches = match_signatures(evidence, SIGNATURES)
    status = match_status(evidence, SIGNATURES)
    extra: list[Fact] = []
    sa_fact = service_account_fact(evidence)
    if sa_fact is not None:
        extra.append(sa_fact)
    attached = evidence.config.cloudsql_instances
    if attached:
        extra.append(
            Fact.config(
                Text(
                    en="Cloud SQL instances attached to the job: {inst}",
                    ko="Job에 연결된 Cloud SQL 인스턴스: {inst}",
                ).format(inst=", ".join(attached))
            )
        )
    checks = (*_specific_checks(evidence), *CAUSE.checks(evidence.ref))
    finding = build_finding(CAUSE, matches=matches, status=status, extra_facts=extra, checks=checks)
    if finding is not None:
        return finding
    if attached and evidence.config.containers and uses_default_service_account(evidence):
        # Circumstantial: nothing in the log says IAM refused, but nothing grants the default
        # account roles/cloudsql.client on its own either.
        return Finding(
            cause=CAUSE.id,
            strength=0.15,
            title=_DEFAULT_SA,
            facts=tuple(extra),
            signature="DEFAULT_COMPUTE_SA",
            checks=checks,
        )
    return None


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
