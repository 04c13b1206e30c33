"""The replay answers like the Google APIs: filters, order, paging, errors, quota."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from standins.replay.google import Api, GoogleReplay, Scenario, ScenarioError
from standins.replay.logfilter import FilterError, compile_filter

from .conftest import FIXTURES, scenario

ENTRY: dict[str, Any] = {
    "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
    "resource": {"type": "cloud_run_job", "labels": {"job_name": "j"}},
    "labels": {"run.googleapis.com/execution_name": "j-abc"},
    "severity": "WARNING",
    "timestamp": "2026-01-12T06:12:05.5Z",
    "textPayload": "Error: connect ECONNREFUSED",
}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ('resource.type="cloud_run_job"', True),
        ('resource.type="cloud_run_revision"', False),
        ('labels."run.googleapis.com/execution_name"="j-abc"', True),
        ('labels."run.googleapis.com/execution_name"="j-xyz"', False),
        ("severity>=WARNING", True),
        ("severity>=ERROR", False),
        ('timestamp>="2026-01-12T06:12:05Z" AND timestamp<="2026-01-12T06:12:06Z"', True),
        ('timestamp>="2026-01-12T06:12:06Z"', False),
        ('logName:"stderr"', True),
        ('textPayload:"econnrefused"', True),  # has: case-insensitive substring
        ('severity>=ERROR OR logName:"stderr"', True),
        # OR binds tighter than AND
        ('severity>=ERROR OR logName:"stdout" AND resource.type="cloud_run_job"', False),
        ("NOT severity>=ERROR", True),
        ('jsonPayload.message="x"', False),  # a missing field never matches
        ('"ECONNREFUSED"', True),
        ('resource.type="cloud_run_job"\nseverity>=WARNING', True),  # a newline is AND
        ("", True),
    ],
)
def test_filter_semantics(text: str, matches: bool) -> None:
    assert compile_filter(text)(ENTRY) is matches


@pytest.mark.parametrize(
    "text", ['severity>="LOUD"', "(severity>=ERROR", 'textPayload=~"a.*"', "a.b"]
)
def test_unsupported_or_malformed_filters_are_errors(text: str) -> None:
    with pytest.raises(FilterError):
        compile_filter(text)(ENTRY)


def post(replay: GoogleReplay, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{replay.url}/v2/entries:list", json=body, timeout=5)


def test_entries_paging_order_and_errors(start_replay: Callable[..., GoogleReplay]) -> None:
    replay = start_replay(scenario("seed"))
    base = {
        "resourceNames": ["projects/netureyoutube"],
        "filter": 'labels."run.googleapis.com/execution_name"="o4o-api-migrations-h5x5h" '
        'AND logName:"varlog%2Fsystem"',
        "orderBy": "timestamp desc",
        "pageSize": 3,
    }
    first = post(replay, base).json()
    assert [e["labels"]["run.googleapis.com/task_attempt"] for e in first["entries"]] == [
        "3",
        "2",
        "1",
    ]
    second = post(replay, {**base, "pageToken": first["nextPageToken"]}).json()
    assert [e["labels"]["run.googleapis.com/task_attempt"] for e in second["entries"]] == ["0"]
    assert "nextPageToken" not in second

    assert post(replay, {**base, "resourceNames": ["projects/other"]}).json() == {"entries": []}
    too_big = post(replay, {**base, "pageSize": 1001})
    assert too_big.status_code == 400
    assert too_big.json()["error"]["status"] == "INVALID_ARGUMENT"
    bad = post(replay, {**base, "filter": "severity>=LOUD"})
    assert bad.status_code == 400
    assert replay.count(Api.LIST_ENTRIES) == 5


def test_quota_error_has_googles_shape(start_replay: Callable[..., GoogleReplay]) -> None:
    now = [0.0]
    replay = start_replay(scenario("seed"), logging_reads_per_minute=2, clock=lambda: now[0])
    body = {"resourceNames": ["projects/netureyoutube"], "pageSize": 1}
    assert [post(replay, body).status_code for _ in range(3)] == [200, 200, 429]
    error = post(replay, body).json()["error"]
    assert error["code"] == 429
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert error["message"].startswith(
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' "
        "of service 'logging.googleapis.com'"
    )
    info = error["details"][0]
    assert info["reason"] == "RATE_LIMIT_EXCEEDED"
    assert info["metadata"]["quota_limit"] == "ReadRequestsPerMinutePerProject"
    assert info["metadata"]["quota_limit_value"] == "2"
    now[0] = 60.0  # the minute has passed
    assert post(replay, body).status_code == 200


def test_run_routes_and_faults(start_replay: Callable[..., GoogleReplay]) -> None:
    replay = start_replay(scenario("seed"))
    job = "projects/netureyoutube/locations/asia-northeast3/jobs/o4o-api-migrations"
    get = lambda path: requests.get(f"{replay.url}/v2/{path}", timeout=5)  # noqa: E731
    assert get(job).json()["generation"] == "14"
    assert get(f"{job}/executions/o4o-api-migrations-8k2dq").json()["succeededCount"] == 1
    listed = get(f"{job}/executions?pageSize=2").json()
    assert len(listed["executions"]) == 2
    assert listed["nextPageToken"] == "2"
    missing = get(f"{job}/executions/o4o-api-migrations-zzzzz")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == (
        "Resource 'o4o-api-migrations-zzzzz' of kind 'EXECUTION' in region 'asia-northeast3' "
        "in project 'netureyoutube' does not exist."
    )
    replay.inject(Api.GET_JOB, status=403, times=1)
    denied = get(job)
    assert denied.status_code == 403
    assert denied.json()["error"]["message"].startswith(
        f"Permission 'run.jobs.get' denied on resource '{job}'"
    )
    assert get(job).status_code == 200  # `times=1` is used up
    assert replay.count(Api.GET_JOB) == 3
    assert get("projects/x").status_code == 404


def test_every_fixture_loads_and_names_its_execution() -> None:
    names = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
    assert names == [
        "cloudsql_not_authorized",
        "no_logs",
        "oom_alembic",
        "seed",
        "success_recovered",
        "task_timeout",
    ]
    for name in names:
        sc = Scenario.load(FIXTURES / name)
        assert sc.execution is not None
        assert sc.job is not None
        assert sc.event is not None
        assert sc.execution["name"].endswith("/executions/" + sc.ref.execution)


def test_a_missing_scenario_folder_is_an_error(tmp_path: Any) -> None:
    with pytest.raises(ScenarioError, match="no scenario folder"):
        Scenario.load(tmp_path / "nope")
    (tmp_path / "logs.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"logs\.json .*not valid JSON"):
        Scenario.load(tmp_path)
