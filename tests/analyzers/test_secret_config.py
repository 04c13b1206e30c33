"""secret_config: unset variables, unparsable URLs, Secret Manager refusals."""

from __future__ import annotations

import pytest

from analyzers import secret_config
from tests.analyzers._build import (
    HEALTHY,
    Case,
    check_case,
    config,
    evidence,
    out,
    rank,
    task,
    winner,
)

NO_URL = config(env=("NODE_ENV",), secrets=())

CASES = [
    Case(
        "the key file GOOGLE_APPLICATION_CREDENTIALS names is missing (Go client)",
        (
            "getConn: GetTokenSource: DefaultTokenSource: google: error getting credentials using"
            " GOOGLE_APPLICATION_CREDENTIALS environment variable: open key.json: no such file"
            " or directory",
        ),
        "CREDENTIALS_MISSING",
        cfg=config(),
        min_strength=0.8,
    ),
    Case(
        "the variable named next to a failure that is not about its file",
        ("GOOGLE_APPLICATION_CREDENTIALS=/secrets/key.json; BigQuery load failed: 503",),
        None,
        cfg=config(),
    ),
    Case(
        "variable the job does not define",
        (
            "Error: DATABASE_URL is not defined",
            "    at Object.<anonymous> (/app/dist/migrate.js:4:9)",
        ),
        "ENV_VAR_MISSING",
        cfg=NO_URL,
        min_strength=0.9,
        fact_contains=("DATABASE_URL, which the job does not define",),
    ),
    Case(
        "variable the job defines (value empty?)",
        ("Error: DATABASE_URL must be set",),
        "ENV_VAR_MISSING",
        cfg=config(),
        max_strength=0.9,
        fact_contains=("probably empty or wrong",),
    ),
    Case(
        "prisma schema validation",
        (
            "Error: Prisma schema validation - (get-config wasm)",
            "Error code: P1012",
            "error: Environment variable not found: DATABASE_URL.",
            "  -->  prisma/schema.prisma:10",
        ),
        "ENV_VAR_MISSING",
        cfg=NO_URL,
        min_strength=0.9,
    ),
    Case(
        "python os.environ",
        (
            "Traceback (most recent call last):",
            '  File "/app/migrate.py", line 5, in <module>',
            "KeyError: 'DATABASE_URL'",
        ),
        "ENV_VAR_MISSING",
    ),
    Case(
        "python-decouple",
        (
            "decouple.UndefinedValueError: DATABASE_URL not found. Declare it as envvar or define a"
            " default value.",
        ),
        "ENV_VAR_MISSING",
    ),
    Case(
        "nestjs config validation",
        ('Error: Config validation error: "DATABASE_URL" is required',),
        "ENV_INVALID",
    ),
    Case(
        "django-environ",
        ("django.core.exceptions.ImproperlyConfigured: Set the DATABASE_URL environment variable",),
        "ENV_VAR_MISSING",
        fact_contains=("DATABASE_URL",),
    ),
    Case(
        "envalid lists the missing names below",
        (
            "================================",
            " Missing environment variables:",
            "    DB_PASSWORD: undefined",
        ),
        "ENV_VAR_MISSING",
        cfg=NO_URL,
        fact_contains=("DB_PASSWORD",),
    ),
    Case(
        "node url parse of undefined",
        (
            "TypeError [ERR_INVALID_URL]: Invalid URL",
            "  input: 'undefined',",
            "  code: 'ERR_INVALID_URL'",
        ),
        "URL_INVALID",
        fact_contains=("'undefined'",),
    ),
    Case(
        "sqlalchemy empty url",
        ("sqlalchemy.exc.ArgumentError: Could not parse rfc1738 URL from string ''",),
        "URL_INVALID",
        fact_contains=("empty",),
    ),
    Case(
        "prisma protocol",
        (
            "error: Error validating datasource `db`: the URL must start with the protocol"
            " `postgresql://` or `postgres://`.",
        ),
        "URL_INVALID",
    ),
    Case(
        "secret access denied at start",
        (),
        "SECRET_ACCESS_DENIED",
        cfg=config(service_account=None),
        tasks=(
            task(
                exit_code=None,
                status_message="Permission denied on secret: projects/123456789012/secrets/"
                "db-url/versions/latest for Revision service account 123456789012-compute@"
                "developer.gserviceaccount.com.",
            ),
        ),
        min_strength=0.93,
        fact_contains=("Permission denied on secret", "default compute"),
    ),
    Case(
        "secret version destroyed",
        (
            'Could not fetch secret "projects/netureyoutube/secrets/db-url/versions/7" for'
            ' environment variable "DATABASE_URL". Instance startup will now abort: Secret Version'
            " [projects/123/secrets/db-url/versions/7] is in DESTROYED state.",
        ),
        "SECRET_VERSION_DESTROYED",
    ),
    Case(
        "secret version disabled",
        ("Secret Version [projects/123/secrets/db-url/versions/3] is in DISABLED state.",),
        "SECRET_VERSION_DISABLED",
    ),
    Case(
        "secret not found",
        ("Secret projects/123456789012/secrets/db-url/versions/latest was not found",),
        "SECRET_NOT_FOUND",
    ),
    Case(
        "client-side accessor denied",
        (
            "google.api_core.exceptions.PermissionDenied: 403 Permission 'secretmanager.versions."
            "access' denied for resource 'projects/netureyoutube/secrets/db-url/versions/latest'"
            " (or it may not exist).",
        ),
        "SECRET_ACCESS_DENIED",
    ),
    Case(
        "a defaulted variable is not a failure",
        (
            out("NODE_ENV is not set, defaulting to 'production'"),
            out("LOG_LEVEL not set, using info"),
        ),
        None,
    ),
    Case(
        "driver import error is code",
        ("django.core.exceptions.ImproperlyConfigured: Error loading psycopg2 or psycopg module",),
        None,
    ),
    # Other stacks' configuration loaders, as their sources word the failure
    Case(
        "spring boot 2 without a datasource url",
        ("Reason: Failed to determine suitable jdbc url",),
        "ENV_VAR_MISSING",
    ),
    Case(
        "elixir System.fetch_env!",
        (
            '** (System.EnvError) could not fetch environment variable "DATABASE_URL" because it '
            "is not set",
        ),
        "ENV_VAR_MISSING",
    ),
    Case(
        "rust url crate without a scheme",
        ("error: relative URL without a base",),
        "URL_INVALID",
    ),
    Case(
        "sqlx configuration error",
        ("Error: error with configuration: invalid port number",),
        "CONFIG_INVALID",
    ),
    Case(
        "rust panic on an unparsable url",
        (
            "thread 'main' panicked at 'called `Result::unwrap()` on an `Err` value: "
            'InvalidUrl("Illegal character in authority")\', src/main.rs:9:5',
        ),
        "URL_INVALID",
    ),
    Case(
        "rails master key does not decrypt the credentials",
        (
            "ActiveSupport::MessageEncryptor::InvalidMessage: ActiveSupport::MessageEncryptor::"
            "InvalidMessage",
        ),
        "MASTER_KEY_INVALID",
    ),
    Case(
        "rails master key missing",
        (
            "Missing encryption key to decrypt file with. Ask your team for your master key and "
            "write it to config/master.key or put it in the ENV['RAILS_MASTER_KEY'].",
        ),
        "MASTER_KEY_MISSING",
    ),
    Case(
        "ecto without ecto_repos",
        ("warning: could not find Ecto repos in any of the apps: [:shop].",),
        "ECTO_REPOS_MISSING",
        max_strength=0.75,
    ),
    Case(
        "sqlite path that cannot be opened",
        ("SQLSTATE[HY000] [14] unable to open database file",),
        "SQLITE_PATH",
        max_strength=0.75,
    ),
    Case(
        "drizzle-kit config without credentials",
        (
            "Error: Either `connectionString` or `host, port, etc.` params be provided in "
            "config file",
        ),
        "ENV_VAR_MISSING",
    ),
    Case(
        "cloud run secret version that does not exist",
        (),
        "SECRET_NOT_FOUND",
        completed_message="spec.template.spec.containers[0].env[1].value_from.secret_key_ref: "
        "Secret projects/123456/secrets/api-db-password/versions/latest was not found",
    ),
    Case(
        "a missing image is not a secret",
        (),
        None,
        completed_message="Image 'europe-docker.pkg.dev/p/r/api:latest' not found.",
    ),
    Case(
        "bash set -u on an unset variable",
        ("/app/entrypoint.sh: line 4: DATABASE_URL: unbound variable",),
        "ENV_VAR_MISSING",
    ),
    Case(
        "dash ${NAME:?}",
        ("/docker-entrypoint.sh: 3: DATABASE_URL: parameter not set",),
        "ENV_VAR_MISSING",
    ),
    Case(
        "quarkus config property missing",
        (
            "SRCFG00014: The config property quarkus.datasource.jdbc.url is required but it "
            "could not be found in any config source",
        ),
        "ENV_VAR_MISSING",
    ),
    Case(
        "flyway without a url",
        ("ERROR: Unable to connect to the database. Configure the url, user and password!",),
        "ENV_VAR_MISSING",
    ),
    Case(
        "ef core design-time context",
        (
            "Unable to create an object of type 'ShopContext'. For the different patterns "
            "supported at design time, see https://go.microsoft.com/fwlink/?linkid=851728",
        ),
        "CONFIG_INVALID",
        max_strength=0.75,
    ),
    Case(
        "sqlx macros without a database url",
        ("error: set `DATABASE_URL` to use query macros online, or run `cargo sqlx prepare`",),
        "ENV_VAR_MISSING",
    ),
    Case(
        "spring boot with no datasource bean",
        (
            "Parameter 0 of constructor in com.acme.Job required a bean of type "
            "'javax.sql.DataSource' that could not be found.",
        ),
        "ENV_VAR_MISSING",
    ),
    Case(
        "jdbc url left as a placeholder",
        ("java.sql.SQLException: No suitable driver found for ${DATABASE_URL}",),
        "ENV_VAR_MISSING",
    ),
    Case(
        "hikari without a jdbc url",
        ("java.lang.IllegalArgumentException: jdbcUrl is required with driverClassName.",),
        "ENV_VAR_MISSING",
    ),
    Case(
        "pgjdbc without a password",
        (
            "org.postgresql.util.PSQLException: The server requested password-based "
            "authentication, but no password was provided by plugin null.",
        ),
        "PASSWORD_NOT_SET",
    ),
    Case(
        "node-postgres with an undefined password",
        ("Error: SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string",),
        "PASSWORD_NOT_SET",
    ),
    Case(
        "ado.net connection string keyword",
        ("System.ArgumentException: Keyword not supported: 'server name'.",),
        "URL_INVALID",
    ),
    Case(
        "mongoose without a uri",
        ('MongooseError: The `uri` parameter to `openUri()` must be a string, got "undefined".',),
        "ENV_VAR_MISSING",
    ),
    Case(
        "mongodb scheme",
        (
            "MongoParseError: Invalid scheme, expected connection string to start with "
            '"mongodb://" or "mongodb+srv://"',
        ),
        "URL_INVALID",
    ),
    Case(
        "a jdbc url with no driver is the image's, not configuration",
        ("java.sql.SQLException: No suitable driver found for jdbc:postgresql://db:5432/app",),
        None,
    ),
    Case(
        "a script's own lower-case variable is code",
        ("/app/run.sh: line 9: retries: unbound variable",),
        None,
    ),
    # Near misses: the same words where nothing is misconfigured
    Case(
        "a password with @ split the url (libpq)",
        (
            'psycopg2.OperationalError: could not translate host name "s3cr@db" to address: '
            "Name or service not known",
        ),
        "URL_CREDENTIALS_UNESCAPED",
    ),
    Case(
        "a password with @ split the url (node, escaped quotes)",
        ('{"message":"getaddrinfo ENOTFOUND \\"pa@db.internal\\""}',),
        "URL_CREDENTIALS_UNESCAPED",
    ),
    Case(
        "a password with @ split the url (go)",
        ("dial tcp: lookup x@10.1.2.3: no such host",),
        "URL_CREDENTIALS_UNESCAPED",
    ),
    Case(
        "a plain unknown host is db_connection's",
        ('could not translate host name "db" to address: Name or service not known',),
        None,
    ),
    Case(
        "google client without a project",
        ("OSError: Project was not passed and could not be determined from the environment.",),
        "CONFIG_INVALID",
    ),
    Case(
        "cloud storage bucket name from an empty setting",
        ("google.api_core.exceptions.BadRequest: 400 GET ...: Invalid bucket name: '_exports'",),
        "CONFIG_INVALID",
    ),
    Case(
        "a rust panic on another error is not configuration",
        (
            "thread 'main' panicked at 'called `Result::unwrap()` on an `Err` value: Io(Os { code: "
            "2, kind: NotFound })', src/main.rs:9:5",
        ),
        None,
    ),
    Case(
        "an absolute url parses",
        (out("Parsed URL https://api.example.com/v1 (relative paths resolved against it)"),),
        None,
    ),
    Case(
        "ecto found its repos",
        (out("[info] == Running 20240101 Shop.Repo.Migrations.AddOrders.change/0 forward"),),
        None,
    ),
    Case("healthy run", HEALTHY, None, cfg=config()),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_secret_config(case: Case) -> None:
    check_case(case, secret_config.analyze)


def test_secret_checks_name_the_secret() -> None:
    ev = evidence(
        [
            "Permission 'secretmanager.versions.access' denied for resource "
            "'projects/netureyoutube/secrets/db-url/versions/latest'"
        ],
        cfg=config(),
    )
    finding = secret_config.analyze(ev)
    assert finding is not None
    commands = [c.command for c in finding.checks]
    assert "gcloud secrets versions list db-url --project=netureyoutube" in commands
    assert "gcloud secrets get-iam-policy db-url --project=netureyoutube" in commands


def test_latest_secret_versions_are_pointed_out() -> None:
    finding = secret_config.analyze(evidence(["Error: DATABASE_URL must be set"], cfg=config()))
    assert finding is not None
    assert any(f.note is not None and "'latest'" in f.note.en for f in finding.facts)


COMPETING = [
    (
        "unset variable, then a TypeError",
        (
            "Error: DATABASE_URL is not defined",
            "TypeError: Cannot read properties of undefined (reading 'replace')",
            "Node.js v20.11.1",
        ),
        "secret_config",
    ),
    (
        "python KeyError beats the traceback around it",
        (
            "Traceback (most recent call last):",
            '  File "/app/migrate.py", line 5, in <module>',
            "KeyError: 'DATABASE_URL'",
        ),
        "secret_config",
    ),
]


@pytest.mark.parametrize(("name", "lines", "expected"), COMPETING, ids=[c[0] for c in COMPETING])
def test_competing_causes(name: str, lines: tuple[str, ...], expected: str) -> None:
    ev = evidence(lines, cfg=NO_URL)
    assert winner(ev) == expected, [(f.cause, f.signature, f.strength) for f in rank(ev)]
