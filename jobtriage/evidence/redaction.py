"""The one redaction pass where untrusted text enters the evidence (issue 9).

`Evidence` calls `redact_evidence` when it is built, so nothing that reads evidence — analyzers,
the report, every renderer — ever holds a secret:

- all log lines of one task attempt and stream are redacted *together* (`redact_lines`), so a PEM
  key printed one line per entry, a pretty-printed JSON key or a `key=value` split over two lines
  is seen whole; and *before* each line is clipped to `MAX_LINE_CHARS`, so a secret straddling the
  clip leaves no fragment;
- every value of the Job/Execution configuration the evidence holds (`config_secrets`: plain env
  values and args of at least `MIN_KNOWN_LEN` characters) is masked wherever it appears, in logs
  and in every message;
- condition and status messages, gap reasons, args and the audit entry's texts are redacted, and
  invisible characters are dropped from all of them.

Redacting twice changes nothing, so building an `Evidence` from another (`dataclasses.replace`)
is safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from jobtriage.redact import (
    MIN_KNOWN_LEN,
    find_spans,
    looks_random,
    path_like,
    redact,
    redact_lines,
    strip_invisible,
)

if TYPE_CHECKING:
    from jobtriage.evidence.model import (
        ContainerConfig,
        Evidence,
        ExecutionInfo,
        Gap,
        JobEvent,
        JobInfo,
        LogLine,
        TaskAttempt,
        TaskTemplateConfig,
    )

T = TypeVar("T")

# Env names that say their value is a credential: the whole value is masked wherever it appears.
_SECRET_NAME = re.compile(
    r"pass|pwd|secret|token|key|auth|cred|cookie|session|salt|dsn|private|signing|webhook|cert",
    re.I,
)
# Flags whose *next* argument is a secret (`--password hunter2`, `-p hunter2`).
SECRET_FLAG = re.compile(
    r"^(?:-p|--?[\w.-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|credentials?|"
    r"private[_-]?key|auth)[\w.-]*)$",
    re.I,
)
# Values that are structure, not secrets, when the name does not say otherwise: analyzers and
# readers need them (a host, a path, a plain word, a number, a duration, an image, an e-mail).
_STRUCTURAL = re.compile(
    r"^(?:"
    r"[a-z][a-z0-9]*(?:[._:-][a-z0-9]+)*"  # production, o4o_platform, asia-northeast3, info
    r"|[A-Z]+(?:_[A-Z0-9]+)*"  # an enum-like word: DEBUG, TLS_1_2
    r"|[-+]?\d+(?:\.\d+)?[a-zA-Z%]{0,3}"  # 5432, 0.5, 30s, 512Mi
    r"|[\w.+-]+@[\w.-]+\.[a-z]{2,}"  # an e-mail (service accounts)
    r"|[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?"  # a host name, host:port, an IP
    r"|[a-z0-9.-]+(?::\d+)?(?:/[\w.-]+)+(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?"  # an image
    r")$"
)


def _structural(value: str) -> bool:
    return bool(_STRUCTURAL.match(value)) or (path_like(value) and not looks_random(value))


def _url_passwords(value: str) -> list[str]:
    """The password parts of the URLs in `value` (their user and host are not secret)."""
    if "://" not in value:
        return []
    return [value[s:e] for s, e in find_spans(value) if "@" in value[e : e + 1]]


def config_secrets(
    env: Iterable[tuple[str, str]] = (), args: Sequence[str] = ()
) -> tuple[str, ...]:
    """The values of a container's configuration that must be masked wherever they appear.

    Env: the password of a URL (not its host); the whole value when the name says it is a
    credential; otherwise the value unless it is plainly structure (`_STRUCTURAL`). Args: the one
    after a secret flag, the value of `--secret-flag=value`, and any other that is not structure.
    Shorter than `MIN_KNOWN_LEN`: never (too likely to be an ordinary word).
    """
    out: list[str] = []

    def add(value: str, *, secret_name: bool) -> None:
        if len(value) < MIN_KNOWN_LEN:
            return
        passwords = _url_passwords(value)
        if passwords:
            out.extend(p for p in passwords if len(p) >= MIN_KNOWN_LEN)
            return
        if secret_name or not _structural(value):
            out.append(value)

    for name, value in env:
        if value:
            add(value, secret_name=bool(_SECRET_NAME.search(name)))
    after_flag = False
    for arg in args:
        if after_flag:
            add(arg, secret_name=True)
            after_flag = False
            continue
        flag, sep, value = arg.partition("=")
        if sep and flag.startswith("-"):
            add(value, secret_name=bool(SECRET_FLAG.match(flag)))
            continue
        if arg.startswith("-"):
            after_flag = bool(SECRET_FLAG.match(arg))
            if arg.startswith("-p") and len(arg) > 2 and not arg.startswith("--"):
                add(arg[2:], secret_name=True)  # mysql's -pSECRET
            continue
        add(arg, secret_name=False)
    # longest first, so that a value containing another is masked whole
    return tuple(sorted(set(out), key=len, reverse=True))


def known_values(evidence: Evidence) -> tuple[str, ...]:
    """Every configuration value the evidence holds that must be masked (see `config_secrets`)."""
    values: set[str] = set()
    if evidence.event is not None:
        values.update(evidence.event.known_values)
    for info in (evidence.execution, evidence.job, evidence.last_success):
        if info is not None:
            for container in info.config.containers:
                values.update(container.known_values)
    return tuple(sorted(values, key=len, reverse=True))


def _text(text: str | None, known: Sequence[str]) -> str | None:
    if not text:
        return text
    return redact(strip_invisible(text), known=known)


def _texts(texts: Iterable[str], known: Sequence[str]) -> tuple[str, ...]:
    return tuple(_text(t, known) or "" for t in texts)


def redact_log_lines(
    lines: Sequence[LogLine], *, known: Sequence[str], clip: bool = True
) -> tuple[LogLine, ...]:
    """Redact each task attempt's stream as one text, then clip each line."""
    from jobtriage.evidence.model import clip_line

    groups: dict[tuple[object, ...], list[int]] = {}
    for i, line in enumerate(lines):
        groups.setdefault((line.task_index, line.attempt, line.stream), []).append(i)
    texts = [strip_invisible(line.text) for line in lines]
    for indexes in groups.values():
        redacted = redact_lines([texts[i] for i in indexes], known=known)
        for i, text in zip(indexes, redacted, strict=True):
            texts[i] = text
    out: list[LogLine] = []
    for line, text in zip(lines, texts, strict=True):
        if clip:
            text = clip_line(text)
        out.append(line if text == line.text else replace(line, text=text))
    return tuple(out)


