"""db_connection: unreachable database, bad credentials, missing Cloud SQL socket."""

from __future__ import annotations

import pytest

from analyzers import db_connection
from tests.analyzers._build import (
    HEALTHY,
    INSTANCE,
    Case,
    check_case,
    config,
    evidence,
    finding_for,
    rank,
    winner,
)

SOCKET = f"/cloudsql/{INSTANCE}/.s.PGSQL.5432"

CASES = [
    Case(
        "refused on the socket",
        (f"Error: connect ECONNREFUSED {SOCKET}",),
        "ECONNREFUSED",
        min_strength=0.85,
    ),
    Case(
        "password rejected",
        ('error: password authentication failed for user "migrator"',),
        "PG_AUTH_FAILED",
        min_strength=0.9,
    ),
    Case(
        "password rejected right after a secret rotation",
        ('FATAL:  password authentication failed for user "migrator"',),
        "PG_AUTH_FAILED",
        cfg=config(),
        fact_contains=("latest", "DATABASE_URL←db-url"),
    ),
    Case("host does not resolve", ("Error: getaddrinfo ENOTFOUND db.internal",), "ENOTFOUND"),
    Case(
        "socket of an instance that is not attached",
        (
            'psycopg2.OperationalError: connection to server on socket "/cloudsql/other:asia-'
            'northeast3:db/.s.PGSQL.5432" failed: No such file or directory',
        ),
        "CLOUDSQL_SOCKET_MISSING",
        cfg=config(),
        fact_contains=("other:asia-northeast3:db",),
    ),
    Case(
        "prisma cannot reach the server",
        ("Error: P1001: Can't reach database server at `/cloudsql/x:y:z`",),
        "P1001",
    ),
    Case(
        "database name wrong",
        ('error: database "o4o" does not exist',),
        "DB_NOT_FOUND",
    ),
    Case("role missing", ('FATAL:  role "migrator" does not exist',), "PG_ROLE_MISSING"),
    Case(
        "cloud sql connector dial timeout",
        (
            "Cloud SQL connection failed. Please see https://cloud.google.com/sql/docs/mysql/"
            "connect-run for additional details: dial error: failed to dial (connection name = "
            '"p:r:i"): connection to Cloud SQL instance at 10.1.2.3:3307 failed: timed out after'
            " 10s",
        ),
        "CLOUDSQL_DIAL",
    ),
    Case(
        "relation missing is a migration problem, not a connection",
        ('error: relation "users" does not exist',),
        None,
    ),
    Case(
        "python's ModuleNotFoundError is not a DNS error",
        ("ModuleNotFoundError: No module named 'psycopg2'",),
        None,
    ),
    Case("healthy run", HEALTHY, None, cfg=config()),
    # A full server
    Case(
        "postgres too many clients",
        ("FATAL:  sorry, too many clients already",),
        "TOO_MANY_CONNECTIONS",
        cfg=config(),
    ),
    Case(
        "mysql too many connections",
        ("ERROR 1040 (HY000): Too many connections",),
        "TOO_MANY_CONNECTIONS",
        cfg=config(),
    ),
    Case(
        "a web server's too many connections", ("warn: Too many connections",), None, cfg=config()
    ),
    # TLS mismatch
    Case(
        "lib/pq without TLS on the server",
        ("pq: SSL is not enabled on the server",),
        "SSL_REQUIRED",
        cfg=config(),
    ),
    Case("TLS enabled is healthy", ("SSL is enabled on the server",), None, cfg=config()),
    # libpq 14+ naming the server
    Case(
        "psycopg 3 names the server",
        (
            'psycopg.OperationalError: connection to server at "10.0.0.5" (10.0.0.5), port 5432'
            " failed: server closed the connection",
        ),
        "PG_UNREACHABLE",
        cfg=config(),
    ),
    Case(
        "connection to server succeeded",
        ("connection to server at db established",),
        None,
        cfg=config(),
    ),
    # SQLSTATE forms of a failed login
    Case(
        "postgrex invalid password",
        ("** (Postgrex.Error) FATAL 28P01 (invalid_password) password authentication",),
        "PG_AUTH_FAILED",
        cfg=config(),
    ),
    Case("a hash that contains 28P01", ("commit a28P01f",), None, cfg=config()),
    Case(
        "login as a missing role",
        ('psql: error: FATAL:  role "app" does not exist',),
        "PG_ROLE_MISSING",
        cfg=config(),
    ),
    Case(
        "a statement naming a missing role is not a login",
        ('ERROR:  role "readonly" does not exist',),
        None,
        cfg=config(),
    ),
    Case(
        "prisma's lock timeout is not a connection timeout",
        (
            "Error: P1002",
            "Context: Timed out trying to acquire a postgres advisory lock "
            "(SELECT pg_advisory_lock(72707369)). Elapsed: 10000ms.",
        ),
        "ETIMEDOUT",
        cfg=config(),
        max_strength=0.3,
    ),
    Case(
        "asyncpg bad password",
        ('asyncpg.exceptions.InvalidPasswordError: password authentication failed for user "app"',),
        "PG_AUTH_FAILED",
        cfg=config(),
    ),
    Case(
        "sqlalchemy pool exhausted",
        ("sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached",),
        "POOL_TIMEOUT",
        cfg=config(),
    ),
    Case(
        "sql server unknown database",
        ('Cannot open database "orders" requested by the login. The login failed.',),
        "DB_NOT_FOUND",
        cfg=config(),
    ),
    Case("opening a file is not a database", ("Cannot open database.yml",), None, cfg=config()),
    Case(
        "mysql 8 auth plugin",
        ("Authentication plugin 'caching_sha2_password' cannot be loaded",),
        "MYSQL_ACCESS_DENIED",
        cfg=config(),
    ),
    Case(
        "rails no database",
        ("ActiveRecord::NoDatabaseError: We could not find your database: app",),
        "DB_NOT_FOUND",
        cfg=config(),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_db_connection(case: Case) -> None:
    check_case(case, db_connection.analyze)


def test_refused_connection_is_a_symptom_when_cloud_sql_iam_refused() -> None:
    ev = evidence(
        [
            'failed to get instance metadata (connection name = "netureyoutube:asia-northeast3:'
            'o4o-db"): googleapi: Error 403: boss::NOT_AUTHORIZED: Not authorized to access '
            "resource. Possibly missing permission cloudsql.instances.get on resource "
            "instances/o4o-db., forbidden",
            f"Error: connect ECONNREFUSED {SOCKET}",
        ],
        cfg=config(),
    )
    assert db_connection.analyze(ev) is not None  # the analyzer reports what it sees
    finding = finding_for(ev, "db_connection")  # the symptom table caps it
    assert finding is not None
    assert finding.strength <= 0.25
    assert "symptom" in finding.title.en


COMPETING = [
    (
        "connector NOT_AUTHORIZED beats the app's refused socket",
        (
            'failed to get instance metadata (connection name = "netureyoutube:asia-northeast3:'
            'o4o-db"): googleapi: Error 403: boss::NOT_AUTHORIZED: Not authorized to access '
            "resource. Possibly missing permission cloudsql.instances.get on resource "
            "instances/o4o-db., forbidden",
            f"Error: connect ECONNREFUSED {SOCKET}",
            "Node.js v20.11.1",
        ),
        "cloudsql_permission",
    ),
    (
        "refused connection beats the unhandled rejection that follows",
        (
            f"Error: connect ECONNREFUSED {SOCKET}",
            "node:internal/process/promises:288",
            "            triggerUncaughtException(err, true /* fromPromise */);",
            "Node.js v20.11.1",
        ),
        "db_connection",
    ),
]


@pytest.mark.parametrize(("name", "lines", "expected"), COMPETING, ids=[c[0] for c in COMPETING])
def test_competing_causes(name: str, lines: tuple[str, ...], expected: str) -> None:
    ev = evidence(lines, cfg=config())
    assert winner(ev) == expected, [(f.cause, f.signature, f.strength) for f in rank(ev)]
