"""Every API refusing in every way: a gap with its fix, and the rest is still there."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from jobtriage.evidence.gather import Sources, gather
from jobtriage.evidence.model import Evidence, Source
from standins.replay.google import Api, GoogleReplay

from .conftest import FakeTime, event_of, scenario, sources_for

SOURCE_OF = {
    Api.GET_EXECUTION: Source.EXECUTION,
    Api.LIST_TASKS: Source.TASKS,
    Api.GET_JOB: Source.JOB,
    Api.LIST_EXECUTIONS: Source.LAST_SUCCESS,
    Api.LIST_ENTRIES: Source.LOGS,
}
TIMEOUT = 0.25


def present(ev: Evidence) -> dict[Source, bool]:
    return {
        Source.EXECUTION: ev.execution is not None,
        Source.TASKS: bool(ev.tasks),
        Source.JOB: ev.job is not None,
        Source.LAST_SUCCESS: ev.last_success is not None,
        Source.LOGS: bool(ev.logs),
    }


def run(
    start_replay: Callable[..., GoogleReplay], time: FakeTime, api: Api, **fault: float
) -> tuple[Evidence, GoogleReplay]:
    sc = scenario("seed")
    replay = start_replay(sc)
    replay.inject(api, **fault)  # type: ignore[arg-type]
    sources: Sources = sources_for(replay, time, api_timeout_seconds=TIMEOUT)
    return gather(event_of(sc), sources=sources), replay


def expected_reason(api: Api, status: int) -> str:
    what = {
        Api.GET_EXECUTION: "the execution",
        Api.LIST_TASKS: "the execution's tasks",
        Api.GET_JOB: "the job",
        Api.LIST_EXECUTIONS: "the job's earlier executions",
        Api.LIST_ENTRIES: "logs",
    }[api]
    title = "Cloud Logging API" if api is Api.LIST_ENTRIES else "Cloud Run Admin API"
    if status == 403:
        return f"permission denied reading {what} ({title} answered 403)"
    if status == 404:
        if api in (Api.GET_EXECUTION, Api.LIST_TASKS):
            return "execution no longer exists (Cloud Run keeps the last 1,000 per job)"
        if api in (Api.GET_JOB, Api.LIST_EXECUTIONS):
            return "job o4o-api-migrations no longer exists in asia-northeast3"
        return "logs: not found"
    if status == 429:
        return (
            "Logging read quota exhausted"
            if api is Api.LIST_ENTRIES
            else "Cloud Run Admin API read quota exhausted"
        )
    if status == 500:
        return f"{title} error 500: Internal error encountered."
    return f"{title} gave no answer within {TIMEOUT:g} s"


@pytest.mark.parametrize("status", [403, 404, 429, 500, 0], ids=lambda s: str(s or "timeout"))
@pytest.mark.parametrize("api", list(Api), ids=str)
def test_a_refusing_api_leaves_one_gap_and_the_rest(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime, api: Api, status: int
) -> None:
    fault = {"status": status} if status else {"delay": TIMEOUT * 6}
    ev, replay = run(start_replay, late_time, api, **fault)

    source = SOURCE_OF[api]
    assert [g.source for g in ev.gaps] == [source]
    gap = ev.gaps[0]
    assert gap.reason.startswith(expected_reason(api, status))
    if status == 403:
        role = "roles/logging.viewer" if api is Api.LIST_ENTRIES else "roles/run.viewer"
        assert f"grant {role} to the function's service account" in gap.fix
        assert "netureyoutube" in gap.fix
    elif status == 0:
        assert "API_TIMEOUT_SECONDS" in gap.fix
    else:
        assert gap.fix or (status == 404 and api is Api.LIST_ENTRIES)

    # everything else was still gathered
    have = present(ev)
    assert have.pop(source) is False
    assert all(have.values()), have
    assert ev.event is not None  # the audit entry is always there
    if api is Api.LIST_ENTRIES:
        # 429 is retried once after a back-off; everything else is not retried
        assert replay.count(api) == (2 if status == 429 else 1)
        assert late_time.slept == ([5.0] if status == 429 else [])
        assert ev.log_stats.requests == replay.count(api)
    else:
        assert replay.count(Api.LIST_ENTRIES) == 1


def test_execution_unknown_logs_are_read_around_the_event(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    ev, replay = run(start_replay, late_time, Api.GET_EXECUTION, status=404)
    body = replay.requests(Api.LIST_ENTRIES)[0].json()
    # the audit entry was written at 06:12:57.111842: a day back, two minutes ahead
    assert 'timestamp>="2026-01-11T06:11:57.111842Z"' in body["filter"]
    assert 'timestamp<="2026-01-12T06:14:57.111842Z"' in body["filter"]
    assert ev.log_stats.kept == 53


def test_a_single_429_costs_a_backoff_but_not_the_logs(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    ev, replay = run(start_replay, late_time, Api.LIST_ENTRIES, status=429, times=1)
    assert ev.gaps == ()
    assert ev.log_stats.kept == 53
    assert replay.count(Api.LIST_ENTRIES) == 2
    assert late_time.slept == [5.0]


def test_nothing_configured_means_gaps_not_errors(late_time: FakeTime) -> None:
    sc = scenario("seed")
    ev = gather(event_of(sc), sources=Sources(run=None, logs=None, clock=late_time))
    assert [g.source for g in ev.gaps] == [Source.EXECUTION, Source.LOGS]
    assert ev.event is not None


def test_an_unreadable_answer_is_a_gap(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    from standins.server import Reply

    sc = scenario("seed")
    replay = start_replay(sc)
    answer = replay._answer

    def garbage(api: Api, name: str, req: object) -> Reply:
        if api is Api.GET_JOB:  # a proxy's HTML page where JSON was expected
            return Reply(200, b"<html><body>upstream connect error</body></html>")
        return answer(api, name, req)  # type: ignore[arg-type]

    replay._answer = garbage  # type: ignore[method-assign]
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))
    assert [g.source for g in ev.gaps] == [Source.JOB]
    assert ev.gaps[0].reason.startswith("unexpected error reading the job")
    assert ev.execution is not None
    assert ev.logs
    assert ev.last_success is not None


def test_api_not_enabled_says_which_service_to_enable(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    from standins.replay.google import error_body
    from standins.server import Reply

    sc = scenario("seed")
    replay = start_replay(sc)
    answer = replay._answer  # a 403 with Google's SERVICE_DISABLED reason for logs only

    def disabled(api: Api, name: str, req: object) -> Reply:
        if api is Api.LIST_ENTRIES:
            return Reply(
                403,
                error_body(
                    403,
                    "Cloud Logging API has not been used in project 502937184615 before or it "
                    "is disabled.",
                    reason="SERVICE_DISABLED",
                ),
            )
        return answer(api, name, req)  # type: ignore[arg-type]

    replay._answer = disabled  # type: ignore[method-assign]
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))
    assert [(g.source, g.fix) for g in ev.gaps] == [
        (Source.LOGS, "gcloud services enable logging.googleapis.com --project=netureyoutube")
    ]
