"""Logged in, but the database role lacks a privilege.

PostgreSQL's `permission denied for schema/table/relation/sequence/database`, `must be owner of`,
`permission denied to create extension`, PostgreSQL 16's role checks (`must be able to SET ROLE`,
`permission denied to alter/grant role`), SQLSTATE 42501; MySQL's `command denied to user`,
`Access denied for user … to database` (1044) and the SUPER privilege (1227, binary logging);
SQL Server's `CREATE TABLE permission denied`; Prisma's shadow database (P3014). PostgreSQL 15
removed CREATE on the `public` schema from every role, which is the most common cause here.
A login that fails outright is `db_connection`, not this.
"""

from __future__ import annotations

from analyzers import commands
from analyzers.base import Analyzer, Cause, Check, Finding, Signature, sig, signature_finding
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.text import Text


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="Read the privilege errors of this execution (which object, which role)",
                ko="이 실행의 권한 오류 로그 확인(어떤 객체, 어떤 역할)",
            ),
            commands.read_logs(
                ref,
                extra='(textPayload:"permission denied" OR textPayload:"must be owner" OR '
                'textPayload:"denied to user" OR textPayload:"42501")',
            ),
        ),
        Check(
            Text(
                en="Which database user the job connects as (env and secrets)",
                ko="Job이 어떤 DB 사용자로 접속하는지 확인(환경 변수·시크릿)",
            ),
            commands.job_containers(ref),
        ),
    )


CAUSE = Cause(
    id="db_privilege",
    prior=0.05,
    name=Text(
        en="The database role lacks a privilege the migration needs",
        ko="DB 역할에 마이그레이션에 필요한 권한이 없음",
    ),
    checks=_checks,
    workarounds=(
        Text(
            en="Grant the role what the statement needs, as the owner: e.g. GRANT USAGE, "
            "CREATE ON SCHEMA public TO <role> (PostgreSQL 15+ no longer grants CREATE on "
            "public to everyone)",
            ko="소유자 계정으로 필요한 권한 부여: 예) GRANT USAGE, CREATE ON SCHEMA public TO "
            "<role> (PostgreSQL 15부터 public 스키마 CREATE가 기본 부여되지 않음)",
        ),
        Text(
            en="Run migrations as the role that owns the tables (ALTER TABLE … OWNER TO, or "
            "connect as the owner for the migration job only)",
            ko="테이블 소유 역할로 마이그레이션 실행(ALTER TABLE … OWNER TO, 또는 마이그레이션 "
            "Job만 소유자로 접속)",
        ),
        Text(
            en="Extensions: create them once as cloudsqlsuperuser (Cloud SQL) before the migration",
            ko="확장(extension)은 마이그레이션 전에 cloudsqlsuperuser로 한 번 생성(Cloud SQL)",
        ),
    ),
    refute_hint=Text(
        en="no permission-denied error from the database in the log",
        ko="로그에 DB의 권한 거부 오류가 없음",
    ),
    docs=(
        "https://www.postgresql.org/docs/current/ddl-priv.html",
        "https://cloud.google.com/sql/docs/postgres/users",
    ),
)

_DENIED = Text(
    en="The database role lacks a privilege on a schema or table",
    ko="DB 역할에 스키마·테이블 권한이 없음",
)
_OWNER = Text(
    en="The statement needs the object's owner; the job's role is not it",
    ko="객체 소유자만 실행할 수 있는 문장인데 Job의 역할이 소유자가 아님",
)
_ROLE = Text(
    en="The job's role may not act as, create or change the role the statement names "
    "(PostgreSQL 16 asks for membership WITH SET, or CREATEROLE)",
    ko="Job의 역할이 문장이 지정한 역할로 전환·생성·변경할 수 없음"
    "(PostgreSQL 16은 WITH SET 멤버십 또는 CREATEROLE 필요)",
)
_EXTENSION = Text(
    en="The database role may not create the extension",
    ko="DB 역할에 확장(extension) 생성 권한이 없음",
)
_SUPER = Text(
    en="The statement needs a superuser privilege the managed database does not give",
    ko="관리형 DB가 주지 않는 슈퍼유저 권한이 필요한 문장",
)
_CREATE_DB = Text(
    en="The database role may not create a database (shadow or test database)",
    ko="DB 역할에 데이터베이스 생성 권한이 없음(shadow·테스트 DB)",
)

