"""Google APIs refusing, missing or slow: the alert still goes out, and says what it could not
check. Through the whole pipeline (real clients → replay), asserting on what Slack received."""

from __future__ import annotations

import pytest

from standins.load.harness import (
    Harness,
    HarnessConfig,
    RunReport,
    base_scenario,
    renamed,
    single_plan,
)
from standins.replay.google import RUN_APIS, Api


def _run_with(faults: list[tuple[Api, int, float]], *, api_timeout: float = 5.0) -> RunReport:
    sc = renamed(
        base_scenario("seed"), job="o4o-api-migrations", execution="o4o-api-migrations-f4ult"
    )
    config = HarnessConfig(workers=1, scale=0.01, api_timeout=api_timeout)
    with Harness(config, single_plan(sc)) as h:
        for api, status, delay in faults:
            h.replay.inject(api, status=status, delay=delay)
        h.publish_plan()
        report = h.run(timeout=60)
    assert report.unhandled == []
    assert report.dead_letters == []
    return report


def _alert_after(faults: list[tuple[Api, int, float]], *, api_timeout: float = 5.0) -> str:
    [alert] = _run_with(faults, api_timeout=api_timeout).posted
    assert alert.thread_ts is None
    return alert.body()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (403, "permission denied reading logs"),
        (404, "logs: not found"),
        (429, "Logging read quota exhausted"),
        (500, "Cloud Logging API error 500"),
    ],
)
def test_logging_refusing(status: int, expected: str) -> None:
    body = _alert_after([(Api.LIST_ENTRIES, status, 0.0)])
    assert "Could not check" in body
    assert expected in body


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (403, "permission denied reading the execution"),
        (429, "Cloud Run Admin API read quota exhausted"),
        (500, "Cloud Run Admin API error 500"),
    ],
)
def test_run_api_refusing(status: int, expected: str) -> None:
    body = _alert_after([(api, status, 0.0) for api in RUN_APIS])
    assert "Could not check" in body
    assert expected in body
    # the audit entry alone still names the execution and how it ended
    assert "o4o-api-migrations-f4ult" in body


def test_an_execution_the_run_api_does_not_know_posts_nothing() -> None:
    """404 on the execution itself: the event names an execution that does not exist (forged or
    mistaken). Nothing is posted; the event is acknowledged (not redelivered, not dead-lettered)."""
    report = _run_with([(api, 404, 0.0) for api in RUN_APIS])
    assert report.posted == []
    assert report.actions() == {"unverified": 1}


def test_everything_slow() -> None:
    faults = [(api, 0, 1.5) for api in (*RUN_APIS, Api.LIST_ENTRIES)]
    body = _alert_after(faults, api_timeout=0.5)
    assert "gave no answer within 0.5 s" in body
