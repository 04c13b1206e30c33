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
]

NEAR_MISSES = [
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
        "a permission denied on a data file is not the entry point",
        ('open "/data/out.csv": permission denied',),
        ("entrypoint_runtime", "ENTRY_NOT_EXECUTABLE"),
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
    assert top.strength >= 0.8, top.strength


@pytest.mark.parametrize("row", NEAR_MISSES, ids=lambda r: r.name)
def test_a_near_miss_does_not_match(row: NearMiss) -> None:
    assert row.absent not in _ranked(row.lines), _ranked(row.lines)
