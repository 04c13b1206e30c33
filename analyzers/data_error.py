"""The input data is bad.

Nightly loads fail on their input rather than on their code: BigQuery load errors ("Error while
reading data", "CSV table encountered too many errors", "Could not parse … as INT64", "Provided
Schema does not match Table", "Field x has changed type"), parse errors (`JSONDecodeError`,
`UnicodeDecodeError`, pandas' `ParserError`, `invalid byte sequence for encoding`, Arrow type
errors) and constraint violations raised by the rows being loaded. A constraint violation inside a
migration (the log speaks of migrations) is `migration_sql`'s, not this.
"""

from __future__ import annotations

from analyzers import commands
from analyzers.base import (
    Analyzer,
    Cause,
    Check,
    Finding,
    Signature,
    sig,
    signature_finding,
)
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.text import Text


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="Read the rejected rows / parse errors of this execution",
                ko="이 실행의 거부된 행·파싱 오류 로그 확인",
            ),
            commands.read_logs(
                ref,
                extra='(textPayload:"parse" OR textPayload:"Error while reading data" OR '
                'textPayload:"invalid" OR textPayload:"constraint")',
            ),
        ),
        Check(
            Text(
                en="BigQuery's recent jobs (bq show -j JOB_ID lists a failed load's errors)",
                ko="최근 BigQuery 작업 목록(bq show -j JOB_ID로 실패한 로드의 오류 확인)",
            ),
            commands.bigquery_recent_jobs(ref),
        ),
    )


CAUSE = Cause(
    id="data_error",
    prior=0.05,
    name=Text(en="The input data is bad", ko="입력 데이터에 문제가 있음"),
    checks=_checks,
    workarounds=(
        Text(
            en="Move the offending file or partition aside and re-run for the rest; fix it at "
            "the producer",
            ko="문제 파일·파티션을 따로 옮기고 나머지로 재실행, 원천(생산자)에서 수정",
        ),
        Text(
            en="For BigQuery loads, tolerate a few bad rows while the producer is fixed "
            "(--max_bad_records) and keep the rejected rows",
            ko="BigQuery 로드는 생산자가 고쳐질 때까지 일부 불량 행 허용(--max_bad_records) 후 "
            "거부된 행 보관",
        ),
        Text(
            en="If the schema changed upstream: update the table schema or load into a "
            "staging table with autodetect, then transform",
            ko="원천 스키마가 바뀌었다면 테이블 스키마를 갱신하거나 autodetect로 스테이징 "
            "테이블에 적재 후 변환",
        ),
    ),
    refute_hint=Text(
        en="no parse, schema or row-level error in the log",
        ko="로그에 파싱·스키마·행 단위 오류가 없음",
    ),
    docs=(
        "https://cloud.google.com/bigquery/docs/error-messages",
        "https://cloud.google.com/bigquery/docs/loading-data-cloud-storage-csv",
    ),
)

_LOAD = Text(en="The load rejected the input rows", ko="로드 작업이 입력 행을 거부함")
_PARSE = Text(en="The input could not be parsed", ko="입력을 파싱할 수 없음")
_SCHEMA = Text(
    en="The input does not match the table's schema", ko="입력이 테이블 스키마와 맞지 않음"
)
_ENCODING = Text(en="The input is not in the expected encoding", ko="입력 인코딩이 예상과 다름")
_ROWS = Text(
    en="A loaded row violates a constraint of the table", ko="적재한 행이 테이블 제약 조건을 위반함"
)

