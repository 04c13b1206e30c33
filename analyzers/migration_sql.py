"""Connected to the database, but a migration's SQL or the migration history failed.

Recognises PostgreSQL and MySQL errors a migration hits (an object that already exists or does not
exist, a duplicate key, a NOT NULL or foreign key violation, a syntax error, missing extensions,
deadlocks and lock / statement timeouts, also by SQLSTATE code; missing privileges are
`db_privilege`'s), the migration tools'
own failure states (Prisma P3005/P3009/P3018/P3019, a locked Knex migration table, TypeORM and
Sequelize query failures, golang-migrate's dirty version, Flyway validation, Liquibase change
sets), and history errors (Alembic multiple heads / unknown revision / "Target database is not up
to date", Django InconsistentMigrationHistory, conflicting migrations, a Knex migration directory
that no longer has the files the database recorded). Generic wrappers ("migration failed",
QueryFailedError) count only weakly on their own, and `analyzers.symptoms` caps them when a failed
connection, login or privilege explains them.
"""

from __future__ import annotations

import re

from analyzers import commands
from analyzers.base import (
    Analyzer,
    Cause,
    Check,
    Finding,
    Signature,
    build_finding,
    match_signatures,
    match_status,
    sig,
)
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.text import Text


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="Read the SQL error and the migration that was running",
                ko="실패한 SQL 오류와 실행 중이던 마이그레이션 확인",
            ),
            commands.read_logs(
                ref,
                extra='(textPayload:"migration" OR textPayload:"already exists" OR '
                'textPayload:"does not exist" OR textPayload:"ERROR")',
                limit=200,
            ),
        ),
        Check(
            Text(
                en="Did another execution of this job run migrations at the same time?",
                ko="같은 시각에 이 Job의 다른 실행이 마이그레이션을 돌렸는지 확인",
            ),
            commands.list_executions(ref),
        ),
    )


CAUSE = Cause(
    id="migration_sql",
    # Not in the seed, whose migrations never reached the database. For a migration job that did
    # connect, a failing statement or a history mismatch is the usual next failure, so it gets one
    # of the larger small priors.
    prior=0.08,
    name=Text(
        en="A migration's SQL or the migration history failed",
        ko="마이그레이션 SQL 실행 또는 이력 불일치로 실패",
    ),
    checks=_checks,
    workarounds=(
        Text(
            en="Make the failing migration idempotent (IF NOT EXISTS / IF EXISTS) or fix its SQL, "
            "then mark the failed attempt as rolled back (e.g. prisma migrate resolve "
            "--rolled-back NAME) before re-running",
            ko="실패한 마이그레이션을 멱등하게(IF NOT EXISTS / IF EXISTS) 또는 SQL 수정 후, "
            "실패 기록을 롤백 처리(예: prisma migrate resolve --rolled-back NAME)하고 재실행",
        ),
        Text(
            en="If the change was applied by hand, record it as applied instead of re-running it "
            "(prisma migrate resolve --applied, alembic stamp, manage.py migrate --fake)",
            ko="수동으로 이미 반영했다면 재실행 대신 적용됨으로 기록 "
            "(prisma migrate resolve --applied, alembic stamp, manage.py migrate --fake)",
        ),
        Text(
            en="For a lock or timeout: make sure no other execution or deploy is migrating, "
            "release a stale lock (knex migrate:unlock), and retry outside peak traffic",
            ko="락·타임아웃이면 다른 실행·배포가 마이그레이션 중이 아닌지 확인하고, 남은 락 해제"
            "(knex migrate:unlock) 후 트래픽이 적은 시간에 재시도",
        ),
    ),
    refute_hint=Text(
        en="No SQL or migration-history error in the log",
        ko="SQL 오류·마이그레이션 이력 오류 로그 없음",
    ),
)

