"""The report model: one object that every renderer (terminal, JSON, Slack) turns into output.

It mirrors the seed report's sections: summary (현상 요약), ranked causes (원인 후보), commands
(조사 명령어), verdict and first step (핵심 판단), workarounds (임시 우회 방안), what changed
(변경 사항), and gaps. Nothing here is redacted or escaped yet; renderers do that at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from analyzers.base import Cause, Check, Fact, Finding
from jobtriage.console import Links
from jobtriage.evidence import ExecutionRef, Gap, LogStats, Outcome
from jobtriage.text import Text


@dataclass(frozen=True, slots=True)
class RankedCause:
    cause: Cause
    confidence: float  # 0..1; all causes of one diagnosis add up to 1
    finding: Finding | None = None

    @property
    def id(self) -> str:
        return self.cause.id

    @property
    def title(self) -> Text:
        return self.finding.title if self.finding else self.cause.name

    @property
    def facts(self) -> tuple[Fact, ...]:
        return self.finding.facts if self.finding else ()

    @property
    def checks(self) -> tuple[Check, ...]:
        return self.finding.checks if self.finding else ()


class Verdict(StrEnum):
    LIKELY = "likely"
    POSSIBLE = "possible"
    RULED_OUT = "ruled_out"
    UNCHECKED = "unchecked"


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One cause considered: its id, what the diagnosis concluded about it, and why."""

    id: str
    verdict: Verdict
    reason: Text
    confidence: float


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between the last successful execution and the failed one."""

    field: str  # stable key: image, command, args, env_names, secret_versions, service_account, ...
    before: str
    after: str
    related_cause: str | None = None  # set when the change lines up with a ranked cause
    note: Text | None = None


@dataclass(frozen=True, slots=True)
class Suspect:
    """One change around the job before it failed (`diagnosis.suspects`)."""

    kind: str  # commit, job_edit, secret_version, instance_event, iam_change
    when: datetime | None
    who: str | None
    what: Text
    lines_up: bool = False  # its kind can explain the top cause
    link: str | None = None  # a compare page or the build log


@dataclass(frozen=True, slots=True)
class Summary:
    ref: ExecutionRef
    outcome: Outcome
    status_message: str = ""
    tasks_total: int = 0
    tasks_failed: int = 0
    attempts: int | None = None  # attempts of the first failed task (1 + retries)
    max_retries: int | None = None
    exit_code: int | None = None
    term_signal: int | None = None
    duration: timedelta | None = None
    started_by: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    image: str | None = None
    timeout: timedelta | None = None


# What `Report.first_step` prefers: a command of at most SHORT_COMMAND characters, run by one of
# GOOGLE_CLIS, without shlex's quote-inside-quote ('"'"').
SHORT_COMMAND = 200
GOOGLE_CLIS = ("gcloud ", "bq ", "gsutil ")
NESTED_QUOTES = "'\"'\"'"


@dataclass(frozen=True, slots=True)
class LearnedPriors:
    """What confirmed causes of earlier incidents do to the priors the ranking starts from
    (`jobtriage.incident.memory.learned_priors`): a factor per cause, each within ×2 / ÷2."""

    factors: tuple[tuple[str, float], ...] = ()  # (cause id, factor ≠ 1), strongest move first
    job_confirmations: int = 0  # confirmed incidents of this job the factors read
    project_confirmations: int = 0  # of the project's other jobs (weighed less)

    def factor(self, cause: str) -> float:
        return dict(self.factors).get(cause, 1.0)


@dataclass(frozen=True, slots=True)
class HistoryEffect:
    """How the learned priors changed this report's order (`Report.history`)."""

    priors: LearnedPriors
    # (x, y): the history moved x above y, compared with the ranking from the base priors.
    moved: tuple[tuple[str, str], ...] = ()
    # A cause whose strong finding the history would have overruled, and so did not.
    held: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    summary: Summary
    causes: tuple[RankedCause, ...]
    commands: tuple[Check, ...]
    changes: tuple[Change, ...]
    gaps: tuple[Gap, ...]
    links: Links
    log_stats: LogStats
    # The last lines seen, for the report's "what was seen" when nothing was recognised.
    last_lines: tuple[Fact, ...] = ()
    # With nothing recognised: the line most likely to be the error (`diagnosis.error_line`).
    error_line: Fact | None = None
    # The last successful execution the changes were computed against (None: none found).
    baseline_execution: str | None = None
    # When that execution ended: the start of the job's current failing streak.
    baseline_finished_at: datetime | None = None
    # Builds, job edits, secret versions, instance events, IAM changes, oldest first.
    suspects: tuple[Suspect, ...] = ()
    # Every cause considered, with its verdict and the reason (`diagnosis.differential`).
    differential: tuple[Hypothesis, ...] = ()
    # The cause the learned fallback prefers when it disagrees with the rules' top cause (the
    # top then shows the lower, disputed calibration).
    disputed_by: str | None = None
    # What the incident memory's learned priors did to the order (None: no history was given).
    history: HistoryEffect | None = None

    @property
    def top(self) -> RankedCause:
        return self.causes[0]

    @property
    def first_step(self) -> Check | None:
        """The one check to run first, the same in every renderer: short enough to paste from
        a phone, with no quoting inside quoting, and a Google CLI where the cause has one (a
        `docker` line only where nothing else can look inside the image)."""
        top = self.top
        checks = [*top.checks, *top.cause.checks(self.summary.ref)]
        plain = [c for c in checks if c.command and NESTED_QUOTES not in c.command]
        google = [c for c in plain if c.command.startswith(GOOGLE_CLIS)]
        short = [c for c in google if len(c.command) <= SHORT_COMMAND]
        for pick in (short, google, plain, checks):
            if pick:
                return pick[0]
        return None

    @property
    def fingerprint(self) -> str:
        """Cause id plus normalised error: what keys an incident (never free text)."""
        top = self.top
        sig = top.finding.signature if top.finding and top.finding.signature else "-"
        return f"{top.id}:{sig}"