SIGNATURES: tuple[Signature, ...] = (
    sig("Error while reading", "BQ_LOAD_ERROR", 0.93, _LOAD, r"Error while reading (data|table)"),
    sig("wrong number of fields", "CSV_PARSE", 0.85, _PARSE),
    sig("Invalid Record Length", "CSV_PARSE", 0.88, _PARSE),
    sig("Disabling autodetect may resolve this", "SCHEMA_MISMATCH", 0.86, _SCHEMA),
    sig("value too long for type", "VALUE_RANGE", 0.84, _ROWS),
    sig("string_data_right_truncation", "VALUE_RANGE", 0.84, _ROWS),
    sig("encountered too many errors", "BQ_LOAD_ERROR", 0.93, _LOAD),
    sig("Could not parse '", "BQ_PARSE", 0.9, _PARSE, r"Could not parse '.*' as"),
    sig("Provided Schema does not match", "SCHEMA_MISMATCH", 0.93, _SCHEMA),
    sig("has changed type from", "SCHEMA_MISMATCH", 0.92, _SCHEMA),
    sig("Invalid schema update", "SCHEMA_MISMATCH", 0.88, _SCHEMA),
    sig("No such field", "SCHEMA_MISMATCH", 0.85, _SCHEMA, r"No such field: \S+"),
    # BigQuery's analyzer: a column the query names is not in the table (GoogleSQL wording)
    sig("Unrecognized name: ", "SCHEMA_MISMATCH", 0.8, _SCHEMA, r"\b400 .*Unrecognized name: \w+"),
    sig("JSON parsing error in row", "BQ_PARSE", 0.92, _PARSE),
    sig("Bad character", "BQ_PARSE", 0.85, _ENCODING, r"Bad character \(ASCII \d+\)"),
    sig("Row larger than the maximum allowed size", "BQ_LOAD_ERROR", 0.85, _LOAD),
    sig("JSONDecodeError", "JSON_PARSE", 0.82, _PARSE),
    sig("UnicodeDecodeError", "ENCODING", 0.86, _ENCODING),
    sig("invalid byte sequence for encoding", "ENCODING", 0.9, _ENCODING),
    sig(
        "ParserError",
        "CSV_PARSE",
        0.88,
        _PARSE,
        r"ParserError: Error tokenizing data|errors\.ParserError",
    ),
    sig("csv.Error", "CSV_PARSE", 0.8, _PARSE),
    sig("ArrowInvalid", "ARROW", 0.85, _SCHEMA),
    sig("ArrowTypeError", "ARROW", 0.85, _SCHEMA),
    sig("could not convert string to", "VALUE_PARSE", 0.78, _PARSE),
    sig("invalid input syntax for", "VALUE_PARSE", 0.78, _PARSE),
    sig("Data too long for column", "VALUE_RANGE", 0.82, _ROWS),
    sig(
        "Incorrect",
        "VALUE_PARSE",
        0.8,
        _PARSE,
        r"Incorrect (integer|decimal|datetime|date|string) value",
    ),
    sig("out of range for type", "VALUE_RANGE", 0.78, _ROWS),
    sig("Out of range value for column", "VALUE_RANGE", 0.8, _ROWS),
    sig("contains only", "CSV_PARSE", 0.9, _PARSE, r"contains only \d+ columns"),
    sig("Too many values in row", "CSV_PARSE", 0.88, _PARSE),
    sig("Missing close double quote", "CSV_PARSE", 0.9, _PARSE),
    # PostgreSQL COPY: the row that failed (CONTEXT "COPY t, line N[, column c]", printed in
    # English whatever the server's language) and the file-format errors (22P04).
    sig("COPY", "COPY_ROW", 0.84, _PARSE, r"(?-i:\bCOPY [\w.\"]+, line \d+\b)"),
    sig("extra data after last expected column", "CSV_PARSE", 0.88, _PARSE),
    sig("missing data for column", "CSV_PARSE", 0.88, _PARSE),
    sig("unterminated CSV quoted field", "CSV_PARSE", 0.88, _PARSE),
    # PostgreSQL 22007 / 22008 / 22003 / 22P02 for enums; MySQL 1265 (WARN_DATA_TRUNCATED).
    sig("invalid input value for enum", "VALUE_PARSE", 0.8, _PARSE),
    sig("date/time field value out of range", "VALUE_RANGE", 0.8, _ROWS),
    sig("numeric field overflow", "VALUE_RANGE", 0.8, _ROWS),
    sig("Data truncated for column", "VALUE_RANGE", 0.8, _ROWS),
    # @google-cloud/bigquery's table.insert: rows the table refused (their insertErrors)
    sig("PartialFailureError", "BQ_INSERT_ROWS", 0.78, _LOAD, r"(?-i:\bPartialFailureError\b)"),
)

# Row-level violations: data when a batch loads rows, migration_sql when a migration runs.
_ROW_LEVEL: tuple[Signature, ...] = (
    sig("duplicate key value violates unique constraint", "ROW_CONSTRAINT", 0.9, _ROWS),
    sig("violates not-null constraint", "ROW_CONSTRAINT", 0.9, _ROWS),
    sig("violates foreign key constraint", "ROW_CONSTRAINT", 0.9, _ROWS),
    sig("violates check constraint", "ROW_CONSTRAINT", 0.9, _ROWS),
    sig("Duplicate entry", "ROW_CONSTRAINT", 0.9, _ROWS),
    # SQL Server 547 ("The INSERT statement conflicted with the FOREIGN KEY constraint …")
    sig(
        "statement conflicted with the",
        "ROW_CONSTRAINT",
        0.88,
        _ROWS,
        r"The \w+(?: \w+)? statement conflicted with the (?:\w+ )*constraint",
    ),
    sig("23505", "ROW_CONSTRAINT", 0.86, _ROWS, r"(SQLSTATE|code|Exception|ERROR)\W{0,4}23505\b"),
    sig("23503", "ROW_CONSTRAINT", 0.86, _ROWS, r"(SQLSTATE|code|Exception|ERROR)\W{0,4}23503\b"),
)
CONDITIONAL_SIGNATURES = _ROW_LEVEL
_MIGRATION_WORDS = ("migrat", "alembic", "flyway", "liquibase", "changeset", "knex", "prisma")


def analyze(evidence: Evidence) -> Finding | None:
    """Input rows or files could not be parsed, did not fit the schema, or broke a constraint."""
    sigs = SIGNATURES
    if not evidence.grep(*_MIGRATION_WORDS):
        sigs = SIGNATURES + _ROW_LEVEL
    return signature_finding(CAUSE, sigs, evidence)


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
