"""The program itself crashed for a code or module reason.

Recognises Node's ES module / CommonJS mix-ups (`ERR_REQUIRE_ESM`, `Cannot use import statement
outside a module`, `require is not defined in ES module scope`, a named export CommonJS cannot
provide, directory imports, unknown `.ts` extensions), relative imports inside the code that do
not resolve (decided with `missing_artifact` in `analyzers.module_resolution`: a missing *package*
or *entry file* is the image's), SyntaxError / TypeError /
ReferenceError, TypeScript compile errors under ts-node, TypeORM data-source problems (`Given data
source file must contain export of a DataSource instance`, `No connection options were found`),
Sequelize and Knex CLI configuration errors, Python tracebacks ending in ImportError,
AttributeError, NameError, SyntaxError or TypeError, and the other stacks' crashes (Go panics, JVM
exceptions, Rust panics, Elixir, Ruby, PHP and .NET errors, a runtime or library version that does
not fit — Go, cargo, pip, yarn, Node, .NET, Composer, Bundler and the BEAM each word that — a
script with Windows line endings, a command line that does not parse (argparse, Go's flag, clap,
commander), Spring Boot wiring failures, exit 139/134), and an entry point the container runtime
found but could not start: runc's execve after its look-up succeeded (`exec /x: no such file or
directory`: the shebang's interpreter is missing or ends in CR), a shell command written in exec
form (`exec: "set": executable file not found`, a whole command line as one word), an entry
script without the execute bit (runc's look-up, Cloud Run's `invalid mode`).

A bare crash — an unhandled promise rejection, `triggerUncaughtException`, a Python traceback
header, npm's "lifecycle script failed" — is only weak evidence, and when the same log holds a line
that names another cause (a refused connection, a Cloud SQL IAM denial, a SQL error, an unset
variable, out of memory) `analyzers.symptoms` caps the crash as that cause's symptom.
"""

from __future__ import annotations

import re
import shlex

from analyzers import (
    commands,
)
from analyzers.base import (
    Analyzer,
    Cause,
    Check,
    Finding,
    Match,
    Signature,
    build_finding,
    exit_status_hits,
    image_that_ran,
    line_match,
    match_signatures,
    sig,
)
from analyzers.module_resolution import ModuleMiss, Side, classify
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.text import Text


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="Read the stack trace (stderr) of this execution",
                ko="이 실행의 스택 트레이스(stderr) 확인",
            ),
            commands.read_logs(ref, extra='logName:"run.googleapis.com%2Fstderr"', limit=100),
        ),
        Check(
            Text(
                en="Check the image, command and args the job ran",
                ko="Job이 실행한 이미지·command·args 확인",
            ),
            commands.job_containers(ref),
        ),
    )


CAUSE = Cause(
    id="entrypoint_runtime",
    prior=0.50,
    name=Text(
        en="The program crashed (code or module error)",
        ko="프로그램 실행 오류(코드·모듈 문제)",
    ),
    checks=_checks,
    workarounds=(
        Text(
            en="Skip the migration step for this deploy and ship the service alone, if the "
            "release has no schema change",
            ko="스키마 변경이 없는 배포라면 마이그레이션 단계를 건너뛰고 서비스만 배포",
        ),
        Text(
            en="Run the migration by hand through the Cloud SQL Auth Proxy with the previous "
            "entry point",
            ko="Cloud SQL Auth Proxy로 이전 진입점을 사용해 마이그레이션을 수동 실행",
        ),
        Text(
            en="Restore the previous way of running migrations (revert the new entry file) "
            "and redeploy the job",
            ko="새 진입 파일을 되돌려 기존 마이그레이션 실행 방식으로 복원 후 Job 재배포",
        ),
    ),
    refute_hint=Text(
        en="No stack trace or module error in the log",
        ko="로그에 스택 트레이스·모듈 오류 없음",
    ),
)

