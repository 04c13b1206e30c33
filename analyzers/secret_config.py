"""Configuration or secrets are wrong or missing.

Recognises an environment variable the program needs but did not get (`DATABASE_URL is not
defined`, Prisma's `Environment variable not found: DATABASE_URL`, Python's `KeyError:
'DATABASE_URL'`, python-decouple, django-environ, NestJS/Joi, envalid, t3-env and
pydantic-settings wording), a connection URL that cannot be parsed (`ERR_INVALID_URL`, SQLAlchemy's
`Could not parse rfc1738 URL`, Prisma's "the URL must start with the protocol", `invalid dsn`),
other stacks' configuration errors (Spring Boot's `Could not resolve placeholder` / `Failed to
bind properties` / no datasource url, Quarkus, Flyway without a url, Entity Framework's connection
string, Elixir's `System.fetch_env!`, Ecto without `:ecto_repos`, Rails' credentials master key,
the Rust url crate and sqlx's `error with configuration`, a shell's `unbound variable`), and
Secret Manager refusing the secret (`Permission denied on secret`,
`secretmanager.versions.access`, a version DISABLED, DESTROYED or not found). The job's own
configuration sharpens it: a variable the log names that the job does not define at all is said
so outright, and secrets read at version `latest` are pointed out. A host name with an "@" in it
(whatever the resolver's wording) is a connection URL whose password needed URL-encoding.
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
    Match,
    Signature,
    build_finding,
    grep_indexed,
    line_match,
    match_signatures,
    match_status,
    neighbours,
    service_account_fact,
    sig,
)
from jobtriage.evidence import Evidence, ExecutionRef, LogLine
from jobtriage.text import Text


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="List the env var names and secret references the job defines",
                ko="Job에 정의된 환경변수 이름과 시크릿 참조 확인",
            ),
            commands.describe_job(
                ref, fmt="yaml(spec.template.spec.template.spec.containers[].env)"
            ),
        ),
        Check(
            Text(
                en="Read the configuration errors of this execution",
                ko="이 실행의 설정 관련 오류 로그 확인",
            ),
            commands.read_logs(
                ref,
                extra='(textPayload:"environment variable" OR textPayload:"Invalid URL" OR '
                'textPayload:"secret" OR textPayload:"KeyError")',
            ),
        ),
    )


CAUSE = Cause(
    id="secret_config",
    # Seed had no separate prior for this: it folded "secrets just updated" into the DB connection
    # hypothesis (A). A wrong or missing variable is common right after an env/secret change, so it
    # gets the largest of the small priors.
    prior=0.08,
    name=Text(
        en="Configuration or secrets are wrong or missing",
        ko="설정값·시크릿 누락 또는 오류",
    ),
    checks=_checks,
    workarounds=(
        Text(
            en="Add the missing variable to the job (gcloud run jobs update --update-env-vars or "
            "--update-secrets=NAME=SECRET:VERSION)",
            ko="누락된 환경변수를 Job에 추가 (gcloud run jobs update --update-env-vars 또는 "
            "--update-secrets=NAME=SECRET:VERSION)",
        ),
        Text(
            en="Pin secrets to the last version that worked instead of 'latest', and check the "
            "value has no quotes, trailing newline or unescaped special characters",
            ko="시크릿을 'latest' 대신 마지막 정상 버전으로 고정하고, 값에 따옴표·줄바꿈·"
            "인코딩 안 된 특수문자가 없는지 확인",
        ),
        Text(
            en="Grant the job's service account roles/secretmanager.secretAccessor on the secret",
            ko="Job 서비스 계정에 해당 시크릿의 roles/secretmanager.secretAccessor 부여",
        ),
    ),
    refute_hint=Text(
        en="No missing-variable, bad-URL or Secret Manager error in the log",
        ko="환경변수 누락·URL 형식 오류·Secret Manager 오류 로그 없음",
    ),
)

_ENV_MISSING = Text(
    en="A required environment variable is not set",
    ko="필수 환경변수가 설정되지 않음",
)
_ENV_INVALID = Text(
    en="Environment variables failed the program's validation",
    ko="환경변수가 프로그램의 설정 검증을 통과하지 못함",
)
_CONFIG_INVALID = Text(
    en="The program reports its configuration is invalid",
    ko="프로그램이 설정이 잘못되었다고 보고함",
)
_URL_INVALID = Text(
    en="The database URL cannot be parsed (empty, quoted, or special characters not encoded)",
    ko="DB URL을 해석할 수 없음(빈 값·따옴표 포함·특수문자 미인코딩)",
)
_DB_SETTING_UNSET = Text(
    en="The database host or name reached the driver unset (an environment variable the "
    "configuration reads is missing)",
    ko="DB 호스트·이름이 설정되지 않은 채 드라이버에 전달됨(설정이 읽는 환경변수 누락)",
)
_LOOPBACK = Text(
    en="The job connects to localhost, where nothing listens in a Cloud Run task unless a "
    "sidecar does: the host setting is probably unset or left at its default",
    ko="Job이 localhost로 연결함: Cloud Run 태스크에서는 사이드카가 없으면 아무것도 수신하지 "
    "않음 — 호스트 설정이 비어 있거나 기본값 그대로일 가능성",
)
_MASTER_KEY = Text(
    en="The credentials master key is missing or wrong (RAILS_MASTER_KEY / config/master.key)",
    ko="credentials 마스터 키가 없거나 틀림(RAILS_MASTER_KEY / config/master.key)",
)
_SECRET_DENIED = Text(
    en="Secret Manager denied the job's service account access to a secret",
    ko="Secret Manager가 Job 서비스 계정의 시크릿 접근을 거부함",
)
_SECRET_DISABLED = Text(
    en="The secret version the job reads is disabled",
    ko="Job이 읽는 시크릿 버전이 비활성화(DISABLED)됨",
)
_SECRET_DESTROYED = Text(
    en="The secret version the job reads was destroyed",
    ko="Job이 읽는 시크릿 버전이 폐기(DESTROYED)됨",
)
_SECRET_NOT_FOUND = Text(
    en="The secret or secret version the job reads does not exist",
    ko="Job이 읽는 시크릿 또는 시크릿 버전이 존재하지 않음",
)
_SECRET_FETCH = Text(
    en="Cloud Run could not fetch a secret for an environment variable",
    ko="Cloud Run이 환경변수용 시크릿을 가져오지 못함",
)

_URL_UNESCAPED = Text(
    en='The connection URL\'s password has a character that must be URL-encoded ("@", ":", '
    '"/", "#"): the URL was split at the wrong place and part of it was taken as the host',
    ko="연결 URL 비밀번호에 URL 인코딩이 필요한 문자(@ : / #)가 있어 URL이 잘못 나뉘고 그 일부가 "
    "호스트로 해석됨",
)
# A host as resolvers print it ("…", `…`, '…' or bare) that holds an "@" (the tail of a
# password, then the real host).
_AT_IN_HOST = (
    r"(?:host(?: name)?|ENOTFOUND|EAI_AGAIN|lookup|UnknownHostException:?|address)\s*"
    r"\\?[\"'`(]?[^\s\"'`\\]*@[\w.-]+"
)

# An environment variable name as programs print it: UPPER_SNAKE (or a long all-caps word).
_NAME = r"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{4,}[0-9]*)"
# In a bare "X is required" sentence only an UPPER_SNAKE name counts ("HTTPS is required" is not
# about the environment).
_SNAKE = r"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"
# Wording of a warning that recovered, not of a failure ("not set, defaulting to …").
_NOT_A_FAILURE = re.compile(
    r"(?i)defaulting|using (?:the )?default|fall(?:ing)?\s*back|ignor|optional|skipp|, using\b"
)

_ENV_PATTERNS: tuple[re.Pattern[str], ...] = (
    # DATABASE_URL is not defined / must be set / is required / environment variable is not set
    re.compile(
        rf"{_SNAKE}[\"'`]?\s+(?:(?:env(?:ironment)?\s+)?var(?:iable)?\s+)?(?:is\s+|was\s+)?"
        r"(?:not\s+(?:defined|set|provided|found|configured)|must\s+be\s+(?:set|defined|provided)"
        r"|required|missing|undefined|empty)\b"
    ),
    # Environment variable not found: DATABASE_URL / Missing required environment variable: X
    re.compile(
        r"(?i:env(?:ironment)?[ _-]?var(?:iable)?s?)\s+(?i:not\s+found|is\s+not\s+set|not\s+set"
        r"|missing|is\s+required|required|undefined)\s*[:=]?\s*[\"'`]?" + _NAME
    ),
    re.compile(
        r"(?i:missing|required|undefined|unset)\s+(?i:required\s+)?"
        r"(?i:env(?:ironment)?\s+var(?:iable)?s?)\s*[:=]?\s*[\"'`]?" + _NAME
    ),
    # django-environ: Set the DATABASE_URL environment variable
    re.compile(rf"\bSet the {_NAME} environment variable"),
    # Joi (NestJS ConfigModule): Config validation error: "DATABASE_URL" is required
    re.compile(rf"\"{_NAME}\" is required"),
    # python-decouple: DATABASE_URL not found. Declare it as envvar or define a default value.
    re.compile(rf"{_NAME} not found\. Declare it as envvar"),
    # os.environ["DATABASE_URL"]
    re.compile(rf"KeyError: [\"']{_NAME}[\"']"),
)

_ENV_NEEDLES = (
    "is not defined",
    "not set",
    "must be set",
    "must be defined",
    "is required",
    "is missing",
    "is undefined",
    "not provided",
    "environment variable",
    "env var",
    "KeyError:",
    "Declare it as envvar",
)

SIGNATURES: tuple[Signature, ...] = (
    Signature("Permission denied on secret", "SECRET_ACCESS_DENIED", 0.95, _SECRET_DENIED),
    Signature("secretmanager.versions.access", "SECRET_ACCESS_DENIED", 0.93, _SECRET_DENIED),
    Signature("SECRETS_ACCESS_CHECK_FAILED", "SECRET_ACCESS_DENIED", 0.93, _SECRET_DENIED),
    Signature("is in DISABLED state", "SECRET_VERSION_DISABLED", 0.95, _SECRET_DISABLED),
    Signature("is in DESTROYED state", "SECRET_VERSION_DESTROYED", 0.95, _SECRET_DESTROYED),
    Signature(
        "secrets/",
        "SECRET_NOT_FOUND",
        0.9,
        _SECRET_NOT_FOUND,
        re.compile(
            r"(?i)secret[^\n]*projects/[^\s/]+/secrets/\S+[^\n]*(?:was not found|not found)"
        ),
    ),
    Signature("Could not fetch secret", "SECRET_FETCH_FAILED", 0.9, _SECRET_FETCH),
    # Cloud Run's status for a secret reference whose version does not exist (also when the
    # project part is elided or given by number)
    sig(
        "was not found",
        "SECRET_NOT_FOUND",
        0.9,
        _SECRET_NOT_FOUND,
        r"\bSecret\b[^\n]*\bversions/[^\s/]+ was not found",
    ),
    Signature("Environment variable not found:", "ENV_VAR_MISSING", 0.93, _ENV_MISSING),
    Signature("Missing environment variables:", "ENV_VAR_MISSING", 0.9, _ENV_MISSING),
    Signature("Invalid environment variables", "ENV_INVALID", 0.85, _ENV_INVALID),
    Signature("Config validation error", "ENV_INVALID", 0.85, _ENV_INVALID),
    Signature(
        "Field required",
        "ENV_INVALID",
        0.75,
        _ENV_INVALID,
        re.compile(r"type=missing"),
    ),
    Signature(
        "ImproperlyConfigured",
        "CONFIG_INVALID",
        0.75,
        _CONFIG_INVALID,
        re.compile(r"^(?!.*(?:Error loading|No module named|module)).*ImproperlyConfigured"),
    ),
    Signature("setting must not be empty", "CONFIG_INVALID", 0.85, _CONFIG_INVALID),
    Signature("ERR_INVALID_URL", "URL_INVALID", 0.88, _URL_INVALID),
    Signature("Invalid URL", "URL_INVALID", 0.85, _URL_INVALID, re.compile(r"TypeError")),
    Signature("Could not parse rfc1738 URL", "URL_INVALID", 0.9, _URL_INVALID),
    Signature("Could not parse SQLAlchemy URL", "URL_INVALID", 0.9, _URL_INVALID),
    Signature("the URL must start with the protocol", "URL_INVALID", 0.9, _URL_INVALID),
    Signature("must start with the protocol", "URL_INVALID", 0.9, _URL_INVALID),
    Signature("P1013", "URL_INVALID", 0.88, _URL_INVALID, re.compile(r"\bP1013\b")),
    Signature("The provided database string is invalid", "URL_INVALID", 0.88, _URL_INVALID),
    Signature("invalid dsn", "URL_INVALID", 0.85, _URL_INVALID),
    Signature("in connection info string", "URL_INVALID", 0.85, _URL_INVALID),
    Signature("URI malformed", "URL_INVALID", 0.75, _URL_INVALID),
    # Other stacks (signatures reviewed against the failure corpus's development part)
    sig("invalid userinfo", "URL_INVALID", 0.9, _URL_INVALID),
    sig("cannot parse `", "URL_INVALID", 0.86, _URL_INVALID, r"cannot parse `\w+://"),
    sig("invalid port", "URL_INVALID", 0.88, _URL_INVALID, r'invalid port ".*" after host'),
    sig("ParseConnectOptions", "URL_INVALID", 0.86, _URL_INVALID),
    # Go's net/url on a DSN with an unencoded % or control character, or no scheme at all;
    # Python's urllib on a password with : or @ in it
    # A refused connection to the loopback address: weaker than db_connection's refusal (a
    # Cloud SQL Auth Proxy sidecar does listen there), so this ranks second, as the alternative
    sig(
        "127.0.0.1",
        "LOOPBACK_HOST",
        0.6,
        _LOOPBACK,
        r"(?:ECONNREFUSED|[Cc]onnection refused|Errno 111).*\b127\.0\.0\.1\b"
        r"|\b127\.0\.0\.1\b.*(?:ECONNREFUSED|[Cc]onnection refused|Errno 111)",
    ),
    sig(
        "localhost",
        "LOOPBACK_HOST",
        0.6,
        _LOOPBACK,
        r"(?:ECONNREFUSED|[Cc]onnection refused|Errno 111).*\blocalhost\b"
        r"|\blocalhost\b.*(?:ECONNREFUSED|[Cc]onnection refused|Errno 111)",
    ),
    sig("invalid URL escape", "URL_INVALID", 0.88, _URL_INVALID),
    sig("invalid control character in URL", "URL_INVALID", 0.86, _URL_INVALID),
    sig("first path segment in URL cannot contain colon", "URL_INVALID", 0.86, _URL_INVALID),
    sig("Port could not be cast to integer value", "URL_INVALID", 0.88, _URL_INVALID),
    sig("RelativeUrlWithoutBase", "URL_INVALID", 0.86, _URL_INVALID),
    sig("Could not resolve placeholder", "CONFIG_INVALID", 0.9, _CONFIG_INVALID),
    sig("secret_key_base", "CONFIG_INVALID", 0.9, _CONFIG_INVALID, r"Missing .?secret_key_base"),
    sig("using password: NO", "PASSWORD_NOT_SET", 0.96, _CONFIG_INVALID),
    sig(
        "problem refreshing your current auth tokens", "CREDENTIALS_INVALID", 0.86, _CONFIG_INVALID
    ),
    sig("invalid_grant", "CREDENTIALS_INVALID", 0.84, _CONFIG_INVALID),
    sig("Could not load the default credentials", "CREDENTIALS_MISSING", 0.86, _CONFIG_INVALID),
    sig("DefaultCredentialsError", "CREDENTIALS_MISSING", 0.86, _CONFIG_INVALID),
    sig("application_default_credentials.json", "CREDENTIALS_MISSING", 0.8, _CONFIG_INVALID),
    # The key file GOOGLE_APPLICATION_CREDENTIALS names is not there (missing, or a relative path
    # from another working directory), in a line that names the variable (Go's client does)
    sig(
        "GOOGLE_APPLICATION_CREDENTIALS",
        "CREDENTIALS_MISSING",
        0.86,
        _CONFIG_INVALID,
        r"GOOGLE_APPLICATION_CREDENTIALS.*(?:no such file|not found|does not exist|ENOENT)",
    ),
    sig(
        "environment variable",
        "ENV_VAR_MISSING",
        0.84,
        _ENV_MISSING,
        r"(environment variable \S+ (is )?(not set|missing|required|undefined|empty)"
        r"|missing (required )?environment variable)",
    ),
    sig(
        "KeyError: '",
        "ENV_VAR_MISSING",
        0.8,
        _ENV_MISSING,
        r"os\.environ|(?-i:KeyError: '[A-Z][A-Z0-9_]{2,}')",
    ),
    sig("The specified bucket does not exist", "CONFIG_INVALID", 0.85, _CONFIG_INVALID),
    sig("NoSuchBucket", "CONFIG_INVALID", 0.85, _CONFIG_INVALID),
    sig("could not find default credentials", "CREDENTIALS_MISSING", 0.86, _CONFIG_INVALID),
    # Configuration loaders of other stacks (domain knowledge; no corpus case needed them)
    sig(
        "validation error",
        "CONFIG_INVALID",
        0.85,
        _CONFIG_INVALID,
        r"validation errors? for \w*(Settings|Config)",
    ),
    sig(
        "ImproperlyConfigured",
        "CONFIG_INVALID",
        0.8,
        _CONFIG_INVALID,
        r"ImproperlyConfigured(?!.*(No module named|Error loading|Error importing))",
    ),
    sig("Failed to bind properties under", "CONFIG_INVALID", 0.86, _CONFIG_INVALID),
    sig("Failed to configure a DataSource", "ENV_VAR_MISSING", 0.9, _ENV_MISSING),
    # Spring Boot with the datasource auto-configuration backing off (no url / driver)
    sig(
        "that could not be found",
        "ENV_VAR_MISSING",
        0.86,
        _ENV_MISSING,
        r"required a bean of type '[\w.]*DataSource' that could not be found",
    ),
    sig("AdapterNotSpecified", "CONFIG_INVALID", 0.9, _CONFIG_INVALID),
    sig(
        "key not found",
        "ENV_VAR_MISSING",
        0.86,
        _ENV_MISSING,
        r'(?-i:KeyError: key not found: "?[A-Z][A-Z0-9_]{2,})',
    ),
    sig("required key", "ENV_VAR_MISSING", 0.88, _ENV_MISSING, r"required key \S+ missing value"),
    sig("required environment variable", "ENV_VAR_MISSING", 0.9, _ENV_MISSING),
    sig("ConnectionString property has not been initialized", "ENV_VAR_MISSING", 0.9, _ENV_MISSING),
    sig("initialization string does not conform", "URL_INVALID", 0.9, _URL_INVALID),
    sig("Parameter 'connectionString'", "ENV_VAR_MISSING", 0.88, _ENV_MISSING),
    sig(
        "No application encryption key has been specified", "CONFIG_INVALID", 0.92, _CONFIG_INVALID
    ),
    sig("Invalid JWT Signature", "CREDENTIALS_INVALID", 0.85, _CONFIG_INVALID),
    sig("Failed to determine a suitable driver class", "ENV_VAR_MISSING", 0.88, _ENV_MISSING),
    # Spring Boot 2's DataSourceProperties: no spring.datasource.url and no embedded database
    sig("Failed to determine suitable jdbc url", "ENV_VAR_MISSING", 0.88, _ENV_MISSING),
    # Elixir System.fetch_env!/1 (System.EnvError)
    sig("could not fetch environment variable", "ENV_VAR_MISSING", 0.92, _ENV_MISSING),
    # Rust: the url crate's ParseError, sqlx's Error::Configuration, and a panic on either
    sig("relative URL without a base", "URL_INVALID", 0.88, _URL_INVALID),
    sig("invalid port number", "URL_INVALID", 0.84, _URL_INVALID),
    sig("error with configuration:", "CONFIG_INVALID", 0.86, _CONFIG_INVALID),
    sig(
        "on an `Err` value",
        "URL_INVALID",
        0.88,
        _URL_INVALID,
        r"on an `Err` value: (?:InvalidUrl|UrlParse|ParseError|RelativeUrlWithoutBase)\b",
    ),
    sig(
        "on an `Err` value",
        "CONFIG_INVALID",
        0.86,
        _CONFIG_INVALID,
        r"on an `Err` value: Configuration\(",
    ),
    # Rails credentials: the master key is missing or is not the one the file was encrypted with
    sig("Missing encryption key to decrypt file with", "MASTER_KEY_MISSING", 0.93, _MASTER_KEY),
    sig("EncryptedFile::MissingKeyError", "MASTER_KEY_MISSING", 0.92, _MASTER_KEY),
    sig("MessageEncryptor::InvalidMessage", "MASTER_KEY_INVALID", 0.88, _MASTER_KEY),
    # Ecto's mix tasks, when config names no :ecto_repos (a warning: nothing is migrated)
    sig("could not find Ecto repos", "ECTO_REPOS_MISSING", 0.7, _CONFIG_INVALID),
    sig("could not find repositories for application", "ECTO_REPOS_MISSING", 0.7, _CONFIG_INVALID),
    # SQLite (SQLITE_CANTOPEN): the database file path the configuration names cannot be opened
    sig("unable to open database file", "SQLITE_PATH", 0.72, _CONFIG_INVALID),
    # sh / bash: an unset variable under `set -u` or `${NAME:?}` (upper-case names only: the
    # environment's; a lower-case one is the script's own)
    sig(
        "unbound variable",
        "ENV_VAR_MISSING",
        0.86,
        _ENV_MISSING,
        r"(?:^|[\s:])(?-i:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+): unbound variable",
    ),
    sig(
        "parameter",
        "ENV_VAR_MISSING",
        0.88,
        _ENV_MISSING,
        r"(?:^|[\s:])(?-i:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+): parameter (?:null or )?not set",
    ),
    # Quarkus / SmallRye Config
    sig(
        "is required but it could not be found",
        "ENV_VAR_MISSING",
        0.9,
        _ENV_MISSING,
        r"config property \S+ is required but it could not be found",
    ),
    # Flyway with no url configured
    sig("Configure the url, user and password", "ENV_VAR_MISSING", 0.86, _ENV_MISSING),
    # Flyway: a ${placeholder} in a migration that no configured value fills
    sig("No value provided for placeholder", "CONFIG_INVALID", 0.86, _CONFIG_INVALID),
    # HikariCP: the configured driver class and the JDBC URL are of different databases
    sig("claims to not accept jdbcUrl", "URL_INVALID", 0.86, _URL_INVALID),
    # Entity Framework: no connection string / provider, or the design-time context cannot be
    # built (most often for want of its connection string; a missing package says so itself)
    sig("No connection string named", "ENV_VAR_MISSING", 0.9, _ENV_MISSING),
    sig("No database provider has been configured", "CONFIG_INVALID", 0.86, _CONFIG_INVALID),
    sig(
        "Unable to create an object of type",
        "CONFIG_INVALID",
        0.7,
        _CONFIG_INVALID,
        r"Unable to create an object of type '[^']+'\. For the different patterns",
    ),
    # Rust's std::env::var of an unset variable, unwrapped or expected: VarError's Debug
    # ("…: NotPresent") or Display ("environment variable not found")
    sig(
        "NotPresent",
        "ENV_VAR_MISSING",
        0.86,
        _ENV_MISSING,
        r"(?-i:(?:panicked at .*|`Err` value|: )NotPresent\b)",
    ),
    sig(
        "environment variable not found",
        "ENV_VAR_MISSING",
        0.84,
        _ENV_MISSING,
        r"(?:panicked at|`Err` value|Error|: ).*environment variable not found\b",
    ),
    # A host that is the string "undefined" / "null": JavaScript interpolated an unset variable
    # into the connection settings, and the resolver was asked for it
    sig(
        "ENOTFOUND",
        "DB_SETTING_UNSET",
        0.93,
        _DB_SETTING_UNSET,
        r"(?-i:\bENOTFOUND (?:undefined|null)(?![\w.-]))",
    ),
    sig(
        "EAI_AGAIN",
        "DB_SETTING_UNSET",
        0.93,
        _DB_SETTING_UNSET,
        r"(?-i:\bEAI_AGAIN (?:undefined|null)(?![\w.-]))",
    ),
    # Ecto: the repo was started without a database in its configuration (no DATABASE_URL at
    # runtime), and an ecto:// URL that does not parse
    sig("missing the :database key in options for", "DB_SETTING_UNSET", 0.92, _DB_SETTING_UNSET),
    sig("Ecto.InvalidURLError", "URL_INVALID", 0.9, _URL_INVALID),
    # older Ecto crashing inside its own URL parser (a match or clause error in parse_url)
    sig(
        "parse_url",
        "URL_INVALID",
        0.86,
        _URL_INVALID,
        r"(?:MatchError|FunctionClauseError|function_clause|badmatch).*\bparse_url\b",
    ),
    # SQLAlchemy 1.4 dropped the "postgres://" scheme Heroku-style URLs carry; urllib's port
    # parse of a URL whose password holds an unencoded ':' '/' '@' or '#'; Ruby's URI
    sig(
        "Can't load plugin",
        "URL_INVALID",
        0.88,
        _URL_INVALID,
        r"Can't load plugin: sqlalchemy\.dialects:postgres\b",
    ),
    sig("Port could not be cast to integer value", "URL_INVALID", 0.86, _URL_INVALID),
    sig("URI::InvalidURIError", "URL_INVALID", 0.75, _URL_INVALID),
    # Google's ErrorInfo reason for a consumer project that does not exist (a project name where
    # the id belongs, a typo): the project the job names, not a role it lacks
    sig("CONSUMER_INVALID", "CONFIG_INVALID", 0.88, _CONFIG_INVALID, r"(?-i:\bCONSUMER_INVALID\b)"),
    # BigQuery naming a dataset / table / project that is not there (a name or a location in
    # the job's configuration; the region is part of a dataset's identity)
    sig(
        "was not found in location",
        "CONFIG_INVALID",
        0.86,
        _CONFIG_INVALID,
        r"Not found: (?:Dataset|Table|Job|Routine|Model) \S+ was not found in location",
    ),
    sig(
        "Not found: ",
        "CONFIG_INVALID",
        0.76,
        _CONFIG_INVALID,
        r"\b404 Not found: (?:Dataset|Table|Project|Routine|Model) [\w.:-]+",
    ),
    # Micronaut's and Quarkus' configuration: no DataSource bean (no URL configured), a config
    # value that does not load; a JVM number parse of an unexpanded ${PLACEHOLDER}
    sig(
        "NoSuchBeanException",
        "ENV_VAR_MISSING",
        0.86,
        _ENV_MISSING,
        r"NoSuchBeanException: No bean of type \[[\w.]*DataSource\]",
    ),
    sig(
        "Failed to load config value of type",
        "CONFIG_INVALID",
        0.86,
        _CONFIG_INVALID,
        r"ConfigurationException: Failed to load config value of type",
    ),
    sig(
        "For input string:",
        "ENV_VAR_MISSING",
        0.86,
        _ENV_MISSING,
        r'NumberFormatException: For input string: "\$\{[\w.:-]+\}"',
    ),
    # Elixir: Application.fetch_env! of a key the configuration never set, and a release whose
    # runtime configuration (config/runtime.exs) raised while it was read
    sig(
        "could not fetch application environment",
        "CONFIG_INVALID",
        0.86,
        _CONFIG_INVALID,
        r"could not fetch application environment :\w+ for application :\w+",
    ),
    sig("Config provider Config.Reader failed with", "CONFIG_INVALID", 0.78, _CONFIG_INVALID),
    # sqlx's query macros at build time
    sig("set `DATABASE_URL` to use query macros", "ENV_VAR_MISSING", 0.88, _ENV_MISSING),
    # dotenv-safe
    sig("but are not present in the environment", "ENV_VAR_MISSING", 0.9, _ENV_MISSING),
    # JDBC / HikariCP / pgjdbc: a URL that is empty or an unexpanded placeholder, no jdbcUrl,
    # no password
    sig(
        "No suitable driver found for",
        "ENV_VAR_MISSING",
        0.9,
        _ENV_MISSING,
        r"No suitable driver found for (?:\s*$|\$\{|null\b|undefined\b)",
    ),
    sig("jdbcUrl is required with driverClassName", "ENV_VAR_MISSING", 0.9, _ENV_MISSING),
    sig(
        "but no password was provided",
        "PASSWORD_NOT_SET",
        0.92,
        _CONFIG_INVALID,
        # ("authentication," itself may reach us redacted)
        r"requested password-based .*but no password was provided",
    ),
    # node-postgres with an undefined password
    sig("client password must be a string", "PASSWORD_NOT_SET", 0.92, _CONFIG_INVALID),
    # ADO.NET / Npgsql connection strings
    sig("Keyword not supported:", "URL_INVALID", 0.86, _URL_INVALID),
    sig("Host can't be null", "ENV_VAR_MISSING", 0.88, _ENV_MISSING),
    # MongoDB drivers and Mongoose
    sig("MongoParseError", "URL_INVALID", 0.88, _URL_INVALID, r"MongoParseError: (?:Invalid|URI)"),
    sig(
        "parameter to `openUri()` must be a string",
        "ENV_VAR_MISSING",
        0.9,
        _ENV_MISSING,
    ),
    # drizzle-kit: the config file names neither a URL nor host/port credentials
    sig("Either `connectionString` or", "ENV_VAR_MISSING", 0.86, _ENV_MISSING),
    # A host name the resolver was asked for that holds an "@": the connection URL's password
    # (or user) has an unescaped "@" (or ":", "/", "#"), so the URL was split at the wrong place
    # and part of the credentials became the host. Any driver, any resolver's wording.
    *(
        sig(needle, "URL_CREDENTIALS_UNESCAPED", 0.94, _URL_UNESCAPED, _AT_IN_HOST)
        for needle in (
            "translate host name",
            "ENOTFOUND",
            "EAI_AGAIN",
            "no such host",
            "UnknownHostException",
            "Name or service not known",
            "nodename nor servname",
            "Unknown MySQL server host",
            "failed to lookup address",
        )
    ),
    # Google client libraries without a project (none in the settings, none in the credentials)
    sig(
        "Project was not passed and could not be determined",
        "CONFIG_INVALID",
        0.88,
        _CONFIG_INVALID,
    ),
    sig(
        "Could not automatically determine credentials",
        "CREDENTIALS_MISSING",
        0.86,
        _CONFIG_INVALID,
    ),
    # Cloud Storage refusing a bucket name that cannot exist (an empty or mistyped setting)
    sig("Invalid bucket name", "CONFIG_INVALID", 0.78, _CONFIG_INVALID),
    # Laravel-based images that halt when APP_KEY is unset
    sig("application key is missing", "CONFIG_INVALID", 0.86, _CONFIG_INVALID),
    # A connection URL setting left empty (golang-migrate's `URL cannot be empty`)
    sig(
        "be empty",
        "URL_INVALID",
        0.8,
        _URL_INVALID,
        r"\b(?:database |source )?URL (?:cannot|can't|must not|may not) be (?:empty|blank)",
    ),
    # Doctrine DBAL: the DATABASE_URL does not parse (a `#` or `/` in the password)
    sig("Malformed parameter", "URL_INVALID", 0.86, _URL_INVALID, r'Malformed parameter "url"'),
    # Symfony's container: a `%name%` in a setting that is no parameter (often a percent-encoded
    # password in DATABASE_URL: `The parameter "40" must be defined`)
    sig(
        "must be defined",
        "CONFIG_INVALID",
        0.75,
        _CONFIG_INVALID,
        r'\bThe parameter "[^"]+" must be defined',
    ),
)

_SECRET_PATH = re.compile(r"projects/([^/\s\"'\]]+)/secrets/([^/\s\"'\]]+)")
_EMPTY_URL = re.compile(r"from string ''|input: 'undefined'|input: ''")


# All-caps words that are log levels or SQL, not variable names.
_NOT_NAMES = frozenset(
    {"ERROR", "WARN", "WARNING", "INFO", "DEBUG", "FATAL", "NULL", "TRUE", "FALSE"}
)


_ANY_NAME = re.compile(_NAME)


def _env_name(text: str) -> str | None:
    if _ANY_NAME.search(text) is None:  # cheap pre-check: most candidate lines name nothing
        return None
    for pattern in _ENV_PATTERNS:
        for m in pattern.finditer(text):
            if m.group(1) not in _NOT_NAMES:
                if "ReferenceError" in text or _NOT_A_FAILURE.search(text):
                    return None
                return m.group(1)
    return None


def _defined_names(evidence: Evidence) -> set[str]:
    names: set[str] = set()
    for c in evidence.config.containers:
        names.update(c.env_names)
        names.update(s.env for s in c.secret_env)
    return names


def _env_matches(evidence: Evidence) -> tuple[list[Match], list[str]]:
    """Lines naming a missing variable, and the names (in log order, deduplicated)."""
    lines: list[LogLine] = []
    names: list[str] = []
    for index, line in grep_indexed(evidence, *_ENV_NEEDLES):
        name = _env_name(line.text)
        if name is None and "Missing environment variables:" in line.text:
            name = next(
                (
                    m.group(1)
                    for n in neighbours(evidence, index, after=1)
                    for m in [re.search(rf"^\s*{_NAME}:", n.text)]
                    if m
                ),
                None,
            )
        if name is None:
            continue
        lines.append(line)
        if name not in names:
            names.append(name)
    sig = Signature("", "ENV_VAR_MISSING", 0.85, _ENV_MISSING)
    m = line_match(sig, lines)
    return ([m] if m else []), names


def _secret_refs(
    evidence: Evidence, texts: list[str], *, with_config: bool
) -> list[tuple[str, str]]:
    refs: list[tuple[str, str]] = []
    for text in texts:
        for m in _SECRET_PATH.finditer(text):
            ref = (m.group(1), m.group(2))
            if ref not in refs:
                refs.append(ref)
    if not with_config:
        return refs
    for c in evidence.config.containers:
        for s in c.secret_env:
            full = _SECRET_PATH.match(s.secret)
            ref = (full.group(1), full.group(2)) if full else (evidence.ref.project, s.secret)
            if ref not in refs:
                refs.append(ref)
    return refs


def analyze(evidence: Evidence) -> Finding | None:
    """A variable is unset, a URL cannot be parsed, or Secret Manager refused a secret."""
    matches = match_signatures(evidence, SIGNATURES)
    status = match_status(evidence, SIGNATURES)
    env_matches, names = _env_matches(evidence)
    matches += env_matches
    if not matches and not status:
        return None
    extra: list[Fact] = []
    bonus = 0.0
    defined = _defined_names(evidence)
    if names and evidence.config.containers:
        absent = [n for n in names if n not in defined]
        if absent:
            extra.append(
                Fact.config(
                    Text(
                        en="The log names {names}, which the job does not define at all "
                        "(neither an env var nor a secret)",
                        ko="로그에 나온 {names}이(가) Job에 전혀 정의되어 있지 않음"
                        "(환경변수·시크릿 모두 없음)",
                    ).format(names=", ".join(absent))
                )
            )
            bonus = max(bonus, 0.08)
        else:
            extra.append(
                Fact.config(
                    Text(
                        en="The job defines {names}, so its value is probably empty or wrong",
                        ko="Job에 {names}이(가) 정의되어 있으므로 값이 비었거나 잘못되었을 가능성",
                    ).format(names=", ".join(names))
                )
            )
    quoted = [line.text for m in matches for line in m.lines] + [h.status.text for h in status]
    signatures = {m.signature.signature for m in matches} | {h.signature.signature for h in status}
    empty_url = "URL_INVALID" in signatures and (
        any(_EMPTY_URL.search(t) for t in quoted)
        or evidence.grep("input: 'undefined'", "input: ''")
    )
    if empty_url:
        extra.append(
            Fact.config(
                Text(
                    en="The URL the program got was empty or 'undefined': the variable is unset",
                    ko="프로그램이 받은 URL이 비어 있거나 'undefined'임: 변수가 설정되지 않음",
                )
            )
        )
        bonus = max(bonus, 0.04)
    latest = [s for c in evidence.config.containers for s in c.secret_env if s.version == "latest"]
    if latest:
        extra.append(
            Fact.config(
                Text(
                    en="Secrets read at version 'latest': {refs} — a new version since the last "
                    "success changes what the job gets",
                    ko="'latest' 버전으로 읽는 시크릿: {refs} — 마지막 성공 이후 새 버전이 "
                    "생기면 Job이 받는 값이 바뀜",
                ).format(refs=", ".join(f"{s.env}←{s.secret}" for s in latest))
            )
        )
    if signatures & {"SECRET_ACCESS_DENIED", "SECRET_FETCH_FAILED"}:
        sa_fact = service_account_fact(evidence)
        if sa_fact is not None:
            extra.append(sa_fact)
    checks: list[Check] = []
    secret_related = any(s.startswith(("SECRET_", "URL_")) for s in signatures)
    for project, secret in _secret_refs(evidence, quoted, with_config=secret_related)[:2]:
        checks.append(
            Check(
                Text(
                    en="State of the versions of secret {secret} (ENABLED / DISABLED / DESTROYED)",
                    ko="시크릿 {secret}의 버전 상태 확인(ENABLED / DISABLED / DESTROYED)",
                ).format(secret=secret),
                commands.secret_versions(project, secret),
            )
        )
        if signatures & {"SECRET_ACCESS_DENIED", "SECRET_FETCH_FAILED"}:
            checks.append(
                Check(
                    Text(
                        en="Who may read secret {secret} (the job's service account needs "
                        "roles/secretmanager.secretAccessor)",
                        ko="시크릿 {secret} 접근 권한 확인(Job 서비스 계정에 "
                        "roles/secretmanager.secretAccessor 필요)",
                    ).format(secret=secret),
                    commands.secret_iam(project, secret),
                )
            )
    return build_finding(
        CAUSE,
        matches=matches,
        status=status,
        extra_facts=extra,
        bonus=bonus,
        checks=(*checks, *CAUSE.checks(evidence.ref)),
    )


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
