"""The one narrow interface every analyzer implements, and the helpers they share.

An analyzer is a pure function `Evidence -> Finding | None` plus the static description of the
cause it recognises (`Cause`: id, prior, name, the commands that confirm it, workarounds). Findings
are data: analyzers never format Slack or terminal output.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from jobtriage.evidence import Evidence, ExecutionRef, LogLine
from jobtriage.text import Text

# How many log lines a finding quotes at most (the Slack message shows two or three).
MAX_QUOTES = 3


class FactKind(StrEnum):
    LOG = "log"  # a quoted log line
    CONFIG = "config"  # a fact read from the Job / Execution configuration
    STATUS = "status"  # an exit code, signal, condition message from the Run API


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing a finding rests on. `quote` is untrusted job text; `note` is ours."""

    kind: FactKind
    quote: str | None = None
    note: Text | None = None
    timestamp: datetime | None = None
    stream: str | None = None

    @classmethod
    def from_line(cls, line: LogLine) -> Fact:
        return cls(
            kind=FactKind.LOG, quote=line.text, timestamp=line.timestamp, stream=str(line.stream)
        )

    @classmethod
    def config(cls, note: Text) -> Fact:
        return cls(kind=FactKind.CONFIG, note=note)

    @classmethod
    def status(cls, note: Text) -> Fact:
        return cls(kind=FactKind.STATUS, note=note)


@dataclass(frozen=True, slots=True)
class Check:
    """A command that would confirm or refute a cause, filled in with this execution's names."""

    purpose: Text
    command: str


@dataclass(frozen=True, slots=True)
class Finding:
    """What one analyzer concluded from the evidence.

    `strength` (0..1) says how strongly the evidence points at this cause: 0.9+ is a log line or a
    status that names it outright, 0.5 is suggestive, 0.2 is circumstantial. Ranking combines it
    with the cause's prior. `signature` is the normalised error (e.g. "ERR_REQUIRE_ESM",
    "ECONNREFUSED"): stable from run to run, it keys the incident, so it must never contain free
    text.
    """

    cause: str
    strength: float
    title: Text
    facts: tuple[Fact, ...] = ()
    signature: str = ""
    checks: tuple[Check, ...] = ()
    # Set only by the learned fallback: its cross-validated accuracy at this score, which the
    # report shows instead of a confidence derived from `strength`.
    calibrated: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength must be within 0..1, got {self.strength}")


@dataclass(frozen=True, slots=True)
class Cause:
    """The static description of one cause id (the README's table of causes lists them all)."""

    id: str
    prior: float
    name: Text
    checks: Callable[[ExecutionRef], tuple[Check, ...]]
    workarounds: tuple[Text, ...] = ()
    # Text the report shows for this cause when no analyzer found anything for it.
    refute_hint: Text | None = None
    # Reference pages an on-call engineer reads next (public documentation, not ours).
    docs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Analyzer:
    cause: Cause
    analyze: Callable[[Evidence], Finding | None]
    doc: str = ""

    @property
    def id(self) -> str:
        return self.cause.id


class Searcher(Protocol):
    """What a signature needs of its regex: a compiled `re.Pattern`, or a `LazyPattern`."""

    def search(self, string: str) -> re.Match[str] | None: ...


class LazyPattern:
    """A case-insensitive regex compiled on its first use: most signatures of a table never
    see a candidate line, and compiling a few hundred patterns at import would add to every
    cold start."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def search(self, string: str) -> re.Match[str] | None:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, re.I)
        return self._compiled.search(string)


@dataclass(frozen=True, slots=True)
class Signature:
    """A recognisable error: a literal needle (fast, case-insensitive) and an optional regex.

    The needle finds candidate lines through the evidence's shared index; the regex (if any) then
    confirms on those few lines only. This keeps 100k-line logs cheap.
    """

    needle: str
    signature: str
    strength: float
    title: Text
    regex: Searcher | None = None
    streams: tuple[str, ...] = field(default=())  # empty: any stream

    def matches(self, line: LogLine) -> bool:
        if self.streams and str(line.stream) not in self.streams:
            return False
        return self.regex is None or self.regex.search(line.text) is not None


@dataclass(frozen=True, slots=True)
class Match:
    signature: Signature
    lines: tuple[LogLine, ...]


def match_signatures(evidence: Evidence, signatures: Iterable[Signature]) -> list[Match]:
    """Every signature that matches at least one line, strongest first."""
    found: list[Match] = []
    for sig in signatures:
        lines = tuple(line for line in evidence.grep(sig.needle) if sig.matches(line))
        if lines:
            found.append(Match(sig, lines))
    found.sort(key=lambda m: m.signature.strength, reverse=True)
    return found


# --- Helpers shared by several analyzers (additive; all pure functions of the evidence) ---------


@dataclass(frozen=True, slots=True)
class StatusText:
    """A sentence the platform itself wrote about this execution (condition or task status)."""

    source: Text
    text: str


@dataclass(frozen=True, slots=True)
class StatusHit:
    signature: Signature
    status: StatusText


_FROM_EXECUTION = Text(en="Execution status", ko="실행(Execution) 상태 메시지")
_FROM_EVENT = Text(en="Completion audit entry", ko="완료 감사 로그(system_event)")
_FROM_TASK = Text(en="Task {index} status", ko="태스크 {index} 상태 메시지")


def status_texts(evidence: Evidence) -> tuple[StatusText, ...]:
    """Every platform-written status sentence: the execution's and the event's completion messages,
    and each task's last-attempt status. Deduplicated, in that order."""
    found: list[StatusText] = []
    seen: set[str] = set()

    def add(source: Text, text: str | None) -> None:
        if text and text not in seen:
            seen.add(text)
            found.append(StatusText(source, text))

    if evidence.execution is not None:
        add(_FROM_EXECUTION, evidence.execution.completed_message)
        for text in evidence.execution.other_conditions:
            add(_FROM_EXECUTION, text)
    if evidence.event is not None:
        add(_FROM_EVENT, evidence.event.completed_message)
        add(_FROM_EVENT, evidence.event.status_message)
    for task in evidence.tasks:
        add(_FROM_TASK.format(index=task.index), task.status_message)
    return tuple(found)