_EXISTS = Text(
    en="A migration creates something that already exists in the database",
    ko="마이그레이션이 DB에 이미 있는 객체를 다시 생성하려 함",
)
_MISSING = Text(
    en="A migration refers to a table or column that does not exist",
    ko="마이그레이션이 존재하지 않는 테이블·컬럼을 참조함",
)
_DUPLICATE = Text(
    en="A migration's data violates a unique constraint (duplicate key)",
    ko="마이그레이션 데이터가 유니크 제약을 위반함(중복 키)",
)
_CONSTRAINT = Text(
    en="Existing rows violate a constraint the migration adds (NOT NULL / foreign key)",
    ko="기존 데이터가 마이그레이션이 추가하는 제약(NOT NULL·외래 키)을 위반함",
)
_SYNTAX = Text(
    en="A migration's SQL has a syntax error",
    ko="마이그레이션 SQL 문법 오류",
)
_PRIVILEGE = Text(
    en="The database user may not change the schema (permission denied / not owner)",
    ko="DB 사용자에게 스키마 변경 권한이 없음(permission denied / owner 아님)",
)
_EXTENSION = Text(
    en="A migration needs a database extension or type that is not installed",
    ko="마이그레이션에 필요한 DB 확장·타입이 설치되어 있지 않음",
)
_LOCK = Text(
    en="A migration waited for a lock and gave up (lock timeout / deadlock)",
    ko="마이그레이션이 락을 기다리다 실패함(lock timeout / deadlock)",
)
_STATEMENT_TIMEOUT = Text(
    en="A migration statement ran past the statement timeout",
    ko="마이그레이션 SQL이 statement timeout을 넘김",
)
_TOOL_LOCKED = Text(
    en="The migration tool's lock is held (another run, or a stale lock)",
    ko="마이그레이션 도구의 락이 잡혀 있음(다른 실행 중이거나 남은 락)",
)
_FAILED_STATE = Text(
    en="An earlier migration failed and is recorded as failed: new ones will not run",
    ko="이전 마이그레이션이 실패 상태로 기록되어 새 마이그레이션이 실행되지 않음",
)
_APPLY_FAILED = Text(
    en="A migration failed to apply",
    ko="마이그레이션 적용 실패",
)
_NOT_EMPTY = Text(
    en="The database already has a schema the migration tool does not know (needs a baseline)",
    ko="마이그레이션 도구가 모르는 스키마가 DB에 이미 있음(baseline 필요)",
)
_TRANSACTION_BLOCK = Text(
    en="A statement that cannot run inside a transaction (CREATE INDEX CONCURRENTLY, ALTER TYPE "
    "… ADD VALUE, VACUUM) ran inside the migration tool's transaction",
    ko="트랜잭션 안에서 실행할 수 없는 문장(CREATE INDEX CONCURRENTLY, ALTER TYPE … ADD VALUE, "
    "VACUUM)이 마이그레이션 도구의 트랜잭션 안에서 실행됨",
)
_DEPENDENTS = Text(
    en="The migration drops or changes an object other objects still depend on",
    ko="다른 객체가 아직 의존하는 객체를 마이그레이션이 삭제·변경함",
)
_HISTORY = Text(
    en="The database's migration history does not match the migrations in the image",
    ko="DB의 마이그레이션 이력이 이미지의 마이그레이션과 맞지 않음",
)
_HEADS = Text(
    en="The migrations branch into several heads (two migrations share a parent)",
    ko="마이그레이션이 여러 head로 갈라짐(같은 부모를 둔 마이그레이션 2개)",
)
_MISSING_ROLE = Text(
    en="A migration grants to or assigns a database role that does not exist",
    ko="마이그레이션이 존재하지 않는 DB 역할에 권한을 주거나 소유자로 지정함",
)
_DDL_LIMIT = Text(
    en="A migration's DDL exceeds a limit of this database (e.g. an index key too long)",
    ko="마이그레이션 DDL이 DB의 한도를 넘음(예: 인덱스 키가 너무 김)",
)
_GENERIC = Text(
    en="A migration query failed",
    ko="마이그레이션 쿼리 실패",
)

# PostgreSQL's NOTICE for IF [NOT] EXISTS ("… already exists, skipping") is not a failure.
_NOT_SKIPPED = r"(?!,? skipping)"
# How drivers print a SQLSTATE: node-postgres `code: '42P07'`, PDO `SQLSTATE[42P07]`, Prisma
# "Database error code: 42P07", Flyway's "SQL State  : 42P07", Postgrex
# "ERROR 42P07 (duplicate_table)".
_PG_CODE = (
    r"(?:code:?\s*['\"]?|SQLSTATE\[?|error code:?\s*|SQL State\s*:\s*|ERROR\s+(?=\w{5}\s+\())"
)