_ESM = Text(
    en="ES module / CommonJS mismatch: the code and package.json disagree on the module system",
    ko="ESM/CJS 모듈 형식 충돌: 코드와 package.json의 모듈 방식이 맞지 않음",
)
_ESM_EXTENSION = Text(
    en="An ES module import has no .js extension (ESM needs the full file name)",
    ko="ESM import에 .js 확장자가 빠짐(ESM은 전체 파일명이 필요)",
)
_MODULE = Text(
    en="A package or import the code needs does not resolve (not installed, or wrong path)",
    ko="코드가 필요로 하는 패키지·import를 찾을 수 없음(미설치 또는 경로 오류)",
)
_PY_IMPORT = Text(
    en="A Python import failed (package not installed, or wrong name)",
    ko="Python import 실패(패키지 미설치 또는 이름 오류)",
)
_SYNTAX = Text(en="The code has a syntax error", ko="코드 문법 오류(SyntaxError)")
_JSON = Text(
    en="The program could not parse JSON it read (a config file or variable)",
    ko="프로그램이 읽은 JSON(설정 파일·변수)을 해석하지 못함",
)
_TYPE = Text(
    en="The code crashed with a TypeError (e.g. reading a property of undefined)",
    ko="TypeError로 코드가 중단됨(예: undefined의 속성 접근)",
)
_REFERENCE = Text(
    en="The code uses a name that is not defined (ReferenceError / NameError)",
    ko="정의되지 않은 이름을 사용함(ReferenceError / NameError)",
)
_ATTRIBUTE = Text(
    en="The code uses an attribute that does not exist (AttributeError)",
    ko="존재하지 않는 속성을 사용함(AttributeError)",
)
_VALUE = Text(en="The code crashed with a ValueError", ko="ValueError로 코드가 중단됨")
_TS = Text(
    en="TypeScript failed to compile at run time (ts-node)",
    ko="실행 시점 TypeScript 컴파일 실패(ts-node)",
)
_DATASOURCE = Text(
    en="The TypeORM data-source file does not export exactly one DataSource",
    ko="TypeORM data-source 파일이 DataSource 인스턴스를 하나만 export하지 않음",
)
_DATASOURCE_LOAD = Text(
    en="TypeORM could not load the data-source file",
    ko="TypeORM이 data-source 파일을 불러오지 못함",
)
_ORM_CONFIG = Text(
    en="The ORM found no usable connection configuration",
    ko="ORM이 사용할 수 있는 연결 설정을 찾지 못함",
)
_ORM_METADATA = Text(
    en="TypeORM has no metadata for an entity (entities path does not match the build)",
    ko="TypeORM 엔티티 메타데이터 없음(entities 경로가 빌드 결과와 다름)",
)
_NOT_CONNECTED = Text(
    en="The code used the data source before it was initialised",
    ko="data source 초기화 전에 사용함",
)
_UNHANDLED = Text(
    en="The program crashed on an unhandled promise rejection",
    ko="처리되지 않은 Promise rejection으로 프로그램이 종료됨",
)
_CRASH = Text(
    en="The program crashed with an uncaught exception",
    ko="처리되지 않은 예외로 프로그램이 종료됨",
)
_SCRIPT = Text(
    en="The npm script that runs the job failed",
    ko="Job을 실행하는 npm 스크립트가 실패함",
)
_PY_EXC = r"^\s*(?:[\w.]+\.)?"