SIGNATURES: tuple[Signature, ...] = (
    sig(
        "permission denied for",
        "PERMISSION_DENIED",
        0.95,
        _DENIED,
        r"permission denied for (schema|table|relation|sequence|database|function|view|language"
        r"|tablespace)",
    ),
    sig("permission denied to create extension", "EXTENSION_DENIED", 0.96, _EXTENSION),
    # hosted PostgreSQL that allows extensions in one schema only (Heroku's heroku_ext)
    sig("Extensions can only be created on", "EXTENSION_DENIED", 0.9, _EXTENSION),
    sig("permission denied to create database", "CREATE_DB_DENIED", 0.93, _CREATE_DB),
    sig("permission denied to create", "PERMISSION_DENIED", 0.9, _DENIED),
    sig("must be owner of", "MUST_BE_OWNER", 0.94, _OWNER),
    # a tool's own check of the same (`the user "x" is not owner of the "public" schema`)
    sig("is not owner of", "MUST_BE_OWNER", 0.86, _OWNER, r"is not (?:the )?owner of"),
    sig("must be superuser", "SUPERUSER_REQUIRED", 0.93, _SUPER),
    sig("only superuser", "SUPERUSER_REQUIRED", 0.88, _SUPER),
    sig("must be member of role", "MUST_BE_OWNER", 0.9, _OWNER),
    sig("insufficient privilege", "PERMISSION_DENIED", 0.9, _DENIED),
    sig("InsufficientPrivilege", "PERMISSION_DENIED", 0.92, _DENIED),
    sig("42501", "PERMISSION_DENIED", 0.86, _DENIED, r"\b42501\b"),
    sig("command denied to user", "MYSQL_COMMAND_DENIED", 0.94, _DENIED),
    sig(
        "Access denied for user",
        "MYSQL_DB_DENIED",
        0.95,
        _DENIED,
        r"Access denied for user .* to database",
    ),
    sig("SUPER privilege", "SUPERUSER_REQUIRED", 0.92, _SUPER),
    sig("Access denied; you need", "SUPERUSER_REQUIRED", 0.93, _SUPER),
    sig("permission denied in database", "MSSQL_PERMISSION", 0.93, _DENIED),
    sig(
        "The user does not have permission to perform this action",
        "MSSQL_PERMISSION",
        0.88,
        _DENIED,
    ),
    sig("P3014", "CREATE_DB_DENIED", 0.9, _CREATE_DB, r"\bP3014\b"),
    sig("could not create the shadow database", "CREATE_DB_DENIED", 0.9, _CREATE_DB),
    sig(
        "no privileges on",
        "PERMISSION_DENIED",
        0.9,
        _DENIED,
        r"no privileges on (tablespace|schema|database)",
    ),
    sig("ORA-01031", "PERMISSION_DENIED", 0.93, _DENIED),
    sig("ORA-01950", "PERMISSION_DENIED", 0.93, _DENIED),
    sig("permission was denied on", "MSSQL_PERMISSION", 0.93, _DENIED),
    sig("Only users granted", "PERMISSION_DENIED", 0.82, _DENIED, r"Only users granted .* role"),
    # mysql2 / mysqljs codes of ER_TABLEACCESS_DENIED_ERROR (1142) and ER_DBACCESS_DENIED_ERROR
    # (1044); PostgreSQL 15's parameter privileges.
    sig("ER_TABLEACCESS_DENIED_ERROR", "MYSQL_COMMAND_DENIED", 0.92, _DENIED),
    sig("ER_DBACCESS_DENIED_ERROR", "MYSQL_DB_DENIED", 0.93, _DENIED),
    sig("ER_SPECIFIC_ACCESS_DENIED_ERROR", "SUPERUSER_REQUIRED", 0.92, _SUPER),
    sig("permission denied to set parameter", "SUPERUSER_REQUIRED", 0.88, _SUPER),
    # PostgreSQL 16's role checks (check_can_set_role, user.c, aclchk.c): `ALTER … OWNER TO r`,
    # `SET ROLE r` and pg_restore's ownership steps need membership WITH SET; CREATE/ALTER/DROP
    # ROLE and GRANT of a role need CREATEROLE or ADMIN OPTION.
    sig("must be able to SET ROLE", "ROLE_PRIVILEGE", 0.94, _ROLE),
    sig(
        "permission denied to",
        "ROLE_PRIVILEGE",
        0.92,
        _ROLE,
        r"permission denied to (?:(?:alter|drop|rename|grant|revoke|set) role"
        r"|change default privileges)",
    ),
    sig("must have admin option on role", "ROLE_PRIVILEGE", 0.92, _ROLE),
)


def analyze(evidence: Evidence) -> Finding | None:
    """The database refused a statement for lack of privilege (not a failed login)."""
    return signature_finding(CAUSE, SIGNATURES, evidence)


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
