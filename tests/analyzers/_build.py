"""A tiny evidence builder for analyzer tests: log lines in, `Evidence` out.

Lines are given as plain strings (stderr, no severity, like a real unstructured job log) or built
with `out`, `err` and `system` when the stream or severity matters. Configuration, tasks and the
completion event are optional keyword arguments, so each case states only what it is about.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from analyzers import ANALYZERS
from analyzers.base import Finding
from analyzers.symptoms import apply_symptoms
from jobtriage.evidence import (
    ContainerConfig,
    Evidence,
    ExecutionInfo,
    ExecutionRef,
    JobEvent,
    LogLine,
    Outcome,
    SecretEnv,
    Stream,
    TaskAttempt,
    TaskTemplateConfig,
    clip_line,
)

REF = ExecutionRef(
    project="netureyoutube",
    region="asia-northeast3",
    job="o4o-api-migrations",
    execution="o4o-api-migrations-h5x5h",
)
IMAGE = "asia-northeast3-docker.pkg.dev/netureyoutube/o4o-api/api-server:latest"
DIGEST = "sha256:" + "ab" * 32
INSTANCE = "netureyoutube:asia-northeast3:o4o-db"
START = datetime(2026, 1, 12, 3, 0, 0, tzinfo=UTC)


def out(text: str) -> LogLine:
    return LogLine(timestamp=None, stream=Stream.STDOUT, severity="DEFAULT", text=clip_line(text))


def err(text: str) -> LogLine:
    return LogLine(timestamp=None, stream=Stream.STDERR, severity="DEFAULT", text=clip_line(text))


def system(text: str, severity: str = "ERROR") -> LogLine:
    return LogLine(timestamp=None, stream=Stream.SYSTEM, severity=severity, text=clip_line(text))


def config(
    *,
    image: str = IMAGE,
    command: Sequence[str] = ("node",),
    args: Sequence[str] = ("dist/migrate.js",),
    env: Sequence[str] = ("NODE_ENV", "DB_HOST"),
    secrets: Sequence[tuple[str, str, str]] = (("DATABASE_URL", "db-url", "latest"),),
    memory: str | None = "512Mi",
    service_account: str | None = "migrate-sa@netureyoutube.iam.gserviceaccount.com",
    cloudsql: Sequence[str] = (INSTANCE,),
    max_retries: int | None = 3,
    timeout: timedelta | None = timedelta(minutes=10),
) -> TaskTemplateConfig:
    return TaskTemplateConfig(
        containers=(
            ContainerConfig(
                name="migrate-1",
                image=image,
                command=tuple(command),
                args=tuple(args),
                env_names=tuple(env),
                secret_env=tuple(SecretEnv(e, s, v) for e, s, v in secrets),
                memory_limit=memory,
            ),
        ),
        service_account=service_account,
        cloudsql_instances=tuple(cloudsql),
        max_retries=max_retries,
        timeout=timeout,
    )


def task(
    *,
    index: int = 0,
    exit_code: int | None = 1,
    term_signal: int | None = None,
    retried: int = 0,
    status_message: str | None = None,
    ran: timedelta | None = None,
) -> TaskAttempt:
    return TaskAttempt(
        index=index,
        retried=retried,
        exit_code=exit_code,
        term_signal=term_signal,
        status_message=status_message,
        failed=True,
        start_time=START if ran else None,
        completion_time=START + ran if ran else None,
    )


def evidence(
    lines: Iterable[str | LogLine] = (),
    *,
    cfg: TaskTemplateConfig | None = None,
    tasks: Sequence[TaskAttempt] = (),
    outcome: Outcome = Outcome.FAILED,
    completed_message: str | None = None,
    image_digest: str | None = None,
) -> Evidence:
    """Evidence for one failed execution of the seed's job."""
    logs = tuple(err(x) if isinstance(x, str) else x for x in lines)
    event = JobEvent(
        ref=REF,
        outcome=outcome,
        status_code=4 if outcome is Outcome.TIMED_OUT else 10,
        status_message=f"Execution {REF.execution} has failed to complete, 0/1 tasks were a"
        " success.",
        timestamp=START,
        insert_id="-test",
        completed_message=completed_message,
    )
    execution = None
    if cfg is not None or completed_message is not None or image_digest is not None:
        execution = ExecutionInfo(
            name=REF.execution,
            config=cfg or TaskTemplateConfig(),
            task_count=1,
            failed_count=1,
            completed_message=completed_message,
            image_digest=image_digest,
        )
    return Evidence(ref=REF, event=event, execution=execution, tasks=tuple(tasks), logs=logs)


def rank(ev: Evidence) -> list[Finding]:
    """Every analyzer's finding, strongest first (ties keep registry order)."""
    found = apply_symptoms([f for f in (a.analyze(ev) for a in ANALYZERS) if f is not None])
    return sorted(found, key=lambda f: f.strength, reverse=True)


def finding_for(ev: Evidence, cause: str) -> Finding | None:
    """`cause`'s finding as the diagnosis sees it: after the symptom table was applied."""
    return next((f for f in rank(ev) if f.cause == cause), None)