_RUNTIME_VERSION = Text(
    en="The image's runtime is older or newer than the code was built for",
    ko="이미지의 런타임 버전이 코드가 빌드된 버전과 맞지 않음",
)
_OTP_APP = Text(
    en="An OTP application the code needs is not started in the release (extra_applications)",
    ko="코드에 필요한 OTP 애플리케이션이 릴리스에서 시작되지 않음(extra_applications)",
)
_LIBRARY_MISMATCH = Text(
    en="Two libraries in the image do not fit together (a method or type is missing)",
    ko="이미지 안의 라이브러리 버전이 서로 맞지 않음(메서드·타입 없음)",
)
_NIL = Text(
    en="The code used a null / nil value (a bug in the job's code)",
    ko="코드가 null·nil 값을 사용함(Job 코드의 버그)",
)
_CRLF = Text(
    en="A script in the image has Windows (CRLF) line endings, so the shell cannot run it",
    ko="이미지 안 스크립트의 줄바꿈이 Windows(CRLF) 형식이라 셸이 실행하지 못함",
)
_USAGE = Text(
    en="The job's command line does not parse (a wrong or missing argument)",
    ko="Job의 명령줄 인자가 잘못됨(인자 누락·잘못된 옵션)",
)
_INTERPRETER = Text(
    en="The entry script exists but cannot start: the interpreter its first line (#!) names is "
    "not in the image, or the line ends in a Windows CR",
    ko="진입 스크립트는 있으나 실행 불가: 첫 줄(#!)의 인터프리터가 이미지에 없거나 CRLF 줄바꿈",
)
_EXEC_FORM = Text(
    en="The container's command is a shell command given in exec form (a shell builtin, or the "
    "whole command line as one word): run it through sh -c or split it into arguments",
    ko="컨테이너 명령이 exec 형식으로 된 셸 명령임(셸 내장 명령이거나 명령줄 전체가 한 단어): "
    "sh -c로 실행하거나 인자를 나눌 것",
)
_ENTRY_NOT_EXECUTABLE = Text(
    en="The image's entry point is not executable (the file has no execute bit)",
    ko="이미지의 진입점 파일에 실행 권한이 없음",
)
SIGNATURES: tuple[Signature, ...] = (
    # --- ES modules vs CommonJS ---
    Signature("ERR_REQUIRE_ESM", "ERR_REQUIRE_ESM", 0.93, _ESM),
    Signature("require() of ES Module", "ERR_REQUIRE_ESM", 0.93, _ESM),
    Signature("Must use import to load ES Module", "ERR_REQUIRE_ESM", 0.93, _ESM),
    Signature("ERR_REQUIRE_ASYNC_MODULE", "ERR_REQUIRE_ESM", 0.9, _ESM),
    Signature("Cannot use import statement outside a module", "ESM_IMPORT_IN_CJS", 0.93, _ESM),
    Signature("To load an ES module, set", "ESM_IMPORT_IN_CJS", 0.9, _ESM),
    Signature(
        "Unexpected token 'export'", "ESM_IMPORT_IN_CJS", 0.88, _ESM, re.compile(r"SyntaxError")
    ),
    Signature("is not defined in ES module scope", "ESM_CJS_GLOBAL", 0.92, _ESM),
    Signature("does not provide an export named", "ESM_NAMED_EXPORT", 0.9, _ESM),
    Signature(
        "Named export",
        "ESM_NAMED_EXPORT",
        0.9,
        _ESM,
        re.compile(r"Named export '[^']+' not found\. The requested module"),
    ),
    Signature("ERR_UNSUPPORTED_DIR_IMPORT", "ESM_DIR_IMPORT", 0.9, _ESM),
    Signature("ERR_UNKNOWN_FILE_EXTENSION", "ESM_UNKNOWN_EXTENSION", 0.9, _ESM),
    Signature("ERR_PACKAGE_PATH_NOT_EXPORTED", "ESM_PACKAGE_EXPORTS", 0.85, _ESM),
    Signature("ERR_IMPORT_ATTRIBUTE_MISSING", "ESM_IMPORT_ATTRIBUTE", 0.88, _ESM),
    Signature("ERR_IMPORT_ASSERTION_TYPE_MISSING", "ESM_IMPORT_ATTRIBUTE", 0.88, _ESM),
    # --- TypeScript / ORMs / migration CLIs ---
    Signature("Unable to compile TypeScript", "TS_COMPILE", 0.88, _TS),
    Signature("export of a DataSource instance", "TYPEORM_DATASOURCE_EXPORT", 0.93, _DATASOURCE),
    Signature("export of DataSource instance", "TYPEORM_DATASOURCE_EXPORT", 0.93, _DATASOURCE),
    Signature(
        "Unable to open file",
        "TYPEORM_DATASOURCE_LOAD",
        0.75,
        _DATASOURCE_LOAD,
        re.compile(r"^(?!.*Cannot find module '/).*Unable to open file"),
    ),
    Signature(
        "No connection options were found", "TYPEORM_NO_CONNECTION_OPTIONS", 0.8, _ORM_CONFIG
    ),
    Signature("EntityMetadataNotFoundError", "TYPEORM_ENTITY_METADATA", 0.82, _ORM_METADATA),
    Signature(
        "No metadata for",
        "TYPEORM_ENTITY_METADATA",
        0.8,
        _ORM_METADATA,
        re.compile(r'No metadata for "[^"]+" was found'),
    ),
    Signature("CannotExecuteNotConnectedError", "NOT_CONNECTED", 0.55, _NOT_CONNECTED),
    Signature("Dialect needs to be explicitly supplied", "SEQUELIZE_NO_DIALECT", 0.8, _ORM_CONFIG),
    Signature("Unable to resolve sequelize package", "MODULE_NOT_FOUND", 0.85, _MODULE),
    Signature(
        "Required configuration option 'client' is missing", "KNEX_NO_CLIENT", 0.8, _ORM_CONFIG
    ),
    # --- JavaScript errors ---
    Signature(
        "SyntaxError",
        "JSON_PARSE",
        0.55,
        _JSON,
        re.compile(
            r"SyntaxError: (?:Unexpected token .* in JSON|.* is not valid JSON|"
            r"Unexpected end of JSON input|JSON\.parse)"
        ),
    ),
    Signature(
        "SyntaxError",
        "SYNTAX_ERROR",
        0.85,
        _SYNTAX,
        re.compile(
            r"^\s*(?:Uncaught\s+)?SyntaxError: (?!.*(?:JSON|Cannot use import statement|"
            r"Unexpected token 'export'|does not provide an export|Named export))"
        ),
    ),
    Signature(
        "TypeError",
        "TYPE_ERROR",
        0.7,
        _TYPE,
        re.compile(r"^\s*(?:Uncaught\s+)?TypeError: (?!.*Invalid URL)"),
    ),
    Signature(
        "ReferenceError",
        "REFERENCE_ERROR",
        0.75,
        _REFERENCE,
        re.compile(r"^\s*(?:Uncaught\s+)?ReferenceError: (?!.*in ES module scope)"),
    ),
    # --- Python tracebacks (the last line names the exception) ---
    Signature(
        "ImportError",
        "PY_IMPORT_ERROR",
        0.85,
        _PY_IMPORT,
        # (Python 2's "No module named x" and a native library the loader cannot find are the
        # image's: missing_artifact reads them)
        re.compile(_PY_EXC + r"ImportError: (?!No module named|.*cannot open shared object file)"),
    ),
    Signature(
        "ImproperlyConfigured",
        "PY_IMPORT_ERROR",
        0.85,
        _PY_IMPORT,
        re.compile(r"ImproperlyConfigured: Error loading"),
    ),
    Signature(
        "AttributeError",
        "PY_ATTRIBUTE_ERROR",
        0.75,
        _ATTRIBUTE,
        re.compile(_PY_EXC + r"AttributeError: "),
    ),
    Signature(
        "NameError", "REFERENCE_ERROR", 0.78, _REFERENCE, re.compile(_PY_EXC + r"NameError: ")
    ),
    Signature(
        "IndentationError",
        "SYNTAX_ERROR",
        0.85,
        _SYNTAX,
        re.compile(_PY_EXC + r"IndentationError: "),
    ),
    Signature("ValueError", "PY_VALUE_ERROR", 0.5, _VALUE, re.compile(_PY_EXC + r"ValueError: ")),
    # --- bare crashes: weak on their own, a symptom when another cause is named ---
    Signature("ERR_UNHANDLED_REJECTION", "UNHANDLED_REJECTION", 0.45, _UNHANDLED),
    Signature("UnhandledPromiseRejection", "UNHANDLED_REJECTION", 0.45, _UNHANDLED),
    Signature("triggerUncaughtException", "UNCAUGHT_EXCEPTION", 0.4, _CRASH),
    Signature("Unhandled rejection", "UNHANDLED_REJECTION", 0.4, _UNHANDLED),
    Signature("Traceback (most recent call last)", "UNCAUGHT_EXCEPTION", 0.35, _CRASH),
    Signature(
        "Node.js v", "UNCAUGHT_EXCEPTION", 0.3, _CRASH, re.compile(r"^\s*Node\.js v\d+\.\d+")
    ),
    Signature(
        "Failed at the", "SCRIPT_FAILED", 0.25, _SCRIPT, re.compile(r"npm ERR! Failed at the")
    ),
    Signature("ELIFECYCLE", "SCRIPT_FAILED", 0.25, _SCRIPT),
    Signature("Lifecycle script", "SCRIPT_FAILED", 0.25, _SCRIPT, re.compile(r"failed with error")),
    # Other stacks (signatures reviewed against the failure corpus's development part)
    sig("nil pointer dereference", "GO_NIL_POINTER", 0.9, _NIL),
    sig("panic: ", "GO_PANIC", 0.6, _CRASH, r"^\s*panic: "),
    sig("fatal error: all goroutines are asleep", "GO_DEADLOCK", 0.88, _CRASH),
    sig("UnsupportedClassVersionError", "RUNTIME_VERSION", 0.95, _RUNTIME_VERSION),
    sig("has been compiled by a more recent version", "RUNTIME_VERSION", 0.93, _RUNTIME_VERSION),
    sig("NoSuchMethodError", "LIBRARY_MISMATCH", 0.88, _LIBRARY_MISMATCH),
    # Classes Scala 2.13 removed, asked for by code built for 2.12 (or the other way round):
    # a Scala version mismatch, not a missing jar
    sig(
        "NoClassDefFoundError: scala/",
        "LIBRARY_MISMATCH",
        0.86,
        _LIBRARY_MISMATCH,
        r"NoClassDefFoundError: scala/(?:Serializable|Product\$class|collection/"
        r"(?:GenTraversableOnce|TraversableOnce|mutable/ArrayOps\$ofRef|JavaConversions))\b",
    ),
    sig("AbstractMethodError", "LIBRARY_MISMATCH", 0.86, _LIBRARY_MISMATCH),
    sig("IncompatibleClassChangeError", "LIBRARY_MISMATCH", 0.86, _LIBRARY_MISMATCH),
    # an Erlang release built for another system than the image it runs in
    sig("Unusable Erlang runtime system", "RUNTIME_VERSION", 0.9, _RUNTIME_VERSION),
    # an OTP application the code needs (:ssl, :crypto …) is not started in the release
    sig(
        "application is not started",
        "OTP_APP_NOT_STARTED",
        0.88,
        _OTP_APP,
        r"`?:\w+`? application (is not started|was not started)",
    ),
    sig("java.lang.NullPointerException", "JVM_NULL_POINTER", 0.82, _NIL),
    sig("ClassCastException", "JVM_CLASS_CAST", 0.8, _CRASH),
    sig("Exception in thread", "JVM_EXCEPTION", 0.5, _CRASH, r'Exception in thread "'),
    sig("APPLICATION FAILED TO START", "SPRING_FAILED", 0.5, _CRASH),
    sig("BeanCreationException", "SPRING_FAILED", 0.45, _CRASH),
    sig("UnsatisfiedDependencyException", "SPRING_FAILED", 0.5, _CRASH),
    sig("Cannot start a runtime from within a runtime", "RUST_PANIC_RUNTIME", 0.92, _CRASH),
    sig("panicked at", "RUST_PANIC", 0.6, _CRASH),
    sig("error in serde", "RUST_DESERIALIZE", 0.75, _CRASH),
    # serde's own wording of a value whose shape the code's type does not accept
    sig("invalid type: ", "RUST_DESERIALIZE", 0.72, _CRASH, r"invalid type: [^,]+, expected "),
    sig("UndefinedFunctionError", "ELIXIR_UNDEFINED_FUNCTION", 0.86, _CRASH),
    sig("(CompileError)", "ELIXIR_COMPILE", 0.88, _SYNTAX),
    sig("(FunctionClauseError)", "ELIXIR_FUNCTION_CLAUSE", 0.82, _CRASH),
    sig("(MatchError)", "ELIXIR_MATCH", 0.78, _CRASH),
    sig("(KeyError)", "ELIXIR_EXCEPTION", 0.6, _CRASH),
    sig("(ArgumentError)", "ELIXIR_EXCEPTION", 0.6, _CRASH),
    sig("(RuntimeError)", "ELIXIR_EXCEPTION", 0.5, _CRASH),
    sig("NoMethodError", "RUBY_NO_METHOD", 0.85, _NIL),
    sig("undefined method", "RUBY_NO_METHOD", 0.84, _NIL),
    sig("uninitialized constant", "RUBY_NAME_ERROR", 0.84, _CRASH),
    sig("wrong number of arguments", "RUBY_ARGUMENT", 0.82, _CRASH),
    sig("rake aborted!", "RUBY_EXCEPTION", 0.3, _CRASH),
    sig("PHP Parse error", "PHP_PARSE", 0.93, _SYNTAX),
    sig("Parse error: syntax error", "PHP_PARSE", 0.92, _SYNTAX),
    sig("Call to undefined method", "PHP_UNDEFINED", 0.88, _CRASH),
    sig("Call to a member function", "PHP_NULL", 0.85, _NIL),
    sig("PHP Fatal error", "PHP_FATAL", 0.5, _CRASH),
    sig("NullReferenceException", "DOTNET_NULL_REFERENCE", 0.86, _NIL),
    sig("MissingMethodException", "LIBRARY_MISMATCH", 0.86, _LIBRARY_MISMATCH),
    sig("TypeLoadException", "LIBRARY_MISMATCH", 0.84, _LIBRARY_MISMATCH),
    sig("aka.ms/dotnet/app-launch-failed", "RUNTIME_VERSION", 0.88, _RUNTIME_VERSION),
    sig("You must install or update .NET", "RUNTIME_VERSION", 0.9, _RUNTIME_VERSION),
    sig("Unhandled exception.", "DOTNET_UNHANDLED", 0.45, _CRASH),
    sig("Segmentation fault", "SEGFAULT", 0.8, _CRASH),
    sig("SIGSEGV", "SEGFAULT", 0.8, _CRASH),
    sig(
        "Unexpected token",
        "JS_SYNTAX",
        0.7,
        _SYNTAX,
        r"(SyntaxError|ERROR): Unexpected token(?!.*JSON)",
    ),
    sig(
        "An attempt was made to call a method that does not exist",
        "LIBRARY_MISMATCH",
        0.9,
        _LIBRARY_MISMATCH,
    ),
    sig("(CaseClauseError)", "ELIXIR_FUNCTION_CLAUSE", 0.78, _CRASH),
    sig("RecursionError", "PY_EXCEPTION", 0.82, _CRASH),
    sig("ZeroDivisionError", "PY_EXCEPTION", 0.8, _CRASH),
    sig("UnboundLocalError", "PY_EXCEPTION", 0.85, _CRASH),
    sig("IndexError: list index out of range", "PY_EXCEPTION", 0.75, _CRASH),
    sig("Maximum call stack size exceeded", "JS_STACK_OVERFLOW", 0.82, _CRASH),
    sig("is not a function", "TYPE_ERROR", 0.8, _CRASH, r"TypeError: .* is not a function"),
    sig("ArrayIndexOutOfBoundsException", "JVM_EXCEPTION", 0.78, _CRASH),
    sig("StackOverflowError", "JVM_EXCEPTION", 0.82, _CRASH),
    sig(
        "index out of range", "GO_PANIC", 0.82, _CRASH, r"panic: runtime error: index out of range"
    ),
    sig("concurrent map writes", "GO_PANIC", 0.9, _CRASH),
    sig("interface conversion", "GO_PANIC", 0.84, _CRASH, r"panic: interface conversion"),
    sig(
        "attempt to",
        "RUST_PANIC",
        0.82,
        _CRASH,
        r"attempt to (add|subtract|multiply|divide) with overflow",
    ),
    sig("InvalidCastException", "DOTNET_EXCEPTION", 0.8, _CRASH),
    sig("server version mismatch", "RUNTIME_VERSION", 0.86, _RUNTIME_VERSION),
    # A script checked out with Windows line endings: the shell sees "set -e\r", "\r" as a
    # command, or a shebang naming "sh\r" (bash, dash, busybox and coreutils env wording)
    sig("$'\\r'", "CRLF_SCRIPT", 0.93, _CRLF),
    sig(
        "illegal option -",
        "CRLF_SCRIPT",
        0.86,
        _CRLF,
        r"\bset: (?:line \d+: )?illegal option -\s*$",
    ),
    sig("invalid option", "CRLF_SCRIPT", 0.84, _CRLF, r"\bset: -\S*\r?: invalid option"),
    sig("bad interpreter", "CRLF_SCRIPT", 0.9, _CRLF, r"\^M: bad interpreter|\r: bad interpreter"),
    sig("\\r'", "CRLF_SCRIPT", 0.9, _CRLF, r"env: [‘'`]\w+\\r[’'`]: No such file"),
    # The job's command line does not parse (argparse / gcloud, Go's flag package, clap, commander)
    sig(
        "argument",
        "USAGE_ERROR",
        0.8,
        _USAGE,
        r"argument \S+: expected (?:one|\d+) arguments?|error: unrecognized arguments: "
        r"|error: the following arguments are required: ",
    ),
    sig("flag provided but not defined", "USAGE_ERROR", 0.82, _USAGE),
    sig("error: unexpected argument '", "USAGE_ERROR", 0.82, _USAGE),
    sig("which wasn't expected", "USAGE_ERROR", 0.8, _USAGE, r"error: Found argument '\S+' which"),
    sig("error: unknown option '", "USAGE_ERROR", 0.8, _USAGE),
    # Rails 5+: a migration class written for Rails 4 (no [version] on ActiveRecord::Migration)
    sig(
        "Directly inheriting from ActiveRecord::Migration is not supported",
        "LIBRARY_MISMATCH",
        0.88,
        _LIBRARY_MISMATCH,
    ),
    # Go runtime panics and fatal errors (runtime/panic.go, runtime/map.go wording)
    sig("assignment to entry in nil map", "GO_NIL_POINTER", 0.88, _NIL),
    sig("slice bounds out of range", "GO_PANIC", 0.82, _CRASH, r"runtime error: slice bounds"),
    sig("integer divide by zero", "GO_PANIC", 0.82, _CRASH, r"runtime error: integer divide"),
    sig("concurrent map read and map write", "GO_PANIC", 0.9, _CRASH),
    # Go's runtime on unbounded recursion ("runtime: goroutine stack exceeds 1000000000-byte
    # limit", then "fatal error: stack overflow")
    sig("goroutine stack exceeds", "GO_STACK_OVERFLOW", 0.88, _CRASH),
    # Microsoft.Extensions.DependencyInjection: a service the code asks for was never registered
    sig(
        "Unable to resolve service for type",
        "DOTNET_DI",
        0.86,
        _CRASH,
        r"Unable to resolve service for type '[^']+' while attempting to activate",
    ),
    # Rust: a None unwrapped, and tokio used outside a runtime. Named RUST_PANIC so that an
    # error another cause names (an unset variable behind the None) still wins.
    sig("on a `None` value", "RUST_PANIC", 0.72, _NIL),
    sig("there is no reactor running", "RUST_PANIC_RUNTIME", 0.9, _CRASH),
    sig("Cannot drop a runtime in a context where blocking", "RUST_PANIC_RUNTIME", 0.9, _CRASH),
    # Elixir exceptions that name a code bug
    sig("(Protocol.UndefinedError)", "ELIXIR_FUNCTION_CLAUSE", 0.8, _CRASH),
    sig("(BadArityError)", "ELIXIR_FUNCTION_CLAUSE", 0.8, _CRASH),
    sig("(ArithmeticError)", "ELIXIR_EXCEPTION", 0.75, _CRASH),
    # Ruby and PHP: a parse error, an uncaught TypeError
    sig("syntax error, unexpected", "SYNTAX_ERROR", 0.86, _SYNTAX, r"\.rb:\d+: syntax error"),
    sig("Uncaught TypeError", "TYPE_ERROR", 0.8, _TYPE, r"PHP Fatal error: +Uncaught TypeError"),
    # A runtime older (or newer) than the code asks for, as each toolchain words it
    sig("go.mod requires go >=", "RUNTIME_VERSION", 0.92, _RUNTIME_VERSION),
    sig("note: module requires Go", "RUNTIME_VERSION", 0.88, _RUNTIME_VERSION),
    sig(
        "cannot be built because it requires rustc",
        "RUNTIME_VERSION",
        0.92,
        _RUNTIME_VERSION,
    ),
    sig("requires a different Python", "RUNTIME_VERSION", 0.9, _RUNTIME_VERSION),
    sig(
        "is incompatible with this module",
        "RUNTIME_VERSION",
        0.9,
        _RUNTIME_VERSION,
        r'The engine "node" is incompatible with this module',
    ),
    sig("ERR_OSSL_EVP_UNSUPPORTED", "RUNTIME_VERSION", 0.86, _RUNTIME_VERSION),
    sig(
        "Unexpected token",
        "RUNTIME_VERSION",
        0.86,
        _RUNTIME_VERSION,
        r"SyntaxError: Unexpected token '(?:\?|\.|\?\?=|\|\|=|&&=)'",
    ),
    sig(
        "It was not possible to find any compatible framework version",
        "RUNTIME_VERSION",
        0.92,
        _RUNTIME_VERSION,
    ),
    sig(
        "The framework '",
        "RUNTIME_VERSION",
        0.9,
        _RUNTIME_VERSION,
        r"The framework '[^']+', version '[^']+'(?: \(\w+\))? was not found",
    ),
    sig("Composer detected issues in your platform", "RUNTIME_VERSION", 0.9, _RUNTIME_VERSION),
    sig(
        "but your Gemfile specified",
        "RUNTIME_VERSION",
        0.93,
        _RUNTIME_VERSION,
        r"Your Ruby version is \S+, but your Gemfile specified",
    ),
    sig(
        "compiled for a later version of the run",
        "RUNTIME_VERSION",
        0.93,
        _RUNTIME_VERSION,
    ),
    # Spring Boot's failure analysers that name a wiring bug in the code. A missing bean can
    # also follow from configuration (a property that switches an auto-configuration off), so it
    # is named SPRING_FAILED and yields to any cause another analyzer names; a missing DataSource
    # is the datasource configuration's (secret_config).
    sig(
        "that could not be found",
        "SPRING_FAILED",
        0.8,
        _CRASH,
        r"required a bean of type '(?![^']*DataSource')[^']+' that could not be found",
    ),
    sig(
        "form a cycle",
        "SPRING_BEAN_CYCLE",
        0.86,
        _CRASH,
        r"dependencies of some of the beans in the application context form a cycle",
    ),
    sig(
        "required a single bean, but",
        "SPRING_BEAN_AMBIGUOUS",
        0.84,
        _CRASH,
    ),
    # Rails' autoloader, Laravel's container, PHP and Rust crashes that name the code
    sig("Zeitwerk::NameError", "RUBY_NAME_ERROR", 0.86, _CRASH),
    sig("Target class [", "PHP_UNDEFINED", 0.8, _CRASH, r"Target class \[[^\]]+\] does not exist"),
    # (a class not found may be an autoloader the image lacks: yields to missing_artifact)
    sig(
        "Uncaught Error: Class",
        "PHP_FATAL",
        0.7,
        _CRASH,
        r"Uncaught Error: Class [\"'][^\"']+[\"'] not found",
    ),
    sig("has overflowed its stack", "RUST_PANIC", 0.84, _CRASH),
    # bash: a script that does not parse
    sig("syntax error near unexpected token", "SYNTAX_ERROR", 0.86, _SYNTAX),
    sig("syntax error: unexpected end of file", "SYNTAX_ERROR", 0.86, _SYNTAX),
    # Exceptions that name a bug in the code whatever it was doing (each runtime's own class
    # name, at the start of the line or after "Caused by:" / "Unhandled exception."); named as the
    # symptom table's crash signatures, so that an error another cause names still wins
    sig(
        "KeyError: '",
        "PY_EXCEPTION",
        0.6,
        _CRASH,
        _PY_EXC + r"KeyError: '(?!(?-i:[A-Z][A-Z0-9_]{2,}'))",
    ),
    sig("AssertionError", "PY_EXCEPTION", 0.6, _CRASH, _PY_EXC + r"AssertionError\b"),
    sig("NotImplementedError", "PY_EXCEPTION", 0.8, _CRASH, _PY_EXC + r"NotImplementedError\b"),
    sig("UnicodeEncodeError", "PY_EXCEPTION", 0.72, _CRASH, _PY_EXC + r"UnicodeEncodeError: "),
    sig(
        "RangeError",
        "TYPE_ERROR",
        0.75,
        _CRASH,
        r"^\s*(?:Uncaught\s+)?RangeError: (?!.*Maximum call stack)",
    ),
    sig("UninitializedPropertyAccessException", "JVM_EXCEPTION", 0.82, _NIL),
    sig(
        "NoSuchElementException",
        "JVM_EXCEPTION",
        0.75,
        _NIL,
        r"java\.util\.NoSuchElementException: No value present",
    ),
    sig("System.FormatException", "DOTNET_EXCEPTION", 0.72, _CRASH),
    sig("System.ArgumentOutOfRangeException", "DOTNET_EXCEPTION", 0.72, _CRASH),
    sig("System.IndexOutOfRangeException", "DOTNET_EXCEPTION", 0.72, _CRASH),
    sig("System.Collections.Generic.KeyNotFoundException", "DOTNET_EXCEPTION", 0.72, _CRASH),
    sig("System.NotImplementedException", "DOTNET_EXCEPTION", 0.78, _CRASH),
    sig(
        "Sequence contains no",
        "DOTNET_EXCEPTION",
        0.72,
        _CRASH,
        r"InvalidOperationException: Sequence contains no (?:matching )?element",
    ),
    # A Node native addon in the image that does not fit the runtime: compiled for another
    # Node ABI (NODE_MODULE_VERSION), or for another OS (a host's node_modules copied in)
    sig(
        "was compiled against a different Node.js version",
        "RUNTIME_VERSION",
        0.92,
        _RUNTIME_VERSION,
    ),
    sig(
        "invalid ELF header",
        "RUNTIME_VERSION",
        0.86,
        _RUNTIME_VERSION,
        r"\.node: invalid ELF header",
    ),
    # BigQuery rejecting the SQL the job sends (GoogleSQL's parser)
    sig(
        "Syntax error: ", "SYNTAX_ERROR", 0.75, _SYNTAX, r"\b400 .*Syntax error: .* at \[\d+:\d+\]"
    ),
    # runc's init looks the entry point up first (exec.LookPath: `exec: "x": executable file not
    # found in $PATH`, `exec: "/x": stat /x: no such file or directory`, `exec: "/x": permission
    # denied`) and only then calls execve, whose failure it words as an os.PathError: `exec /x: no
    # such file or directory`. The file was found, so what is missing is the interpreter its
    # shebang names (bash on alpine, "sh\r" from a CRLF checkout) or its dynamic loader. Older
    # runc said `exec user process caused "no such file or directory"`.
    sig(
        "no such file or directory",
        "SHEBANG_INTERPRETER",
        0.9,
        _INTERPRETER,
        r"(?:^|\s)exec /\S+: no such file or directory"
        r"|exec user process caused:? \\*\"?no such file or directory",
    ),
    # LookPath found a shell builtin or a whole command line as one word: a shell-form command
    # written in exec form (["set -e && ..."], ["npm run migrate"], ["source", ...]). The quotes
    # may arrive escaped (\"x\") when Docker nests the message in its own.
    sig(
        "executable file not found in",
        "EXEC_FORM_COMMAND",
        0.94,
        _EXEC_FORM,
        r'exec: \\*"(?:set|cd|source|export|unset|eval|exec|ulimit|umask|alias|trap|shopt'
        r'|declare|local|readonly|if|for|while|\.|\[\[)\\*"'
        r'|exec: \\*"[^"\\/]+ [^"\\]*\\*": executable file not found',
    ),
    # runc's LookPath on a file without the execute bit; Cloud Run's check of the same at deploy
    # ('Invalid ENTRYPOINT. ... Command "/x.sh": invalid mode "-rw-r--r--" for /x.sh')
    sig(
        "permission denied",
        "ENTRY_NOT_EXECUTABLE",
        0.9,
        _ENTRY_NOT_EXECUTABLE,
        r'exec: \\*"/[^"\\]+\\*": permission denied',
    ),
    sig(
        "invalid mode",
        "ENTRY_NOT_EXECUTABLE",
        0.9,
        _ENTRY_NOT_EXECUTABLE,
        r'Command \\*"[^"\\]+\\*": invalid mode \\*"-[rwx-]{9}',
    ),
)

