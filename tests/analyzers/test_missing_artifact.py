"""missing_artifact: the entry file, an executable, or migration files are not in the image."""

from __future__ import annotations

import shlex

import pytest

from analyzers import missing_artifact
from tests.analyzers._build import (
    DIGEST,
    HEALTHY,
    IMAGE,
    Case,
    check_case,
    config,
    evidence,
    out,
    rank,
    system,
    task,
    winner,
)

CASES = [
    Case(
        "commonjs entry file missing",
        (
            "node:internal/modules/cjs/loader:1080",
            "Error: Cannot find module '/app/dist/migrate.js'",
            "    at Function.executeUserEntryPoint [as runMain]"
            " (node:internal/modules/run_main:81:12)",
            "  code: 'MODULE_NOT_FOUND',",
            "  requireStack: []",
        ),
        "ENTRYPOINT_NOT_FOUND",
        min_strength=0.9,
        cfg=config(),
        fact_contains=("node dist/migrate.js", ":latest"),
    ),
    Case(
        "esm entry resolved from the working directory",
        (
            "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/app/dist/migrate.mjs' imported"
            " from /app/",
        ),
        "ENTRYPOINT_NOT_FOUND",
    ),
    Case(
        "data-source file named to the typeorm cli is missing",
        (
            "Error during migration run:",
            'Error: Unable to open file: "/app/dist/data-source.js". Cannot find module'
            " '/app/dist/data-source.js'",
            "Require stack:",
            "- /app/node_modules/typeorm/util/ImportUtils.js",
        ),
        "FILE_NOT_IN_IMAGE",
        min_strength=0.8,
    ),
    Case(
        "python script missing",
        ("python: can't open file '/app/migrate.py': [Errno 2] No such file or directory",),
        "ENTRYPOINT_NOT_FOUND",
    ),
    Case(
        "python -m module missing",
        ("/usr/local/bin/python: No module named app.migrate",),
        "ENTRYPOINT_NOT_FOUND",
    ),
    Case(
        "executable not on PATH",
        (
            system(
                "terminated: Application failed to start: kernel init: cannot resolve init "
                'executable: error finding executable "prisma" in PATH [/usr/local/sbin '
                "/usr/local/bin /usr/sbin /usr/bin /sbin /bin]: no such file or directory"
            ),
        ),
        "EXECUTABLE_NOT_FOUND",
    ),
    Case(
        "exec form of a missing executable",
        ('exec: "alembic": executable file not found in $PATH',),
        "EXECUTABLE_NOT_FOUND",
    ),
    Case("dash says not found", ("/bin/sh: 1: prisma: not found",), "EXECUTABLE_NOT_FOUND"),
    Case(
        "exit code 127 alone is suggestive",
        (system("Container called exit(127).", "WARNING"),),
        "EXECUTABLE_NOT_FOUND",
        tasks=(task(exit_code=127),),
        max_strength=0.6,
        fact_contains=("127",),
    ),
    Case(
        "entry script cannot be started",
        (
            system(
                "terminated: Application failed to start: failed to load /app/entrypoint.sh: "
                "no such file or directory"
            ),
        ),
        "ENTRYPOINT_NOT_FOUND",
    ),
    Case(
        "script not executable",
        ("/bin/sh: 1: /app/migrate.sh: Permission denied",),
        "NOT_EXECUTABLE",
    ),
    Case(
        "migrations directory missing",
        ("Error: ENOENT: no such file or directory, scandir '/app/dist/database/migrations'",),
        "MIGRATIONS_DIR_MISSING",
    ),
    Case(
        "prisma schema missing",
        (
            "Error: Could not find Prisma Schema that is required for this command.",
            "schema.prisma: file not found",
            "prisma/schema.prisma: file not found",
        ),
        "PRISMA_SCHEMA_MISSING",
    ),
    Case(
        "alembic without script_location",
        ("  FAILED: No 'script_location' key found in configuration.",),
        "TOOL_CONFIG_MISSING",
    ),
    Case(
        "alembic versions path missing",
        (
            "  FAILED: Path doesn't exist: '/app/migrations'.  Please use the 'init' command to"
            " create a new scripts folder.",
        ),
        "MIGRATIONS_DIR_MISSING",
    ),
    Case(
        "sequelize config missing",
        ('ERROR: Cannot find "/app/config/config.json". Have you run "sequelize init"?',),
        "TOOL_CONFIG_MISSING",
    ),
    Case(
        "typeorm found no migrations in the build",
        (
            out("12 migrations are already loaded in the database."),
            out("0 migrations were found in the source code."),
            "TypeError: Cannot read properties of undefined (reading 'name')",
        ),
        "MIGRATIONS_EMPTY",
        max_strength=0.65,
    ),
    Case("nothing pending is not a failure", (out("No migrations are pending"),), None),
    # A package that is not installed is the image's: the corpus's threads were fixed in the
    # Dockerfile or the dependency list (tests/corpus), not in the code.
    Case(
        "a missing package is the image's", ("Error: Cannot find module 'pg'",), "MODULE_NOT_FOUND"
    ),
    Case(
        "esm package not installed",
        (
            "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'typeorm' imported from"
            " /app/dist/migrate.js",
        ),
        "MODULE_NOT_FOUND",
    ),
    Case(
        "python package not installed",
        (
            "Traceback (most recent call last):",
            '  File "/app/manage.py", line 22, in <module>',
            "ModuleNotFoundError: No module named 'psycopg2'",
        ),
        "PY_MODULE_NOT_FOUND",
    ),
    # The dynamic loader and the java launcher, as they word a file the image lacks
    Case(
        "glibc loader without the library",
        (
            "/usr/local/bin/migrate: error while loading shared libraries: libpq.so.5: cannot "
            "open shared object file: No such file or directory",
        ),
        "SHARED_LIBRARY_MISSING",
    ),
    Case(
        "freebsd rtld without the library",
        ('diesel: Shared object "libpq.so.5" not found, required by "diesel"',),
        "SHARED_LIBRARY_MISSING",
    ),
    Case(
        "python native module without its library",
        ("ImportError: libGL.so.1: cannot open shared object file: No such file or directory",),
        "SHARED_LIBRARY_MISSING",
    ),
    Case(
        "java launcher without the jar",
        ("Error: Unable to access jarfile /app/app.jar",),
        "JAR_MISSING",
    ),
    Case(
        "java launcher without the main class",
        ("Error: Could not find or load main class org.flywaydb.commandline.Main",),
        "MAIN_CLASS_MISSING",
    ),
    Case(
        "flyway migrations directory not in the image",
        ("ERROR: Skipping filesystem location: /flyway/sql (not a directory)",),
        "MIGRATIONS_DIR_MISSING",
    ),
    Case(
        "liquibase changelog not in the image",
        (
            "liquibase.exception.ChangeLogParseException: The file db/changelog/master.yaml was "
            "not found in the configured search path:",
        ),
        "MIGRATION_FILE_MISSING",
    ),
    Case(
        "diesel without its migrations directory",
        ('Unable to find migrations directory in "/app" or any parent directories.',),
        "MIGRATIONS_DIR_MISSING",
    ),
    Case(
        "knex history names files the image lacks",
        (
            "Error: The migration directory is corrupt, the following files are missing: "
            "20240427161436_stream_ssl.js",
        ),
        "MIGRATION_FILE_MISSING",
        max_strength=0.89,
    ),
    Case(
        "php require of an uninstalled vendor directory",
        (
            "PHP Fatal error:  Uncaught Error: Failed opening required "
            "'/var/www/vendor/autoload.php' (include_path='.:/usr/share/php')",
        ),
        "FILE_NOT_IN_IMAGE",
    ),
    Case(
        "python distribution not installed",
        ("pkg_resources.DistributionNotFound: The 'gunicorn' distribution was not found",),
        "PY_MODULE_NOT_FOUND",
    ),
    Case(
        "php extension not installed",
        ("PHP Fatal error:  Uncaught Error: Call to undefined function mysqli_connect()",),
        "PHP_EXTENSION_MISSING",
    ),
    Case(
        ".net file not published",
        (
            "Unhandled exception. System.IO.FileNotFoundException: Could not find file "
            "'/app/seed/data.json'.",
        ),
        "FILE_NOT_IN_IMAGE",
    ),
    Case(
        "go opens a file the image lacks",
        ("2024/05/01 10:00:00 open /app/config/prod.yaml: no such file or directory",),
        "FILE_NOT_IN_IMAGE",
    ),
    Case(
        "python opens a file the image lacks",
        ("FileNotFoundError: [Errno 2] No such file or directory: '/app/seed/rows.csv'",),
        "FILE_NOT_IN_IMAGE",
    ),
    Case(
        "java opens a file the image lacks",
        ("java.io.FileNotFoundException: /app/seed.sql (No such file or directory)",),
        "FILE_NOT_IN_IMAGE",
    ),
    Case(
        "ruby opens a file the image lacks",
        ("Errno::ENOENT: No such file or directory @ rb_sysopen - /app/config/seed.yml",),
        "FILE_NOT_IN_IMAGE",
    ),
    Case(
        "sqlx-cli without migrations",
        ("error: while resolving migrations: No such file or directory (os error 2)",),
        "MIGRATIONS_DIR_MISSING",
    ),
    Case(
        "viper without its config file",
        ('Error: Config File "config" Not Found in "[/app /etc/app]"',),
        "FILE_NOT_IN_IMAGE",
    ),
    Case(
        "rails without database.yml",
        (
            "Cannot load database configuration: Could not load database configuration. No such "
            'file - ["config/database.yml"]',
        ),
        "FILE_NOT_IN_IMAGE",
    ),
    Case(
        "an unexpanded jdbc url is not a missing driver",
        ("java.sql.SQLException: No suitable driver found for ${DATABASE_URL}",),
        None,
    ),
    Case(
        "a cloud sql socket is the connection's",
        (
            "dial unix /cloudsql/proj:region:db/.s.PGSQL.5432: open /cloudsql/proj:region:db: no "
            "such file or directory",
        ),
        None,
    ),
    Case(
        "php's own undefined function is code, not an extension",
        ("PHP Fatal error:  Uncaught Error: Call to undefined function app_boot()",),
        None,
    ),
    # Near misses: the same tools when the files are there
    Case(
        "the loader's search order is not a failure",
        (out("ldconfig: /usr/lib/libpq.so.5 is not a symbolic link, using shared libraries"),),
        None,
    ),
    Case(
        "flyway scanning a location it found",
        (out("Scanning for filesystem resources at '/flyway/sql'"),),
        None,
    ),
    Case(
        "java launcher that started",
        (out("Starting Application using Java 21 with PID 1 (/app/app.jar started by root)"),),
        None,
    ),
    Case("healthy run", HEALTHY, None, cfg=config()),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_missing_artifact(case: Case) -> None:
    check_case(case, missing_artifact.analyze)


def test_check_lists_the_directory_in_the_digest_that_ran() -> None:
    ev = evidence(
        ["Error: Cannot find module '/app/dist/migrate.js'", "  requireStack: []"],
        cfg=config(),
        image_digest=DIGEST,
    )
    finding = missing_artifact.analyze(ev)
    assert finding is not None
    first = finding.checks[0].command
    assert "ls -la /app/dist" in first
    assert IMAGE.rsplit(":", 1)[0] + "@" + DIGEST in first
    assert "--platform=linux/amd64" in first


def test_missing_directory_check_lists_its_parent() -> None:
    ev = evidence(
        ["Error: ENOENT: no such file or directory, scandir '/app/dist/database/migrations'"],
        cfg=config(),
    )
    finding = missing_artifact.analyze(ev)
    assert finding is not None
    argv = shlex.split(finding.checks[0].command)
    inner = shlex.split(argv[argv.index("-c") + 1])
    assert inner == ["ls", "-la", "/app/dist/database", "/app/dist/database/migrations"]


def test_hostile_path_reaches_the_shell_as_one_literal_word() -> None:
    ev = evidence(
        ["Error: Cannot find module '/app/$(touch${IFS}x)/m.js'", "  requireStack: []"],
        cfg=config(),
    )
    finding = missing_artifact.analyze(ev)
    assert finding is not None
    argv = shlex.split(finding.checks[0].command)
    inner = shlex.split(argv[argv.index("-c") + 1])
    assert inner == ["ls", "-la", "/app/$(touch${IFS}x)"]


COMPETING = [
    (
        "missing entry beats npm noise",
        (
            "Error: Cannot find module '/app/dist/migrate.js'",
            "  requireStack: []",
            "npm ERR! code ELIFECYCLE",
            "npm ERR! Failed at the o4o-api@1.4.2 migrate script.",
            "Node.js v20.11.1",
        ),
        "missing_artifact",
    ),
    (
        "missing package is the image's, not code",
        (
            "Error: Cannot find module 'typeorm'",
            "Require stack:",
            "- /app/dist/migrate.js",
        ),
        "missing_artifact",
    ),
]


@pytest.mark.parametrize(("name", "lines", "expected"), COMPETING, ids=[c[0] for c in COMPETING])
def test_competing_causes(name: str, lines: tuple[str, ...], expected: str) -> None:
    ev = evidence(lines, cfg=config())
    assert winner(ev) == expected, [(f.cause, f.signature, f.strength) for f in rank(ev)]
