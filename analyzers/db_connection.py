"""Could not reach or log in to the database.

Recognises refused / timed-out / unresolvable connections, bad passwords, a missing Cloud SQL unix
socket and Prisma's P1000/P1001, across Node (pg, mysql2, TypeORM, Prisma, Sequelize, Knex) and
Python (psycopg2/3, asyncpg, SQLAlchemy, Django) drivers, plus a database or role that does not
exist and the Cloud SQL connector's own dial errors. Configuration is evidence too: a
`/cloudsql/...` socket in use while the job has no Cloud SQL instance attached is said so outright.
When the Cloud SQL connector logged an IAM or Admin API denial, a refused connection is its
symptom: `analyzers.symptoms` caps it so that `cloudsql_permission` ranks first.
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
            en="Verify the database URL / password secret version the job reads; pin the last "
            "good version if it was just rotated",
            ko="Job이 읽는 DB URL·비밀번호 시크릿 버전을 확인하고, 방금 교체했다면 "
            "정상 버전으로 고정",
        ),
        Text(
            en="Attach the Cloud SQL instance to the job (--set-cloudsql-instances) or fix the "
            "host",
            ko="Job에 Cloud SQL 인스턴스를 연결(--set-cloudsql-instances)하거나 호스트를 수정",
        ),
        Text(
            en="Run the migration by hand through the Cloud SQL Auth Proxy to unblock the deploy",
            ko="Cloud SQL Auth Proxy로 마이그레이션을 수동 실행해 배포를 진행",
        ),
    ),
    refute_hint=Text(
        en="No connection error (refused, timeout, unknown host, login) in the log",
        ko="로그에 DB 연결 오류(거부·시간 초과·호스트 없음·로그인) 없음",
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
_SOCKET_AS_HOST = Text(
    en="The /cloudsql/… socket path was given as a TCP host name: the driver looked it up in DNS "
    "(pass it as the Unix socket: socketPath, host=/cloudsql/… for libpq, unix_socket)",
    ko="/cloudsql/… 소켓 경로를 TCP 호스트 이름으로 넘겨 DNS 조회가 일어남"
    "(Unix 소켓으로 전달: socketPath, libpq의 host=/cloudsql/…, unix_socket)",
)
_UNREACHABLE = Text(en="Database server is unreachable", ko="DB 서버에 연결할 수 없음")
_READ_ONLY = Text(
    en="The job is connected to a read-only server (a replica, or a standby after a failover)",
    ko="Job이 읽기 전용 서버에 연결됨(복제본, 또는 장애 조치 후의 standby)",
)
_FULL = Text(
    en="The database has no connection slots left (too many clients)",
    ko="DB의 연결 슬롯이 모두 사용 중(클라이언트 수 초과)",
)
_TLS = Text(
    en="The client and the database disagree on TLS (sslmode)",
    ko="클라이언트와 DB의 TLS 설정(sslmode)이 맞지 않음",
)
_NO_INSTANCE = Text(
    en="The Cloud SQL instance named in the connection does not exist (typo in the name?)",
    ko="연결에 지정한 Cloud SQL 인스턴스가 존재하지 않음(이름 오타?)",
)
_NO_DATABASE = Text(
    en="The database named in the connection does not exist",
    ko="연결 정보에 지정한 데이터베이스가 존재하지 않음",
)
_DIAL = re.compile(r"(?i)dial error|handshake failed|timed out|connection refused")
_PG_NO_DATABASE = re.compile(r'\bdatabase "[^"]+" does not exist')

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
    # case-sensitive and whole-word: "ModuleNotFoundError" contains "enotfound" too
    Signature("ENOTFOUND", "ENOTFOUND", 0.88, _DNS, re.compile(r"\bENOTFOUND\b")),
    Signature("could not translate host name", "ENOTFOUND", 0.9, _DNS),
    # A resolver asked for "/cloudsql/p:r:i" (Node's getaddrinfo, libpq, Go, PHP): the path went
    # in as a host name instead of a socket
    sig(
        "/cloudsql/",
        "CLOUDSQL_SOCKET_AS_HOST",
        0.93,
        _SOCKET_AS_HOST,
        r"(?:ENOTFOUND|EAI_AGAIN|translate host name|lookup|getaddrinfo for) \"?/cloudsql/",
    ),
    # Go's resolver (net.DNSError): "dial tcp: lookup db.internal on 10.0.0.2:53: no such host"
    sig("no such host", "ENOTFOUND", 0.86, _DNS, r"\blookup \S+(?: on \S+)?: no such host"),
    Signature("name or service not known", "ENOTFOUND", 0.8, _DNS),
    Signature(
        ".s.PGSQL.5432", "CLOUDSQL_SOCKET_MISSING", 0.9, _SOCKET, re.compile(r"No such file")
    ),
    Signature("connect ENOENT /cloudsql/", "CLOUDSQL_SOCKET_MISSING", 0.92, _SOCKET),
    Signature("Can't connect to MySQL server", "MYSQL_UNREACHABLE", 0.85, _UNREACHABLE),
    # the MySQL client library's 2006 / 2013: the server closed an established connection
    sig("MySQL server has gone away", "MYSQL_UNREACHABLE", 0.8, _UNREACHABLE),
    sig("Lost connection to MySQL server", "MYSQL_UNREACHABLE", 0.8, _UNREACHABLE),
    Signature("could not connect to server", "PG_UNREACHABLE", 0.85, _UNREACHABLE),
    Signature("SequelizeConnectionError", "SEQUELIZE_CONNECTION", 0.85, _UNREACHABLE),
    Signature("SequelizeConnectionRefusedError", "ECONNREFUSED", 0.9, _REFUSED),
    Signature("OperationalError", "DB_OPERATIONAL", 0.5, _UNREACHABLE, re.compile(r"connect")),
    Signature("Cloud SQL connection failed", "CLOUDSQL_DIAL", 0.85, _UNREACHABLE, _DIAL),
    Signature("instanceDoesNotExist", "CLOUDSQL_INSTANCE_NOT_FOUND", 0.9, _NO_INSTANCE),
    Signature(
        "Cloud SQL instance does not exist", "CLOUDSQL_INSTANCE_NOT_FOUND", 0.9, _NO_INSTANCE
    ),
    Signature("does not exist", "DB_NOT_FOUND", 0.85, _NO_DATABASE, _PG_NO_DATABASE),
    Signature(
        "Unknown database", "DB_NOT_FOUND", 0.85, _NO_DATABASE, re.compile(r"Unknown database '")
    ),
    Signature("P1003", "DB_NOT_FOUND", 0.88, _NO_DATABASE, re.compile(r"\bP1003\b")),
    Signature(
        "does not exist",
        "PG_ROLE_MISSING",
        0.88,
        _AUTH,
        re.compile(r'(?<!ERROR:  )(?<!ERROR: )(?<!Failed with: )\brole "[^"]+" does not exist'),
    ),
    # Other stacks (signatures reviewed against the failure corpus's development part)
    sig("no pg_hba.conf entry", "PG_HBA", 0.93, _AUTH),
    sig("Ident authentication failed", "PG_AUTH_FAILED", 0.93, _AUTH),
    sig("SSL connection is required", "SSL_REQUIRED", 0.9, _UNREACHABLE),
    sig("DBConnection.ConnectionError", "ELIXIR_DB_CONNECTION", 0.86, _UNREACHABLE),
    sig(
        "failed to connect",
        "ELIXIR_DB_CONNECTION",
        0.84,
        _UNREACHABLE,
        r"Postgrex\.Protocol.*failed to connect|MyXQL\.Connection.*failed to connect",
    ),
    sig("pool timed out while waiting for an open connection", "POOL_TIMEOUT", 0.88, _TIMEOUT),
    sig("timed out waiting for connection", "POOL_TIMEOUT", 0.8, _TIMEOUT),
    sig("Failed to initialize pool", "JDBC_POOL", 0.86, _UNREACHABLE),
    sig("Communications link failure", "MYSQL_UNREACHABLE", 0.9, _UNREACHABLE),
    sig("during the login process", "MSSQL_LOGIN", 0.86, _AUTH),
    sig("A network-related or instance-specific error", "MSSQL_UNREACHABLE", 0.9, _UNREACHABLE),
    sig("Login failed for user", "MSSQL_LOGIN", 0.93, _AUTH),
    sig("certificate chain was issued by an authority", "SSL_REQUIRED", 0.88, _UNREACHABLE),
    sig("remaining connection slots are reserved", "TOO_MANY_CONNECTIONS", 0.9, _FULL),
    sig("the database system is starting up", "DB_STARTING", 0.86, _UNREACHABLE),
    sig("the database system is shutting down", "DB_STARTING", 0.86, _UNREACHABLE),
    sig("SQLSTATE[HY000] [2002]", "MYSQL_UNREACHABLE", 0.9, _UNREACHABLE),
    sig("SQLSTATE[08006]", "PG_UNREACHABLE", 0.9, _UNREACHABLE),
    sig("PG::ConnectionBad", "PG_UNREACHABLE", 0.88, _UNREACHABLE),
    sig("ConnectionNotEstablished", "PG_UNREACHABLE", 0.8, _UNREACHABLE),
    sig("Mysql2::Error::ConnectionError", "MYSQL_UNREACHABLE", 0.88, _UNREACHABLE),
    sig("is the server running", "PG_UNREACHABLE", 0.86, _UNREACHABLE),
    sig("Connection to", "ECONNREFUSED", 0.88, _REFUSED, r"Connection to \S+ refused"),
    sig("server closed the connection unexpectedly", "PG_UNREACHABLE", 0.8, _UNREACHABLE),
    sig("Connection terminated unexpectedly", "PG_UNREACHABLE", 0.8, _UNREACHABLE),
    sig("Connection terminated due to connection timeout", "ETIMEDOUT", 0.86, _TIMEOUT),
    sig("timeout exceeded when trying to connect", "ETIMEDOUT", 0.88, _TIMEOUT),
    sig("Can't connect to local MySQL server", "MYSQL_UNREACHABLE", 0.88, _UNREACHABLE),
    sig("Unknown MySQL server host", "ENOTFOUND", 0.9, _DNS),
    sig("server does not support SSL", "SSL_REQUIRED", 0.86, _UNREACHABLE),
    sig(
        "connection to server at",
        "PG_UNREACHABLE",
        0.85,
        _UNREACHABLE,
        r"connection to server at .* failed",
    ),
    sig(
        "dial unix /cloudsql/",
        "CLOUDSQL_SOCKET_MISSING",
        0.9,
        _SOCKET,
        r"no such file or directory",
    ),
    sig("The connection attempt failed", "PG_UNREACHABLE", 0.85, _UNREACHABLE),
    sig("The TCP/IP connection to the host", "MSSQL_UNREACHABLE", 0.9, _UNREACHABLE),
    sig("Login timeout expired", "ETIMEDOUT", 0.85, _TIMEOUT),
    sig("P1002", "ETIMEDOUT", 0.88, _TIMEOUT, r"\bP1002\b"),
    sig("P1017", "PG_UNREACHABLE", 0.85, _UNREACHABLE, r"\bP1017\b"),
    sig("Exception during pool initialization", "JDBC_POOL", 0.86, _UNREACHABLE),
    sig("Connection is not available, request timed out", "POOL_TIMEOUT", 0.86, _TIMEOUT),
    sig("Unable to obtain connection from database", "PG_UNREACHABLE", 0.88, _UNREACHABLE),
    sig("Unable to acquire JDBC Connection", "JDBC_POOL", 0.86, _UNREACHABLE),
    # PostgreSQL 53300 and MySQL ER_CON_COUNT_ERROR (1040): the server is full.
    sig("too many clients already", "TOO_MANY_CONNECTIONS", 0.92, _FULL),
    sig("ER_CON_COUNT_ERROR", "TOO_MANY_CONNECTIONS", 0.9, _FULL),
    sig(
        "Too many connections",
        "TOO_MANY_CONNECTIONS",
        0.85,
        _FULL,
        r"\b1040\b|SQLSTATE|mysql|FATAL|Postgres|pq:|psycopg|Sequelize|Prisma",
    ),
    # TLS mismatches as lib/pq, pgx and node-postgres word them.
    sig("SSL is not enabled on the server", "SSL_REQUIRED", 0.9, _TLS),
    # PostgreSQL 25006 on a replica or hot standby; MySQL's --read-only / super_read_only
    sig(
        "in a read-only transaction",
        "READ_ONLY_SERVER",
        0.86,
        _READ_ONLY,
        r"cannot execute \w+(?: \w+)? in a read-only transaction",
    ),
    sig(
        "server is running with the --read-only option",
        "READ_ONLY_SERVER",
        0.86,
        _READ_ONLY,
    ),
    # tokio-postgres / postgres (Rust) connected with NoTls to a server that requires TLS
    sig(
        "no TLS implementation configured",
        "SSL_REQUIRED",
        0.88,
        _TLS,
        r"error performing TLS handshake: no TLS implementation configured",
    ),
    sig("server refused TLS connection", "SSL_REQUIRED", 0.88, _TLS),
    sig("The server does not support SSL connections", "SSL_REQUIRED", 0.9, _TLS),
    # libpq 14+ (psycopg 3, Django) names the server before the reason.
    sig(
        "connection to server",
        "PG_UNREACHABLE",
        0.82,
        _UNREACHABLE,
        r"connection to server (?:at \S+ \(\S+\), port \d+|on socket \S+) failed",
    ),
    # SQLSTATE codes of a failed login as Postgrex / Npgsql / JDBC print them.
    sig("28P01", "PG_AUTH_FAILED", 0.9, _AUTH, r"\b28P01\b.{0,40}(?:invalid_password|password)"),
    sig(
        "3D000", "DB_NOT_FOUND", 0.88, _NO_DATABASE, r"\b3D000\b.{0,40}(?:invalid_catalog|database)"
    ),
    sig("ER_BAD_DB_ERROR", "DB_NOT_FOUND", 0.88, _NO_DATABASE),
    # Rails, Npgsql and Hibernate wrappers that name a connection failure.
    sig("ActiveRecord::NoDatabaseError", "DB_NOT_FOUND", 0.88, _NO_DATABASE),
    sig("ActiveRecord::ConnectionTimeoutError", "POOL_TIMEOUT", 0.86, _TIMEOUT),
    sig("Exception while connecting", "PG_UNREACHABLE", 0.85, _UNREACHABLE, r"Npgsql"),
    sig("Unable to open JDBC Connection", "JDBC_POOL", 0.82, _UNREACHABLE),
    sig("ActiveRecord::DatabaseConnectionError", "PG_UNREACHABLE", 0.86, _UNREACHABLE),
    # asyncpg names the SQLSTATE class in the exception.
    sig("asyncpg.exceptions.InvalidPasswordError", "PG_AUTH_FAILED", 0.93, _AUTH),
    sig("asyncpg.exceptions.InvalidAuthorizationSpecificationError", "PG_AUTH_FAILED", 0.88, _AUTH),
    sig("asyncpg.exceptions.InvalidCatalogNameError", "DB_NOT_FOUND", 0.9, _NO_DATABASE),
    sig("asyncpg.exceptions.TooManyConnectionsError", "TOO_MANY_CONNECTIONS", 0.9, _FULL),
    sig("asyncpg.exceptions.CannotConnectNowError", "DB_STARTING", 0.86, _UNREACHABLE),
    # SQLAlchemy's pool, SQL Server's unknown database (4060), MySQL 8 authentication plugins.
    sig("QueuePool limit of size", "POOL_TIMEOUT", 0.86, _TIMEOUT),
    sig(
        "Cannot open database",
        "DB_NOT_FOUND",
        0.88,
        _NO_DATABASE,
        r'Cannot open database "[^"]+" requested by the login',
    ),
    sig("Public Key Retrieval is not allowed", "MYSQL_ACCESS_DENIED", 0.88, _AUTH),
    sig(
        "Client does not support authentication protocol requested by server",
        "MYSQL_ACCESS_DENIED",
        0.88,
        _AUTH,
    ),
    sig("ER_NOT_SUPPORTED_AUTH_MODE", "MYSQL_ACCESS_DENIED", 0.88, _AUTH),
    # PHP's mysqlnd (2054) and MySQL Connector/Python facing MySQL 8's caching_sha2_password
    sig(
        "The server requested authentication method unknown to the client",
        "MYSQL_ACCESS_DENIED",
        0.88,
        _AUTH,
    ),
    sig(
        "is not supported",
        "MYSQL_ACCESS_DENIED",
        0.86,
        _AUTH,
        r"Authentication plugin '\w+' is not supported",
    ),
    sig(
        "Authentication plugin",
        "MYSQL_ACCESS_DENIED",
        0.86,
        _AUTH,
        r"Authentication plugin '\w+' cannot be loaded",
    ),
)

# A TLS peer that could not be verified (OpenSSL's and Node's codes, Python's ssl module) is the
# database's only when the log is about a database: Cloud SQL's server certificates come from
# the instance's own CA, which no system bundle holds (the client needs it, or sslmode=require
# without verify-*).
_TLS_VERIFY: tuple[Signature, ...] = (
    sig("self-signed certificate in certificate chain", "SSL_VERIFY", 0.84, _TLS),
    sig("self signed certificate in certificate chain", "SSL_VERIFY", 0.84, _TLS),
    sig("SELF_SIGNED_CERT_IN_CHAIN", "SSL_VERIFY", 0.84, _TLS),
    sig("DEPTH_ZERO_SELF_SIGNED_CERT", "SSL_VERIFY", 0.84, _TLS),
    sig("unable to verify the first certificate", "SSL_VERIFY", 0.82, _TLS),
    sig("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SSL_VERIFY", 0.82, _TLS),
    sig("CERTIFICATE_VERIFY_FAILED", "SSL_VERIFY", 0.8, _TLS),
    sig("certificate verify failed", "SSL_VERIFY", 0.9, _TLS),
)
# (declared to the shared index like SIGNATURES: see analyzers/__init__.py)
CONDITIONAL_SIGNATURES = _TLS_VERIFY
_DB_WORDS = (
    "postgres",
    "psql",
    "psycopg",
    "asyncpg",
    "node_modules/pg/",
    "pg-pool",
    "sequelize",
    "typeorm",
    "prisma",
    "knex",
    "mysql",
    "sqlalchemy",
    "jdbc:",
    "5432",
    "3306",
)

_SOCKET_PATH = re.compile(r"/cloudsql/([\w.-]+:[\w-]+:[\w-]+)")

_AUTH_SIGNATURES = frozenset({"PG_AUTH_FAILED", "MYSQL_ACCESS_DENIED", "P1000"})


def _config_facts(evidence: Evidence, *, auth: bool, socket: bool) -> tuple[list[Fact], float]:
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
    if missing:
        extra.append(
            Fact.config(
                Text(
                    en="The job uses the socket of {inst} but has no such Cloud SQL instance "
                    "attached (attached: {att})",
                    ko="Job이 {inst} 소켓을 사용하지만 해당 Cloud SQL 인스턴스가 연결되어 "
                    "있지 않음(연결됨: {att})",
                ).format(inst=", ".join(missing), att=", ".join(sorted(attached)) or "-")
            )
        )
        bonus = 0.04
    secrets_latest = [
        s for c in evidence.config.containers for s in c.secret_env if s.version == "latest"
    ]
    if auth and secrets_latest:
        names = ", ".join(f"{s.env}←{s.secret}" for s in secrets_latest)
        extra.append(
            Fact.config(
                Text(
                    en="Secrets are read at version 'latest' ({names}): a rotation since the "
                    "last success changes what the job gets",
                    ko="시크릿을 'latest' 버전으로 읽음({names}): 최근 교체 시 Job이 받는 값이 "
                    "바뀜",
                ).format(names=names)
            )
        )
    if socket and attached:
        sa_fact = service_account_fact(evidence)
        if sa_fact is not None:
            extra.append(sa_fact)
    return extra, bonus


def analyze(evidence: Evidence) -> Finding | None:
    """Database connection failed: refused, timed out, bad credentials or a missing Cloud SQL
    socket."""
    matches = match_signatures(evidence, SIGNATURES)
    tls = match_signatures(evidence, _TLS_VERIFY)
    if tls and evidence.grep(*_DB_WORDS):
        matches += tls
    status = match_status(evidence, SIGNATURES)
    if not matches and not status:
        return None
    sigs = {m.signature.signature for m in matches} | {h.signature.signature for h in status}
    extra, bonus = _config_facts(
        evidence,
        auth=bool(sigs & _AUTH_SIGNATURES),
        socket=bool(sigs & {"CLOUDSQL_SOCKET_MISSING", "ECONNREFUSED", "CLOUDSQL_DIAL"}),
    )
    return build_finding(
        CAUSE,
        matches=matches,
        status=status,
        extra_facts=extra,
        bonus=bonus,
        checks=CAUSE.checks(evidence.ref),
    )


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