# Crash markers that say only "it crashed": dropped from the quotes when a named error is there.
GENERIC = frozenset(
    {
        "UNHANDLED_REJECTION",
        "UNCAUGHT_EXCEPTION",
        "SCRIPT_FAILED",
        "NOT_CONNECTED",
        "PY_VALUE_ERROR",
    }
)

_MISS_TITLES = {
    "ESM_IMPORT_WITHOUT_EXTENSION": _ESM_EXTENSION,
    "PY_MODULE_NOT_FOUND": _PY_IMPORT,
}

_APP_PATH = re.compile(
    r"(/(?:app|usr/src/app|workspace|srv|home/\w+)/(?!node_modules/)[\w./@-]+\.[cm]?[jt]s)"
)


def _module_matches(misses: tuple[ModuleMiss, ...]) -> list[Match]:
    matches: list[Match] = []
    for miss in misses:
        if miss.side is not Side.CODE:
            continue
        sig = Signature(
            "", miss.signature, miss.strength, _MISS_TITLES.get(miss.signature, _MODULE)
        )
        m = line_match(sig, (miss.line,))
        if m is not None:
            matches.append(m)
    return matches


def _specific_checks(evidence: Evidence, finding: Finding) -> tuple[Check, ...]:
    image = image_that_ran(evidence)
    if image is None:
        return ()
    checks: list[Check] = []
    if finding.signature.startswith(("ERR_REQUIRE_ESM", "ESM_")):
        files: list[str] = []
        for fact in finding.facts:
            m = _APP_PATH.search(fact.quote or "")
            if m and m.group(1) not in files:
                files.append(m.group(1))
        # `head` as the entrypoint, not `sh -c '…'`: no shell, so no quoting inside quoting
        # in a command someone pastes from a phone.
        paths = ("package.json", *files[:1])
        checks.append(
            Check(
                Text(
                    en="In the image that ran: the module type in package.json and the file's "
                    "first lines (import vs require)",
                    ko='실행된 이미지에서 package.json의 "type"과 파일 앞부분(import/require) 확인',
                ),
                "docker run --rm --platform=linux/amd64 --entrypoint head "
                f"{shlex.quote(image)} -n 40 {' '.join(shlex.quote(p) for p in paths)}",
            )
        )
    main = evidence.config.main
    if main is not None and main.command:
        entry, *rest = (*main.command, *main.args)
        checks.append(
            Check(
                Text(
                    en="Reproduce the start-up locally with the job's command (module and syntax "
                    "errors appear before any database access)",
                    ko="Job의 명령으로 로컬에서 실행해 재현(모듈·문법 오류는 DB 접속 전에 발생)",
                ),
                f"docker run --rm --platform=linux/amd64 --entrypoint {shlex.quote(entry)} "
                f"{shlex.quote(image)} {' '.join(shlex.quote(a) for a in rest)}".rstrip(),
            )
        )
    return tuple(checks)