def weighted_winner(ev: Evidence) -> str:
    """The winner when strength is weighed with the priors, as the diagnosis does: a cause with a
    finding weighs prior × (1 + 99·strength^2.2), one without keeps its prior. Competing-cause
    tests check both orders agree, so that a calibrated strength also survives the priors (e.g.
    a symptom of db_connection must not let entrypoint_runtime's 0.5 prior win)."""
    by_cause = {f.cause: f for f in rank(ev)}
    weights = {
        a.id: a.cause.prior
        * (1.0 + 99.0 * by_cause[a.id].strength ** 2.2 if a.id in by_cause else 1.0)
        for a in ANALYZERS
    }
    return max(weights, key=lambda k: weights[k])


def winner(ev: Evidence) -> str:
    """The strongest finding's cause; asserts the prior-weighted order agrees."""
    ranked = rank(ev)
    assert ranked, "no analyzer recognised anything"
    weighted = weighted_winner(ev)
    assert weighted == ranked[0].cause, (
        f"strength says {ranked[0].cause}, prior-weighted says {weighted}: "
        f"{[(f.cause, f.signature, f.strength) for f in ranked]}"
    )
    return ranked[0].cause


@dataclass(frozen=True)
class Case:
    """One table row: what the log (and config) say, and the signature expected (None: none)."""

    name: str
    lines: tuple[str | LogLine, ...]
    expect: str | None
    cfg: TaskTemplateConfig | None = None
    tasks: tuple[TaskAttempt, ...] = ()
    outcome: Outcome = Outcome.FAILED
    completed_message: str | None = None
    min_strength: float = 0.0
    max_strength: float = 1.0
    fact_contains: tuple[str, ...] = field(default=())

    def evidence(self) -> Evidence:
        return evidence(
            self.lines,
            cfg=self.cfg,
            tasks=self.tasks,
            outcome=self.outcome,
            completed_message=self.completed_message,
        )


def fact_text(finding: Finding) -> str:
    """Everything the finding's facts say, both languages and quotes, for `in` assertions."""
    parts: list[str] = []
    for fact in finding.facts:
        if fact.quote:
            parts.append(fact.quote)
        if fact.note:
            parts.extend((fact.note.en, fact.note.ko))
    return "\n".join(parts)


def check_case(case: Case, analyze: object) -> None:
    """The assertions every table row makes, on the finding as the diagnosis sees it (after
    `analyzers.symptoms` capped what another finding explains)."""
    assert callable(analyze)
    ev = case.evidence()
    finding = analyze(ev)
    if finding is not None:
        finding = finding_for(ev, finding.cause)
    if case.expect is None:
        assert finding is None, f"unexpected finding {finding}"
        return
    assert finding is not None, "expected a finding, got none"
    assert isinstance(finding, Finding)
    assert finding.signature == case.expect
    assert case.min_strength <= finding.strength <= case.max_strength, finding.strength
    assert finding.checks, "every finding carries checks"
    text = fact_text(finding)
    for needle in case.fact_contains:
        assert needle in text, f"{needle!r} not in facts:\n{text}"


# What a successful run prints: none of it may produce a finding.
HEALTHY_NODE: tuple[str | LogLine, ...] = (
    out("> o4o-api@1.4.2 migrate"),
    out("> node dist/migrate.js"),
    out("[migrate] NODE_ENV is not set, defaulting to 'production'"),
    out("query: SELECT * FROM current_schema()"),
    out('query: SELECT * FROM "information_schema"."tables" WHERE "table_name" = \'migrations\''),
    out('NOTICE:  relation "migrations" already exists, skipping'),
    out('notice: extension "uuid-ossp" already exists, skipping'),
    out("[config] HTTPS is required in production; TLS_MODE=strict"),
    out("12 migrations are already loaded in the database."),
    out("12 migrations were found in the source code."),
    out("No migrations are pending"),
    out("[migrate] done in 2.1s"),
    system("Container called exit(0).", "INFO"),
)
HEALTHY_PY: tuple[str | LogLine, ...] = (
    out("INFO  [alembic.runtime.migration] Context impl PostgresqlImpl."),
    out("INFO  [alembic.runtime.migration] Will assume transactional DDL."),
    out("Operations to perform:"),
    out("  Apply all migrations: admin, auth, contenttypes, sessions"),
    out("Running migrations:"),
    out("  No migrations to apply."),
    system("Container called exit(0).", "INFO"),
)
HEALTHY_PRISMA: tuple[str | LogLine, ...] = (
    out("Prisma schema loaded from prisma/schema.prisma"),
    out('Datasource "db": PostgreSQL database "app", schema "public" at "localhost:5432"'),
    out("14 migrations found in prisma/migrations"),
    out("No pending migrations to apply."),
    system("Container called exit(0).", "INFO"),
)
HEALTHY = HEALTHY_NODE + HEALTHY_PY + HEALTHY_PRISMA
