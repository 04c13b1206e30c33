"""Could not reach or log in to the database.

Recognises refused / timed-out / unresolvable connections, bad passwords, a missing Cloud SQL unix
socket and Prisma's P1000/P1001, across Node (pg, mysql2, TypeORM, Prisma, Sequelize, Knex) and
Python (psycopg2/3, asyncpg, SQLAlchemy, Django) drivers. Configuration is evidence too: a
`/cloudsql/...` socket in use while the job has no Cloud SQL instance attached is said so outright.
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
    finding_from_matches,
    match_signatures,
)
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.text import Text


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="Read the connection errors of this execution",
                ko="이 실행의 DB 연결 오류 로그 확인",
            ),
            commands.read_logs(
                ref,
                extra='(textPayload:"ECONNREFUSED" OR textPayload:"ETIMEDOUT" OR '
                'textPayload:"authentication failed" OR textPayload:"/cloudsql/")',
            ),
        ),
        Check(
            Text(
                en="Check which Cloud SQL instances and secrets the job is wired to",
                ko="Job에 연결된 Cloud SQL 인스턴스와 시크릿 확인",
            ),
            commands.describe_job(ref, fmt="yaml(spec.template.spec.template.spec)"),
        ),
    )


CAUSE = Cause(
    id="db_connection",
    prior=0.30,
    name=Text(en="Database connection failed", ko="DB 연결 실패"),
    checks=_checks,
    workarounds=(
        Text(
            en="Verify the database URL / password secret version the job reads; pin the last good "
            "version if it was just rotated",
            ko="Job이 읽는 DB URL·비밀번호 시크릿 버전을 확인하고, 방금 교체했다면 정상 버전으로 고정",
        ),
        Text(
            en="Attach the Cloud SQL instance to the job (--set-cloudsql-instances) or fix the host",
            ko="Job에 Cloud SQL 인스턴스를 연결(--set-cloudsql-instances)하거나 호스트를 수정",
        ),
        Text(
            en="Run the migration by hand through the Cloud SQL Auth Proxy to unblock the deploy",
            ko="Cloud SQL Auth Proxy로 마이그레이션을 수동 실행해 배포를 진행",
        ),
    ),
)

_REFUSED = Text(en="Database refused the connection", ko="DB가 연결을 거부함")
_TIMEOUT = Text(en="Connection to the database timed out", ko="DB 연결 시간 초과")
_DNS = Text(en="Database host name does not resolve", ko="DB 호스트 이름을 찾을 수 없음")
_AUTH = Text(en="Database rejected the credentials", ko="DB 인증 실패(사용자/비밀번호)")
_SOCKET = Text(
    en="Cloud SQL unix socket is missing in the container",
    ko="컨테이너에 Cloud SQL 유닉스 소켓이 없음",
)
_UNREACHABLE = Text(en="Database server is unreachable", ko="DB 서버에 연결할 수 없음")

SIGNATURES: tuple[Signature, ...] = (
    Signature("password authentication failed", "PG_AUTH_FAILED", 0.95, _AUTH),
    Signature("access denied for user", "MYSQL_ACCESS_DENIED", 0.93, _AUTH),
    Signature("authentication failed against database server", "P1000", 0.95, _AUTH),
    Signature("P1000", "P1000", 0.9, _AUTH, re.compile(r"\bP1000\b")),
    Signature("can't reach database server", "P1001", 0.93, _UNREACHABLE),
    Signature("P1001", "P1001", 0.9, _UNREACHABLE, re.compile(r"\bP1001\b")),
    Signature("ECONNREFUSED", "ECONNREFUSED", 0.9, _REFUSED),
    Signature("connection refused", "ECONNREFUSED", 0.88, _REFUSED),
    Signature("ETIMEDOUT", "ETIMEDOUT", 0.85, _TIMEOUT),
    Signature("connection timed out", "ETIMEDOUT", 0.8, _TIMEOUT),
    Signature("timeout expired", "ETIMEDOUT", 0.75, _TIMEOUT),
    Signature("ENOTFOUND", "ENOTFOUND", 0.88, _DNS),
    Signature("could not translate host name", "ENOTFOUND", 0.9, _DNS),
    Signature("name or service not known", "ENOTFOUND", 0.8, _DNS),
    Signature(".s.PGSQL.5432", "CLOUDSQL_SOCKET_MISSING", 0.9, _SOCKET, re.compile(r"No such file")),
    Signature("connect ENOENT /cloudsql/", "CLOUDSQL_SOCKET_MISSING", 0.92, _SOCKET),
    Signature("Can't connect to MySQL server", "MYSQL_UNREACHABLE", 0.85, _UNREACHABLE),
    Signature("could not connect to server", "PG_UNREACHABLE", 0.85, _UNREACHABLE),
    Signature("SequelizeConnectionError", "SEQUELIZE_CONNECTION", 0.85, _UNREACHABLE),
    Signature("SequelizeConnectionRefusedError", "ECONNREFUSED", 0.9, _REFUSED),
    Signature("OperationalError", "DB_OPERATIONAL", 0.5, _UNREACHABLE, re.compile(r"connect")),
)

_SOCKET_PATH = re.compile(r"/cloudsql/([\w.-]+:[\w-]+:[\w-]+)")


def analyze(evidence: Evidence) -> Finding | None:
    """Database connection failed: refused, timed out, bad credentials or a missing Cloud SQL socket."""
    matches = match_signatures(evidence, SIGNATURES)
    extra: list[Fact] = []
    bonus = 0.0
    attached = set(evidence.config.cloudsql_instances)
    wanted = {
        m.group(1)
        for line in evidence.grep("/cloudsql/")
        for m in [_SOCKET_PATH.search(line.text)]
        if m is not None
    }
    missing = sorted(wanted - attached)
    if missing and matches:
        extra.append(
            Fact.config(
                Text(
                    en="The job uses the socket of {inst} but has no such Cloud SQL instance "
                    "attached (attached: {att})",
                    ko="Job이 {inst} 소켓을 사용하지만 해당 Cloud SQL 인스턴스가 연결되어 있지 않음 "
                    "(연결됨: {att})",
                ).format(inst=", ".join(missing), att=", ".join(sorted(attached)) or "-")
            )
        )
        bonus = 0.04
    finding = finding_from_matches(CAUSE, matches, extra_facts=extra, bonus=bonus)
    if finding is None:
        return None
    secrets_latest = [
        s for c in evidence.config.containers for s in c.secret_env if s.version == "latest"
    ]
    if finding.signature in {"PG_AUTH_FAILED", "MYSQL_ACCESS_DENIED", "P1000"} and secrets_latest:
        names = ", ".join(f"{s.env}←{s.secret}" for s in secrets_latest)
        return Finding(
            cause=finding.cause,
            strength=finding.strength,
            title=finding.title,
            facts=finding.facts
            + (
                Fact.config(
                    Text(
                        en="Secrets are read at version 'latest' ({names}): a rotation since the "
                        "last success changes what the job gets",
                        ko="시크릿을 'latest' 버전으로 읽음({names}): 최근 교체 시 Job이 받는 값이 바뀜",
                    ).format(names=names)
                ),
            ),
            signature=finding.signature,
        )
    return finding


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