# Exit statuses that say the process itself crashed: a segmentation fault (139 = 128 + SIGSEGV)
# and an abort (134 = 128 + SIGABRT). Weak on their own: a named error in the log says more.
_SEGFAULT = Signature("", "SEGFAULT", 0.55, _CRASH)
_ABORT = Signature("", "ABORTED", 0.45, _CRASH)
EXIT_CODES = {139: _SEGFAULT, 134: _ABORT}
EXIT_SIGNALS = {11: _SEGFAULT, 6: _ABORT}


def analyze(evidence: Evidence) -> Finding | None:
    """The program crashed for a code or module reason (ESM/CJS, imports, syntax, types, ORM)."""
    misses = classify(evidence)
    matches = _module_matches(misses) + match_signatures(evidence, SIGNATURES)
    exits = exit_status_hits(evidence, EXIT_CODES, EXIT_SIGNALS)
    named = [m for m in matches if m.signature.signature not in GENERIC]
    if named:  # a named error explains the crash markers around it; quote it alone
        matches = named
    finding = build_finding(CAUSE, matches=matches, status=exits)
    if finding is None:
        return None
    checks = (*_specific_checks(evidence, finding), *CAUSE.checks(evidence.ref))
    return build_finding(CAUSE, matches=matches, status=exits, checks=checks)


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
