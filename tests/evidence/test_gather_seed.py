"""The seed incident, through the real run_v2 and logging clients against the replay."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from jobtriage.evidence.gather import gather
from jobtriage.evidence.model import (
    ContainerConfig,
    ExecutionRef,
    LogStats,
    Outcome,
    SecretEnv,
    Source,
    Stream,
)
from standins.replay.google import Api, GoogleReplay, Scenario

from .conftest import FakeTime, event_of, scenario, sources_for

REF = ExecutionRef(
    "netureyoutube", "asia-northeast3", "o4o-api-migrations", "o4o-api-migrations-h5x5h"
)
REPO = "asia-northeast3-docker.pkg.dev/netureyoutube/o4o-api/api-server"
NEW_DIGEST = "sha256:7c1f4e9a2b6d83c05f1e7a9d4b2c6e8f0a3d5b7c9e1f2a4b6c8d0e2f4a6b8c0d"
OLD_DIGEST = "sha256:e3a95c07d1b2f4861a9c3e5d7f9b1d3e5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b"
SQL = "netureyoutube:asia-northeast3:o4o-platform-db"
DEPLOYER = "github-actions-deployer@netureyoutube.iam.gserviceaccount.com"
PLAINTEXT_PASSWORD = "Vq7tM2xK9pLr4WzB"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_seed_evidence_is_complete_and_exact(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    sc = scenario("seed")
    replay = start_replay(sc)
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))

    assert ev.gaps == ()
    assert ev.ref == REF
    assert ev.event is not None
    assert ev.event.outcome is Outcome.FAILED
    assert ev.event.status_code == 10
    assert ev.event.creator == DEPLOYER

    ex = ev.execution
    assert ex is not None
    assert ex.name == "o4o-api-migrations-h5x5h"
    assert ex.create_time == utc("2026-01-12T06:11:58.204913")
    assert ex.start_time == utc("2026-01-12T06:12:01.872404")
    assert ex.completion_time == utc("2026-01-12T06:12:55.931842")
    assert ex.duration == timedelta(seconds=54, microseconds=59438)
    assert (ex.task_count, ex.succeeded_count, ex.failed_count) == (1, 0, 1)
    assert (ex.cancelled_count, ex.retried_count) == (0, 3)
    assert ex.creator == DEPLOYER
    assert ex.completed_state == "CONDITION_FAILED"
    assert ex.completed_message == (
        "Task o4o-api-migrations-h5x5h-task0 failed with message: "
        "The container exited with an error."
    )
    assert ex.execution_reason == "NON_ZERO_EXIT_CODE"
    assert ex.log_uri is not None
    assert "o4o-api-migrations-h5x5h" in ex.log_uri
    assert ex.job_generation == "14"  # from the audit entry: v2 executions do not carry it
    assert ex.image_digest == NEW_DIGEST

    cfg = ex.config
    assert cfg.service_account == "o4o-api-migrator@netureyoutube.iam.gserviceaccount.com"
    assert cfg.cloudsql_instances == (SQL,)
    assert cfg.max_retries == 3
    assert cfg.timeout == timedelta(minutes=10)
    assert (cfg.task_count, cfg.parallelism) == (1, 1)
    assert cfg.execution_environment == "EXECUTION_ENVIRONMENT_GEN2"
    assert (cfg.vpc_connector, cfg.vpc_egress) == (None, None)
    assert cfg.containers == (
        ContainerConfig(
            name="api-server-1",
            image=f"{REPO}@{NEW_DIGEST}",
            command=("node",),
            args=("dist/migrate.js",),
            env_names=("NODE_ENV", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USERNAME", "DATABASE_URL"),
            secret_env=(
                SecretEnv("DB_PASSWORD", "o4o-db-password", "latest"),
                SecretEnv("JWT_SECRET", "o4o-jwt-secret", "3"),
            ),
            memory_limit="1Gi",
            cpu_limit="1000m",
            mount_paths=("/cloudsql",),
            working_dir="/app",
        ),
    )

    assert len(ev.tasks) == 1
    task = ev.tasks[0]
    assert (task.index, task.retried, task.exit_code, task.term_signal) == (0, 3, 1, None)
    assert (task.status_code, task.failed) == (10, True)
    assert task.status_message == "The container exited with an error."
    assert task.completion_time == utc("2026-01-12T06:12:55.931842")

    job = ev.job
    assert job is not None
    assert job.name == "o4o-api-migrations"
    assert job.generation == "14"
    assert job.creator == job.last_modifier == DEPLOYER
    assert job.update_time == utc("2026-01-12T06:11:31.448217")
    assert job.execution_count == 27
    assert job.config.main is not None
    assert job.config.main.image == f"{REPO}:latest"
    assert not job.config.main.image_pinned_by_digest

    last = ev.last_success
    assert last is not None
    assert last.name == "o4o-api-migrations-8k2dq"
    assert last.completed_state == "CONDITION_SUCCEEDED"
    assert last.image_digest == OLD_DIGEST
    assert last.config.main is not None
    assert last.config.main.args == ("dist/main.js", "migration:run")
    assert "DATABASE_URL" not in last.config.main.env_names
    assert len(last.config.main.env_names) == len(cfg.containers[0].env_names) - 1

    # 4 attempts x 13 lines + the audit entry itself; the day-before execution is not served
    assert ev.log_stats == LogStats(fetched=53, kept=53, requests=1, sampled=False)
    assert {line.attempt for line in ev.logs if line.attempt is not None} == {0, 1, 2, 3}
    exits = [line for line in ev.logs if line.text == "Container called exit(1)."]
    assert [(x.stream, x.severity, x.attempt) for x in exits] == [
        (Stream.SYSTEM, "WARNING", n) for n in range(4)
    ]
    esm = ev.grep("ERR_REQUIRE_ESM")
    assert len(esm) == 8  # the error line and the `code:` line, per attempt
    assert all(line.stream is Stream.STDERR and line.task_index == 0 for line in esm)
    assert ev.logs[1].text.startswith("migration runner: environment loaded")  # jsonPayload.message
    assert ev.logs[1].severity == "INFO"
    timestamps = [line.timestamp for line in ev.logs]
    assert timestamps == sorted(timestamps)  # type: ignore[type-var]
    assert not ev.grep("No migrations are pending")  # 8k2dq's lines
    assert ev.logs[-1].stream is Stream.OTHER  # the audit entry: only its status message
    assert ev.logs[-1].text.startswith("Execution o4o-api-migrations-h5x5h has failed")

    # one read per Run API method, one Logging read
    assert [replay.count(api) for api in Api] == [1, 1, 1, 1, 1]


def test_the_plaintext_secret_never_reaches_the_evidence(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    sc = scenario("seed")
    assert sc.event is not None
    assert PLAINTEXT_PASSWORD in json.dumps(sc.event)  # the audit entry does carry it
    assert sc.execution is not None
    assert PLAINTEXT_PASSWORD in json.dumps(sc.execution)
    replay = start_replay(sc)
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))
    assert ev.execution is not None
    assert PLAINTEXT_PASSWORD not in repr(ev)
    assert "postgresql://" not in repr(ev)


def test_a_reference_alone_is_enough(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    replay = start_replay(scenario("seed"))
    ev = gather(REF, sources=sources_for(replay, late_time))
    assert ev.event is None
    assert ev.execution is not None
    assert ev.execution.job_generation is None  # nothing else knows it
    assert ev.last_success is not None
    assert ev.last_success.name == "o4o-api-migrations-8k2dq"
    assert ev.log_stats.kept == 53
    assert ev.gaps == ()


def test_a_later_success_is_a_recovery_not_a_baseline(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    sc = scenario("seed")
    recovered = json.loads(json.dumps(sc.executions[1]))
    recovered["name"] = recovered["name"].replace("8k2dq", "zz9zz")
    recovered["createTime"] = "2026-01-12T08:00:00Z"
    sc.executions.insert(0, recovered)
    replay = start_replay(sc)
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))
    assert ev.last_success is not None
    assert ev.last_success.name == "o4o-api-migrations-8k2dq"


def test_no_success_among_recent_executions_is_said(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    sc = scenario("cloudsql_not_authorized")
    replay = start_replay(sc)
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))
    assert ev.last_success is None
    assert [g.source for g in ev.gaps] == [Source.LAST_SUCCESS]
    assert ev.gaps[0].reason == "no successful execution among the job's 2 most recent"


def test_the_embedded_scenario_is_the_seed() -> None:
    sc = Scenario.embedded()
    assert sc.ref == REF
    assert sc.name == "seed"
