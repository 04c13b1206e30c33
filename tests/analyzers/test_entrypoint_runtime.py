"""entrypoint_runtime: code and module errors, and bare crashes that are only symptoms."""

from __future__ import annotations

import pytest

from analyzers import entrypoint_runtime
from jobtriage.evidence import LogLine
from tests.analyzers._build import (
    DIGEST,
    HEALTHY,
    Case,
    check_case,
    config,
    evidence,
    finding_for,
    out,
    rank,
    system,
    task,
    winner,
)

CASES = [
    Case(
        "erlang release for another system",
        (
            "Unusable Erlang runtime system! This is likely due to being compiled for another "
            "system",
        ),
        "RUNTIME_VERSION",
    ),
    Case(
        "esm required from commonjs",
        (
            "node:internal/modules/cjs/loader:1080",
            "Error [ERR_REQUIRE_ESM]: require() of ES Module"
            " /app/node_modules/chalk/source/index.js"
            " from /app/dist/migrate.js not supported.",
            "Instead change the require of index.js in /app/dist/migrate.js to a dynamic import()"
            " which is available in all CommonJS modules.",
            "    at Object.<anonymous> (/app/dist/migrate.js:3:15) {",
            "  code: 'ERR_REQUIRE_ESM'",
            "Node.js v20.11.1",
        ),
        "ERR_REQUIRE_ESM",
        min_strength=0.9,
        fact_contains=("ERR_REQUIRE_ESM",),
    ),
    Case(
        "import statement in commonjs",
        (
            '(node:1) Warning: To load an ES module, set "type": "module" in the package.json'
            " or use the .mjs extension.",
            "/app/dist/migrate.js:1",
            "import { DataSource } from 'typeorm';",
            "SyntaxError: Cannot use import statement outside a module",
            "    at internalCompileFunction (node:internal/vm:76:18)",
        ),
        "ESM_IMPORT_IN_CJS",
        min_strength=0.9,
    ),
    Case(
        "require in es module scope",
        (
            "ReferenceError: require is not defined in ES module scope, you can use import instead",
            "This file is being treated as an ES module because it has a '.js' file extension and"
            ' \'/app/package.json\' contains "type": "module".',
        ),
        "ESM_CJS_GLOBAL",
        min_strength=0.9,
    ),
    Case(
        "named export from a commonjs package",
        (
            "SyntaxError: Named export 'Pool' not found. The requested module 'pg' is a CommonJS"
            " module, which may not support all module.exports as named exports.",
        ),
        "ESM_NAMED_EXPORT",
    ),
    Case(
        "esm relative import without extension",
        (
            "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/app/dist/database/data-source'"
            " imported from /app/dist/migrate.js",
            "    at finalizeResolution (node:internal/modules/esm/resolve:265:11) {",
            "  code: 'ERR_MODULE_NOT_FOUND',",
        ),
        "ESM_IMPORT_WITHOUT_EXTENSION",
        min_strength=0.85,
    ),
    Case(
        "esm package not installed",
        (
            "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'typeorm' imported from"
            " /app/dist/migrate.js",
        ),
        None,  # a package not installed is the image's (missing_artifact)
    ),
    Case(
        "commonjs driver package missing",
        (
            "Error: Cannot find module 'pg'",
            "Require stack:",
            "- /app/node_modules/typeorm/driver/postgres/PostgresDriver.js",
            "    at Module._resolveFilename (node:internal/modules/cjs/loader:1080:15)",
        ),
        None,  # missing_artifact's
    ),
    Case(
        "relative require inside the code",
        (
            "Error: Cannot find module './config/database'",
            "Require stack:",
            "- /app/dist/migrate.js",
        ),
        "MODULE_NOT_FOUND",
    ),
    Case(
        "missing entry file belongs to missing_artifact",
        (
            "Error: Cannot find module '/app/dist/migrate.js'",
            "    at Module._resolveFilename (node:internal/modules/cjs/loader:1140:15)",
            "    at Function.executeUserEntryPoint [as runMain]"
            " (node:internal/modules/run_main:81:12)",
            "  code: 'MODULE_NOT_FOUND',",
            "  requireStack: []",
            "Node.js v20.11.1",
        ),
        "UNCAUGHT_EXCEPTION",
        max_strength=0.2,
    ),
    Case(
        "typeorm data source export",
        (
            "Error during migration run:",
            "Error: Given data source file must contain export of a DataSource instance",
            "    at Function.loadDataSource"
            " (/app/node_modules/typeorm/commands/CommandUtils.js:52:19)",
        ),
        "TYPEORM_DATASOURCE_EXPORT",
        min_strength=0.9,
    ),
    Case(
        "typeorm data source loaded as commonjs",
        (
            "Error during migration run:",
            'Error: Unable to open file: "/app/src/data-source.ts". Cannot use import statement'
            " outside a module",
        ),
        "ESM_IMPORT_IN_CJS",
    ),
    Case(
        "typeorm 0.2 without configuration",
        ("MissingDriverError: No connection options were found in any orm configuration files.",),
        "TYPEORM_NO_CONNECTION_OPTIONS",
    ),
    Case(
        "sequelize without dialect",
        (
            "Sequelize CLI [Node: 20.11.1, CLI: 6.6.2, ORM: 6.35.2]",
            'Loaded configuration file "config/config.js".',
            'Using environment "production".',
            "ERROR: Dialect needs to be explicitly supplied as of v4.0.0",
        ),
        "SEQUELIZE_NO_DIALECT",
    ),
    Case(
        "type error",
        (
            "TypeError: Cannot read properties of undefined (reading 'initialize')",
            "    at main (/app/dist/migrate.js:14:22)",
        ),
        "TYPE_ERROR",
    ),
    Case(
        "reference error",
        ("ReferenceError: AppDataSource is not defined", "    at /app/dist/migrate.js:9:5"),
        "REFERENCE_ERROR",
    ),
    Case("syntax error", ("SyntaxError: Unexpected identifier 'async'",), "SYNTAX_ERROR"),
    Case(
        "json parse error is weaker",
        ("SyntaxError: Unexpected token } in JSON at position 42",),
        "JSON_PARSE",
        max_strength=0.6,
    ),
    Case(
        "ts-node compile error",
        (
            "TSError: ⨯ Unable to compile TypeScript:",
            "src/migrate.ts(3,10): error TS2305: Module '\"typeorm\"' has no exported member 'x'.",
        ),
        "TS_COMPILE",
    ),
    Case(
        "unknown .ts extension under esm",
        (
            'TypeError [ERR_UNKNOWN_FILE_EXTENSION]: Unknown file extension ".ts" for'
            " /app/src/migrate.ts",
        ),
        "ESM_UNKNOWN_EXTENSION",
    ),
    Case(
        "python package not installed",
        (
            "Traceback (most recent call last):",
            '  File "/app/manage.py", line 22, in <module>',
            "ModuleNotFoundError: No module named 'psycopg2'",
        ),
        "UNCAUGHT_EXCEPTION",  # only the traceback marker, capped: missing_artifact explains it
        max_strength=0.1,
    ),
    Case(
        "python import error",
        (
            "Traceback (most recent call last):",
            "ImportError: cannot import name 'Base' from 'app.models' (/app/app/models.py)",
        ),
        "PY_IMPORT_ERROR",
    ),
    Case(
        "python attribute error",
        ("AttributeError: module 'app.settings' has no attribute 'DATABASE'",),
        "PY_ATTRIBUTE_ERROR",
    ),
    Case("python name error", ("NameError: name 'engine' is not defined",), "REFERENCE_ERROR"),
    Case(
        "django cannot load the driver",
        ("django.core.exceptions.ImproperlyConfigured: Error loading psycopg2 or psycopg module",),
        "PY_IMPORT_ERROR",
    ),
    Case(
        "bare unhandled rejection is weak",
        (
            "node:internal/process/promises:288",
            "            triggerUncaughtException(err, true /* fromPromise */);",
            "[UnhandledPromiseRejection: This error originated either by throwing inside of an"
            ' async function without a catch block. The promise rejected with the reason "boom".]'
            " {",
            "  code: 'ERR_UNHANDLED_REJECTION'",
        ),
        "UNHANDLED_REJECTION",
        max_strength=0.5,
    ),
    Case(
        "invalid url is configuration, not code",
        ("TypeError [ERR_INVALID_URL]: Invalid URL", "  input: 'undefined',"),
        None,
    ),
    Case(
        "alembic history is migration_sql",
        ("alembic.util.exc.CommandError: Can't locate revision identified by 'ae1027a6acf'",),
        None,
    ),
    # A script with Windows line endings, as bash, dash and env report it
    Case(
        "bash runs a carriage return",
        ("/app/entrypoint.sh: line 2: $'\\r': command not found",),
        "CRLF_SCRIPT",
    ),
    Case(
        "dash rejects set -e with a carriage return",
        ("/config/entrypoint.sh: set: line 2: illegal option -",),
        "CRLF_SCRIPT",
    ),
    Case(
        "shebang names an interpreter ending in a carriage return",
        ("/usr/bin/env: 'bash\\r': No such file or directory",),
        "CRLF_SCRIPT",
    ),
    # The job's command line does not parse
    Case(
        "gcloud argparse",
        ("ERROR: (gcloud.run.deploy) argument --image: expected one argument",),
        "USAGE_ERROR",
    ),
    Case(
        "python argparse",
        ("migrate.py: error: unrecognized arguments: --dry",),
        "USAGE_ERROR",
    ),
    Case("go flag package", ("flag provided but not defined: -dsn",), "USAGE_ERROR"),
    Case(
        "clap",
        ("error: unexpected argument '--databse-url' found",),
        "USAGE_ERROR",
    ),
    Case(
        "rails 4 migration under rails 5",
        (
            "StandardError: An error has occurred, all later migrations canceled:",
            "Directly inheriting from ActiveRecord::Migration is not supported. Please specify "
            "the Rails release the migration was written for:",
        ),
        "LIBRARY_MISMATCH",
    ),
    Case("go nil map", ("panic: assignment to entry in nil map",), "GO_NIL_POINTER"),
    Case(
        "go slice bounds",
        ("panic: runtime error: slice bounds out of range [:5] with capacity 3",),
        "GO_PANIC",
    ),
    Case(
        "tokio outside a runtime",
        (
            "thread 'main' panicked at 'there is no reactor running, must be called from the "
            "context of a Tokio 1.x runtime', src/main.rs:12:5",
        ),
        "RUST_PANIC_RUNTIME",
    ),
    Case(
        "rust None unwrapped",
        (
            "thread 'main' panicked at src/main.rs:8:40:",
            "called `Option::unwrap()` on a `None` value",
        ),
        "RUST_PANIC",
    ),
    Case(
        "bash syntax error",
        ("/app/run.sh: line 14: syntax error near unexpected token `fi'",),
        "SYNTAX_ERROR",
    ),
    # A runtime that does not fit the code, in each toolchain's words
    Case(
        "go toolchain too old",
        ("go: go.mod requires go >= 1.22 (running go 1.21.5; GOTOOLCHAIN=local)",),
        "RUNTIME_VERSION",
    ),
    Case(
        "rustc too old",
        (
            "error: package `sqlx v0.7.4` cannot be built because it requires rustc 1.75 or "
            "newer, while the currently active rustc version is 1.70.0",
        ),
        "RUNTIME_VERSION",
    ),
    Case(
        "pip refuses the interpreter",
        ("ERROR: Package 'app' requires a different Python: 3.8.18 not in '>=3.10'",),
        "RUNTIME_VERSION",
    ),
    Case(
        "yarn engines check",
        (
            'error prisma@5.3.0: The engine "node" is incompatible with this module. Expected '
            'version ">=16.13". Got "14.21.3"',
        ),
        "RUNTIME_VERSION",
    ),
    Case(
        "old node on optional chaining",
        ("SyntaxError: Unexpected token '?'",),
        "RUNTIME_VERSION",
    ),
    Case(
        ".net framework missing",
        (
            "You must install or update .NET to run this application.",
            "The framework 'Microsoft.NETCore.App', version '8.0.0' (x64) was not found.",
        ),
        "RUNTIME_VERSION",
    ),
    Case(
        "composer platform check",
        (
            "Composer detected issues in your platform: Your Composer dependencies require a PHP "
            'version ">= 8.2.0". You are running 8.1.27.',
        ),
        "RUNTIME_VERSION",
    ),
    Case(
        "bundler ruby version",
        ("Your Ruby version is 3.0.6, but your Gemfile specified 3.2.2",),
        "RUNTIME_VERSION",
    ),
    Case(
        "beam file from a newer otp",
        (
            "beam/beam_load.c(1878): Error loading module 'Elixir.App': This BEAM file was "
            "compiled for a later version of the run-time system than 24.",
        ),
        "RUNTIME_VERSION",
    ),
    Case(
        "spring bean missing",
        (
            "***************************",
            "APPLICATION FAILED TO START",
            "Field repo in com.acme.Job required a bean of type 'com.acme.Repo' that could not be "
            "found.",
        ),
        "SPRING_FAILED",
    ),
    Case(
        "spring bean cycle",
        ("The dependencies of some of the beans in the application context form a cycle:",),
        "SPRING_BEAN_CYCLE",
    ),
    Case(
        "zeitwerk",
        (
            "Zeitwerk::NameError: expected file /app/app/jobs/sync.rb to define constant "
            "SyncJob, but didn't",
        ),
        "RUBY_NAME_ERROR",
    ),
    Case(
        "laravel container",
        (
            "Illuminate\\Contracts\\Container\\BindingResolutionException: Target class "
            "[App\\Jobs\\Sync] does not exist.",
        ),
        "PHP_UNDEFINED",
    ),
    Case(
        "a toolchain banner is not a version error",
        (out("go version go1.22.1 linux/amd64"), out("Using Ruby 3.2.2, Bundler 2.5.6")),
        None,
    ),
    Case(
        "a missing datasource bean is configuration, not code",
        (
            "Parameter 0 of constructor in com.acme.Job required a bean of type "
            "'javax.sql.DataSource' that could not be found.",
        ),
        None,
    ),
    Case(
        "spring finding its beans",
        (out("Bootstrapping Spring Data JPA repositories in DEFAULT mode."),),
        None,
    ),
    # Near misses: the same words in output that is not a failure
    Case(
        "a script that sets its options fine",
        (out("+ set -euo pipefail"), out("usage: migrate.py [-h] [--dry-run]")),
        None,
    ),
    Case(
        "a help text naming its arguments",
        (out("  --image IMAGE   expected image reference (one argument)"),),
        None,
    ),
    Case("healthy run", HEALTHY, None),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_entrypoint_runtime(case: Case) -> None:
    check_case(case, entrypoint_runtime.analyze)


def test_esm_checks_look_inside_the_image_that_ran() -> None:
    ev = evidence(
        [
            "Error [ERR_REQUIRE_ESM]: require() of ES Module /app/node_modules/x/index.js from"
            " /app/dist/migrate.js not supported."
        ],
        cfg=config(),
        image_digest=DIGEST,
    )
    finding = entrypoint_runtime.analyze(ev)
    assert finding is not None
    commands = [c.command for c in finding.checks]
    assert any("@" + DIGEST in c and "package.json" in c for c in commands), commands
    assert any("--entrypoint node" in c and "dist/migrate.js" in c for c in commands), commands


SOCKET = "/cloudsql/netureyoutube:asia-northeast3:o4o-db/.s.PGSQL.5432"

COMPETING = [
    (
        "db refused, then unhandled rejection",
        (
            f"Error: connect ECONNREFUSED {SOCKET}",
            "node:internal/process/promises:288",
            "            triggerUncaughtException(err, true /* fromPromise */);",
            f"Error: connect ECONNREFUSED {SOCKET}",
            "    at PipeConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)",
            "Node.js v20.11.1",
        ),
        "db_connection",
    ),
    (
        "esm error beats npm's lifecycle noise",
        (
            out("> o4o-api@1.4.2 migrate"),
            "SyntaxError: Cannot use import statement outside a module",
            "npm ERR! code ELIFECYCLE",
            "npm ERR! errno 1",
            "npm ERR! Failed at the o4o-api@1.4.2 migrate script.",
            system("Container called exit(1).", "WARNING"),
        ),
        "entrypoint_runtime",
    ),
    (
        "alembic traceback is a history problem",
        (
            "Traceback (most recent call last):",
            '  File "/usr/local/bin/alembic", line 8, in <module>',
            "alembic.util.exc.CommandError: Can't locate revision identified by 'ae1027a6acf'",
        ),
        "migration_sql",
    ),
    (
        "missing entry file is the image's",
        (
            "Error: Cannot find module '/app/dist/migrate.js'",
            "  code: 'MODULE_NOT_FOUND',",
            "  requireStack: []",
            "Node.js v20.11.1",
        ),
        "missing_artifact",
    ),
    (
        "an unset variable behind a rust None is configuration",
        (
            "Error: environment variable DATABASE_URL is not set",
            "thread 'main' panicked at src/main.rs:8:40:",
            "called `Option::unwrap()` on a `None` value",
        ),
        "secret_config",
    ),
    (
        "invalid url is configuration",
        ("TypeError [ERR_INVALID_URL]: Invalid URL", "  input: 'undefined',", "Node.js v20.11.1"),
        "secret_config",
    ),
]


@pytest.mark.parametrize(("name", "lines", "expected"), COMPETING, ids=[c[0] for c in COMPETING])
def test_competing_causes(name: str, lines: tuple[str | LogLine, ...], expected: str) -> None:
    ev = evidence(lines, cfg=config())
    assert winner(ev) == expected, [(f.cause, f.signature, f.strength) for f in rank(ev)]


def test_type_error_after_unset_variable_is_a_symptom() -> None:
    ev = evidence(
        [
            "Error: DATABASE_URL is not defined",
            "TypeError: Cannot read properties of undefined (reading 'replace')",
        ]
    )
    finding = finding_for(ev, "entrypoint_runtime")
    assert finding is not None
    assert finding.signature == "TYPE_ERROR"
    assert finding.strength <= 0.1


def test_crash_after_db_error_is_reported_as_symptom() -> None:
    ev = evidence(
        [
            "Error: connect ECONNREFUSED 10.20.0.3:5432",
            "[UnhandledPromiseRejection: This error originated either by throwing inside of an"
            " async function without a catch block.] { code: 'ERR_UNHANDLED_REJECTION' }",
        ]
    )
    finding = finding_for(ev, "entrypoint_runtime")
    assert finding is not None
    assert finding.strength <= 0.2
    assert "symptom" in finding.title.en


def test_a_segmentation_fault_exit_status_is_read_as_a_crash() -> None:
    ev = evidence(["processing 3 files"], tasks=[task(exit_code=139, term_signal=11)])
    finding = entrypoint_runtime.analyze(ev)
    assert finding is not None
    assert finding.signature == "SEGFAULT"
    assert 0.4 <= finding.strength <= 0.6
    assert any("exit code 139" in (f.quote or "") for f in finding.facts)


def test_an_ordinary_exit_status_says_nothing() -> None:
    ev = evidence(["processing 3 files"], tasks=[task(exit_code=1)])
    assert entrypoint_runtime.analyze(ev) is None
