"""Cloud Run resources to the evidence model: tasks, args, secrets, bounds, other scenarios."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from google.cloud import run_v2

from jobtriage.evidence.cloud_run import (
    LAST_SUCCESS_MAX_PAGES,
    LAST_SUCCESS_PAGE_SIZE,
    execution_info,
    redact_args,
    task_attempt,
)
from jobtriage.evidence.gather import gather
from jobtriage.evidence.model import Outcome, Source, Stream
from jobtriage.redact import MASK
from standins.replay.google import Api, GoogleReplay

from .conftest import FakeTime, event_of, scenario, sources_for


def task(result: dict[str, Any] | None, state: str = "CONDITION_FAILED") -> Any:
    body: dict[str, Any] = {
        "index": 2,
        "retried": 1,
        "conditions": [{"type": "Completed", "state": state}],
    }
    if result is not None:
        body["lastAttemptResult"] = result
    return run_v2.Task.from_json(__import__("json").dumps(body))


@pytest.mark.parametrize(
    ("result", "state", "expected"),
    [
        ({"exitCode": 1, "status": {"code": 10}}, "CONDITION_FAILED", (1, None, 10, True)),
        ({"termSignal": 9, "status": {"code": 10}}, "CONDITION_FAILED", (None, 9, 10, True)),
        ({"status": {"code": 4, "message": "timeout"}}, "CONDITION_FAILED", (None, None, 4, True)),
        ({"status": {}}, "CONDITION_SUCCEEDED", (0, None, 0, False)),
        (None, "CONDITION_FAILED", (None, None, None, True)),
    ],
)
def test_task_attempts(
    result: dict[str, Any] | None, state: str, expected: tuple[Any, ...]
) -> None:
    attempt = task(result, state)
    converted = task_attempt(attempt)
    assert (
        converted.exit_code,
        converted.term_signal,
        converted.status_code,
        converted.failed,
    ) == expected
    assert (converted.index, converted.retried) == (2, 1)


def test_args_are_redacted_and_plain_env_values_dropped() -> None:
    assert redact_args(
        ["--db-password", "s3cr3t-value", "--url=postgres://u:pw12345@h/db", "--dry-run"]
    ) == ("--db-password", MASK, f"--url=postgres://u:{MASK}@h/db", "--dry-run")
    # a plain env value repeated in an arg is a known secret
    assert redact_args(["--conn", "abcdef123456"], known=["abcdef123456"]) == ("--conn", MASK)

    sc = scenario("task_timeout")
    assert sc.execution is not None
    ex = execution_info(run_v2.Execution.from_json(__import__("json").dumps(sc.execution)))
    main = ex.config.main
    assert main is not None
    assert main.command == ("python", "-m", "reindex")
    assert main.args == ("--batch-size", "2000")
    assert main.env_names == ("OPENSEARCH_URL",)
    assert "search.internal.shopfront.example" not in repr(ex)
    assert [(s.env, s.secret, s.version) for s in main.secret_env] == [
        ("OPENSEARCH_PASSWORD", "opensearch-admin", "2")
    ]


def test_last_success_looks_at_two_pages_at_most(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    sc = scenario("seed")
    failed = sc.executions[0]
    filler = []
    for n in range(60):  # 60 newer failures bury the last success
        item = copy.deepcopy(failed)
        item["name"] = item["name"].replace("h5x5h", f"f{n:04d}")
        filler.append(item)
    sc.executions = [sc.executions[0], *filler, *sc.executions[1:]]
    replay = start_replay(sc)
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))

    pages = replay.requests(Api.LIST_EXECUTIONS)
    assert len(pages) == LAST_SUCCESS_MAX_PAGES == 2
    assert pages[0].query["pageSize"] == [str(LAST_SUCCESS_PAGE_SIZE)]
    assert pages[1].query["pageToken"] == ["25"]
    assert ev.last_success is None
    assert [(g.source, g.reason) for g in ev.gaps] == [
        (Source.LAST_SUCCESS, "no successful execution among the job's 50 most recent")
    ]


def test_a_fan_out_job_reads_a_bounded_number_of_tasks(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    sc = scenario("seed")
    template = sc.tasks[0]
    sc.tasks = []
    for n in range(350):
        item = copy.deepcopy(template)
        item["name"] = item["name"].replace("-task0", f"-task{n}")
        item["index"] = n
        sc.tasks.append(item)
    replay = start_replay(sc)
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))
    assert replay.count(Api.LIST_TASKS) == 3
    assert [t.index for t in ev.tasks] == list(range(300))
    assert [(g.source, g.reason) for g in ev.gaps] == [
        (Source.TASKS, "only the first 300 tasks were read")
    ]


def gather_fixture(name: str, start_replay: Callable[..., GoogleReplay], time: FakeTime) -> Any:
    sc = scenario(name)
    replay = start_replay(sc)
    return gather(event_of(sc), sources=sources_for(replay, time))


def test_oom_killed_alembic_job(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    ev = gather_fixture("oom_alembic", start_replay, late_time)
    assert ev.gaps == ()
    assert ev.tasks[0].term_signal == 9
    assert ev.tasks[0].exit_code is None
    assert ev.config.main is not None
    assert ev.config.main.memory_limit == "512Mi"
    assert ev.config.max_retries == 1
    oom = ev.grep("Memory limit of 512 MiB exceeded")
    assert [(line.stream, line.severity, line.attempt) for line in oom] == [
        (Stream.SYSTEM, "ERROR", 0),
        (Stream.SYSTEM, "ERROR", 1),
    ]
    assert ev.last_success is not None
    assert ev.last_success.name == "ledger-migrate-m3t8v"
    assert ev.last_success.image_digest != ev.execution.image_digest


def test_task_timeout(start_replay: Callable[..., GoogleReplay], late_time: FakeTime) -> None:
    ev = gather_fixture("task_timeout", start_replay, late_time)
    assert ev.event.outcome is Outcome.TIMED_OUT
    assert ev.event.status_code == 4
    assert ev.timed_out
    assert ev.execution.execution_reason is None
    assert ev.tasks[0].status_code == 4
    assert ev.tasks[0].exit_code is None
    assert ev.config.timeout == timedelta(seconds=600)
    assert ev.grep("reached the maximum timeout of 600 seconds")
    assert ev.log_stats.kept == 11  # 9 progress lines, the kill, the audit entry


def test_cloudsql_not_authorized(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    ev = gather_fixture("cloudsql_not_authorized", start_replay, late_time)
    assert ev.config.cloudsql_instances == ("tripnote-prod:asia-northeast1:main-pg",)
    assert ev.config.main is not None
    assert ev.config.main.env_names == ()
    assert [s.secret for s in ev.config.main.secret_env] == ["tripnote-database-url"]
    assert len(ev.grep("boss::NOT_AUTHORIZED")) == 2
    assert ev.grep("P1001")


def test_successful_execution(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    ev = gather_fixture("success_recovered", start_replay, late_time)
    assert ev.event.outcome is Outcome.SUCCEEDED
    assert ev.execution.completed_state == "CONDITION_SUCCEEDED"
    assert ev.tasks[0].failed is False
    assert ev.tasks[0].exit_code == 0
    assert ev.grep("Container called exit(0).")
    assert ev.last_success is None  # the only success is this one
