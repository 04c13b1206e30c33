"""Signatures written from how the tools themselves word an error (their source), each family with
lines that must not match it.

Every positive line is the library's own format string filled in with made-up names (runc's
os.PathError, coreutils env's `quote()`, PostgreSQL 16's `check_can_set_role`, curl's `failf`,
refinery's `Error` enum, …), not a line copied from a failure report. A row names the cause that
must win the whole diagnosis (every analyzer, the symptom table and the priors) and the signature
it must win with; a negative row names a signature that must not be found at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.analyzers._build import evidence, rank, task, winner


@dataclass(frozen=True)
class Wording:
    name: str
    lines: tuple[str, ...]
    cause: str
    signature: str
    exit_code: int | None = None
    # a named error is at least this strong (a bare exception class less so)
    min_strength: float = 0.75


@dataclass(frozen=True)
class NearMiss:
    name: str
    lines: tuple[str, ...]
    # (cause, signature) that must not be found for these lines
    absent: tuple[str, str]


WORDINGS = [
    # --- runc / Docker: the entry point ---------------------------------------------------------
    Wording(
        "runc execve after the look-up found the file (shebang interpreter missing)",
        ("exec /usr/local/bin/start.sh: no such file or directory",),
        "entrypoint_runtime",
        "SHEBANG_INTERPRETER",
    ),
    Wording(
        "older runc wording of the same",
        ('standard_init_linux.go:211: exec user process caused "no such file or directory"',),
        "entrypoint_runtime",
        "SHEBANG_INTERPRETER",
    ),
    Wording(
        "a shell builtin given in exec form",
        (
            "Error response from daemon: failed to create task for container: OCI runtime create"
            ' failed: runc create failed: unable to start container process: exec: "cd":'
            " executable file not found in $PATH: unknown",
        ),
        "entrypoint_runtime",
        "EXEC_FORM_COMMAND",
    ),
    Wording(
        "a whole command line as one exec-form word, quotes escaped by Docker",
        (
            'starting container process caused "exec: \\"python manage.py migrate\\":'
            ' executable file not found in $PATH": unknown',
        ),
        "entrypoint_runtime",
        "EXEC_FORM_COMMAND",
    ),
    Wording(
        "runc look-up of an entry script without the execute bit",
        (
            "OCI runtime create failed: container_linux.go:380: starting container process caused:"
            ' exec: "/docker-entrypoint.sh": permission denied: unknown',
        ),
        "entrypoint_runtime",
        "ENTRY_NOT_EXECUTABLE",
    ),
    Wording(
        "Cloud Run's mode check of the entry point",
        (
            'Invalid ENTRYPOINT. [name: "gcr.io/demo/job@sha256:0123"] error: "Command'
            ' \\"/run.sh\\": invalid mode \\"-rw-r--r--\\" for /run.sh"',
        ),
        "entrypoint_runtime",
        "ENTRY_NOT_EXECUTABLE",
    ),
    Wording(
        "runc look-up of an absolute entry point that is not in the image",
        ('exec: "/app/migrate.sh": stat /app/migrate.sh: no such file or directory: unknown',),
        "missing_artifact",
        "ENTRYPOINT_NOT_FOUND",
    ),
    Wording(
        "coreutils env cannot find the program (locale quotes)",
        ("/usr/bin/env: ‘node’: No such file or directory",),
        "missing_artifact",
        "EXECUTABLE_NOT_FOUND",
        exit_code=127,
    ),
    Wording(
        "coreutils env cannot find the program (C locale quotes)",
        ("env: 'psql': No such file or directory",),
        "missing_artifact",
        "EXECUTABLE_NOT_FOUND",
    ),
    Wording(
        "busybox env cannot execute the program",
        ("env: can't execute 'bash': No such file or directory",),
        "missing_artifact",
        "EXECUTABLE_NOT_FOUND",
    ),
    # --- PostgreSQL 16 role checks ---------------------------------------------------------------
    Wording(
        "check_can_set_role: an ownership change needs membership WITH SET",
        (
            "pg_restore: error: could not execute query: ERROR:  must be able to SET ROLE"
            ' "app_owner"',
            "Command was: ALTER TABLE public.accounts OWNER TO app_owner;",
        ),
        "db_privilege",
        "ROLE_PRIVILEGE",
    ),
    Wording(
        "user.c: granting a role without ADMIN OPTION",
        ('ERROR:  permission denied to grant role "readers"',),
        "db_privilege",
        "ROLE_PRIVILEGE",
    ),
    Wording(
        "aclchk.c: default privileges for another role",
        ("ERROR:  permission denied to change default privileges",),
        "db_privilege",
        "ROLE_PRIVILEGE",
    ),
    # --- OAuth scopes ---------------------------------------------------------------------------
    Wording(
        "google-auth's RefreshError for a scope the token endpoint refuses",
        (
            "google.auth.exceptions.RefreshError: ('invalid_scope: Invalid OAuth scope or ID"
            " token audience provided.', {'error': 'invalid_scope', 'error_description':"
            " 'Invalid OAuth scope or ID token audience provided.'})",
        ),
        "gcp_permission",
        "SCOPES_INSUFFICIENT",
    ),
    Wording(
        "a JSON API's insufficientPermissions message",
        ('    "message": "Insufficient Permission",',),
        "gcp_permission",
        "SCOPES_INSUFFICIENT",
    ),
    # --- curl connect timeouts ------------------------------------------------------------------
    Wording(
        "curl CLI: error 28 on the connect phase",
        (
            "curl: (28) Failed to connect to 10.20.0.4 port 8443 after 130112 ms: Couldn't"
            " connect to server",
        ),
        "network_egress",
        "CONNECT_TIMEOUT",
    ),
    Wording(
        "Guzzle's cURL error 28 to a public host",
        (
            "GuzzleHttp\\Exception\\ConnectException: cURL error 28: Failed to connect to"
            " api.example.com port 443 after 30002 ms: Timeout was reached",
        ),
        "network_egress",
        "CONNECT_TIMEOUT",
    ),
    Wording(
        "curl 7.83+: a connect attempt that ran for minutes",
        ("Failed to connect to oauth2.googleapis.com port 443 after 75012 ms: Couldn't connect",),
        "network_egress",
        "CONNECT_TIMEOUT",
    ),
    # --- Envoy in front of the service the job calls ---------------------------------------------
    Wording(
        "Envoy's reset before the response",
        (
            'StatusCodeError: 503 - "upstream connect error or disconnect/reset before headers.'
            ' reset reason: connection termination"',
        ),
        "upstream_service",
        "UPSTREAM_RESET",
    ),
    Wording(
        "Envoy with no healthy host",
        ("HTTP 503: no healthy upstream",),
        "upstream_service",
        "UNAVAILABLE_503",
    ),
    # --- Cloud SQL IAM database login -----------------------------------------------------------
    Wording(
        "Cloud SQL for MySQL refusing automatic IAM login for a built-in user",
        (
            "pymysql.err.OperationalError: (1045, 'Cloud SQL MySQL: Automatic IAM authentication"
            " via the auth-proxy requires an IAM-authenticated user. Access denied for other"
            " users.')",
        ),
        "cloudsql_permission",
        "CLOUDSQL_IAM_LOGIN",
    ),
    # --- Rust migration tools and drivers -------------------------------------------------------
    Wording(
        "refinery: an applied migration edited afterwards",
        ("Error: applied migration V3__add_index is different than filesystem one V3__add_index",),
        "migration_sql",
        "CHECKSUM_MISMATCH",
    ),
    Wording(
        "refinery: an applied migration whose file is gone",
        ("Error: migration V7__drop_legacy is missing from the filesystem",),
        "migration_sql",
        "HISTORY_MISMATCH",
    ),
    Wording(
        "refinery: the migrations path is not in the image",
        ("invalid migrations path ./migrations, No such file or directory (os error 2)",),
        "missing_artifact",
        "MIGRATIONS_DIR_MISSING",
    ),
    Wording(
        "sqlx-cli wrapper: the target is older than the history",
        ("error: migration 20240105 is older than the latest applied migration 20240301",),
        "migration_sql",
        "HISTORY_MISMATCH",
    ),
    Wording(
        "tokio-postgres with NoTls against sslmode=require",
        ("Error: error performing TLS handshake: no TLS implementation configured",),
        "db_connection",
        "SSL_REQUIRED",
    ),
    Wording(
        "std::env::var unwrapped on an unset variable (VarError's Debug)",
        (
            "thread 'main' panicked at src/config.rs:14:40:",
            "called `Result::unwrap()` on an `Err` value: NotPresent",
        ),
        "secret_config",
        "ENV_VAR_MISSING",
    ),
    Wording(
        "std::env::var expected (VarError's Display)",
        ("Error: REDIS_URL: environment variable not found",),
        "secret_config",
        "ENV_VAR_MISSING",
    ),
    # --- JPA / SQL Server -----------------------------------------------------------------------
    Wording(
        "Hibernate schema validation: a column type the entity does not expect",
        (
            "Schema-validation: wrong column type encountered in column [state] in table"
            " [orders]; found [varchar (Types#VARCHAR)], but expecting [int4 (Types#INTEGER)]",
        ),
        "migration_sql",
        "PENDING_MIGRATIONS",
    ),
    Wording(
        "SQL Server 547 while rows are loaded",
        (
            'The INSERT statement conflicted with the FOREIGN KEY constraint "FK_Orders_Customers".'
            ' The conflict occurred in database "shop", table "dbo.Customers", column \'Id\'.',
        ),
        "data_error",
        "ROW_CONSTRAINT",
    ),
    Wording(
        "SQL Server 547 inside a migration",
        (
            "Applying migration '20240101093000_AddCustomerFk'.",
            'The ALTER TABLE statement conflicted with the FOREIGN KEY constraint "FK_Customer".',
        ),
        "migration_sql",
        "CONSTRAINT_VIOLATION",
    ),
    # --- resolvers, MySQL DDL, runtimes ---------------------------------------------------------
    Wording(
        "Go's resolver: the database host name does not exist",
        ("dial tcp: lookup db.internal on 169.254.169.254:53: no such host",),
        "db_connection",
        "ENOTFOUND",
    ),
    Wording(
        "Go's resolver: the DNS server failed",
        ("dial tcp: lookup pubsub.googleapis.com on 10.0.0.2:53: server misbehaving",),
        "network_egress",
        "DNS_TEMPORARY",
    ),
    Wording(
        "MySQL 1061 in a migration script",
        ("ERROR 1061 (42000) at line 12: Duplicate key name 'idx_users_email'",),
        "migration_sql",
        "DUPLICATE_OBJECT",
    ),
    Wording(
        "Go's runtime on unbounded recursion",
        (
            "runtime: goroutine stack exceeds 1000000000-byte limit",
            "fatal error: stack overflow",
        ),
        "entrypoint_runtime",
        "GO_STACK_OVERFLOW",
    ),
    Wording(
        "Microsoft.Extensions.DependencyInjection: an unregistered service",
        (
            "Unhandled exception. System.InvalidOperationException: Unable to resolve service for"
            " type 'App.IClock' while attempting to activate 'App.Migrator'.",
        ),
        "entrypoint_runtime",
        "DOTNET_DI",
    ),
    Wording(
        "the registry's rate limit as the Docker client prints it",
        ("toomanyrequests: You have reached your pull rate limit. You may increase the limit",),
        "image_pull",
        "REGISTRY_RATE_LIMIT",
    ),
    # --- configuration that never reached the connection ---------------------------------------
    Wording(
        "an unset host interpolated into node's connection settings",
        ("Error: getaddrinfo ENOTFOUND undefined",),
        "secret_config",
        "DB_SETTING_UNSET",
    ),
    Wording(
        "Ecto's repo started without a database",
        (
            "[error] Postgrex.Protocol (#PID<0.215.0>) failed to connect: ** (ArgumentError)"
            " missing the :database key in options for Shop.Repo",
        ),
        "secret_config",
        "DB_SETTING_UNSET",
    ),
    Wording(
        "Ecto's URL parser",
        ("** (Ecto.InvalidURLError) invalid url ecto://app:p?w@db/shop, path should be a db",),
        "secret_config",
        "URL_INVALID",
    ),
    Wording(
        "SQLAlchemy 1.4+ given a postgres:// URL",
        ("sqlalchemy.exc.NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:postgres",),
        "secret_config",
        "URL_INVALID",
    ),
    Wording(
        "urllib parsing a URL whose password holds an unencoded ':'",
        ("ValueError: Port could not be cast to integer value as 'p:ss@db'",),
        "secret_config",
        "URL_INVALID",
    ),
    Wording(
        "PyMySQL's connect timeout",
        (
            "pymysql.err.OperationalError: (2003, \"Can't connect to MySQL server on 'db.shop'"
            ' ([Errno 110] Connection timed out)")',
        ),
        "network_egress",
        "CONNECT_TIMEOUT",
    ),
    Wording(
        "Go's net/http never got a connection",
        (
            'Get "https://api.example.com/v1/items": net/http: request canceled while waiting'
            " for connection (Client.Timeout exceeded while awaiting headers)",
        ),
        "network_egress",
        "CONNECT_TIMEOUT",
    ),
    # --- code bugs, as each runtime names its exception ----------------------------------------
    Wording(
        "Python: a dict key the code expected",
        ("Traceback (most recent call last):", "KeyError: 'customer_id'"),
        "entrypoint_runtime",
        "PY_EXCEPTION",
        min_strength=0.55,
    ),
    Wording(
        "Python: an abstract method left unimplemented",
        ("NotImplementedError: subclasses must implement load()",),
        "entrypoint_runtime",
        "PY_EXCEPTION",
    ),
    Wording(
        "JavaScript: an invalid date",
        ("RangeError: Invalid time value",),
        "entrypoint_runtime",
        "TYPE_ERROR",
    ),
    Wording(
        "Kotlin: a lateinit property read before it was set",
        (
            'Exception in thread "main" kotlin.UninitializedPropertyAccessException: lateinit'
            " property repository has not been initialized",
        ),
        "entrypoint_runtime",
        "JVM_EXCEPTION",
    ),
    Wording(
        "Java: Optional.get() on an empty Optional",
        ("java.util.NoSuchElementException: No value present",),
        "entrypoint_runtime",
        "JVM_EXCEPTION",
    ),
    Wording(
        ".NET: LINQ First() on an empty sequence",
        ("Unhandled exception. System.InvalidOperationException: Sequence contains no elements",),
        "entrypoint_runtime",
        "DOTNET_EXCEPTION",
    ),
    Wording(
        "Spring Boot: the JDBC driver is not on the class path",
        ("java.lang.IllegalStateException: Cannot load driver class: org.postgresql.Driver",),
        "missing_artifact",
        "DRIVER_MISSING",
    ),
    # --- whose 403 it is -----------------------------------------------------------------------
    Wording(
        "the Python Cloud SQL connector's Admin API call refused",
        (
            "aiohttp.client_exceptions.ClientResponseError: 403, message='Forbidden',"
            " url=URL('https://sqladmin.googleapis.com/sql/v1beta4/projects/shop/instances/db"
            "/connectSettings')",
        ),
        "cloudsql_permission",
        "CLOUDSQL_NOT_AUTHORIZED",
    ),
    Wording(
        "the Cloud SQL Admin API disabled, as a connector words it",
        (
            "[shop:us-central1:db] failed to refresh the ephemeral certificate: googleapi: Error"
            " 403: Cloud SQL Admin API has not been used in project 123 before or it is disabled.",
        ),
        "cloudsql_permission",
        "SQLADMIN_API_DISABLED",
    ),
    Wording(
        "Secret Manager's denial through google-api-core",
        (
            "google.api_core.exceptions.PermissionDenied: 403 Permission"
            " 'secretmanager.versions.access' denied for resource"
            " 'projects/shop/secrets/db-pass/versions/latest' (or it may not exist).",
        ),
        "secret_config",
        "SECRET_ACCESS_DENIED",
    ),
    # --- killed children, third-party APIs ----------------------------------------------------
    Wording(
        "concurrent.futures: a worker process killed under the pool",
        (
            "concurrent.futures.process.BrokenProcessPool: A process in the process pool was"
            " terminated abruptly while the future was running or pending.",
        ),
        "resource_limit",
        "SIGKILL",
        min_strength=0.6,
    ),
    Wording(
        "Celery's prefork pool losing a worker to SIGKILL",
        ("billiard.exceptions.WorkerLostError: Worker exited prematurely: signal 9 (SIGKILL).",),
        "resource_limit",
        "SIGKILL",
        min_strength=0.6,
    ),
    Wording(
        "the OpenAI SDK's rate limit",
        ('openai.RateLimitError: Error code: 429 - {"error": {"message": "Rate limit reached"}}',),
        "upstream_service",
        "THIRD_PARTY_RATE_LIMIT",
    ),
    Wording(
        "Anthropic's overloaded answer",
        (
            "anthropic.InternalServerError: Error code: 529 - {'type': 'error', 'error':"
            " {'type': 'overloaded_error', 'message': 'Overloaded'}}",
        ),
        "upstream_service",
        "UNAVAILABLE_503",
    ),
    Wording(
        "Faraday's server error",
        ("Faraday::ServerError: the server responded with status 502",),
        "upstream_service",
        "SERVER_ERROR_5XX",
    ),
    Wording(
        "Node's resolver asked for the Cloud SQL socket path",
        ("Error: getaddrinfo EAI_AGAIN /cloudsql/shop:us-central1:db",),
        "db_connection",
        "CLOUDSQL_SOCKET_AS_HOST",
    ),
    Wording(
        "libpq asked to resolve the socket path",
        (
            'psycopg2.OperationalError: could not translate host name "/cloudsql/shop:r:db" to'
            " address: Name or service not known",
        ),
        "db_connection",
        "CLOUDSQL_SOCKET_AS_HOST",
    ),
    # --- BigQuery and Google API deadlines -------------------------------------------------------
    Wording(
        "BigQuery: a dataset looked up in the wrong location",
        (
            "google.api_core.exceptions.NotFound: 404 Not found: Dataset shop:analytics was not"
            " found in location EU",
        ),
        "secret_config",
        "CONFIG_INVALID",
    ),
    Wording(
        "BigQuery: a column the query names is not in the table",
        ("google.api_core.exceptions.BadRequest: 400 Unrecognized name: order_total at [3:5]",),
        "data_error",
        "SCHEMA_MISMATCH",
    ),
    Wording(
        "BigQuery: the SQL does not parse",
        (
            "google.api_core.exceptions.BadRequest: 400 Syntax error: Unexpected keyword WHERE"
            " at [4:1]",
        ),
        "entrypoint_runtime",
        "SYNTAX_ERROR",
    ),
    Wording(
        "BigQuery: the job's maximum bytes billed",
        (
            "google.api_core.exceptions.BadRequest: 400 Query exceeded limit for bytes billed:"
            " 1000000000. 5242880000 or higher required.",
        ),
        "quota_exceeded",
        "QUOTA_EXCEEDED",
    ),
    Wording(
        "google-api-core: the call ran past its deadline",
        ("google.api_core.exceptions.DeadlineExceeded: 504 Deadline Exceeded",),
        "upstream_service",
        "GATEWAY_TIMEOUT_504",
        min_strength=0.7,
    ),
    # --- what the image or the JVM configuration lacks -----------------------------------------
    Wording(
        "Go's crypto/x509 in an image without a CA bundle",
        (
            'Get "https://storage.googleapis.com/storage/v1/b/shop/o": x509: failed to load'
            " system roots and no roots provided",
        ),
        "missing_artifact",
        "CA_CERTS_MISSING",
    ),
    Wording(
        "an unknown authority for a Google endpoint",
        (
            'Post "https://oauth2.googleapis.com/token": x509: certificate signed by unknown'
            " authority",
        ),
        "missing_artifact",
        "CA_CERTS_MISSING",
    ),
    Wording(
        "Spring: a profile's file not packaged",
        (
            "Caused by: java.io.FileNotFoundException: class path resource [application-prod.yml]"
            " cannot be opened because it does not exist",
        ),
        "missing_artifact",
        "FILE_NOT_IN_IMAGE",
    ),
    Wording(
        "the JVM's native library loader",
        (
            "Caused by: java.lang.UnsatisfiedLinkError: no netty_transport_native_epoll_x86_64 in"
            " java.library.path",
        ),
        "missing_artifact",
        "SHARED_LIBRARY_MISSING",
    ),
    Wording(
        "Micronaut without a configured DataSource",
        (
            "io.micronaut.context.exceptions.NoSuchBeanException: No bean of type"
            " [javax.sql.DataSource] exists.",
        ),
        "secret_config",
        "ENV_VAR_MISSING",
    ),
    Wording(
        "Quarkus failing to load a config value",
        (
            "Caused by: io.quarkus.runtime.configuration.ConfigurationException: Failed to load"
            " config value of type class java.lang.String for: quarkus.datasource.jdbc.url",
        ),
        "secret_config",
        "CONFIG_INVALID",
    ),
    Wording(
        "a JVM number parse of an unexpanded placeholder",
        (
            'Exception in thread "main" java.lang.NumberFormatException: For input string:'
            ' "${PORT}"',
        ),
        "secret_config",
        "ENV_VAR_MISSING",
    ),
    Wording(
        "node-postgres against a server certificate from the instance's own CA",
        (
            "Error: self-signed certificate in certificate chain",
            "    at TLSSocket.onConnectSecure (node:_tls_wrap:1674:34)",
            "    at /app/node_modules/pg-pool/index.js:45:11",
        ),
        "db_connection",
        "SSL_VERIFY",
    ),
    Wording(
        "libpq with sslmode=verify-full and no root certificate for the server",
        (
            'psycopg2.OperationalError: connection to server at "10.0.0.3", port 5432 failed:'
            " SSL error: certificate verify failed",
        ),
        "db_connection",
        "SSL_VERIFY",
    ),
    Wording(
        "Elixir: Application.fetch_env! of an unset key",
        (
            "** (ArgumentError) could not fetch application environment :secret_key_base for"
            " application :shop because configuration at :secret_key_base was not set",
        ),
        "secret_config",
        "CONFIG_INVALID",
    ),
    Wording(
        "an Elixir release whose runtime configuration raised",
        ("ERROR! Config provider Config.Reader failed with:",),
        "secret_config",
        "CONFIG_INVALID",
    ),
    # --- Cloud Run's platform and registry -----------------------------------------------------
    Wording(
        "a VPC connector that is gone or not usable",
        (
            "VPC connector projects/shop/locations/us-central1/connectors/egress does not exist,"
            " or Cloud Run does not have permission to use it.",
        ),
        "network_egress",
        "VPC_CONNECTOR",
    ),
    Wording(
        "Direct VPC egress into a full subnet",
        ("The subnetwork does not have enough available IP addresses for the job",),
        "network_egress",
        "SUBNET_FULL",
    ),
    Wording(
        "the registry refusing the pull credentials",
        (
            'failed to resolve reference "registry.example.com/shop/job:v3": unable to retrieve'
            " auth token: invalid username/password: unauthorized: authentication failed",
        ),
        "image_pull",
        "IMAGE_ACCESS_DENIED",
    ),
    Wording(
        "Python 2's wording of a package that is not installed",
        ("ImportError: No module named requests",),
        "missing_artifact",
        "PY_MODULE_NOT_FOUND",
    ),
    Wording(
        "a Python extension whose native library is not in the image",
        ("ImportError: libpq.so.5: cannot open shared object file: No such file or directory",),
        "missing_artifact",
        "SHARED_LIBRARY_MISSING",
    ),
    # --- Node native addons --------------------------------------------------------------------
    Wording(
        "a native addon built for another Node ABI",
        (
            "Error: The module '/app/node_modules/better-sqlite3/build/Release/sqlite3.node'",
            "was compiled against a different Node.js version using",
            "NODE_MODULE_VERSION 108. This version of Node.js requires",
        ),
        "entrypoint_runtime",
        "RUNTIME_VERSION",
    ),
    Wording(
        "a native addon built on another OS",
        ("Error: /app/node_modules/bcrypt/lib/binding/bcrypt_lib.node: invalid ELF header",),
        "entrypoint_runtime",
        "RUNTIME_VERSION",
    ),
    Wording(
        "Prisma's query engine for this platform not in the image",
        (
            "Error: Prisma Client could not locate the Query Engine for runtime"
            ' "linux-musl-openssl-3.0.x".',
        ),
        "missing_artifact",
        "DRIVER_MISSING",
    ),
    Wording(
        "the bindings loader found no compiled addon",
        ("Error: Could not locate the bindings file. Tried:",),
        "missing_artifact",
        "DRIVER_MISSING",
    ),
    Wording(
        "EF Core 9: the model changed without a migration",
        (
            "System.InvalidOperationException: The model for context 'ShopContext' has pending"
            " changes. Add a new migration before updating the database.",
        ),
        "migration_sql",
        "EF_PENDING_MODEL_CHANGES",
    ),
    Wording(
        "a Google API refusing a consumer project that does not exist",
        (
            "  details: 'Permission denied on resource project shop-prod.',",
            "  reason: 'CONSUMER_INVALID',",
            "  domain: 'googleapis.com',",
        ),
        "secret_config",
        "CONFIG_INVALID",
    ),
    Wording(
        "a Google API refusing the identity on a project",
        ("Error: 7 PERMISSION_DENIED: Permission denied on resource project shop-prod.",),
        "gcp_permission",
        "PERMISSION_DENIED",
    ),
    Wording(
        "Cloud SQL's limit on concurrent operations on one instance",
        (
            "googleapi: Error 400: Invalid request: Too many operations are being executed on the"
            " instance. Please try again later., invalid",
        ),
        "quota_exceeded",
        "RATE_LIMIT",
    ),
    Wording(
        "serde: a value of another shape than the code's type",
        ('Error: json error: invalid type: string "12", expected u32 at line 1 column 9',),
        "entrypoint_runtime",
        "RUST_DESERIALIZE",
        min_strength=0.7,
    ),
    Wording(
        "java.net: the answer did not come within the read timeout",
        ("Caused by: java.net.SocketTimeoutException: Read timed out",),
        "upstream_service",
        "READ_TIMEOUT",
        min_strength=0.6,
    ),
    Wording(
        "Node: the TLS socket closed before the handshake finished",
        ("Error: Client network socket disconnected before secure TLS connection was established",),
        "network_egress",
        "TLS_INTERRUPTED",
        min_strength=0.7,
    ),
    Wording(
        "older Ecto crashing in its URL parser",
        (
            "** (MatchError) no match of right hand side value: {:error, {:shutdown,"
            " {:failed_to_start_child, Shop.Repo, {:EXIT, {:function_clause, [{Ecto.Repo.Config,"
            " :parse_url, 1, [file: 'lib/ecto/repo/config.ex', line: 60]}",
        ),
        "secret_config",
        "URL_INVALID",
    ),
    Wording(
        "OpenSSL reading plain text where TLS belongs (a proxy on the way out)",
        (
            "Error: write EPROTO 140363402356608:error:1408F10B:SSL routines:ssl3_get_record:wrong"
            " version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:332:",
        ),
        "network_egress",
        "TLS_INTERRUPTED",
        min_strength=0.7,
    ),
    Wording(
        "skaffold's diagnosis of a pod whose image cannot be pulled",
        (
            " - deployment/api failed. Error: container api is waiting to start:"
            " gcr.io/shop/api:latest@sha256:0123 can't be pulled.",
        ),
        "image_pull",
        "IMAGE_PULL_BACKOFF",
    ),
    Wording(
        "migrate's CLI without the driver the URL names",
        ("Driver 'postgres' not found.",),
        "missing_artifact",
        "DRIVER_MISSING",
    ),
    # --- PostgreSQL refusing a migration's DDL --------------------------------------------------
    Wording(
        "CREATE INDEX CONCURRENTLY inside the tool's transaction (25001)",
        ("ERROR:  CREATE INDEX CONCURRENTLY cannot run inside a transaction block",),
        "migration_sql",
        "TRANSACTION_BLOCK",
    ),
    Wording(
        "dropping a table a view still depends on (2BP01)",
        (
            "ERROR:  cannot drop table orders because other objects depend on it",
            "DETAIL:  view order_totals depends on table orders",
        ),
        "migration_sql",
        "DEPENDENT_OBJECTS",
    ),
    Wording(
        "a write on a replica or hot standby (25006)",
        ("ERROR:  cannot execute CREATE TABLE in a read-only transaction",),
        "db_connection",
        "READ_ONLY_SERVER",
    ),
    Wording(
        "MySQL with --read-only",
        (
            "ERROR 1290 (HY000): The MySQL server is running with the --read-only option so it"
            " cannot execute this statement",
        ),
        "db_connection",
        "READ_ONLY_SERVER",
    ),
    Wording(
        "crun's look-up of a program that is not in the image",
        (
            "Error: crun: executable file `alembic` not found in $PATH: No such file or"
            " directory: OCI runtime attempted to invoke a command that was not found",
        ),
        "missing_artifact",
        "EXECUTABLE_NOT_FOUND",
    ),
    Wording(
        "Go's database/sql without the driver package imported",
        ('panic: sql: unknown driver "postgres" (forgotten import?)',),
        "missing_artifact",
        "DRIVER_NOT_COMPILED_IN",
    ),
    Wording(
        "PHP's mysqlnd against caching_sha2_password",
        (
            "SQLSTATE[HY000] [2054] The server requested authentication method unknown to the"
            " client",
        ),
        "db_connection",
        "MYSQL_ACCESS_DENIED",
    ),
    Wording(
        "MySQL Connector/Python against caching_sha2_password",
        (
            "mysql.connector.errors.NotSupportedError: Authentication plugin"
            " 'caching_sha2_password' is not supported",
        ),
        "db_connection",
        "MYSQL_ACCESS_DENIED",
    ),
    Wording(
        "the MySQL client's 2006",
        ("MySQLdb.OperationalError: (2006, 'MySQL server has gone away')",),
        "db_connection",
        "MYSQL_UNREACHABLE",
    ),
    Wording(
        "the MySQL client's 2013",
        ("pymysql.err.OperationalError: (2013, 'Lost connection to MySQL server during query')",),
        "db_connection",
        "MYSQL_UNREACHABLE",
    ),
    # --- cross-stack wordings added from the corpus's development misses ----------------------
    Wording(
        "an unknown authority for a public host named by URL (no CA bundle in the image)",
        (
            'Post "https://hooks.example.com/api/v2/notify": x509: certificate signed by unknown'
            " authority",
        ),
        "missing_artifact",
        "CA_CERTS_MISSING",
        min_strength=0.7,
    ),
    Wording(
        "Go's time.LoadLocation without tzdata",
        ("panic: unknown time zone Europe/Berlin",),
        "missing_artifact",
        "TZDATA_MISSING",
    ),
    Wording(
        "Python's zoneinfo without tzdata",
        ("zoneinfo._common.ZoneInfoNotFoundError: 'No time zone found with key Asia/Seoul'",),
        "missing_artifact",
        "TZDATA_MISSING",
    ),
    Wording(
        ".NET without libicu in the image",
        (
            "Unhandled exception. System.NotSupportedException: Globalization Invariant Mode is"
            " not supported.",
        ),
        "missing_artifact",
        "ICU_MISSING",
    ),
    Wording(
        "Flyway 10 without its database module",
        ("ERROR: No database found to handle jdbc:postgresql://10.0.0.5:5432/shop",),
        "missing_artifact",
        "DRIVER_MISSING",
    ),
    Wording(
        "sqlx's migrator on a directory the image lacks",
        ("Error: while resolving migrations: No such file or directory (os error 2)",),
        "missing_artifact",
        "MIGRATIONS_DIR_MISSING",
    ),
    Wording(
        "Go's net/url on a DSN with an unencoded %",
        ('error: parse "postgres://app:p%zz@db/shop": invalid URL escape "%zz"',),
        "secret_config",
        "URL_INVALID",
    ),
    Wording(
        "Python's urllib on a password with a colon in it",
        ("ValueError: Port could not be cast to integer value as 'secret'",),
        "secret_config",
        "URL_INVALID",
    ),
    Wording(
        "a tool's own schema-owner check",
        (
            "Error: could not check schema owner:"
            ' the user "app" is not owner of the "public" schema',
        ),
        "db_privilege",
        "MUST_BE_OWNER",
    ),
    Wording(
        "MySQL 1364 in strict mode",
        ("Error 1364: Field 'created_at' doesn't have a default value",),
        "migration_sql",
        "CONSTRAINT_VIOLATION",
    ),
    Wording(
        "MongoDB Atlas refusing an address not on its access list",
        (
            "MongooseServerSelectionError: Could not connect to any servers in your MongoDB Atlas"
            " cluster. One common reason is that you're trying to access the database from an IP"
            " that isn't whitelisted.",
        ),
        "network_egress",
        "IP_NOT_ALLOWED",
    ),
    Wording(
        "Azure SQL's server firewall",
        (
            "Cannot open server 'shop' requested by the login. Client with IP address"
            " '34.1.2.3' is not allowed to access the server.",
        ),
        "network_egress",
        "IP_NOT_ALLOWED",
    ),
    Wording(
        "pydantic-settings with several fields missing",
        ("pydantic.error_wrappers.ValidationError: 3 validation errors for Settings",),
        "secret_config",
        "CONFIG_INVALID",
    ),
    # --- written from development-part misses (2026-12-07): lines filled in with made-up names ---
    Wording(
        "Postgrex without the :ssl application started in the release",
        (
            "** (RuntimeError) SSL connection can not be established because `:ssl` application"
            " is not started,",
        ),
        "entrypoint_runtime",
        "OTP_APP_NOT_STARTED",
    ),
    Wording(
        "Cloud Run's sandbox could not start the image's init",
        (
            "Application failed to start: Failed to create init process: failed to load"
            " /usr/local/bin/run-batch: permission denied",
        ),
        "image_pull",
        "CONTAINER_START_FAILED",
    ),
    Wording(
        "BigQuery external table over Drive without the Drive scope",
        (
            "google.api_core.exceptions.Forbidden: 403 Permission denied while getting Drive"
            " credentials.",
        ),
        "gcp_permission",
        "SCOPES_INSUFFICIENT",
    ),
    Wording(
        "BigQuery external table whose source files the account may not list",
        (
            "Error in query: Permission denied while globbing file pattern. gs://nightly-exports/*.csv",
        ),
        "gcp_permission",
        "PERMISSION_DENIED",
    ),
    Wording(
        "Liquibase waiting on its lock table",
        ("INFO liquibase.lockservice :: Waiting for changelog lock....",),
        "migration_sql",
        "MIGRATION_LOCKED",
    ),
    # --- status lines quoted by package and HTTP clients -----------------------------------------
    Wording(
        "Composer's TransportException quoting the HTTP/2 status line",
        (
            'The "https://repo.example.org/p2/acme/widgets.json" file could not be downloaded'
            " (HTTP/2 502 )",
        ),
        "upstream_service",
        "SERVER_ERROR_5XX",
    ),
    Wording(
        "Erlang httpc's {StatusLine} tuple",
        ("{'HTTP/1.1', 503, 'Slow down'}",),
        "upstream_service",
        "SERVER_ERROR_5XX",
    ),
    Wording(
        "cargo's download of a crate answered 5xx",
        (
            "warning: spurious network error (1 tries remaining): failed to get successful HTTP"
            " response from `https://index.example.dev/api/v1/crates/foo/1.2.3/download`, got 504",
        ),
        "upstream_service",
        "SERVER_ERROR_5XX",
    ),
    # --- Flyway, HikariCP and Scala on the JVM ---------------------------------------------------
    Wording(
        "Flyway 10 without the module of its database",
        ("org.flywaydb.core.api.FlywayException: Unsupported Database: MySQL 8.4",),
        "missing_artifact",
        "DRIVER_MISSING",
    ),
    Wording(
        "Flyway's placeholder with no value",
        (
            "org.flywaydb.core.api.FlywayException: No value provided for placeholder:"
            " ${tenant_schema}.  Check your configuration!",
        ),
        "secret_config",
        "CONFIG_INVALID",
    ),
    Wording(
        "HikariCP's driver class and JDBC URL of different databases",
        (
            "java.lang.RuntimeException: Driver org.postgresql.Driver claims to not accept jdbcUrl,"
            " jdbc:mysql://10.0.0.5:3306/shop",
        ),
        "secret_config",
        "URL_INVALID",
    ),
    Wording(
        "code built for Scala 2.12 on a 2.13 runtime",
        ('Exception in thread "main" java.lang.NoClassDefFoundError: scala/Product$class',),
        "entrypoint_runtime",
        "LIBRARY_MISMATCH",
    ),
    Wording(
        "golang-migrate without a database or source URL",
        ("error: URL cannot be empty",),
        "secret_config",
        "URL_INVALID",
    ),
    Wording(
        "Doctrine refusing the DATABASE_URL it cannot parse",
        ("In DriverManager.php line 262:", '  Malformed parameter "url".'),
        "secret_config",
        "URL_INVALID",
    ),
    Wording(
        "Symfony reading a % in a setting as a parameter",
        ("In Container.php line 130:", '  The parameter "21abc" must be defined.'),
        "secret_config",
        "CONFIG_INVALID",
    ),
    Wording(
        "BigQuery's Node client refusing inserted rows",
        ("PartialFailureError: A failure occurred during this request.",),
        "data_error",
        "BQ_INSERT_ROWS",
    ),
]

NEAR_MISSES = [
    NearMiss(
        "a 4xx status line is not a server error",
        (
            'The "https://repo.example.org/p2/acme/widgets.json" file could not be downloaded'
            " (HTTP/2 404 )",
        ),
        ("upstream_service", "SERVER_ERROR_5XX"),
    ),
    NearMiss(
        "a class of the job's own Scala package missing is not a Scala version mismatch",
        ("java.lang.NoClassDefFoundError: scala/acme/Report",),
        ("entrypoint_runtime", "LIBRARY_MISMATCH"),
    ),
    NearMiss(
        "a program that is really not on PATH is missing_artifact's, not exec form",
        ('exec: "alembic": executable file not found in $PATH',),
        ("entrypoint_runtime", "EXEC_FORM_COMMAND"),
    ),
    NearMiss(
        "a missing file the look-up reported is not the interpreter's",
        ('exec: "/app/run.sh": stat /app/run.sh: no such file or directory',),
        ("entrypoint_runtime", "SHEBANG_INTERPRETER"),
    ),
    NearMiss(
        "the program's own exec of a file it opens",
        ("failed to exec hook: open /etc/app/hook.yaml: no such file or directory",),
        ("entrypoint_runtime", "SHEBANG_INTERPRETER"),
    ),
    NearMiss(
        "a CRLF shebang through env is the script's line endings, not a missing program",
        ("/usr/bin/env: 'bash\\r': No such file or directory",),
        ("missing_artifact", "EXECUTABLE_NOT_FOUND"),
    ),
    NearMiss(
        "a file named in an env-prefixed message",
        ("loading .env: open .env: No such file or directory",),
        ("missing_artifact", "EXECUTABLE_NOT_FOUND"),
    ),
    NearMiss(
        "PostgreSQL's parameter privilege is a superuser matter, not a role's",
        ('ERROR:  permission denied to set parameter "session_replication_role"',),
        ("db_privilege", "ROLE_PRIVILEGE"),
    ),
    NearMiss(
        "a role that does not exist is not a missing privilege",
        ('ERROR:  role "app_owner" does not exist',),
        ("db_privilege", "ROLE_PRIVILEGE"),
    ),
    NearMiss(
        "Firestore's missing or insufficient permissions is IAM, not a scope",
        ("Error: 7 PERMISSION_DENIED: Missing or insufficient permissions.",),
        ("gcp_permission", "SCOPES_INSUFFICIENT"),
    ),
    NearMiss(
        "an invalid_grant is a credential, not a scope",
        ("google.auth.exceptions.RefreshError: ('invalid_grant: Bad Request', {})",),
        ("gcp_permission", "SCOPES_INSUFFICIENT"),
    ),
    NearMiss(
        "a refused curl connect is answered at once: not a timeout",
        ("curl: (7) Failed to connect to localhost port 8080 after 0 ms: Couldn't connect",),
        ("network_egress", "CONNECT_TIMEOUT"),
    ),
    NearMiss(
        "an upstream the job itself names is not Envoy's reset",
        ("INFO upstream connect to cache established",),
        ("upstream_service", "UPSTREAM_RESET"),
    ),
    NearMiss(
        "a Cloud SQL IAM login that succeeded",
        ("Enabled automatic IAM database authentication for the connector",),
        ("cloudsql_permission", "CLOUDSQL_IAM_LOGIN"),
    ),
    NearMiss(
        "refinery applying a migration is not a checksum error",
        ("applying migration: V3__add_index",),
        ("migration_sql", "CHECKSUM_MISMATCH"),
    ),
    NearMiss(
        "rustls' missing crypto provider is not the database's TLS",
        ("no process-level CryptoProvider available -- call CryptoProvider::install_default()",),
        ("db_connection", "SSL_REQUIRED"),
    ),
    NearMiss(
        "a type named NotPresent in the program's own output",
        ("cache lookup: NotPresentInCache, fetching",),
        ("secret_config", "ENV_VAR_MISSING"),
    ),
    NearMiss(
        "Hibernate validating fine",
        ("HHH000262: Table found: public.orders",),
        ("migration_sql", "PENDING_MIGRATIONS"),
    ),
    NearMiss(
        "a SQL Server statement that succeeded",
        ("The statement has been terminated by the user after 1 row",),
        ("data_error", "ROW_CONSTRAINT"),
    ),
    NearMiss(
        "a Google client's TooManyRequests is a quota, not the registry's rate limit",
        ("google.api_core.exceptions.TooManyRequests: 429 Exceeded rate limits: too many jobs",),
        ("image_pull", "REGISTRY_RATE_LIMIT"),
    ),
    NearMiss(
        "a host the program looks up successfully",
        ("resolved lookup db.internal on 10.0.0.2:53 in 3ms",),
        ("db_connection", "ENOTFOUND"),
    ),
    NearMiss(
        "an index MySQL created",
        ("Query OK, 0 rows affected: key name 'idx_users_email' created",),
        ("migration_sql", "DUPLICATE_OBJECT"),
    ),
    NearMiss(
        "a stack size the program logs",
        ("goroutine stack size set to 8 MiB",),
        ("entrypoint_runtime", "GO_STACK_OVERFLOW"),
    ),
    NearMiss(
        "a host name that merely contains the word undefined",
        ("Error: getaddrinfo ENOTFOUND undefined-db.internal.example",),
        ("secret_config", "DB_SETTING_UNSET"),
    ),
    NearMiss(
        "a SQLAlchemy dialect plugin that is not postgres is not a URL scheme problem",
        ("sqlalchemy.exc.NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:snowflake",),
        ("secret_config", "URL_INVALID"),
    ),
    NearMiss(
        "a refused MySQL connection was answered: not a timeout",
        (
            "(2003, \"Can't connect to MySQL server on 'db.shop'"
            ' ([Errno 111] Connection refused)")',
        ),
        ("network_egress", "CONNECT_TIMEOUT"),
    ),
    NearMiss(
        "a KeyError naming an environment variable is configuration",
        ("KeyError: 'DATABASE_URL'",),
        ("entrypoint_runtime", "PY_EXCEPTION"),
    ),
    NearMiss(
        "a log line that mentions an assertion library",
        ("loaded plugin chai-assertions 4.1",),
        ("entrypoint_runtime", "PY_EXCEPTION"),
    ),
    NearMiss(
        "Spring loading its driver fine",
        ("HikariPool-1 - Driver does not support get/set network timeout for connections.",),
        ("missing_artifact", "DRIVER_MISSING"),
    ),
    # signature regexes are case-insensitive; an "upper-case only" rule must say so itself
    NearMiss(
        "a script's own lower-case snake_case variable under set -u is code",
        ("/app/run.sh: line 12: tmp_dir: unbound variable",),
        ("secret_config", "ENV_VAR_MISSING"),
    ),
    NearMiss(
        "a lower-case dict key is code, not an environment variable",
        ("KeyError: 'customer_id'",),
        ("secret_config", "ENV_VAR_MISSING"),
    ),
    NearMiss(
        "Ruby's fetch of a lower-case hash key is code",
        ('KeyError: key not found: "user_name"',),
        ("secret_config", "ENV_VAR_MISSING"),
    ),
    # the other causes' services are excluded wherever they appear on the line
    NearMiss(
        "a Secret Manager denial is not another API's",
        (
            "google.api_core.exceptions.PermissionDenied: 403 Permission"
            " 'secretmanager.versions.access' denied for resource 'projects/p/secrets/s'",
        ),
        ("gcp_permission", "PERMISSION_DENIED"),
    ),
    NearMiss(
        "the Cloud SQL Admin API disabled is not another API's",
        ("googleapi: Error 403: Cloud SQL Admin API has not been used in project 123 before",),
        ("gcp_permission", "API_DISABLED"),
    ),
    NearMiss(
        "a successful Admin API call",
        ("GET https://sqladmin.googleapis.com/v1/projects/p/instances/db 200 OK (403 bytes)",),
        ("cloudsql_permission", "CLOUDSQL_NOT_AUTHORIZED"),
    ),
    NearMiss(
        "a client error from an SDK is not a 5xx",
        ("openai.NotFoundError: Error code: 404 - {'error': {'message': 'model not found'}}",),
        ("upstream_service", "SERVER_ERROR_5XX"),
    ),
    NearMiss(
        "the program's own rate-limit class name in lower case prose",
        ("configured ratelimiterror handler for outbound calls",),
        ("upstream_service", "THIRD_PARTY_RATE_LIMIT"),
    ),
    NearMiss(
        "the socket path used as a socket (it is missing, not mis-used)",
        ("dial unix /cloudsql/shop:r:db/.s.PGSQL.5432: connect: no such file or directory",),
        ("db_connection", "CLOUDSQL_SOCKET_AS_HOST"),
    ),
    NearMiss(
        "a table the job reports it created",
        ("Created table shop.analytics.orders (not found before, created)",),
        ("secret_config", "CONFIG_INVALID"),
    ),
    NearMiss(
        "a Python SyntaxError is the code's, not BigQuery's",
        ("google.api_core.exceptions.BadRequest: 400 Invalid value for field",),
        ("entrypoint_runtime", "SYNTAX_ERROR"),
    ),
    NearMiss(
        "an unknown authority for a private host is not the image's bundle",
        ("tls: failed to verify certificate: x509: certificate signed by unknown authority",),
        ("missing_artifact", "CA_CERTS_MISSING"),
    ),
    NearMiss(
        "a number parse of a real value",
        ('java.lang.NumberFormatException: For input string: "12a"',),
        ("secret_config", "ENV_VAR_MISSING"),
    ),
    NearMiss(
        "a TLS failure to a host that is not a database",
        (
            "Error: self-signed certificate in certificate chain",
            "    at TLSSocket.onConnectSecure (node:_tls_wrap:1674:34)",
            "    at /app/node_modules/node-fetch/lib/index.js:1491:11",
        ),
        ("db_connection", "SSL_VERIFY"),
    ),
    NearMiss(
        "an application's own login failure is not the registry's",
        ("POST /login 401: unauthorized: authentication failed for user bob",),
        ("image_pull", "IMAGE_ACCESS_DENIED"),
    ),
    NearMiss(
        "a name the code imports that its library no longer has is the code's",
        ("ImportError: cannot import name 'force_text' from 'django.utils.encoding'",),
        ("missing_artifact", "PY_MODULE_NOT_FOUND"),
    ),
    NearMiss(
        "a transaction the tool opened is not a refusal",
        ("BEGIN; -- running migration inside a transaction block",),
        ("migration_sql", "TRANSACTION_BLOCK"),
    ),
    NearMiss(
        "a read-only transaction the program asked for",
        ("SET TRANSACTION READ ONLY; opened a read-only transaction for the report",),
        ("db_connection", "READ_ONLY_SERVER"),
    ),
    NearMiss(
        "a permission denied on a data file is not the entry point",
        ('open "/data/out.csv": permission denied',),
        ("entrypoint_runtime", "ENTRY_NOT_EXECUTABLE"),
    ),
    NearMiss(
        "an unknown authority for a cluster-internal host is its own CA's",
        (
            'Get "https://vault.vault.svc:8200/v1/secret": x509: certificate signed by unknown'
            " authority",
        ),
        ("missing_artifact", "CA_CERTS_MISSING"),
    ),
    NearMiss(
        "an unknown authority for an IP address",
        ('Get "https://10.1.2.3/api": x509: certificate signed by unknown authority',),
        ("missing_artifact", "CA_CERTS_MISSING"),
    ),
    NearMiss(
        "a time zone the job names wrongly in its own settings is not tzdata",
        ("invalid timezone setting 'CEST' in config.yaml",),
        ("missing_artifact", "TZDATA_MISSING"),
    ),
    NearMiss(
        "localhost that answered is not a refusal",
        ("connected to localhost:5432 after 2 attempts",),
        ("secret_config", "LOOPBACK_HOST"),
    ),
    NearMiss(
        "an OTP application that started is no failure",
        ("[info] Application ssl started at :nonode@nohost",),
        ("entrypoint_runtime", "OTP_APP_NOT_STARTED"),
    ),
    NearMiss(
        "a form field that cannot be empty is no URL setting",
        ('validation failed: "title" cannot be empty',),
        ("secret_config", "URL_INVALID"),
    ),
    NearMiss(
        "an empty URL list that is only reported",
        ("callback URL is empty, skipping the webhook",),
        ("secret_config", "URL_INVALID"),
    ),
    NearMiss(
        "a malformed query parameter of a request",
        ('400 Bad Request: Malformed parameter "limit"',),
        ("secret_config", "URL_INVALID"),
    ),
    NearMiss(
        "a request parameter the API says is required",
        ('Error: "region" must be defined for this request',),
        ("secret_config", "CONFIG_INVALID"),
    ),
    NearMiss(
        "Symfony's parameter wording about a variable",
        ('The variable "limit" must be defined before it is used',),
        ("secret_config", "CONFIG_INVALID"),
    ),
    NearMiss(
        "a counter of partial failures is no refused row",
        ("insert done: partialFailureErrors=0",),
        ("data_error", "BQ_INSERT_ROWS"),
    ),
    NearMiss(
        "partial failure handled by the job",
        ("partial failure error count: 0 rows rejected",),
        ("data_error", "BQ_INSERT_ROWS"),
    ),
]


def _ranked(lines: tuple[str, ...], exit_code: int | None = None) -> list[tuple[str, str]]:
    ev = evidence(lines, tasks=(task(exit_code=exit_code),) if exit_code is not None else ())
    return [(f.cause, f.signature) for f in rank(ev)]


@pytest.mark.parametrize("row", WORDINGS, ids=lambda r: r.name)
def test_the_tool_wording_names_its_cause(row: Wording) -> None:
    ev = evidence(row.lines, tasks=(task(exit_code=row.exit_code),) if row.exit_code else ())
    assert winner(ev) == row.cause, _ranked(row.lines, row.exit_code)
    top = rank(ev)[0]
    assert top.signature == row.signature, _ranked(row.lines, row.exit_code)
    assert top.strength >= row.min_strength, top.strength


@pytest.mark.parametrize("row", NEAR_MISSES, ids=lambda r: r.name)
def test_a_near_miss_does_not_match(row: NearMiss) -> None:
    assert row.absent not in _ranked(row.lines), _ranked(row.lines)


def test_conditional_tables_are_declared_to_the_shared_index() -> None:
    """Tables an analyzer reads only in some contexts still get one pass over the log (and keep
    their lines when a huge log file is streamed)."""
    import importlib

    from analyzers import ANALYZERS
    from jobtriage.evidence.model import LogIndex

    conditional = [
        s
        for a in ANALYZERS
        for s in getattr(
            importlib.import_module(a.analyze.__module__), "CONDITIONAL_SIGNATURES", ()
        )
    ]
    assert conditional, "db_connection and data_error declare conditional tables"
    assert {s.needle.lower() for s in conditional} <= LogIndex.known()
