"""The evidence about one execution, gathered once and then only read.

Analyzers receive exactly one `Evidence` and must not do I/O. Everything here is frozen and made of
tuples so that an analyzer cannot change what the next one sees.

Text that came from the job (log lines, condition messages) is untrusted. Building an `Evidence`
is where it is redacted, once (`jobtriage.evidence.redaction`): secrets become `[REDACTED]` — only
the values, so analyzers still see the keys, hosts, paths and error words they look for — and
invisible characters go. Log lines arrive bounded to `RAW_LINE_CHARS` and are clipped to
`MAX_LINE_CHARS` only after redaction, so a secret that crosses the clip leaves no fragment and
a hostile 1 MB line costs no more than a normal one. Every exit checks again (`jobtriage.redact`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar

import ahocorasick

from jobtriage.evidence.redaction import redacted_fields
from jobtriage.evidence.related import Related

# A log line longer than this is cut (with a visible marker) when evidence is built.
MAX_LINE_CHARS = 2000
# What a source keeps of one line before evidence redacts and clips it: enough that a secret
# starting before the clip is seen whole (a longer one is still recognised from its start).
RAW_LINE_CHARS = 8 * MAX_LINE_CHARS
CUT_MARKER = " …[cut]"


@dataclass(frozen=True, slots=True)
class ExecutionRef:
    """Which execution: the four names that identify it everywhere."""

    project: str
    region: str
    job: str
    execution: str

    @property
    def job_path(self) -> str:
        return f"projects/{self.project}/locations/{self.region}/jobs/{self.job}"

    @property
    def execution_path(self) -> str:
        return f"{self.job_path}/executions/{self.execution}"

    @property
    def log_clauses(self) -> tuple[str, ...]:
        """The Logging query clauses for exactly this execution's lines — those of Cloud Run's
        own `logUri`. Shared by the reads (evidence), the gcloud commands and the console link."""

        def quoted(value: str) -> str:
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

        return (
            'resource.type="cloud_run_job"',
            f"resource.labels.job_name={quoted(self.job)}",
            f"resource.labels.location={quoted(self.region)}",
            f'labels."run.googleapis.com/execution_name"={quoted(self.execution)}',
        )


class Outcome(StrEnum):
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    SUCCEEDED = "succeeded"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class JobEvent:
    """What the system_event audit entry says about one finished execution."""

    ref: ExecutionRef
    outcome: Outcome
    status_code: int
    status_message: str
    timestamp: datetime | None
    insert_id: str
    creator: str | None = None
    # The `Completed` condition message embedded in the entry, e.g.
    # "Task x-task0 failed with message: The configured timeout was reached."
    completed_message: str | None = None
    job_generation: str | None = None
    # Configuration values the audit entry carries (plain env values, args) that evidence masks
    # wherever they appear; never shown, never compared.
    known_values: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def failed(self) -> bool:
        return self.outcome is not Outcome.SUCCEEDED


class Stream(StrEnum):
    STDOUT = "stdout"
    STDERR = "stderr"
    SYSTEM = "varlog/system"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class LogLine:
    """One log line of the execution: untrusted text, redacted and clipped by `Evidence`."""

    timestamp: datetime | None
    stream: Stream
    severity: str
    text: str
    task_index: int | None = None
    attempt: int | None = None


def clip_line(text: str) -> str:
    """Bound one untrusted line: at most MAX_LINE_CHARS, no NULs, no carriage returns."""
    if len(text) > MAX_LINE_CHARS:
        text = text[: MAX_LINE_CHARS - len(CUT_MARKER)] + CUT_MARKER
    if "\x00" in text or "\r" in text:
        text = text.replace("\x00", "").replace("\r", "")
    return text


@cache
def automaton(needles: frozenset[str]) -> Any:
    """An Aho–Corasick automaton over `needles` (lower-cased), built once per set; None for an
    empty set."""
    if not needles:
        return None
    machine = ahocorasick.Automaton()
    for needle in sorted(needles):
        machine.add_word(needle, needle)
    machine.make_automaton()
    return machine


class LogIndex:
    """Case-insensitive substring search over all lines at once.

    Analyzers ask "which lines mention X?" several hundred times. The needles they ask for are
    known when the analyzers are imported (`LogIndex.know`), so the first question answers all of
    them in one Aho–Corasick pass over one lower-cased blob (`pyahocorasick`, a C automaton: one
    scan whatever the number of needles, instead of one `str.find` scan per needle — 100k lines
    × 500 needles went from ~800 ms to ~60 ms). A needle nobody declared falls back to
    `str.find`. Results are memoised per needle; the index never changes what it answers, so
    sharing it between analyzers is safe.
    """

    __slots__ = ("_blob", "_memo", "_scanned", "_starts")

    _known: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def know(cls, needles: Iterable[str]) -> None:
        """Declare needles that will be asked for, so that one pass answers them all."""
        more = frozenset(n.lower() for n in needles if n)
        if not more <= cls._known:
            cls._known = cls._known | more

    @classmethod
    def known(cls) -> frozenset[str]:
        """The declared needles (lower-cased)."""
        return cls._known

    def __init__(self, lines: Iterable[LogLine]) -> None:
        texts = [line.text for line in lines]
        self._blob = "\n".join(texts).lower()
        starts: list[int] = []
        pos = 0
        for text in texts:
            starts.append(pos)
            pos += len(text) + 1
        self._starts = starts
        self._memo: dict[str, tuple[int, ...]] = {}
        self._scanned = False

    def _line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset) - 1

    def _scan_known(self) -> None:
        """One pass over the blob for every declared needle."""
        self._scanned = True
        if not self._known or not self._blob:
            self._memo.update(dict.fromkeys(self._known, ()))
            return
        found: dict[str, list[int]] = {}
        for end, needle in automaton(self._known).iter(self._blob):
            line_no = self._line_of(end - len(needle) + 1)
            hits = found.setdefault(needle, [])
            if not hits or hits[-1] != line_no:
                hits.append(line_no)
        for needle in self._known:
            self._memo[needle] = tuple(found.get(needle, ()))

    def find(self, needle: str) -> tuple[int, ...]:
        """Indexes of the lines that contain `needle` (case-insensitive), in log order."""
        needle = needle.lower()
        hit = self._memo.get(needle)
        if hit is not None:
            return hit
        if not self._scanned and needle in self._known:
            self._scan_known()
            return self._memo[needle]
        found: list[int] = []
        blob, starts = self._blob, self._starts
        i = blob.find(needle)
        while i != -1:
            line_no = bisect.bisect_right(starts, i) - 1
            found.append(line_no)
            # continue after the end of this line: one hit per line is enough
            nxt = starts[line_no + 1] if line_no + 1 < len(starts) else len(blob)
            i = blob.find(needle, nxt)
        result = tuple(found)
        self._memo[needle] = result
        return result

    def find_any(self, needles: Iterable[str]) -> tuple[int, ...]:
        hits: set[int] = set()
        for needle in needles:
            hits.update(self.find(needle))
        return tuple(sorted(hits))


@dataclass(frozen=True, slots=True)
class SecretEnv:
    """An environment variable wired to Secret Manager (the value is never known to us)."""

    env: str
    secret: str
    version: str  # a number or "latest"


@dataclass(frozen=True, slots=True)
class ContainerConfig:
    """One container of the task template. Plain env values and args are never kept verbatim."""

    name: str
    image: str
    command: tuple[str, ...] = ()
    # args are kept only in redacted form (they can carry tokens)
    args: tuple[str, ...] = ()
    env_names: tuple[str, ...] = ()  # names of plain-value env vars
    secret_env: tuple[SecretEnv, ...] = ()
    memory_limit: str | None = None  # as the API spells it, e.g. "512Mi"
    cpu_limit: str | None = None
    mount_paths: tuple[str, ...] = ()
    working_dir: str | None = None
    # Plain env values and args to mask wherever they appear (`redaction.config_secrets`); only
    # evidence uses them, they are never shown or compared.
    known_values: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def image_pinned_by_digest(self) -> bool:
        return "@sha256:" in self.image


@dataclass(frozen=True, slots=True)
class TaskTemplateConfig:
    """The configuration an execution ran with (Execution) or will run with (Job)."""

    containers: tuple[ContainerConfig, ...] = ()
    service_account: str | None = None
    cloudsql_instances: tuple[str, ...] = ()
    max_retries: int | None = None
    timeout: timedelta | None = None
    task_count: int | None = None
    parallelism: int | None = None
    vpc_connector: str | None = None
    vpc_egress: str | None = None
    execution_environment: str | None = None

    @property
    def main(self) -> ContainerConfig | None:
        return self.containers[0] if self.containers else None


@dataclass(frozen=True, slots=True)
class TaskAttempt:
    """The last attempt of one task, as the Run API reports it."""

    index: int
    retried: int = 0
    exit_code: int | None = None
    term_signal: int | None = None
    status_code: int | None = None
    status_message: str | None = None
    failed: bool = False
    start_time: datetime | None = None
    completion_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    name: str
    config: TaskTemplateConfig
    create_time: datetime | None = None
    start_time: datetime | None = None
    completion_time: datetime | None = None
    task_count: int = 0
    succeeded_count: int = 0
    failed_count: int = 0
    cancelled_count: int = 0
    retried_count: int = 0
    creator: str | None = None
    completed_state: str | None = None  # CONDITION_SUCCEEDED / CONDITION_FAILED
    completed_message: str | None = None
    execution_reason: str | None = None  # NON_ZERO_EXIT_CODE, CANCELLED, ...
    log_uri: str | None = None
    job_generation: str | None = None
    image_digest: str | None = None  # when the execution resolved a tag to a digest
    # Messages of the other conditions (ResourcesAvailable, Started, …) that did not succeed:
    # CONTAINER_MISSING or SECRETS_ACCESS_CHECK_FAILED land there, not in Completed.
    other_conditions: tuple[str, ...] = ()

    @property
    def duration(self) -> timedelta | None:
        if self.start_time and self.completion_time:
            return self.completion_time - self.start_time
        return None


@dataclass(frozen=True, slots=True)
class JobInfo:
    name: str
    config: TaskTemplateConfig
    generation: str | None = None
    creator: str | None = None
    last_modifier: str | None = None
    update_time: datetime | None = None
    execution_count: int | None = None


class Source(StrEnum):
    EVENT = "event"
    EXECUTION = "execution"
    TASKS = "tasks"
    JOB = "job"
    LAST_SUCCESS = "last_success"
    LOGS = "logs"
    ANALYZER = "analyzer"
    # Beyond the execution (`jobtriage.evidence.dependencies`)
    BUILDS = "builds"
    IMAGE_LABELS = "image_labels"
    AUDIT = "audit"
    SECRETS = "secrets"
    CLOUD_SQL = "cloud_sql"


@dataclass(frozen=True, slots=True)
class Gap:
    """Evidence that could not be gathered, why, and how to fix it (English; `reason_ko` /
    `fix_ko` in Korean where written — renderers fall back to English)."""

    source: Source
    reason: str
    fix: str = ""
    reason_ko: str = ""
    fix_ko: str = ""

    def says(self, lang: str) -> tuple[str, str]:
        """(reason, fix) in the report's language."""
        if lang == "ko" and self.reason_ko:
            return self.reason_ko, self.fix_ko or self.fix
        return self.reason, self.fix


