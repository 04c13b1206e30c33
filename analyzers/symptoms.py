"""What one cause looks like from the program when another cause is the real one.

A refused connection after the Cloud SQL connector was denied, an unhandled rejection after
ECONNREFUSED, a generic "query failed" wrapper after a failed login: each analyzer reports what it
sees, and this one table — applied by the diagnosis after every analyzer has run, like
Alertmanager's inhibit rules — caps the symptom below the cause that explains it. No analyzer
imports another; adding a rule is a row here and a test in tests/analyzers/test_symptoms.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from analyzers.base import Finding
from jobtriage.text import Text

# An explaining finding must itself name its cause at least this strongly (a generic wrapper of
# another cause explains nothing).
EXPLAINER_MIN = 0.7

# `explained_by` that accepts a finding of any other cause.
ANY_OTHER = frozenset({"*"})


@dataclass(frozen=True, slots=True)
class Symptom:
    """`cause`'s finding (when its signature is one of `signatures`; any when empty) is capped at
    `cap` and retitled when one of `explained_by` has a finding of at least EXPLAINER_MIN."""

    cause: str
    signatures: frozenset[str]
    explained_by: frozenset[str]
    cap: float
    title: Text
    # When set, only findings of `explained_by` with one of these signatures explain it.
    explaining_signatures: frozenset[str] = frozenset()
    # How strongly the explaining finding must name its cause (a bare wrapper is explained by
    # less than a named error is).
    explainer_min: float = EXPLAINER_MIN


SYMPTOMS: tuple[Symptom, ...] = (
    Symptom(
        cause="db_connection",
        signatures=frozenset(
            {
                "ECONNREFUSED",
                "ETIMEDOUT",
                "CLOUDSQL_SOCKET_MISSING",
                "MYSQL_UNREACHABLE",
                "PG_UNREACHABLE",
                "SEQUELIZE_CONNECTION",
                "P1001",
                "DB_OPERATIONAL",
                "CLOUDSQL_DIAL",
            }
        ),
        explained_by=frozenset({"cloudsql_permission"}),
        cap=0.25,
        title=Text(
            en="The database connection failed because the Cloud SQL connector was refused "
            "(a symptom of the IAM / Admin API error)",
            ko="Cloud SQL 커넥터가 거부되어 DB 연결이 실패함(IAM·Admin API 오류의 증상)",
        ),
    ),
    Symptom(
        cause="db_connection",
        signatures=frozenset({"ETIMEDOUT", "PG_UNREACHABLE", "MYSQL_UNREACHABLE", "P1001"}),
        explained_by=frozenset({"network_egress"}),
        cap=0.25,
        title=Text(
            en="The database could not be reached because the network path is missing "
            "(a symptom of the egress problem)",
            ko="네트워크 경로가 없어 DB에 도달하지 못함(egress 문제의 증상)",
        ),
    ),
    Symptom(
        cause="entrypoint_runtime",
        signatures=frozenset(
            {
                "UNHANDLED_REJECTION",
                "UNCAUGHT_EXCEPTION",
                "SCRIPT_FAILED",
                "NOT_CONNECTED",
                "PY_VALUE_ERROR",
                "TYPE_ERROR",
                "PY_ATTRIBUTE_ERROR",
                "JSON_PARSE",
                "GO_PANIC",
                "JVM_EXCEPTION",
                "RUST_PANIC",
                "ELIXIR_EXCEPTION",
                "DOTNET_UNHANDLED",
                "RUBY_EXCEPTION",
                "PHP_FATAL",
                "SPRING_FAILED",
                "SEGFAULT",
                "ABORTED",
                "PY_EXCEPTION",
                "DOTNET_EXCEPTION",
                "ELIXIR_FUNCTION_CLAUSE",
                "ELIXIR_MATCH",
                "RUST_DESERIALIZE",
                "JVM_NULL_POINTER",
                "DOTNET_NULL_REFERENCE",
                "PHP_NULL",
                "GO_NIL_POINTER",
            }
        ),
        explained_by=ANY_OTHER,
        cap=0.1,
        title=Text(
            en="The program crashed after another error (a symptom, not the cause)",
            ko="다른 오류에 이어 프로그램이 종료됨(원인이 아니라 증상)",
        ),
    ),
    # Bare wrappers that name no error at all (npm's lifecycle failure, Node's uncaught-exception
    # trailer, a traceback header, rake's "aborted!"): any other cause that names something, even
    # moderately, explains them.
    Symptom(
        cause="entrypoint_runtime",
        signatures=frozenset(
            {"SCRIPT_FAILED", "UNCAUGHT_EXCEPTION", "UNHANDLED_REJECTION", "RUBY_EXCEPTION"}
        ),
        explained_by=ANY_OTHER,
        cap=0.1,
        title=Text(
            en="The program stopped after another error (a symptom, not the cause)",
            ko="다른 오류에 이어 프로그램이 멈춤(원인이 아니라 증상)",
        ),
        explainer_min=0.55,
    ),
    Symptom(
        cause="migration_sql",
        signatures=frozenset({"QUERY_FAILED", "MIGRATION_FAILED"}),
        explained_by=frozenset(
            {"db_connection", "cloudsql_permission", "secret_config", "db_privilege", "data_error"}
        ),
        cap=0.15,
        title=Text(
            en="The migration tool's failure wraps another error (a symptom)",
            ko="마이그레이션 도구의 실패가 다른 오류를 감싼 것(증상)",
        ),
    ),
    Symptom(
        cause="migration_sql",
        signatures=frozenset(),
        explained_by=frozenset({"db_privilege"}),
        cap=0.3,
        title=Text(
            en="The migration failed because the database role lacks a privilege (a symptom)",
            ko="DB 역할 권한 부족으로 마이그레이션이 실패함(증상)",
        ),
    ),
    Symptom(
        cause="db_connection",
        signatures=frozenset({"MYSQL_ACCESS_DENIED", "PG_AUTH_FAILED", "P1000"}),
        explained_by=frozenset({"secret_config"}),
        cap=0.3,
        title=Text(
            en="The login failed because no password was configured (a symptom)",
            ko="비밀번호가 설정되지 않아 로그인이 실패함(증상)",
        ),
        explaining_signatures=frozenset({"PASSWORD_NOT_SET", "URL_INVALID", "ENV_VAR_MISSING"}),
    ),
    Symptom(
        cause="db_connection",
        signatures=frozenset(),
        explained_by=frozenset({"secret_config"}),
        cap=0.3,
        title=Text(
            en="The connection failed because its host or database setting was never set "
            "(a symptom)",
            ko="연결 설정(호스트·DB 이름)이 비어 있어 연결이 실패함(증상)",
        ),
        explaining_signatures=frozenset({"DB_SETTING_UNSET"}),
    ),
    Symptom(
        cause="db_connection",
        signatures=frozenset(),
        explained_by=frozenset({"secret_config"}),
        cap=0.3,
        title=Text(
            en="The host could not be resolved because part of the URL's password was taken as "
            "the host (a symptom)",
            ko="URL 비밀번호 일부가 호스트로 해석되어 호스트를 찾지 못함(증상)",
        ),
        explaining_signatures=frozenset({"URL_CREDENTIALS_UNESCAPED"}),
    ),
    Symptom(
        cause="db_connection",
        signatures=frozenset({"PG_AUTH_FAILED", "MYSQL_ACCESS_DENIED"}),
        explained_by=frozenset({"cloudsql_permission"}),
        cap=0.3,
        title=Text(
            en="The login failed because Cloud SQL refused the IAM database login (a symptom)",
            ko="Cloud SQL이 IAM DB 로그인을 거부하여 로그인이 실패함(증상)",
        ),
        explaining_signatures=frozenset({"CLOUDSQL_IAM_LOGIN"}),
    ),
    Symptom(
        cause="db_connection",
        signatures=frozenset({"ETIMEDOUT", "P1002"}),
        explained_by=frozenset({"migration_sql"}),
        cap=0.3,
        title=Text(
            en="The timeout was the migration tool waiting for its lock (a symptom)",
            ko="시간 초과는 마이그레이션 도구가 락을 기다린 것(증상)",
        ),
        explaining_signatures=frozenset({"MIGRATION_LOCKED"}),
    ),
    Symptom(
        cause="migration_sql",
        signatures=frozenset({"UNIQUE_VIOLATION", "CONSTRAINT_VIOLATION"}),
        explained_by=frozenset({"data_error"}),
        cap=0.3,
        title=Text(
            en="Rows being loaded break a constraint (outside any migration: a data problem)",
            ko="적재 중인 행이 제약 조건을 위반함(마이그레이션 밖: 데이터 문제)",
        ),
        explaining_signatures=frozenset({"ROW_CONSTRAINT"}),
    ),
    Symptom(
        cause="missing_artifact",
        signatures=frozenset({"EXECUTABLE_NOT_FOUND"}),
        explained_by=frozenset({"entrypoint_runtime"}),
        cap=0.3,
        title=Text(
            en="The 'executable not found' is a shell command written in exec form, not a "
            "missing program (a symptom)",
            ko="'실행 파일 없음'은 exec 형식으로 쓴 셸 명령 때문이며 프로그램 누락이 아님(증상)",
        ),
        explaining_signatures=frozenset({"EXEC_FORM_COMMAND"}),
    ),
    Symptom(
        cause="upstream_service",
        signatures=frozenset(),
        explained_by=frozenset({"quota_exceeded", "gcp_permission", "network_egress"}),
        cap=0.3,
        title=Text(
            en="The failed call is explained by a quota, permission or network error",
            ko="호출 실패는 할당량·권한·네트워크 오류로 설명됨",
        ),
    ),
)


def apply_symptoms(
    findings: Sequence[Finding], table: Sequence[Symptom] = SYMPTOMS
) -> tuple[Finding, ...]:
    """The findings with every symptom capped. Decided on the findings as the analyzers gave
    them, so the order of the rows does not matter."""
    out: list[Finding] = []
    for finding in findings:
        for rule in table:
            if (
                rule.cause == finding.cause
                and (not rule.signatures or finding.signature in rule.signatures)
                and finding.strength > rule.cap
                and any(
                    other.strength >= rule.explainer_min and _explains(rule, other)
                    for other in findings
                    if other is not finding
                )
            ):
                finding = replace(finding, strength=rule.cap, title=rule.title)
        out.append(finding)
    return tuple(out)


def _explains(rule: Symptom, other: Finding) -> bool:
    named = rule.explained_by is ANY_OTHER or other.cause in rule.explained_by
    return (
        named
        and other.cause != rule.cause
        and (not rule.explaining_signatures or other.signature in rule.explaining_signatures)
    )