SIGNATURES: tuple[Signature, ...] = (
    # --- objects that already exist / do not exist (PostgreSQL, MySQL) ---
    Signature(
        "already exists",
        "DUPLICATE_TABLE",
        0.9,
        _EXISTS,
        re.compile(
            r"(?i)(?<!of )\b(?:relation|table)\s+[`\"'][^`\"']+[`\"']\s+already exists"
            + _NOT_SKIPPED
        ),
    ),
    Signature(
        "already exists",
        "DUPLICATE_COLUMN",
        0.9,
        _EXISTS,
        re.compile(
            r"(?i)\bcolumn\s+[`\"'][^`\"']+[`\"']\s+of relation\s+\S+\s+already exists"
            + _NOT_SKIPPED
        ),
    ),
    Signature("Duplicate column name", "DUPLICATE_COLUMN", 0.9, _EXISTS),
    Signature("ER_DUP_FIELDNAME", "DUPLICATE_COLUMN", 0.9, _EXISTS),
    Signature("ER_TABLE_EXISTS_ERROR", "DUPLICATE_TABLE", 0.9, _EXISTS),
    Signature("ER_DUP_KEYNAME", "DUPLICATE_OBJECT", 0.88, _EXISTS),
    # MySQL 1061's own message (ER_DUP_KEYNAME: "Duplicate key name '%s'")
    sig("Duplicate key name", "DUPLICATE_OBJECT", 0.88, _EXISTS, r"Duplicate key name '"),
    Signature(
        "already exists",
        "DUPLICATE_OBJECT",
        0.88,
        _EXISTS,
        re.compile(
            r"(?i)\b(?:type|constraint|index|schema|sequence|function|trigger|view|enum)\s+"
            r"[`\"'][^`\"']+[`\"']\s+(?:for relation\s+\S+\s+)?already exists(?!,? skipping)"
        ),
    ),
    Signature(
        "does not exist",
        "UNDEFINED_TABLE",
        0.88,
        _MISSING,
        re.compile(r"(?i)(?<!of )\brelation\s+\"[^\"]+\"\s+does not exist(?!,? skipping)"),
    ),
    Signature(
        "does not exist",
        "UNDEFINED_COLUMN",
        0.88,
        _MISSING,
        re.compile(
            r"(?i)\bcolumn\s+\S+(?:\s+of relation\s+\S+|\s+referenced in foreign key constraint)?"
            r"\s+does not exist" + _NOT_SKIPPED
        ),
    ),
    Signature(
        "doesn't exist",
        "UNDEFINED_TABLE",
        0.88,
        _MISSING,
        re.compile(r"Table '[^']+' doesn't exist"),
    ),
    Signature("ER_NO_SUCH_TABLE", "UNDEFINED_TABLE", 0.88, _MISSING),
    Signature(
        "Unknown column", "UNDEFINED_COLUMN", 0.88, _MISSING, re.compile(r"Unknown column '")
    ),
    Signature("ER_BAD_FIELD_ERROR", "UNDEFINED_COLUMN", 0.88, _MISSING),
    Signature("ER_CANT_DROP_FIELD_OR_KEY", "UNDEFINED_COLUMN", 0.85, _MISSING),
    # --- data and constraints ---
    Signature(
        "duplicate key value violates unique constraint", "UNIQUE_VIOLATION", 0.9, _DUPLICATE
    ),
    Signature("Duplicate entry", "UNIQUE_VIOLATION", 0.88, _DUPLICATE, re.compile(r"for key")),
    Signature("ER_DUP_ENTRY", "UNIQUE_VIOLATION", 0.88, _DUPLICATE),
    Signature("contains null values", "CONSTRAINT_VIOLATION", 0.88, _CONSTRAINT),
    Signature("violates not-null constraint", "CONSTRAINT_VIOLATION", 0.85, _CONSTRAINT),
    # MySQL 1364 (strict mode): a NOT NULL column without a default, left out of an INSERT
    Signature(
        "doesn't have a default value",
        "CONSTRAINT_VIOLATION",
        0.8,
        _CONSTRAINT,
        re.compile(r"Field '[^']+' doesn't have a default value"),
    ),
    Signature("violates foreign key constraint", "CONSTRAINT_VIOLATION", 0.85, _CONSTRAINT),
    Signature("Cannot add foreign key constraint", "CONSTRAINT_VIOLATION", 0.85, _CONSTRAINT),
    Signature("syntax error at or near", "SQL_SYNTAX", 0.88, _SYNTAX),
    Signature("You have an error in your SQL syntax", "SQL_SYNTAX", 0.88, _SYNTAX),
    Signature(
        "permission denied for",
        "INSUFFICIENT_PRIVILEGE",
        0.86,
        _PRIVILEGE,
        re.compile(r"(?i)permission denied for (?:schema|table|relation|sequence|database)"),
    ),
    Signature(
        "extension",
        "MISSING_EXTENSION",
        0.86,
        _EXTENSION,
        re.compile(r"(?i)extension \"[^\"]+\" is not available|could not open extension control"),
    ),
    Signature(
        "does not exist",
        "MISSING_EXTENSION",
        0.8,
        _EXTENSION,
        re.compile(
            r"(?i)\b(?:type\s+\"[^\"]+\"|function\s+\S+\(.*\))\s+does not exist(?!,? skipping)"
        ),
    ),
    # --- locks and timeouts ---
    Signature("deadlock detected", "DEADLOCK", 0.9, _LOCK),
    Signature("Deadlock found when trying to get lock", "DEADLOCK", 0.9, _LOCK),
    Signature("ER_LOCK_DEADLOCK", "DEADLOCK", 0.9, _LOCK),
    Signature("canceling statement due to lock timeout", "LOCK_TIMEOUT", 0.92, _LOCK),
    Signature("could not obtain lock on", "LOCK_TIMEOUT", 0.9, _LOCK),
    Signature("Lock wait timeout exceeded", "LOCK_TIMEOUT", 0.92, _LOCK),
    Signature("ER_LOCK_WAIT_TIMEOUT", "LOCK_TIMEOUT", 0.92, _LOCK),
    Signature(
        "canceling statement due to statement timeout",
        "STATEMENT_TIMEOUT",
        0.88,
        _STATEMENT_TIMEOUT,
    ),
    Signature("Migration table is already locked", "MIGRATION_LOCKED", 0.92, _TOOL_LOCKED),
    Signature("Could not acquire change log lock", "MIGRATION_LOCKED", 0.9, _TOOL_LOCKED),
    # Liquibase (and tools built on it) waiting on its lock table until the job is stopped
    Signature("Waiting for changelog lock", "MIGRATION_LOCKED", 0.82, _TOOL_LOCKED),
    Signature("Waiting for migration lock to be cleared", "MIGRATION_LOCKED", 0.85, _TOOL_LOCKED),
    Signature("Another migration is already running", "MIGRATION_LOCKED", 0.9, _TOOL_LOCKED),
    # --- SQLSTATE codes (node-postgres dumps, Prisma's "Database error code", PDO) ---
    Signature("42P07", "DUPLICATE_TABLE", 0.88, _EXISTS, re.compile(_PG_CODE + r"42P07")),
    Signature("42701", "DUPLICATE_COLUMN", 0.88, _EXISTS, re.compile(_PG_CODE + r"42701\b")),
    Signature("42710", "DUPLICATE_OBJECT", 0.86, _EXISTS, re.compile(_PG_CODE + r"42710\b")),
    Signature("42P01", "UNDEFINED_TABLE", 0.86, _MISSING, re.compile(_PG_CODE + r"42P01")),
    Signature("42703", "UNDEFINED_COLUMN", 0.86, _MISSING, re.compile(_PG_CODE + r"42703\b")),
    Signature("23505", "UNIQUE_VIOLATION", 0.86, _DUPLICATE, re.compile(_PG_CODE + r"23505\b")),
    Signature("40P01", "DEADLOCK", 0.88, _LOCK, re.compile(_PG_CODE + r"40P01")),
    Signature("55P03", "LOCK_TIMEOUT", 0.88, _LOCK, re.compile(_PG_CODE + r"55P03")),
    Signature(
        "42501", "INSUFFICIENT_PRIVILEGE", 0.84, _PRIVILEGE, re.compile(_PG_CODE + r"42501\b")
    ),
    # --- migration tools' own states ---
    Signature("P3009", "P3009", 0.93, _FAILED_STATE, re.compile(r"\bP3009\b")),
    Signature("migrate found failed migrations", "P3009", 0.93, _FAILED_STATE),
    Signature("P3018", "P3018", 0.9, _APPLY_FAILED, re.compile(r"\bP3018\b")),
    Signature("A migration failed to apply", "P3018", 0.9, _APPLY_FAILED),
    Signature("P3005", "P3005", 0.9, _NOT_EMPTY, re.compile(r"\bP3005\b")),
    Signature("The database schema is not empty", "P3005", 0.9, _NOT_EMPTY),
    Signature("P3019", "P3019", 0.85, _HISTORY, re.compile(r"\bP3019\b")),
    Signature("Dirty database version", "DIRTY_VERSION", 0.92, _FAILED_STATE),
    Signature("Detected failed migration to version", "FAILED_STATE", 0.9, _FAILED_STATE),
    Signature(
        "Validate failed: Migrations have failed validation", "HISTORY_MISMATCH", 0.88, _HISTORY
    ),
    Signature("but no schema history table", "P3005", 0.85, _NOT_EMPTY),
    Signature("Migration failed for changeset", "APPLY_FAILED", 0.8, _APPLY_FAILED),
    Signature("Migration failed for change set", "APPLY_FAILED", 0.8, _APPLY_FAILED),
    # --- history ---
    Signature("Multiple head revisions are present", "ALEMBIC_MULTIPLE_HEADS", 0.93, _HEADS),
    Signature("Can't locate revision identified by", "ALEMBIC_UNKNOWN_REVISION", 0.9, _HISTORY),
    Signature("Target database is not up to date", "ALEMBIC_NOT_UP_TO_DATE", 0.85, _HISTORY),
    Signature("InconsistentMigrationHistory", "DJANGO_INCONSISTENT_HISTORY", 0.93, _HISTORY),
    Signature("Conflicting migrations detected", "DJANGO_CONFLICTING_MIGRATIONS", 0.93, _HEADS),
    Signature("NodeNotFoundError", "DJANGO_MISSING_DEPENDENCY", 0.85, _HISTORY),
    Signature("The migration directory is corrupt", "KNEX_MISSING_FILES", 0.9, _HISTORY),
    Signature("is preceding already run migration", "HISTORY_MISMATCH", 0.88, _HISTORY),
    # --- generic wrappers: the migration failed, the line does not say why ---
    Signature("QueryFailedError", "QUERY_FAILED", 0.6, _GENERIC),
    Signature("SequelizeDatabaseError", "QUERY_FAILED", 0.6, _GENERIC),
    Signature("migration failed with error", "MIGRATION_FAILED", 0.6, _GENERIC),
    Signature(
        "failed, error:",
        "MIGRATION_FAILED",
        0.6,
        _GENERIC,
        re.compile(r"Migration \"[^\"]+\" failed"),
    ),
    Signature("django.db.utils.ProgrammingError", "QUERY_FAILED", 0.65, _GENERIC),
    Signature("django.db.utils.IntegrityError", "QUERY_FAILED", 0.65, _GENERIC),
    Signature("sqlalchemy.exc.ProgrammingError", "QUERY_FAILED", 0.65, _GENERIC),
    # Other stacks (signatures reviewed against the failure corpus's development part)
    sig("without schema history table", "P3005", 0.9, _FAILED_STATE),
    sig("checksum mismatch", "CHECKSUM_MISMATCH", 0.92, _FAILED_STATE),
    sig("check sum", "CHECKSUM_MISMATCH", 0.9, _FAILED_STATE, r"check ?sums?"),
    sig("but is now", "CHECKSUM_MISMATCH", 0.88, _FAILED_STATE, r"was: \S+ but is now"),
    sig("was previously applied but has been modified", "CHECKSUM_MISMATCH", 0.92, _FAILED_STATE),
    sig("was previously applied but is missing", "HISTORY_MISMATCH", 0.9, _FAILED_STATE),
    sig("Validate failed", "VALIDATE_FAILED", 0.88, _FAILED_STATE),
    sig("PendingModelChangesWarning", "EF_PENDING_MODEL_CHANGES", 0.92, _APPLY_FAILED),
    # EF Core 9's message for the same (the event id may be on a later line)
    sig(
        "has pending changes. Add a new migration",
        "EF_PENDING_MODEL_CHANGES",
        0.92,
        _APPLY_FAILED,
    ),
    sig("PendingMigrationError", "PENDING_MIGRATIONS", 0.9, _APPLY_FAILED),
    sig(
        "Migrations are pending",
        "PENDING_MIGRATIONS",
        0.88,
        _APPLY_FAILED,
        r"(?<!No )Migrations are pending\. To resolve",
    ),
    sig("SQLSTATE[42S01]", "DUPLICATE_TABLE", 0.9, _EXISTS),
    sig("SQLSTATE[42S21]", "DUPLICATE_COLUMN", 0.9, _EXISTS),
    sig("SQLSTATE[42S02]", "UNDEFINED_TABLE", 0.86, _MISSING),
    sig("SQLSTATE[42000]", "SQL_SYNTAX", 0.8, _SYNTAX),
    sig("Integrity constraint violation", "CONSTRAINT_VIOLATION", 0.78, _CONSTRAINT),
    sig(
        "already exists",
        "DUPLICATE_OBJECT",
        0.8,
        _EXISTS,
        r"^(?!.*(NOTICE|skipping))(.*)\b(relation|table|column|index|type|constraint|schema"
        r"|sequence|function|view|database|enum)\b.{0,80}already exists",
    ),
    sig(
        "does not exist",
        "UNDEFINED_TABLE",
        0.78,
        _MISSING,
        r"^(?!.*(NOTICE|skipping))(.*)\b(relation|table|column|index|type"
        r"|constraint)\b.{0,80}does not exist",
    ),
    sig("Error executing DDL", "QUERY_FAILED", 0.6, _GENERIC),
    sig("StatementInvalid", "QUERY_FAILED", 0.6, _GENERIC),
    sig("Postgrex.Error", "QUERY_FAILED", 0.6, _GENERIC),
    sig("Schema-validation: missing", "PENDING_MIGRATIONS", 0.86, _APPLY_FAILED),
    sig("ValidationFailedException", "CHECKSUM_MISMATCH", 0.86, _FAILED_STATE),
    sig("FlywayValidateException", "VALIDATE_FAILED", 0.9, _FAILED_STATE),
    sig("SQLSyntaxErrorException", "SQL_SYNTAX", 0.75, _SYNTAX),
    # SQL Server (EF Core / SqlClient): error 2714, 2705, 208, 207 and 1779 as SqlClient words them.
    sig("There is already an object named", "DUPLICATE_TABLE", 0.9, _EXISTS),
    sig("Column names in each table must be unique", "DUPLICATE_COLUMN", 0.88, _EXISTS),
    sig("Invalid object name", "UNDEFINED_TABLE", 0.8, _MISSING, r"Invalid object name '"),
    sig("Invalid column name", "UNDEFINED_COLUMN", 0.8, _MISSING, r"Invalid column name '"),
    # MySQL ER_TOO_LONG_KEY (1071) and a malformed foreign key (errno 150 / ER_FK_*).
    sig("Specified key was too long", "KEY_TOO_LONG", 0.9, _DDL_LIMIT),
    sig("ER_TOO_LONG_KEY", "KEY_TOO_LONG", 0.9, _DDL_LIMIT),
    sig("Foreign key constraint is incorrectly formed", "CONSTRAINT_VIOLATION", 0.86, _CONSTRAINT),
    # sqlx-migrate's MigrateError variants, Debug-printed by `.unwrap()` / `?` in main.
    sig("VersionMismatch(", "CHECKSUM_MISMATCH", 0.86, _FAILED_STATE, r"\bVersionMismatch\(\d+\)"),
    sig("VersionMissing(", "HISTORY_MISMATCH", 0.86, _HISTORY, r"\bVersionMissing\(\d+\)"),
    sig("is partially applied", "DIRTY_VERSION", 0.9, _FAILED_STATE, r"migration \d+ is partially"),
    # golang-migrate: the database records a version the image has no file for.
    sig("no migration found for version", "HISTORY_MISMATCH", 0.86, _HISTORY),
    # Liquibase's lock, while it waits and when it gives up.
    sig("liquibase.exception.LockException", "MIGRATION_LOCKED", 0.88, _TOOL_LOCKED),
    sig("Waiting for changelog lock", "MIGRATION_LOCKED", 0.7, _TOOL_LOCKED),
    # Rails: two migrations with one version, a rollback that cannot be undone.
    sig("Multiple migrations have the version number", "DUPLICATE_MIGRATION", 0.9, _HEADS),
    sig("DuplicateMigrationNameError", "DUPLICATE_MIGRATION", 0.9, _HEADS),
    sig("ActiveRecord::IrreversibleMigration", "APPLY_FAILED", 0.82, _APPLY_FAILED),
    # Prisma migrate's advisory lock (it reports P1002 "timed out" with this context).
    sig(
        "Timed out trying to acquire a postgres advisory lock",
        "MIGRATION_LOCKED",
        0.95,
        _TOOL_LOCKED,
    ),
    # A GRANT / ALTER ... OWNER TO a role that does not exist: a statement's error (PostgreSQL
    # "ERROR:", diesel CLI's "Failed with:"), not the login's "FATAL:".
    sig(
        "does not exist",
        "UNDEFINED_ROLE",
        0.9,
        _MISSING_ROLE,
        r'(?-i:(?:ERROR:\s+|Failed with: )role "[^"]+" does not exist)',
    ),
    # SQLite's wording of the same errors (sqlite3, better-sqlite3, SQLAlchemy, Rails, Prisma).
    sig("no such table:", "UNDEFINED_TABLE", 0.84, _MISSING),
    sig("no such column:", "UNDEFINED_COLUMN", 0.84, _MISSING),
    sig("duplicate column name:", "DUPLICATE_COLUMN", 0.88, _EXISTS),
    sig("UNIQUE constraint failed:", "UNIQUE_VIOLATION", 0.84, _DUPLICATE),
    sig("NOT NULL constraint failed:", "CONSTRAINT_VIOLATION", 0.84, _CONSTRAINT),
    # mysql2 / mysqljs error codes for a syntax error and a broken foreign key.
    sig("ER_PARSE_ERROR", "SQL_SYNTAX", 0.86, _SYNTAX),
    sig("ER_CANNOT_ADD_FOREIGN", "CONSTRAINT_VIOLATION", 0.85, _CONSTRAINT),
    sig("ER_NO_REFERENCED_ROW", "CONSTRAINT_VIOLATION", 0.84, _CONSTRAINT),
    sig("SequelizeUniqueConstraintError", "UNIQUE_VIOLATION", 0.84, _DUPLICATE),
    sig("SequelizeForeignKeyConstraintError", "CONSTRAINT_VIOLATION", 0.84, _CONSTRAINT),
    # Flyway: the history and the resolved migrations disagree.
    sig("Detected resolved migration not applied to database", "HISTORY_MISMATCH", 0.88, _HISTORY),
    sig("Detected applied migration not resolved locally", "HISTORY_MISMATCH", 0.88, _HISTORY),
    sig("liquibase.exception.MigrationFailedException", "APPLY_FAILED", 0.82, _APPLY_FAILED),
    # goose, atlas.
    sig("missing migrations before current version", "HISTORY_MISMATCH", 0.86, _HISTORY),
    sig("failed to run SQL migration", "MIGRATION_FAILED", 0.6, _GENERIC),
    sig(
        "You have a checksum error in your migration directory",
        "CHECKSUM_MISMATCH",
        0.9,
        _FAILED_STATE,
    ),
    sig("connected database is not clean", "P3005", 0.88, _NOT_EMPTY),
    # Rails: another process holds the advisory lock; the recorded version has no file.
    sig("ConcurrentMigrationError", "MIGRATION_LOCKED", 0.93, _TOOL_LOCKED),
    sig("UnknownMigrationVersionError", "HISTORY_MISMATCH", 0.88, _HISTORY),
    # Prisma: the shadow database rejected a migration; a recorded migration's file is gone.
    sig("P3006", "P3006", 0.88, _APPLY_FAILED, r"\bP3006\b"),
    sig("failed to apply cleanly to the shadow database", "P3006", 0.88, _APPLY_FAILED),
    sig("P3015", "P3015", 0.86, _HISTORY, r"\bP3015\b"),
    sig("Could not find the migration file at", "P3015", 0.86, _HISTORY),
    # Ecto, EF Core, Hibernate.
    sig("Ecto.MigrationError", "APPLY_FAILED", 0.78, _APPLY_FAILED),
    sig("Schema-validation: wrong column type", "PENDING_MIGRATIONS", 0.84, _APPLY_FAILED),
    # Hibernate's schema validation (hbm2ddl / ddl-auto=validate) as it ends: the column type
    # the table has against the entity's, e.g. "…in table [t]; found [varchar (Types#VARCHAR)],
    # but expecting [int4 (Types#INTEGER)]" (Hibernate 5 and 6)
    sig(
        "but expecting [",
        "PENDING_MIGRATIONS",
        0.84,
        _APPLY_FAILED,
        r"found \[[^\]]+\(Types#\w+\)\], but expecting \[",
    ),
    # refinery (Rust): an applied migration whose file changed, or is gone
    sig(
        "is different than filesystem one",
        "CHECKSUM_MISMATCH",
        0.92,
        _HISTORY,
        r"applied migration \S+ is different than filesystem one",
    ),
    sig(
        "is missing from the filesystem",
        "HISTORY_MISMATCH",
        0.9,
        _HISTORY,
        r"migration \S+ is missing from the filesystem",
    ),
    # sqlx (Rust) and its wrappers (some put a comma before "but"); the target and the history
    # out of order
    sig(
        "was previously applied,",
        "CHECKSUM_MISMATCH",
        0.92,
        _FAILED_STATE,
        r"was previously applied, but has been modified",
    ),
    sig(
        "was previously applied,",
        "HISTORY_MISMATCH",
        0.9,
        _FAILED_STATE,
        r"was previously applied, but is missing",
    ),
    sig(
        "than the latest applied migration",
        "HISTORY_MISMATCH",
        0.86,
        _HISTORY,
        r"migration \S+ is (?:older|newer) than the latest applied migration",
    ),
    sig("is not present in the migration source", "HISTORY_MISMATCH", 0.86, _HISTORY),
    # SQL Server 547: a statement (ALTER TABLE … ADD CONSTRAINT in a migration) conflicting with
    # a constraint; outside a migration data_error reads the same words
    sig(
        "statement conflicted with the",
        "CONSTRAINT_VIOLATION",
        0.85,
        _CONSTRAINT,
        r"The \w+(?: \w+)? statement conflicted with the (?:\w+ )*constraint",
    ),
    # PostgreSQL's own refusals of a migration's DDL (25001, 2BP01, 55006)
    sig("cannot run inside a transaction block", "TRANSACTION_BLOCK", 0.9, _TRANSACTION_BLOCK),
    sig(
        "because other objects depend on it",
        "DEPENDENT_OBJECTS",
        0.88,
        _DEPENDENTS,
        r"cannot drop \S+(?: \S+)? because other objects depend on it",
    ),
    sig("because it has pending trigger events", "APPLY_FAILED", 0.86, _APPLY_FAILED),
    # Alembic: two requested revisions on one branch.
    sig("overlaps with other requested revisions", "ALEMBIC_MULTIPLE_HEADS", 0.86, _HEADS),
)