@dataclass(frozen=True, slots=True)
class LogStats:
    """How much of the log we saw: the report says when it was sampled."""

    fetched: int = 0
    kept: int = 0
    requests: int = 0
    sampled: bool = False
    # True when no read was made because this instance's Logging read budget said no
    # (`cloud_logging.ReadBudget`): the report was built without logs on purpose.
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything known about one execution. Built once by `gather`; analyzers only read it."""

    ref: ExecutionRef
    event: JobEvent | None = None
    execution: ExecutionInfo | None = None
    tasks: tuple[TaskAttempt, ...] = ()
    job: JobInfo | None = None
    last_success: ExecutionInfo | None = None
    logs: tuple[LogLine, ...] = ()
    log_stats: LogStats = field(default_factory=LogStats)
    gaps: tuple[Gap, ...] = ()
    # Builds, job edits, IAM changes, secret versions, Cloud SQL state (`evidence.related`).
    related: Related = field(default_factory=Related)
    # The Run API answered 404 for the execution itself: the event names an execution that does
    # not exist (a forged or mistaken event), not one we merely could not read.
    execution_missing: bool = False
    index: LogIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The one redaction pass over untrusted text (issue 9): before anything reads it.
        for name, value in redacted_fields(self).items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "index", LogIndex(self.logs))

    @property
    def config(self) -> TaskTemplateConfig:
        """The configuration the failed execution ran with; falls back to the job's current one."""
        if self.execution is not None and self.execution.config.containers:
            return self.execution.config
        if self.job is not None:
            return self.job.config
        return TaskTemplateConfig()

    @property
    def timed_out(self) -> bool:
        if self.event is not None and self.event.outcome is Outcome.TIMED_OUT:
            return True
        msg = (self.execution.completed_message if self.execution else None) or ""
        return "timeout was reached" in msg

    def lines(self, *streams: Stream) -> tuple[LogLine, ...]:
        if not streams:
            return self.logs
        return tuple(line for line in self.logs if line.stream in streams)

    def grep(self, *needles: str) -> tuple[LogLine, ...]:
        """The lines that contain any of `needles`, case-insensitive, in log order."""
        return tuple(self.logs[i] for i in self.index.find_any(needles))
