"""migration_sql: connected, but a statement or the migration history failed."""

from __future__ import annotations

import pytest

from analyzers import migration_sql
from tests.analyzers._build import (
    HEALTHY,
    Case,
    check_case,
    config,
    evidence,
    finding_for,
    out,
    rank,
    winner,
)

CASES = [
    Case(
        "postgres table exists",
        ('error: relation "users" already exists',),
        "DUPLICATE_TABLE",
        min_strength=0.85,
    ),
    Case(
        "typeorm migration wrapper names the table",
        (
            out("query: START TRANSACTION"),
            'Migration "AddUsers1700000000000" failed, error: relation "users" already exists',
            'QueryFailedError: relation "users" already exists',
            "    at PostgresQueryRunner.query (/app/node_modules/typeorm/driver/postgres/"
            "PostgresQueryRunner.js:219:19)",
        ),
        "DUPLICATE_TABLE",
        min_strength=0.9,
    ),
    Case(
        "column missing",
        ('error: column "tenant_id" of relation "orders" does not exist',),
        "UNDEFINED_COLUMN",
    ),
    Case(
        "knex names the column of a foreign key",
        (
            'migration file "20260112_add_fk.js" failed',
            'migration failed with error: alter table "orders" add constraint "orders_tenant_fk"'
            ' foreign key ("tenant_id") references "tenants" ("id") - column "tenant_id"'
            " referenced in foreign key constraint does not exist",
        ),
        "UNDEFINED_COLUMN",
    ),
    Case(
        "duplicate key",
        ('error: duplicate key value violates unique constraint "users_email_key"',),
        "UNIQUE_VIOLATION",
    ),
    Case("deadlock", ("ERROR:  deadlock detected",), "DEADLOCK"),
    Case(
        "lock timeout",
        ("error: canceling statement due to lock timeout",),
        "LOCK_TIMEOUT",
        min_strength=0.9,
    ),
    Case(
        "mysql duplicate column",
        ("Error: ER_DUP_FIELDNAME: Duplicate column name 'tenant_id'",),
        "DUPLICATE_COLUMN",
    ),
    Case(
        "mysql table exists",
        ("Error: ER_TABLE_EXISTS_ERROR: Table 'orders' already exists",),
        "DUPLICATE_TABLE",
    ),
    Case(
        "mysql lock wait",
        ("Error: ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded; try restarting transaction",),
        "LOCK_TIMEOUT",
    ),
    Case(
        "prisma failed migration recorded",
        (
            out("27 migrations found in prisma/migrations"),
            "Error: P3009",
            "migrate found failed migrations in the target database, new migrations will not be"
            " applied. Read more about how to resolve migration issues in a production database:"
            " https://pris.ly/d/migrate-resolve",
            "The `20260110_add_orders` migration started at 2026-01-10 09:00:00 UTC failed",
        ),
        "P3009",
        min_strength=0.9,
    ),
    Case(
        "prisma migration failed to apply",
        (
            "Error: P3018",
            "A migration failed to apply. New migrations cannot be applied before the error is"
            " recovered from.",
            "Migration name: 20260112_add_tenant",
            "Database error code: 42P07",
        ),
        "P3018",
    ),
    Case(
        "prisma needs a baseline",
        (
            "Error: P3005",
            "The database schema is not empty. Read more about how to baseline"
            " an existing production database: https://pris.ly/d/migrate-baseline",
        ),
        "P3005",
    ),
    Case(
        "knex lock held",
        (
            "Can't take lock to run migrations: Migration table is already locked",
            "MigrationLocked: Migration table is already locked",
        ),
        "MIGRATION_LOCKED",
    ),
    Case(
        "knex files missing from the directory",
        (
            "Error: The migration directory is corrupt, the following files are missing:"
            " 20260110_add_orders.js",
        ),
        "KNEX_MISSING_FILES",
    ),
    Case(
        "alembic heads",
        (
            "  FAILED: Multiple head revisions are present for given argument 'head'; please"
            " specify a specific target revision",
        ),
        "ALEMBIC_MULTIPLE_HEADS",
    ),
    Case(
        "alembic unknown revision",
        ("alembic.util.exc.CommandError: Can't locate revision identified by 'ae1027a6acf'",),
        "ALEMBIC_UNKNOWN_REVISION",
    ),
    Case(
        "alembic not up to date",
        ("  FAILED: Target database is not up to date.",),
        "ALEMBIC_NOT_UP_TO_DATE",
    ),
    Case(
        "django inconsistent history",
        (
            "django.db.migrations.exceptions.InconsistentMigrationHistory: Migration"
            " orders.0002_tenant is applied before its dependency accounts.0003_tenant on"
            " database 'default'.",
        ),
        "DJANGO_INCONSISTENT_HISTORY",
    ),
    Case(
        "django conflicting leaves",
        (
            "CommandError: Conflicting migrations detected; multiple leaf nodes in the migration"
            " graph: (0003_a, 0003_b in orders).",
        ),
        "DJANGO_CONFLICTING_MIGRATIONS",
    ),
    Case(
        "django programming error names the relation",
        ('django.db.utils.ProgrammingError: relation "orders_order" already exists',),
        "DUPLICATE_TABLE",
    ),
    Case(
        "golang-migrate dirty",
        ("error: Dirty database version 11. Fix and force version.",),
        "DIRTY_VERSION",
    ),
    Case(
        "postgres 15 public schema privileges",
        ("error: permission denied for schema public",),
        "INSUFFICIENT_PRIVILEGE",
    ),
    Case(
        "sqlstate only",
        ("  code: '42P07',", "  routine: 'heap_create_with_catalog'"),
        "DUPLICATE_TABLE",
    ),
    Case(
        "bare QueryFailedError is weaker",
        ("QueryFailedError: something went wrong",),
        "QUERY_FAILED",
        max_strength=0.65,
    ),
    Case(
        "database missing is a connection problem", ('error: database "o4o" does not exist',), None
    ),
    Case("healthy run", HEALTHY, None),
    # SQL Server through EF Core / SqlClient
    Case(
        "sql server object exists",
        (
            "Microsoft.Data.SqlClient.SqlException (0x80131904): There is already an object "
            "named 'Course' in the database.",
        ),
        "DUPLICATE_TABLE",
    ),
    Case(
        "sql server invalid object name",
        ("Microsoft.Data.SqlClient.SqlException: Invalid object name 'dbo.Orders'.",),
        "UNDEFINED_TABLE",
    ),
    Case("a log that says invalid object name without a name", ("Invalid object name",), None),
    # MySQL ER_TOO_LONG_KEY
    Case(
        "mysql key too long",
        (
            "SQLSTATE[42000]: Syntax error or access violation: 1071 Specified key was too long;"
            " max key length is 767 bytes",
        ),
        "KEY_TOO_LONG",
    ),
    Case("key length in a healthy config dump", ("innodb_large_prefix=ON key length ok",), None),
    # Flyway and Postgrex print the SQLSTATE their own way
    Case(
        "flyway sql state",
        ("Migration V2__users.sql failed", "SQL State  : 42P07", "Error Code : 0"),
        "DUPLICATE_TABLE",
    ),
    Case(
        "postgrex sqlstate",
        ("** (Postgrex.Error) ERROR 42P01 (undefined_table) relation missing",),
        "UNDEFINED_TABLE",
    ),
    Case("a sqlstate word that is not a code", ("ERROR 42P01 happened elsewhere",), None),
    # sqlx-migrate
    Case(
        "sqlx version mismatch",
        (
            "thread 'main' panicked at 'called `Result::unwrap()` on an `Err` value: "
            "VersionMismatch(20210313084850)', src/main.rs:41:31",
        ),
        "CHECKSUM_MISMATCH",
    ),
    Case(
        "sqlx dirty",
        ("Error: migration 20240101000000 is partially applied; fix and remove row",),
        "DIRTY_VERSION",
    ),
    Case("a struct named VersionMismatch", ("VersionMismatch(expected)",), None),
    # golang-migrate, Liquibase, Rails, Alembic
    Case(
        "golang-migrate missing file",
        ("error: no migration found for version 20240101: read down for version 20240101",),
        "HISTORY_MISMATCH",
    ),
    Case(
        "liquibase lock",
        ("liquibase.exception.LockException: Could not acquire change log lock.",),
        "MIGRATION_LOCKED",
    ),
    Case(
        "rails duplicate version",
        (
            "ActiveRecord::DuplicateMigrationVersionError: Multiple migrations have the version "
            "number 20240101000000.",
        ),
        "DUPLICATE_MIGRATION",
    ),
    Case("liquibase lock released", ("Successfully released change log lock",), None),
    # SQLite
    Case("sqlite missing table", ("SqliteError: no such table: users",), "UNDEFINED_TABLE"),
    Case(
        "sqlite duplicate column",
        ("sqlite3.OperationalError: duplicate column name: email",),
        "DUPLICATE_COLUMN",
    ),
    Case("a table listing says no such thing", ("no such tables to migrate",), None),
    # mysql2 codes, Flyway history, goose, atlas, Rails, Prisma
    Case("mysql2 parse error", ("Error: ER_PARSE_ERROR: You have an error",), "SQL_SYNTAX"),
    Case(
        "flyway resolved not applied",
        (
            "ERROR: Validate failed: Migrations have failed validation",
            "Detected resolved migration not applied to database: 2.1.",
        ),
        "HISTORY_MISMATCH",
    ),
    Case(
        "goose missing migrations",
        ("error: found 2 missing migrations before current version 20240101",),
        "HISTORY_MISMATCH",
    ),
    Case(
        "atlas checksum",
        ("Error: You have a checksum error in your migration directory.",),
        "CHECKSUM_MISMATCH",
    ),
    Case(
        "rails concurrent migration",
        (
            "ActiveRecord::ConcurrentMigrationError: Cannot run migrations because another "
            "migration process is currently running.",
        ),
        "MIGRATION_LOCKED",
    ),
    Case(
        "prisma shadow database",
        (
            "Error: P3006",
            "Migration `20240101_init` failed to apply cleanly to the shadow database.",
        ),
        "P3006",
    ),
    Case("a version that contains P3006", ("build 1.P3006x",), None),
    Case("goose all applied", ("goose: no migrations to run. current version: 20240101",), None),
    Case(
        "prisma advisory lock",
        (
            "Error: P1002",
            "Context: Timed out trying to acquire a postgres advisory lock "
            "(SELECT pg_advisory_lock(72707369)). Elapsed: 10000ms.",
        ),
        "MIGRATION_LOCKED",
    ),
    Case(
        "grant to a missing role",
        ('ERROR:  role "readonly" does not exist',),
        "UNDEFINED_ROLE",
    ),
    Case(
        "diesel names the failed statement",
        ("Running migration 2021-06-09_grant", 'Failed with: role "readonly" does not exist'),
        "UNDEFINED_ROLE",
    ),
    Case(
        "login with a missing role is not a migration", ('FATAL:  role "app" does not exist',), None
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_migration_sql(case: Case) -> None:
    check_case(case, migration_sql.analyze)


def test_prisma_failure_suggests_migrate_status() -> None:
    finding = migration_sql.analyze(evidence(["Error: P3009"]))
    assert finding is not None
    assert finding.checks[0].command == "npx prisma migrate status"
    assert "Cloud SQL Auth Proxy" in finding.checks[0].purpose.en


COMPETING = [
    (
        "knex wrapper around a refused connection",
        (
            'migration file "20260112_add_tenant.js" failed',
            "migration failed with error: connect ECONNREFUSED 10.20.0.3:5432",
            "Error: connect ECONNREFUSED 10.20.0.3:5432",
        ),
        "db_connection",
    ),
    (
        "P3018 beats npm noise",
        (
            "Error: P3018",
            "A migration failed to apply. New migrations cannot be applied before the error is"
            " recovered from.",
            "npm ERR! code ELIFECYCLE",
            "Node.js v20.11.1",
        ),
        "migration_sql",
    ),
]


@pytest.mark.parametrize(("name", "lines", "expected"), COMPETING, ids=[c[0] for c in COMPETING])
def test_competing_causes(name: str, lines: tuple[str, ...], expected: str) -> None:
    ev = evidence(lines, cfg=config())
    assert winner(ev) == expected, [(f.cause, f.signature, f.strength) for f in rank(ev)]


def test_wrapper_after_connection_error_is_a_symptom() -> None:
    ev = evidence(["migration failed with error: connect ECONNREFUSED 10.20.0.3:5432"])
    finding = finding_for(ev, "migration_sql")
    assert finding is not None
    assert finding.strength <= 0.2