GENERIC = frozenset({"QUERY_FAILED", "MIGRATION_FAILED"})


def _tool_checks(signature: str) -> tuple[Check, ...]:
    """What to run (through the Cloud SQL Auth Proxy, with the job's DATABASE_URL) to see the
    migration table as the tool sees it."""
    via_proxy = Text(
        en="Through the Cloud SQL Auth Proxy with the job's database URL: {what}",
        ko="Cloud SQL Auth Proxy를 통해 Job과 같은 DB URL로: {what}",
    )
    if signature.startswith("P30"):
        return (
            Check(
                via_proxy.format(what="prisma migrate status"),
                "npx prisma migrate status",
            ),
        )
    if signature.startswith("ALEMBIC"):
        return (
            Check(
                via_proxy.format(what="alembic heads / current"), "alembic heads && alembic current"
            ),
        )
    if signature.startswith("DJANGO"):
        return (
            Check(
                via_proxy.format(what="manage.py showmigrations"),
                "python manage.py showmigrations --list",
            ),
        )
    if signature.startswith("KNEX") or signature == "MIGRATION_LOCKED":
        return (Check(via_proxy.format(what="knex migrate:status"), "npx knex migrate:status"),)
    return ()


def analyze(evidence: Evidence) -> Finding | None:
    """A migration's SQL failed (exists / missing / duplicate / lock) or the history mismatched."""
    matches = match_signatures(evidence, SIGNATURES)
    status = match_status(evidence, SIGNATURES)
    if not matches and not status:
        return None
    best = max(
        [m.signature for m in matches] + [h.signature for h in status], key=lambda s: s.strength
    )
    checks = (*_tool_checks(best.signature), *CAUSE.checks(evidence.ref))
    return build_finding(CAUSE, matches=matches, status=status, checks=checks)


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
