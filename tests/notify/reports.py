"""Reports and incidents built by hand for the renderer's tests (the seed's migration failure).

Deliberately small: the dataclasses are constructed directly, not through the diagnosis builder.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from analyzers.base import Cause, Check, Fact, FactKind, Finding
from jobtriage.diagnosis.differential import differential
from jobtriage.diagnosis.model import (
    Change,
    HistoryEffect,
    LearnedPriors,
    Links,
    RankedCause,
    Report,
    Summary,
    Suspect,
)
from jobtriage.evidence import ExecutionRef, Gap, LogStats, Outcome, Source
from jobtriage.incident.memory import History
from jobtriage.incident.model import Incident, State
from jobtriage.text import Text

REF = ExecutionRef(
    project="o4o-prod",
    region="asia-northeast3",
    job="o4o-api-migrations",
    execution="o4o-api-migrations-h5x5h",
)
T0 = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)
INCIDENT_ID = "3f2a9c0d6b1e4f5a8c7d9e0f1a2b3c4d"


def cause(
    cid: str, en: str, ko: str, prior: float, command: str = "", hint: Text | None = None
) -> Cause:
    checks = (Check(Text(en=f"Confirm {en.lower()}", ko=f"{ko} 확인"), command),) if command else ()
    return Cause(
        id=cid, prior=prior, name=Text(en=en, ko=ko), checks=lambda ref: checks, refute_hint=hint
    )


ESM = cause(
    "entrypoint_runtime",
    "The program crashed",
    "프로그램 자체 오류",
    0.5,
    "gcloud logging read 'resource.type=\"cloud_run_job\"' --limit=50 --project=o4o-prod",
)
ESM = replace(
    ESM,
    workarounds=(
        Text(
            en="Restore the previous entry point and redeploy the job",
            ko="이전 진입점으로 되돌린 뒤 Job 재배포",
        ),
        Text(en="Run the migration by hand", ko="마이그레이션을 수동 실행"),
    ),
)
DB = cause(
    "db_connection",
    "Database connection failed",
    "DB 연결 실패",
    0.3,
    hint=Text(en="No connection error in the log", ko="로그에 DB 연결 오류 없음"),
)
ARTIFACT = cause(
    "missing_artifact",
    "Something is missing from the image",
    "이미지에 파일 누락",
    0.2,
    hint=Text(en="No 'not found' line for a file", ko="파일에 대한 'not found' 로그 없음"),
)
CLOUDSQL = cause(
    "cloudsql_permission",
    "Cloud SQL permission",
    "Cloud SQL 권한",
    0.1,
    hint=Text(en="No NOT_AUTHORIZED from the connector", ko="커넥터의 NOT_AUTHORIZED 없음"),
)
UNKNOWN = cause("unknown", "Not recognised", "원인 미상", 0.0)
TIMEOUT = cause("resource_limit", "Out of memory or time", "메모리 또는 시간 초과", 0.1)


def log_fact(seconds: int, text: str, stream: str = "stderr") -> Fact:
    return Fact(
        kind=FactKind.LOG, quote=text, timestamp=T0 + timedelta(seconds=seconds), stream=stream
    )


ESM_FACTS = (
    log_fact(
        3, "Error [ERR_REQUIRE_ESM]: require() of ES Module /app/node_modules/chalk/source/index.js"
    ),
    log_fact(3, "    at Object.<anonymous> (/app/dist/migrate.js:4:15)"),
    log_fact(4, "Node.js v20.11.1"),
)


def esm_finding(facts: tuple[Fact, ...] = ESM_FACTS) -> Finding:
    return Finding(
        cause="entrypoint_runtime",
        strength=0.95,
        title=Text(en="Module format mismatch (ESM/CJS)", ko="모듈 형식 불일치 (ESM/CJS)"),
        facts=facts,
        signature="ERR_REQUIRE_ESM",
        checks=(
            Check(
                Text(en="Read the crash of this execution", ko="이 실행의 오류 로그 확인"),
                "gcloud logging read "
                '\'labels."run.googleapis.com/execution_name"="o4o-api-migrations-h5x5h"\''
                " --limit=50 --project=o4o-prod",
            ),
        ),
    )


def summary(**changes: object) -> Summary:
    base = Summary(
        ref=REF,
        outcome=Outcome.FAILED,
        status_message="The execution failed.",
        tasks_total=1,
        tasks_failed=1,
        attempts=3,
        max_retries=2,
        exit_code=1,
        duration=timedelta(minutes=2, seconds=13),
        started_by="deploy-pipeline@o4o-prod.iam.gserviceaccount.com",
        started_at=T0,
        finished_at=T0 + timedelta(minutes=2, seconds=13),
        image="asia-northeast3-docker.pkg.dev/o4o-prod/api/api@sha256:9f86d081884c7d65",
        timeout=timedelta(minutes=10),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


LINKS = Links(
    execution="https://console.cloud.google.com/run/jobs/executions/details/asia-northeast3/"
    "o4o-api-migrations-h5x5h?project=o4o-prod",
    logs="https://console.cloud.google.com/logs/viewer?project=o4o-prod&advancedFilter="
    "resource.type%3D%22cloud_run_job%22%0Aresource.labels.job_name%3D%22o4o-api-migrations%22",
    job="https://console.cloud.google.com/run/jobs/details/asia-northeast3/o4o-api-migrations/executions"
    "?project=o4o-prod",
)

CHANGES = (
    Change(
        field="image",
        before="asia-northeast3-docker.pkg.dev/o4o-prod/api/api@sha256:1b4f0e9851971998",
        after="asia-northeast3-docker.pkg.dev/o4o-prod/api/api@sha256:9f86d081884c7d65",
        related_cause="entrypoint_runtime",
        note=Text(en="new image since the last success", ko="마지막 성공 이후 새 이미지"),
    ),
    Change(
        field="env_names",
        before="DATABASE_URL, NODE_ENV",
        after="DATABASE_URL, NODE_ENV, FEATURE_X",
    ),
    Change(
        field="secret_versions",
        before="db-password@7",
        after="db-password@8",
        related_cause="db_connection",
    ),
)

# The seed's suspect changes, as `diagnosis.suspects` words them.
SUSPECTS = (
    Suspect(
        kind="secret_version",
        when=datetime(2026, 1, 12, 6, 0, 47, tzinfo=UTC),
        who=None,
        what=Text(
            en="DB_PASSWORD ← o4o-db-password version 7 (latest, enabled), 11 min before this run",
            ko="DB_PASSWORD ← o4o-db-password 버전 7(latest, enabled), 이번 실행 11분 전",
        ),
    ),
    Suspect(
        kind="commit",
        when=datetime(2026, 1, 12, 6, 9, 48, tzinfo=UTC),
        who=None,
        what=Text(
            en='image built from f6d12b51f "separate migration entry point for Cloud Run Job" '
            '(main, api-server-main); last good image from 9b2d4f61e "partner settlement table '
            'migration"',
            ko='이미지 빌드 커밋 f6d12b51f "separate migration entry point for Cloud Run Job" '
            '(main, api-server-main); 마지막 정상 이미지 커밋 9b2d4f61e "partner settlement '
            'table migration"',
        ),
        lines_up=True,
        link="https://github.com/o4o-dev/o4o-platform/compare/9b2d4f61e...f6d12b51f",
    ),
    Suspect(
        kind="job_edit",
        when=datetime(2026, 1, 12, 6, 11, 30, tzinfo=UTC),
        who="github-actions-deployer@netureyoutube.iam.gserviceaccount.com",
        what=Text(
            en="job UpdateJob: image, env_names, under a minute before this run",
            ko="Job UpdateJob: image, env_names, 이번 실행 1분 이내 전",
        ),
        lines_up=True,
    ),
)

GAPS = (
    Gap(
        source=Source.LAST_SUCCESS,
        reason="no successful execution in the last 1,000",
        fix="",
    ),
    # not a logs gap: 412 lines were read, so the other causes can be ruled out
    Gap(
        source=Source.TASKS,
        reason="permission denied",
        fix="grant roles/run.viewer to jobtriage@o4o-prod.iam.gserviceaccount.com",
    ),
)


def esm_report(**changes: object) -> Report:
    base = Report(
        summary=summary(),
        causes=(
            RankedCause(ESM, 0.82, esm_finding()),
            RankedCause(DB, 0.09),
            RankedCause(ARTIFACT, 0.05),
            RankedCause(CLOUDSQL, 0.03),
            RankedCause(UNKNOWN, 0.01),
        ),
        commands=(),
        changes=CHANGES,
        gaps=GAPS,
        links=LINKS,
        log_stats=LogStats(fetched=412, kept=412, requests=1),
        suspects=SUSPECTS,
    )
    report = replace(base, **changes)  # type: ignore[arg-type]
    if "differential" in changes:
        return report
    # what `diagnosis.report` computes from the ranked causes and the evidence
    return replace(
        report,
        differential=differential(
            report.causes, lines_read=report.log_stats.kept, gaps=report.gaps
        ),
    )


def unknown_report() -> Report:
    return esm_report(
        causes=(RankedCause(UNKNOWN, 0.6), RankedCause(ESM, 0.2), RankedCause(DB, 0.2)),
        changes=(),
        gaps=(),
        last_lines=(
            log_fact(1, "Starting migrations (12 pending)", "stdout"),
            log_fact(2, "Killed", "stderr"),
            log_fact(2, "Container called exit(137).", "varlog/system"),
        ),
    )


def timeout_report() -> Report:
    finding = Finding(
        cause="resource_limit",
        strength=0.9,
        title=Text(en="Task timed out", ko="태스크 시간 초과"),
        facts=(
            Fact.status(
                Text(
                    en="The configured timeout of 10 min was reached.",
                    ko="설정된 시간 제한 10분에 도달했습니다.",
                )
            ),
        ),
        signature="timeout",
    )
    return esm_report(
        summary=summary(outcome=Outcome.TIMED_OUT, exit_code=None, duration=timedelta(minutes=10)),
        causes=(RankedCause(TIMEOUT, 0.9, finding), RankedCause(DB, 0.1)),
        changes=(),
        log_stats=LogStats(fetched=120_000, kept=5_000, requests=4, sampled=True),
    )


def incident(state: State = State.OPEN, **changes: object) -> Incident:
    base = Incident(
        id=INCIDENT_ID,
        job_path=REF.job_path,
        fingerprint="entrypoint_runtime:ERR_REQUIRE_ESM",
        state=state,
        opened_at=T0,
        updated_at=T0 + timedelta(minutes=3),
        failures=1,
        first_execution=REF.execution,
        last_execution=REF.execution,
        last_failure_at=T0 + timedelta(minutes=2),
        channel="C0123ALERTS",
        ts="1764234000.000001",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


ACK = {"acked_by": "U024BE7LH", "acked_at": T0 + timedelta(minutes=14)}

STATES: dict[str, Incident] = {
    "open": incident(State.OPEN, version=1),
    "acknowledged": incident(State.ACKNOWLEDGED, version=2, **ACK),
    "snoozed_1h": incident(
        State.SNOOZED,
        version=2,
        snoozed_until=T0 + timedelta(hours=1, minutes=14),
        held_back=2,
        **ACK,
    ),
    "snoozed_until_success": incident(State.SNOOZED, version=2, snooze_until_success=True, **ACK),
    "resolved": incident(
        State.RESOLVED,
        version=3,
        resolved_by="U024BE7LH",
        resolved_at=T0 + timedelta(hours=1),
        **ACK,
    ),
    "recovered": incident(
        State.RECOVERED,
        version=3,
        failures=3,
        last_failure_at=T0 + timedelta(hours=2),
        recovered_execution="o4o-api-migrations-k2m9q",
        recovered_at=T0 + timedelta(hours=2, minutes=30),
    ),
}


def repeat_incident() -> Incident:
    return incident(failures=3, last_failure_at=T0 + timedelta(hours=2), version=4)


# --- the incident memory: a job with a past ------------------------------------------------------

# A note as a person types it into the Resolve modal: mrkdwn, a mention, an invisible character
# and a pasted secret, all of which must come out harmless.
NASTY_NOTE = "pinned secret version 6 <!channel> *bold*\u200b postgres://app:Sup3rS3cret@db/app"


def past_incident(n: int, days_ago: int, **changes: object) -> Incident:
    opened = T0 - timedelta(days=days_ago)
    base = incident(
        State.RESOLVED,
        id=f"{n:032x}",
        opened_at=opened,
        updated_at=opened + timedelta(minutes=14),
        last_failure_at=opened,
        resolved_by="U0ALICE42",
        resolved_at=opened + timedelta(minutes=14),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def history() -> History:
    """Two earlier incidents of the job with the same fingerprint, the newer one confirmed with a
    note, and one of another cause that recovered by itself."""
    return History(
        REF.job_path,
        job=(
            past_incident(
                3,
                2,
                confirmed_cause="entrypoint_runtime",
                confirmed_by="U0ALICE42",
                confirmed_at=T0 - timedelta(days=2) + timedelta(minutes=15),
                resolution_note=NASTY_NOTE,
            ),
            past_incident(
                2,
                4,
                fingerprint="db_connection:ECONNREFUSED",
                state=State.RECOVERED,
                resolved_by=None,
                resolved_at=None,
                recovered_at=T0 - timedelta(days=4) + timedelta(hours=2),
                failures=3,
            ),
            past_incident(1, 25),
        ),
    )


def history_report() -> Report:
    """The seed report as the job's confirmed causes reordered it."""
    priors = LearnedPriors(
        factors=(("entrypoint_runtime", 1.6), ("db_connection", 0.8)), job_confirmations=1
    )
    return esm_report(
        history=HistoryEffect(priors, moved=(("entrypoint_runtime", "db_connection"),))
    )