def _container(c: ContainerConfig, known: Sequence[str]) -> ContainerConfig:
    return replace(c, command=_texts(c.command, known), args=_texts(c.args, known))


def _template(config: TaskTemplateConfig, known: Sequence[str]) -> TaskTemplateConfig:
    if not config.containers:
        return config
    return replace(config, containers=tuple(_container(c, known) for c in config.containers))


def _execution(info: ExecutionInfo | None, known: Sequence[str]) -> ExecutionInfo | None:
    if info is None:
        return None
    return replace(
        info,
        config=_template(info.config, known),
        completed_message=_text(info.completed_message, known),
        other_conditions=_texts(info.other_conditions, known),
    )


def _job(info: JobInfo | None, known: Sequence[str]) -> JobInfo | None:
    if info is None:
        return None
    return replace(info, config=_template(info.config, known))


def _event(event: JobEvent | None, known: Sequence[str]) -> JobEvent | None:
    if event is None:
        return None
    return replace(
        event,
        status_message=_text(event.status_message, known) or "",
        completed_message=_text(event.completed_message, known),
    )


def _task(task: TaskAttempt, known: Sequence[str]) -> TaskAttempt:
    if not task.status_message:
        return task
    return replace(task, status_message=_text(task.status_message, known))


def _gap(gap: Gap, known: Sequence[str]) -> Gap:
    return replace(
        gap,
        reason=_text(gap.reason, known) or "",
        fix=_text(gap.fix, known) or "",
        reason_ko=_text(gap.reason_ko, known) or "",
        fix_ko=_text(gap.fix_ko, known) or "",
    )


def redacted_fields(evidence: Evidence) -> dict[str, object]:
    """The evidence's untrusted fields, redacted (what `Evidence.__post_init__` stores)."""
    known = known_values(evidence)
    return {
        "logs": redact_log_lines(evidence.logs, known=known),
        "event": _event(evidence.event, known),
        "execution": _execution(evidence.execution, known),
        "last_success": _execution(evidence.last_success, known),
        "job": _job(evidence.job, known),
        "tasks": tuple(_task(t, known) for t in evidence.tasks),
        "gaps": tuple(_gap(g, known) for g in evidence.gaps),
    }
