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
    "ECONNREFUSED"): stable from run to run, it keys the incident, so it must never contain free text.
    """

    cause: str
    strength: float
    title: Text
    facts: tuple[Fact, ...] = ()
    signature: str = ""
    checks: tuple[Check, ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength must be within 0..1, got {self.strength}")


@dataclass(frozen=True, slots=True)
class Cause:
    """The static description of one cause id (see DESIGN.md, "Cause ids")."""

    id: str
    prior: float
    name: Text
    checks: Callable[[ExecutionRef], tuple[Check, ...]]
    workarounds: tuple[Text, ...] = ()
    # Text the report shows for this cause when no analyzer found anything for it.
    refute_hint: Text | None = None


@dataclass(frozen=True, slots=True)
class Analyzer:
    cause: Cause
    analyze: Callable[[Evidence], Finding | None]
    doc: str = ""

    @property
    def id(self) -> str:
        return self.cause.id


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
    regex: re.Pattern[str] | None = None
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


def finding_from_matches(
    cause: Cause, matches: list[Match], *, extra_facts: Iterable[Fact] = (), bonus: float = 0.0
) -> Finding | None:
    """Build the usual finding: the strongest signature names it, up to MAX_QUOTES lines quote it.

    Several distinct signatures of the same cause raise the strength a little (capped at 0.99).
    """
    if not matches:
        return None
    best = matches[0]
    quotes: list[LogLine] = []
    for m in matches:
        for line in m.lines:
            if line not in quotes:
                quotes.append(line)
            if len(quotes) >= MAX_QUOTES:
                break
        if len(quotes) >= MAX_QUOTES:
            break
    quotes.sort(key=lambda line: (line.timestamp is None, line.timestamp or datetime.min))
    distinct = len({m.signature.signature for m in matches})
    strength = min(0.99, best.signature.strength + 0.03 * (distinct - 1) + bonus)
    facts = tuple(Fact.from_line(line) for line in quotes) + tuple(extra_facts)
    return Finding(
        cause=cause.id,
        strength=strength,
        title=best.signature.title,
        facts=facts,
        signature=best.signature.signature,
    )