def match_status(evidence: Evidence, signatures: Iterable[Signature]) -> list[StatusHit]:
    """Signatures that match a status sentence (stream restrictions do not apply), strongest
    first."""
    texts = status_texts(evidence)
    hits: list[StatusHit] = []
    for sig in signatures:
        needle = sig.needle.lower()
        for status in texts:
            if needle in status.text.lower() and (
                sig.regex is None or sig.regex.search(status.text) is not None
            ):
                hits.append(StatusHit(sig, status))
                break
    hits.sort(key=lambda h: h.signature.strength, reverse=True)
    return hits


_EXIT_SOURCE = Text(en="Task {index} exit status", ko="태스크 {index} 종료 상태")


def exit_status_hits(
    evidence: Evidence, codes: dict[int, Signature], signals: dict[int, Signature]
) -> list[StatusHit]:
    """Exit codes and signals of the failed tasks read as evidence: each task whose exit code is a
    key of `codes` (or whose signal is a key of `signals`) gives a status hit of that signature,
    quoted as e.g. "exit code 139 (signal 11)"."""
    hits: list[StatusHit] = []
    seen: set[str] = set()
    for task in evidence.tasks:
        sig_ = codes.get(task.exit_code) if task.exit_code is not None else None
        if sig_ is None and task.term_signal is not None:
            sig_ = signals.get(task.term_signal)
        if sig_ is None or sig_.signature in seen:
            continue
        seen.add(sig_.signature)
        said = f"exit code {task.exit_code}" if task.exit_code is not None else "no exit code"
        if task.term_signal is not None:
            said += f" (signal {task.term_signal})"
        hits.append(StatusHit(sig_, StatusText(_EXIT_SOURCE.format(index=task.index), said)))
    return hits


def status_fact(hit: StatusHit) -> Fact:
    return Fact(kind=FactKind.STATUS, quote=hit.status.text, note=hit.status.source)


def grep_indexed(evidence: Evidence, *needles: str) -> tuple[tuple[int, LogLine], ...]:
    """Like `Evidence.grep`, but with each line's position, to look at its neighbours."""
    return tuple((i, evidence.logs[i]) for i in evidence.index.find_any(needles))


def neighbours(
    evidence: Evidence, index: int, *, before: int = 0, after: int = 0
) -> tuple[LogLine, ...]:
    """The lines around position `index` (not including it), in log order."""
    start = max(0, index - before)
    return evidence.logs[start:index] + evidence.logs[index + 1 : index + 1 + after]


def build_finding(
    cause: Cause,
    *,
    matches: Iterable[Match] = (),
    status: Iterable[StatusHit] = (),
    extra_facts: Iterable[Fact] = (),
    bonus: float = 0.0,
    checks: Iterable[Check] = (),
) -> Finding | None:
    """One finding from log matches and platform status hits, which compete for the title.

    The strongest signature (log line or platform status) names the finding; status sentences are
    quoted first (they are the platform's own word), then up to MAX_QUOTES log lines.
    """
    log_matches = list(matches)
    hits = list(status)
    if not log_matches and not hits:
        return None
    candidates = [m.signature for m in log_matches] + [h.signature for h in hits]
    best = max(candidates, key=lambda s: s.strength)
    distinct = len({s.signature for s in candidates})
    strength = min(0.99, best.strength + 0.03 * (distinct - 1) + bonus)
    facts: list[Fact] = [status_fact(h) for h in hits[:MAX_QUOTES]]
    log_matches.sort(key=lambda m: m.signature.strength, reverse=True)
    quotes: list[LogLine] = []
    for m in log_matches:
        for line in m.lines:
            if len(quotes) >= MAX_QUOTES:
                break
            if line not in quotes:
                quotes.append(line)
    quotes.sort(key=lambda line: (line.timestamp is None, line.timestamp or datetime.min))
    facts.extend(Fact.from_line(line) for line in quotes)
    facts.extend(extra_facts)
    return Finding(
        cause=cause.id,
        strength=max(0.0, strength),
        title=best.title,
        facts=tuple(facts),
        signature=best.signature,
        checks=tuple(checks),
    )


