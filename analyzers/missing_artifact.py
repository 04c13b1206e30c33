"""Something the job needs is not in the image.

Recognises a missing entry file (`Cannot find module '/app/dist/migrate.js'`, `python: can't open
file`, an ES module entry that does not resolve, runc's `exec: "/x": stat /x: no such file`), an
executable that is not on the PATH (`exec: "x": executable file not found in $PATH`, `sh: 1: x: not
found`, coreutils/busybox `env: 'x': No such file or directory`, exit code 127), a script that is
not executable, an image without a CA bundle, missing migration directories and tool configuration
(Prisma's schema.prisma, Alembic's script_location, a knexfile, Sequelize's config.json), and a
migrations directory that is empty in the image. Other stacks say the same in their own words: the
dynamic loader's missing shared library (`error while loading shared libraries`, FreeBSD's `Shared
object "…" not found`), the java launcher's `Unable to access jarfile` / `Could not find or load
main class`, Flyway, Liquibase, diesel, sqlx-cli and knex migration files that are not there, a
file the program opens that is not in the image (Go's `open /…: no such file or directory`,
Python's `FileNotFoundError`, Java's `FileNotFoundException`, Ruby's `Errno::ENOENT`), a Python
distribution, a PHP extension or `vendor/autoload.php` that was never installed. Whether a "module
not found" is the image's fault or the code's is decided in `analyzers.module_resolution`: only
absolute paths the job or its tool names count here. The checks list the directory in the very
image digest that ran.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable

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
    image_tag_fact,
    image_that_ran,
    line_match,
    match_signatures,
    match_status,
    sig,
)
from analyzers.module_resolution import Side, classify
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.text import Text

CLOUD_RUN_PLATFORM = "linux/amd64"  # the only platform Cloud Run runs


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="Read the 'not found' lines of this execution",
                ko="이 실행의 'not found' 관련 로그 확인",
            ),
            commands.read_logs(
                ref,
                extra='(textPayload:"Cannot find module" OR textPayload:"not found" OR '
                'textPayload:"No such file" OR textPayload:"can\'t open file")',
            ),
        ),
        Check(
            Text(
                en="Check the image, command and args the job runs",
                ko="Job이 실행하는 이미지·command·args 확인",
            ),
            commands.job_containers(ref),
        ),
    )


CAUSE = Cause(
    id="missing_artifact",
    prior=0.20,
    name=Text(en="A file the job needs is missing from the image", ko="이미지에 필요한 파일 누락"),
    checks=_checks,
    workarounds=(
        Text(
            en="Check .dockerignore and the Dockerfile COPY lines for the entry file and the "
            "migrations directory, rebuild, and deploy the job by digest",
            ko=".dockerignore와 Dockerfile의 COPY 구문에 진입 파일·migrations 디렉터리가 "
            "포함되는지 확인 후 재빌드하고, Job은 digest로 배포",
        ),
        Text(
            en="Point the job's command/args at the path that exists in the image "
            "(gcloud run jobs update --command/--args)",
            ko="Job의 command/args를 이미지에 실제로 있는 경로로 수정 "
            "(gcloud run jobs update --command/--args)",
        ),
        Text(
            en="Roll the job back to the last image digest that succeeded",
            ko="마지막으로 성공한 이미지 digest로 Job을 되돌림",
        ),
    ),
    refute_hint=Text(
        en="No 'not found' line for a file or executable the job runs",
        ko="Job이 실행하는 파일·실행 파일에 대한 'not found' 로그 없음",
    ),
)

_ENTRY = Text(
    en="The entry file the job runs is not in the image",
    ko="Job이 실행하는 진입 파일이 이미지에 없음",
)
_FILE = Text(
    en="A file the job loads is not in the image",
    ko="Job이 불러오는 파일이 이미지에 없음",
)
_EXECUTABLE = Text(
    en="The command the job runs is not in the image (not on PATH)",
    ko="Job이 실행하는 명령이 이미지에 없음(PATH에서 찾을 수 없음)",
)
_NOT_EXECUTABLE = Text(
    en="The job's script is in the image but not executable",
    ko="Job의 스크립트가 이미지에 있지만 실행 권한이 없음",
)
_ENTRY_OR_SHEBANG = Text(
    en="The entry file cannot be started: missing, or its interpreter (shebang) is missing "
    "or has Windows line endings",
    ko="진입 파일을 실행할 수 없음: 파일이 없거나, shebang의 인터프리터가 없거나 CRLF 줄바꿈",
)
_MIGRATIONS_DIR = Text(
    en="The migrations directory is not in the image",
    ko="이미지에 migrations 디렉터리가 없음",
)
_MIGRATIONS_EMPTY = Text(
    en="The migration tool found no migration files in the image",
    ko="마이그레이션 도구가 이미지에서 마이그레이션 파일을 찾지 못함",
)
_TOOL_CONFIG = Text(
    en="The migration tool's configuration file is not in the image",
    ko="마이그레이션 도구의 설정 파일이 이미지에 없음",
)
_PRISMA_SCHEMA = Text(
    en="Prisma cannot find schema.prisma in the image",
    ko="이미지에서 Prisma schema.prisma를 찾을 수 없음",
)
_MIGRATION_FILE = Text(
    en="A migration folder in the image has no migration file",
    ko="이미지의 마이그레이션 폴더에 마이그레이션 파일이 없음",
)

_LIBRARY = Text(
    en="The image's system libraries are older than the binary needs (base image too old)",
    ko="이미지의 시스템 라이브러리가 바이너리가 요구하는 것보다 오래됨(베이스 이미지가 오래됨)",
)
_CA_CERTS = Text(
    en="The image has no CA certificate bundle, so TLS to public hosts cannot be verified "
    "(a scratch / distroless-static image without ca-certificates)",
    ko="이미지에 CA 인증서 번들이 없어 공개 호스트의 TLS를 검증하지 못함"
    "(ca-certificates 없는 scratch·distroless-static 이미지)",
)
_DEPENDENCY_MISSING = Text(
    en="A library, driver or package the job needs is not installed in the image",
    ko="Job에 필요한 라이브러리·드라이버·패키지가 이미지에 설치되어 있지 않음",
)
_TZDATA = Text(
    en="The image has no time-zone database (tzdata), so a named time zone cannot be loaded",
    ko="이미지에 시간대 데이터베이스(tzdata)가 없어 이름으로 지정한 시간대를 불러오지 못함",
)
SIGNATURES: tuple[Signature, ...] = (
    Signature("executable file not found in $PATH", "EXECUTABLE_NOT_FOUND", 0.93, _EXECUTABLE),
    Signature("error finding executable", "EXECUTABLE_NOT_FOUND", 0.93, _EXECUTABLE),
    # crun (podman, some Kubernetes nodes): "executable file `x` not found in $PATH"
    sig(
        "not found in $PATH",
        "EXECUTABLE_NOT_FOUND",
        0.93,
        _EXECUTABLE,
        r"executable file `[^`]+` not found in \$PATH",
    ),
    Signature(
        ": not found",
        "EXECUTABLE_NOT_FOUND",
        0.88,
        _EXECUTABLE,
        re.compile(r"\bsh: (?:\d+: )?(?:line \d+: )?[^\s:]+: not found"),
    ),
    Signature(
        "command not found",
        "EXECUTABLE_NOT_FOUND",
        0.88,
        _EXECUTABLE,
        re.compile(r"\bsh: (?:\d+: )?(?:line \d+: )?[^\s:]+: command not found"),
    ),
    # Cloud Run's loader: the entry file, or the interpreter it names, is not there. (runc's
    # `exec /x: no such file or directory` comes after it found /x: entrypoint_runtime's.)
    Signature(
        "no such file or directory",
        "ENTRYPOINT_NOT_FOUND",
        0.9,
        _ENTRY_OR_SHEBANG,
        re.compile(r"(?i)failed to load /\S+: no such file or directory"),
    ),
    # runc's look-up of an absolute entry point that is not in the image
    sig(
        "no such file or directory",
        "ENTRYPOINT_NOT_FOUND",
        0.9,
        _ENTRY,
        r'exec: \\*"(/[^"\\]+)\\*": stat \1: no such file or directory',
    ),
    Signature(
        "can't open",
        "ENTRYPOINT_NOT_FOUND",
        0.88,
        _ENTRY,
        re.compile(r"\bsh: (?:\d+: )?(?:cannot|can't) open '?[^\s']+'?"),
    ),
    Signature(
        "permission denied",
        "NOT_EXECUTABLE",
        0.82,
        _NOT_EXECUTABLE,
        re.compile(r"(?i)(?:\bsh: (?:\d+: )?\S+: permission denied|\bexec \S+: permission denied)"),
    ),
    Signature(
        "no such file or directory, scandir",
        "MIGRATIONS_DIR_MISSING",
        0.88,
        _MIGRATIONS_DIR,
        re.compile(r"(?i)scandir '[^']*migration"),
    ),
    Signature("no such file or directory, scandir", "FILE_NOT_IN_IMAGE", 0.7, _FILE),
    Signature(
        "ENOENT: no such file or directory, open",
        "FILE_NOT_IN_IMAGE",
        0.72,
        _FILE,
        re.compile(r"open '/(?!cloudsql/)"),
    ),
    Signature("Path doesn't exist", "MIGRATIONS_DIR_MISSING", 0.9, _MIGRATIONS_DIR),
    Signature("No 'script_location' key found", "TOOL_CONFIG_MISSING", 0.88, _TOOL_CONFIG),
    Signature("No config file 'alembic.ini' found", "TOOL_CONFIG_MISSING", 0.9, _TOOL_CONFIG),
    Signature(
        'Have you run "sequelize init"',
        "TOOL_CONFIG_MISSING",
        0.88,
        _TOOL_CONFIG,
    ),
    Signature(
        "knex cannot determine where to run migrations",
        "TOOL_CONFIG_MISSING",
        0.85,
        _TOOL_CONFIG,
    ),
    Signature(
        "No configuration file found and no commandline", "TOOL_CONFIG_MISSING", 0.85, _TOOL_CONFIG
    ),
    Signature("Could not find a schema.prisma", "PRISMA_SCHEMA_MISSING", 0.9, _PRISMA_SCHEMA),
    Signature("Could not find Prisma Schema", "PRISMA_SCHEMA_MISSING", 0.9, _PRISMA_SCHEMA),
    Signature(
        "schema path",
        "PRISMA_SCHEMA_MISSING",
        0.88,
        _PRISMA_SCHEMA,
        re.compile(r"Provided schema path .* doesn't exist"),
    ),
    Signature(
        "Could not find the migration file at", "MIGRATION_FILE_MISSING", 0.85, _MIGRATION_FILE
    ),
    # coreutils env(1) (a shebang `#!/usr/bin/env node`, or `env X=1 cmd`) cannot find the
    # program on PATH: `env: 'node': No such file or directory` (the quotes are the locale's;
    # busybox: `env: can't execute 'node': No such file or directory`). A name ending in \r is a
    # CRLF shebang: entrypoint_runtime's.
    sig(
        "No such file or directory",
        "EXECUTABLE_NOT_FOUND",
        0.9,
        _EXECUTABLE,
        r"\benv: (?:can't execute )?[‘'`\"]?[^\s'’`\"\\]+[’'`\"]?: No such file or directory",
    ),
    # Go's crypto/x509 with no system roots at all (SystemRootsError), and an "unknown authority"
    # for Google's own endpoints, whose certificates every CA bundle trusts
    sig("x509: failed to load system roots", "CA_CERTS_MISSING", 0.92, _CA_CERTS),
    sig(
        "certificate signed by unknown authority",
        "CA_CERTS_MISSING",
        0.78,
        _CA_CERTS,
        r"googleapis\.com.*x509: certificate signed by unknown authority",
    ),
    # ... and for any public host named by URL (a minimal image trusts nobody; a private host's
    # own CA is another matter: no IP addresses, no cluster or corporate names)
    sig(
        "certificate signed by unknown authority",
        "CA_CERTS_MISSING",
        0.72,
        _CA_CERTS,
        r"https?://(?![\d.]+[:/\s\"])(?![^/\s\"]*\.(?:local|internal|svc|lan|corp|intranet)\b)"
        r"[^/\s\"]+\.[a-z]{2,}\b.*x509: certificate signed by unknown authority",
    ),
    # Named time zones need the tzdata files (Go's time.LoadLocation, Python's zoneinfo, ICU):
    # a minimal image has none
    sig("unknown time zone", "TZDATA_MISSING", 0.8, _TZDATA, r"unknown time ?zone [A-Z]\w+/"),
    sig("ZoneInfoNotFoundError", "TZDATA_MISSING", 0.84, _TZDATA),
    sig("No time zone found with key", "TZDATA_MISSING", 0.84, _TZDATA),
    sig("Invalid IANA time", "TZDATA_MISSING", 0.74, _TZDATA),
    # .NET without the ICU libraries (libicu) in the image: globalization-invariant mode refused
    # by the SQL Server client, or the runtime finding no ICU at all
    sig("Globalization Invariant Mode is not supported", "ICU_MISSING", 0.88, _DEPENDENCY_MISSING),
    sig("Couldn't find a valid ICU package", "ICU_MISSING", 0.9, _DEPENDENCY_MISSING),
    # Flyway 10 moved each database's support into its own module (flyway-database-postgresql…)
    sig("No database found to handle", "DRIVER_MISSING", 0.86, _DEPENDENCY_MISSING),
    sig(
        "FlywayException: Unsupported Database",
        "DRIVER_MISSING",
        0.86,
        _DEPENDENCY_MISSING,
    ),
    # sqlx's migrate! / Migrator::new reading a directory the image does not have
    sig(
        "while resolving migrations",
        "MIGRATIONS_DIR_MISSING",
        0.86,
        _MIGRATIONS_DIR,
        r"while resolving migrations: "
        r".*(No such file|cannot find the (?:file|path)|os error [23]\b)",
    ),
    # Spring: a class-path resource the build did not package; the JVM's native library loader
    sig(
        "cannot be opened because it does not exist",
        "FILE_NOT_IN_IMAGE",
        0.84,
        _FILE,
        r"class path resource \[[^\]]+\] cannot be opened because it does not exist",
    ),
    sig(
        "UnsatisfiedLinkError",
        "SHARED_LIBRARY_MISSING",
        0.84,
        _DEPENDENCY_MISSING,
        r"UnsatisfiedLinkError: (?:no \S+ in java\.library\.path|.*cannot open shared object)",
    ),
    # Cloud Run's own exit line, for when the task's exit code could not be read.
    Signature("Container called exit(127)", "EXECUTABLE_NOT_FOUND", 0.55, _EXECUTABLE),
    Signature("Container called exit(126)", "NOT_EXECUTABLE", 0.45, _NOT_EXECUTABLE),
    # An empty migrations directory does not fail by itself; on a failed execution it is a strong
    # hint that the build left the migrations out (suggestive, not conclusive).
    Signature(
        "migrations were found",
        "MIGRATIONS_EMPTY",
        0.6,
        _MIGRATIONS_EMPTY,
        re.compile(
            r"(?i)(?:^|\D)0 migrations were found in the source code|no migrations were found"
        ),
    ),
    Signature(
        "No migration found in",
        "MIGRATIONS_EMPTY",
        0.55,
        _MIGRATIONS_EMPTY,
    ),
    Signature(
        "No migrations found",
        "MIGRATIONS_EMPTY",
        0.55,
        _MIGRATIONS_EMPTY,
    ),
    # Other stacks (signatures reviewed against the failure corpus's development part)
    sig("GLIBC_", "GLIBC_MISMATCH", 0.88, _LIBRARY, r"GLIBC_[\d.]+'? not found"),
    sig("no main manifest attribute", "JAR_MANIFEST", 0.93, _ENTRY),
    sig("Could not find migrations directory", "MIGRATIONS_DIR_MISSING", 0.93, _MIGRATIONS_DIR),
    sig("migration directory does not exist", "MIGRATIONS_DIR_MISSING", 0.92, _MIGRATIONS_DIR),
    sig(
        "unknown driver",
        "DRIVER_NOT_COMPILED_IN",
        0.86,
        _DEPENDENCY_MISSING,
        r"unknown driver \S+ \(forgott?[eo]n import\?\)",
    ),
    sig(
        "module manually",
        "DRIVER_MISSING",
        0.92,
        _DEPENDENCY_MISSING,
        r"Please install '?\S+'? module manually",
    ),
    sig("could not find driver", "DRIVER_MISSING", 0.9, _DEPENDENCY_MISSING),
    # migrate's CLI (v1) built without the database driver the URL names
    sig("Driver '", "DRIVER_MISSING", 0.82, _DEPENDENCY_MISSING, r"^\s*Driver '\w+' not found"),
    # Node native addons the image was built without: Prisma's engine for this platform
    # (binaryTargets), the `bindings` loader's search, sharp's install step
    sig(
        "could not locate the Query Engine for runtime",
        "DRIVER_MISSING",
        0.9,
        _DEPENDENCY_MISSING,
    ),
    sig("Could not locate the bindings file", "DRIVER_MISSING", 0.86, _DEPENDENCY_MISSING),
    sig(
        "Something went wrong installing the",
        "DRIVER_MISSING",
        0.86,
        _DEPENDENCY_MISSING,
        r'Something went wrong installing the "\S+" module',
    ),
    # Spring Boot's DataSourceProperties: the JDBC driver class named is not on the class path
    sig("Cannot load driver class:", "DRIVER_MISSING", 0.88, _DEPENDENCY_MISSING),
    sig("Bundler::GemNotFound", "GEM_MISSING", 0.92, _DEPENDENCY_MISSING),
    sig("Could not find gem", "GEM_MISSING", 0.88, _DEPENDENCY_MISSING),
    sig("cannot load such file", "RUBY_LOAD_ERROR", 0.84, _DEPENDENCY_MISSING),
    sig("NoClassDefFoundError", "CLASS_MISSING", 0.78, _DEPENDENCY_MISSING),
    sig("ClassNotFoundException", "CLASS_MISSING", 0.78, _DEPENDENCY_MISSING),
    sig("Could not load file or assembly", "ASSEMBLY_MISSING", 0.88, _DEPENDENCY_MISSING),
    sig(
        "Microsoft.EntityFrameworkCore.Design",
        "EF_DESIGN_MISSING",
        0.92,
        _DEPENDENCY_MISSING,
        r"doesn't reference Microsoft\.EntityFrameworkCore\.Design",
    ),
    sig("Run a NuGet package restore", "NUGET_RESTORE", 0.88, _DEPENDENCY_MISSING),
    sig("was not found and is not optional", "FILE_NOT_IN_IMAGE", 0.9, _FILE),
    sig(
        "did not initialize yet",
        "PRISMA_CLIENT_NOT_GENERATED",
        0.93,
        _DEPENDENCY_MISSING,
        r"prisma generate",
    ),
    sig("Failed to read migration", "MIGRATIONS_DIR_MISSING", 0.85, _MIGRATIONS_DIR),
    sig(
        "command not found",
        "EXECUTABLE_NOT_FOUND",
        0.85,
        _EXECUTABLE,
        r"(?:^|: )\S+: (?:\d+: )?\S*:? ?command not found|command not found: \S+",
    ),
    sig(
        "No such file or directory",
        "FILE_NOT_IN_IMAGE",
        0.6,
        _FILE,
        r"(Error when reading|can't open|cannot open|Could not open input file|not found: )",
    ),
    sig(
        "init terminating in do_boot",
        "ERLANG_MODULE_MISSING",
        0.8,
        _DEPENDENCY_MISSING,
        r"\{undef,|no such file",
    ),
    sig(
        "No module named",
        "PY_MODULE_NOT_FOUND",
        0.8,
        _DEPENDENCY_MISSING,
        r"(Error importing module|ImportError).*No module named",
    ),
    sig(
        "You must install at least one postgresql-client", "EXECUTABLE_NOT_FOUND", 0.9, _EXECUTABLE
    ),
    # (not when the URL is empty or an unexpanded placeholder: that is configuration)
    sig(
        "No suitable driver found for",
        "DRIVER_MISSING",
        0.9,
        _DEPENDENCY_MISSING,
        r"No suitable driver found for (?!\s*$|\$\{|null\b|undefined\b)",
    ),
    # The dynamic loader cannot find a shared library the binary links: glibc's ld.so, musl's,
    # FreeBSD's rtld, and dlopen() through Python / Ruby / Node native modules
    sig("error while loading shared libraries", "SHARED_LIBRARY_MISSING", 0.9, _DEPENDENCY_MISSING),
    sig("cannot open shared object file", "SHARED_LIBRARY_MISSING", 0.88, _DEPENDENCY_MISSING),
    sig(
        "Shared object",
        "SHARED_LIBRARY_MISSING",
        0.9,
        _DEPENDENCY_MISSING,
        r'Shared object "[^"]+" not found',
    ),
    sig(
        "Error loading shared library",
        "SHARED_LIBRARY_MISSING",
        0.88,
        _DEPENDENCY_MISSING,
        r"Error loading shared library \S+: No such file",
    ),
    # The java launcher: the jar or the class path it was given is not in the image
    sig("Unable to access jarfile", "JAR_MISSING", 0.92, _ENTRY),
    sig("Could not find or load main class", "MAIN_CLASS_MISSING", 0.86, _ENTRY),
    sig("Invalid or corrupt jarfile", "JAR_MISSING", 0.85, _ENTRY),
    # Migration tools whose files are not where they were told to look
    sig(
        "Skipping filesystem location",
        "MIGRATIONS_DIR_MISSING",
        0.8,
        _MIGRATIONS_DIR,
        r"Skipping filesystem location:.*\((?:not a directory|not found)\)",
    ),
    sig(
        "was not found in the configured search path",
        "MIGRATION_FILE_MISSING",
        0.88,
        _MIGRATION_FILE,
    ),
    sig("Unable to find migrations directory", "MIGRATIONS_DIR_MISSING", 0.9, _MIGRATIONS_DIR),
    # refinery (Rust): the migrations path it was given does not exist in the image
    sig(
        "invalid migrations path",
        "MIGRATIONS_DIR_MISSING",
        0.88,
        _MIGRATIONS_DIR,
        r"invalid migrations path \S+, No such file",
    ),
    # knex: migrations recorded as run are not in the directory the image carries (or were
    # deleted on purpose: a history problem, so not stronger than migration_sql's reading)
    sig(
        "the following files are missing",
        "MIGRATION_FILE_MISSING",
        0.86,
        _MIGRATION_FILE,
        r"migration directory is corrupt, the following files are missing",
    ),
    # Python's package metadata: a distribution the code asks for is not installed
    sig("DistributionNotFound", "PY_MODULE_NOT_FOUND", 0.86, _DEPENDENCY_MISSING),
    sig(
        "PackageNotFoundError",
        "PY_MODULE_NOT_FOUND",
        0.8,
        _DEPENDENCY_MISSING,
        r"importlib[._]metadata\.PackageNotFoundError",
    ),
    # PHP: a function of an extension the image does not have (mysqli, pgsql, gd, mbstring, …)
    sig(
        "Call to undefined function",
        "PHP_EXTENSION_MISSING",
        0.86,
        _DEPENDENCY_MISSING,
        r"Call to undefined function (?:mysqli?_|pg_|imagecreate|curl_|mb_|sodium_|bc\w+\(|"
        r"zip_|intl|gmp_|ldap_|sqlsrv_|oci_)",
    ),
    # .NET: a file the program opens at start-up is not in the published output
    sig(
        "Could not find file",
        "FILE_NOT_IN_IMAGE",
        0.78,
        _FILE,
        r"FileNotFoundException: Could not find file '/",
    ),
    # A file the program opens at start-up is not there, as Go (os.PathError), Python, Java and
    # Ruby word it (a Cloud SQL socket path is the connection's, not the image's)
    sig(
        "no such file or directory",
        "FILE_NOT_IN_IMAGE",
        0.72,
        _FILE,
        r"\bopen /(?!cloudsql/)\S+: no such file or directory"
        r"|FileNotFoundError: \[Errno 2\] No such file or directory: '/(?!cloudsql/)"
        r"|FileNotFoundException: /(?!cloudsql/)\S+ \(No such file or directory\)"
        r"|Errno::ENOENT: No such file or directory @ rb_sysopen - /(?!cloudsql/)",
    ),
    # sqlx-cli without its migrations directory; a Rust program that unwrapped a NotFound
    sig(
        "while resolving migrations",
        "MIGRATIONS_DIR_MISSING",
        0.88,
        _MIGRATIONS_DIR,
        r"while resolving migrations: No such file or directory",
    ),
    sig(
        "on an `Err` value",
        "FILE_NOT_IN_IMAGE",
        0.7,
        _FILE,
        r"on an `Err` value: .*kind: NotFound",
    ),
    # Configuration files the image was built without: Viper (Go), Rails' database.yml,
    # Laravel's storage/framework directories
    sig(
        "Not Found in",
        "FILE_NOT_IN_IMAGE",
        0.84,
        _FILE,
        r'Config File "[^"]+" Not Found in "\[',
    ),
    sig("Could not load database configuration. No such file", "FILE_NOT_IN_IMAGE", 0.9, _FILE),
    sig("Please provide a valid cache path", "FILE_NOT_IN_IMAGE", 0.82, _FILE),
    # PHP require of a file the build did not produce (vendor/autoload.php: no composer install)
    sig("Failed opening required", "FILE_NOT_IN_IMAGE", 0.86, _FILE),
)

_EXIT_127 = Text(
    en="The container exited with code 127 (command not found)",
    ko="컨테이너 종료 코드 127(명령을 찾을 수 없음)",
)
_EXIT_126 = Text(
    en="The container exited with code 126 (found but not executable)",
    ko="컨테이너 종료 코드 126(파일은 있으나 실행 불가)",
)

_PATH_IN_LINE = re.compile(
    r"(?:Cannot find module '|can't open file '|scandir '|open '|Path doesn't exist: '|"
    r"Cannot find \"|exec |exec: \\*\"|failed to load |sh: (?:\d+: )?(?:cannot|can't) open '?)"
    r"(/[^'\"\s:\\]+)"
)


def _exit_code_facts(evidence: Evidence) -> tuple[list[Fact], str | None]:
    codes = {t.exit_code for t in evidence.tasks if t.failed or t.exit_code}
    facts: list[Fact] = []
    signature = None
    if 127 in codes:
        facts.append(Fact.status(_EXIT_127))
        signature = "EXECUTABLE_NOT_FOUND"
    if 126 in codes:
        facts.append(Fact.status(_EXIT_126))
        signature = signature or "NOT_EXECUTABLE"
    return facts, signature


def _missing_paths(texts: Iterable[str]) -> list[str]:
    paths: list[str] = []
    for text in texts:
        m = _PATH_IN_LINE.search(text)
        if m and m.group(1) not in paths:
            paths.append(m.group(1))
    return paths


def _specific_checks(evidence: Evidence, paths: list[str]) -> tuple[Check, ...]:
    image = image_that_ran(evidence)
    if image is None:
        return ()
    checks: list[Check] = []
    for path in paths[:2]:
        is_file = bool(posixpath.splitext(path)[1])
        directory = posixpath.dirname(path) if is_file else path
        # for a directory, list its parent too: "No such file" alone says little about why
        targets = (directory,) if is_file else (posixpath.dirname(path.rstrip("/")) or "/", path)
        checks.append(
            Check(
                Text(
                    en="List {dir} in the image that ran (is {path} there?)",
                    ko="실제 실행된 이미지에서 {dir} 목록 확인({path} 존재 여부)",
                ).format(dir=directory, path=path),
                commands.run_in_image_on(
                    image,
                    "ls -la " + " ".join(shlex.quote(t) for t in targets),
                    platform=CLOUD_RUN_PLATFORM,
                ),
            )
        )
    if not checks:
        checks.append(
            Check(
                Text(
                    en="List the working directory of the image that ran",
                    ko="실제 실행된 이미지의 작업 디렉터리 목록 확인",
                ),
                commands.run_in_image_on(image, "pwd; ls -la", platform=CLOUD_RUN_PLATFORM),
            )
        )
    return tuple(checks)


_DEPENDENCY = Text(
    en="A dependency the job imports is not installed in the image",
    ko="Job이 불러오는 의존성(패키지)이 이미지에 설치되어 있지 않음",
)
_MISS_TITLES = {
    "ENTRYPOINT_NOT_FOUND": _ENTRY,
    "FILE_NOT_IN_IMAGE": _FILE,
    "MODULE_NOT_FOUND": _DEPENDENCY,
    "PY_MODULE_NOT_FOUND": _DEPENDENCY,
}


def _module_matches(evidence: Evidence) -> list[Match]:
    matches: list[Match] = []
    for miss in classify(evidence):
        if miss.side is not Side.IMAGE:
            continue
        sig = Signature(
            needle="",
            signature=miss.signature,
            strength=miss.strength,
            title=_MISS_TITLES.get(miss.signature, _FILE),
        )
        m = line_match(sig, (miss.line,))
        if m is not None:
            matches.append(m)
    return matches


def _log_matches(evidence: Evidence) -> list[Match]:
    matches = match_signatures(evidence, SIGNATURES)
    # one line may match a precise and a general signature: keep it for the precise one only
    taken: set[int] = set()
    kept: list[Match] = []
    for m in sorted(matches, key=lambda m: m.signature.strength, reverse=True):
        lines = tuple(line for line in m.lines if id(line) not in taken)
        if lines:
            taken.update(id(line) for line in lines)
            kept.append(Match(m.signature, lines))
    return kept


def analyze(evidence: Evidence) -> Finding | None:
    """A file, directory or executable the job needs is not in the image."""
    matches = _module_matches(evidence) + _log_matches(evidence)
    status = match_status(evidence, SIGNATURES)
    exit_facts, exit_signature = _exit_code_facts(evidence)
    if not matches and not status and exit_signature is None:
        return None
    extra: list[Fact] = []
    main = evidence.config.main
    if main is not None and (main.command or main.args):
        extra.append(
            Fact.config(
                Text(en="The job runs: {cmd}", ko="Job 실행 명령: {cmd}").format(
                    cmd=" ".join((*main.command, *main.args))
                )
            )
        )
    tag = image_tag_fact(evidence)
    if tag is not None:
        extra.append(tag)
    paths = _missing_paths(
        [line.text for m in matches for line in m.lines] + [h.status.text for h in status]
    )
    checks = (*_specific_checks(evidence, paths), *CAUSE.checks(evidence.ref))
    if not matches and not status:
        # Only the exit code speaks: suggestive, not conclusive.
        assert exit_signature is not None
        return Finding(
            cause=CAUSE.id,
            strength=0.55 if exit_signature == "EXECUTABLE_NOT_FOUND" else 0.45,
            title=_EXECUTABLE if exit_signature == "EXECUTABLE_NOT_FOUND" else _NOT_EXECUTABLE,
            facts=(*exit_facts, *extra),
            signature=exit_signature,
            checks=checks,
        )
    bonus = 0.03 if exit_facts else 0.0
    return build_finding(
        CAUSE,
        matches=matches,
        status=status,
        extra_facts=(*exit_facts, *extra),
        bonus=bonus,
        checks=checks,
    )


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
