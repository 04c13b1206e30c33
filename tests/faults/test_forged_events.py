"""Verify before acting: events that do not tell the truth change nothing, through the whole
product (real clients → the replayed Run API; the fake Slack; the incident store).

What on-call sees: a forged success leaves the alert open (no "recovered" in its thread); a
replayed old success too; a failure event for a job that does not exist posts nothing. The real
success, served by the Run API, still recovers the incident (the control that these can fail).
"""

from __future__ import annotations

from datetime import UTC, datetime

from jobtriage.incident.model import State
from standins.load.forged import (
    ghost_executions,
    with_forged_successes,
    with_ghost_failures,
    with_real_success,
    with_replayed_success,
)
from standins.load.harness import Harness, HarnessConfig, Plan, RunReport, storm_plan

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _run(plan: Plan) -> tuple[RunReport, list[State]]:
    config = HarnessConfig(workers=1, scale=0.01, start=START)
    with Harness(config, plan) as h:
        h.publish_plan()
        report = h.run(timeout=120)
        states = [i.state for i in h.store.inner._incidents.values()]
    assert report.unhandled == []
    assert report.dead_letters == []
    return report, states


def _recovered_posts(report: RunReport) -> list[str]:
    return [p.body() for p in report.posted if "recovered" in p.body().lower()]


def _plan() -> Plan:
    return storm_plan(jobs=1, per_job=1, within=1.0, duplicates=0.0, seed=7)


def test_a_success_for_a_made_up_execution_closes_nothing() -> None:
    report, states = _run(with_forged_successes(_plan(), at=60.0, start=START))
    assert states == [State.OPEN]
    assert _recovered_posts(report) == []
    assert report.actions()["unverified"] == 1  # acknowledged, not redelivered


def test_an_old_success_replayed_closes_nothing() -> None:
    plan = _plan()
    [job] = plan.jobs
    # <job>-8k2dq succeeded on 2026-01-11 (a recorded execution), long before the failure.
    report, states = _run(
        with_replayed_success(plan, job=job, execution=f"{job}-8k2dq", at=60.0, start=START)
    )
    assert states == [State.OPEN]
    assert _recovered_posts(report) == []


def test_a_real_later_success_still_recovers() -> None:
    plan = _plan()
    [job] = plan.jobs
    report, states = _run(
        with_real_success(plan, job=job, execution=f"{job}-g00d1", at=600.0, start=START)
    )
    assert states == [State.RECOVERED]
    [recovered] = _recovered_posts(report)
    assert f"{job}-g00d1" in recovered


def test_a_failure_of_a_job_that_does_not_exist_posts_nothing() -> None:
    plan = with_ghost_failures(storm_plan(jobs=2, per_job=1, within=1.0, seed=7), count=2, at=5)
    report, _ = _run(plan)
    ghosts = ghost_executions(plan)
    assert len(ghosts) == 2
    assert [g for g in ghosts for p in report.posted if g in p.body()] == []
    assert report.actions()["unverified"] == 2
    # the real failures beside them are posted once each
    account = report.account()
    assert account["duplicated"] == []
    assert account["lost"] == []
    assert len(account["posted"]) == 2