def line_match(signature: Signature, lines: Iterable[LogLine]) -> Match | None:
    """A `Match` for lines an analyzer selected itself (e.g. after looking at neighbours)."""
    kept = tuple(lines)
    return Match(signature, kept) if kept else None


# The default compute service account: what a job runs as when it names none.
_DEFAULT_COMPUTE_SA = re.compile(r"^\d+-compute@developer\.gserviceaccount\.com$")


def uses_default_service_account(evidence: Evidence) -> bool:
    """True when the job names no service account or names the project's default compute one."""
    sa = evidence.config.service_account
    return not sa or _DEFAULT_COMPUTE_SA.match(sa) is not None


def service_account_fact(evidence: Evidence) -> Fact | None:
    """A config fact about the job's identity when it is the default compute account, else None."""
    if not evidence.config.containers and evidence.config.service_account is None:
        return None  # configuration unknown: say nothing rather than guess
    if not uses_default_service_account(evidence):
        return None
    sa = evidence.config.service_account
    if sa:
        return Fact.config(
            Text(
                en="The job runs as the default compute service account ({sa}); it only has the "
                "roles someone granted it, and org policy often grants none",
                ko="Job이 기본 Compute 서비스 계정({sa})으로 실행됨: 따로 부여한 역할만 가지며, "
                "조직 정책상 기본 역할이 없는 경우가 많음",
            ).format(sa=sa)
        )
    return Fact.config(
        Text(
            en="The job names no service account, so it runs as the default compute service "
            "account (PROJECT_NUMBER-compute@developer.gserviceaccount.com)",
            ko="Job에 서비스 계정이 지정되지 않아 기본 Compute 서비스 계정"
            "(PROJECT_NUMBER-compute@developer.gserviceaccount.com)으로 실행됨",
        )
    )


def image_that_ran(evidence: Evidence) -> str | None:
    """The image reference to inspect: pinned to the digest the execution resolved when known,
    because a tag like `:latest` may have moved since the failure."""
    main = evidence.config.main
    if main is None or not main.image:
        return None
    image = main.image
    if "@sha256:" in image:
        return image
    digest = evidence.execution.image_digest if evidence.execution else None
    if digest and "@" in digest:  # already a full reference
        return digest
    if digest:
        repo = image
        slash = repo.rfind("/")
        colon = repo.rfind(":")
        if colon > slash:  # strip the tag, not a registry port
            repo = repo[:colon]
        return f"{repo}@{digest}" if digest.startswith("sha256:") else f"{repo}@sha256:{digest}"
    return image


def image_tag_fact(evidence: Evidence) -> Fact | None:
    """A config fact when the job names its image by a tag rather than a digest."""
    main = evidence.config.main
    if main is None or not main.image or main.image_pinned_by_digest:
        return None
    return Fact.config(
        Text(
            en="The image is referenced by tag ({image}), not by digest: the tag can point at a "
            "different build than the one that ran",
            ko="이미지를 digest가 아닌 태그({image})로 참조함: 태그가 실제 실행된 빌드와 다른 "
            "이미지를 가리킬 수 있음",
        ).format(image=main.image)
    )


def signature_finding(
    cause: Cause,
    signatures: Iterable[Signature],
    evidence: Evidence,
    *,
    extra_facts: Iterable[Fact] = (),
    bonus: float = 0.0,
) -> Finding | None:
    """The usual analyzer body: log lines and platform status against one cause's signatures,
    with the cause's own checks."""
    sigs = tuple(signatures)
    matches = match_signatures(evidence, sigs)
    status = match_status(evidence, sigs)
    return build_finding(
        cause,
        matches=matches,
        status=status,
        extra_facts=extra_facts,
        bonus=bonus,
        checks=cause.checks(evidence.ref),
    )


def sig(
    needle: str,
    signature: str,
    strength: float,
    title: Text,
    regex: str | None = None,
) -> Signature:
    """A `Signature` with its regex given as a string (case-insensitive, compiled on first use):
    the compact form the newer tables use."""
    return Signature(
        needle, signature, strength, title, LazyPattern(regex) if regex is not None else None
    )
