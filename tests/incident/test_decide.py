"""The decision table (what the channel sees) and the click transitions, as tables."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from jobtriage.incident.decide import (
    Action,
    Decision,
    TransitionResult,
    acknowledge,
    apply_failure,
    decide_failure,
    decide_success,
    recover,
    resolve,
    snooze,
)
from jobtriage.incident.model import Incident, State, incident_id
from jobtriage.incident.store import MemoryStore

JOB = "projects/acme/locations/asia-northeast3/jobs/o4o-api-migrations"
OTHER_JOB = "projects/acme/locations/asia-northeast3/jobs/nightly-report"
ESM = "entrypoint_runtime:ERR_REQUIRE_ESM"
DB = "db_connection:ECONNREFUSED"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=2)
EXEC = "o4o-api-migrations-zzzzz"


def opened(**changes: object) -> Incident:
    base = Incident(
        id=incident_id(JOB, ESM, T0),
        job_path=JOB,
        fingerprint=ESM,
        state=State.OPEN,
        opened_at=T0,
        updated_at=T0,
        failures=1,
        first_execution="o4o-api-migrations-h5x5h",
        last_execution="o4o-api-migrations-h5x5h",
        last_failure_at=T0,
        channel="C0123",
        ts="1772355600.000100",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


ACKED = {"state": State.ACKNOWLEDGED, "acked_by": "U1", "acked_at": T0 + timedelta(minutes=5)}


@dataclass(frozen=True)
class FailureCase:
    incident: Incident | None
    action: Action
    failures: int
    held_back_reported: int = 0
    state_after: State = State.OPEN
    held_back_after: int = 0
    fingerprint: str = ESM
    execution: str = EXEC


FAILURE_CASES = {
    "first failure opens an incident": FailureCase(None, Action.NEW_ALERT, 1),
    "repeat: 2nd time": FailureCase(opened(), Action.THREAD_REPLY, 2),
    "repeat: 3rd time": FailureCase(opened(failures=2), Action.THREAD_REPLY, 3),
    "different cause opens a new incident": FailureCase(
        opened(), Action.NEW_ALERT, 1, fingerprint=DB
    ),
    "another job's incident is not this one": FailureCase(
        opened(job_path=OTHER_JOB), Action.NEW_ALERT, 1
    ),
    "acknowledged: quiet reply": FailureCase(
        opened(**ACKED), Action.QUIET_REPLY, 2, state_after=State.ACKNOWLEDGED
    ),
    "snoozed 1 h, still running: hold and count": FailureCase(
        opened(state=State.SNOOZED, snoozed_until=NOW + timedelta(minutes=30), held_back=1),
        Action.HOLD,
        2,
        held_back_reported=2,
        state_after=State.SNOOZED,
        held_back_after=2,
    ),
    "snooze over: post with what was held back": FailureCase(
        opened(
            state=State.SNOOZED, snoozed_until=NOW - timedelta(minutes=1), held_back=3, failures=4
        ),
        Action.THREAD_REPLY,
        5,
        held_back_reported=3,
    ),
    "snooze ends exactly now: over": FailureCase(
        opened(state=State.SNOOZED, snoozed_until=NOW, held_back=1, failures=2),
        Action.THREAD_REPLY,
        3,
        held_back_reported=1,
    ),
    "snooze over after an acknowledge: quiet again": FailureCase(
        opened(**{**ACKED, "state": State.SNOOZED}, snoozed_until=T0, held_back=1, failures=2),
        Action.QUIET_REPLY,
        3,
        held_back_reported=1,
        state_after=State.ACKNOWLEDGED,
    ),
    "snoozed until success: held however late": FailureCase(
        opened(state=State.SNOOZED, snooze_until_success=True, held_back=5, failures=6),
        Action.HOLD,
        7,
        held_back_reported=6,
        state_after=State.SNOOZED,
        held_back_after=6,
    ),
    "resolved: the next failure opens a new incident": FailureCase(
        opened(state=State.RESOLVED, resolved_by="U1", resolved_at=T0), Action.NEW_ALERT, 1
    ),
    "recovered: the next failure opens a new incident": FailureCase(
        opened(state=State.RECOVERED, recovered_execution="x", recovered_at=T0),
        Action.NEW_ALERT,
        1,
    ),
    "the same execution again (a redelivery): nothing": FailureCase(
        opened(failures=2, last_execution=EXEC), Action.NOTHING, 2
    ),
}


@pytest.mark.parametrize("case", FAILURE_CASES.values(), ids=FAILURE_CASES.keys())
def test_decide_failure(case: FailureCase) -> None:
    decision = decide_failure(
        case.incident, job_path=JOB, fingerprint=case.fingerprint, execution=case.execution, now=NOW
    )
    assert decision.action is case.action
    assert decision.failures == case.failures
    assert decision.held_back == case.held_back_reported
    assert decision.execution == case.execution
    assert decision.reason
    assert decision.posts is (case.action not in (Action.HOLD, Action.NOTHING))
    after = decision.incident
    assert after is not None
    assert after.state is case.state_after
    assert after.held_back == case.held_back_after
    assert after.failures == case.failures
    if case.action is Action.NEW_ALERT:
        assert after.id == incident_id(JOB, case.fingerprint, NOW)
        assert after.id != (case.incident.id if case.incident else None)
        assert (after.opened_at, after.first_execution, after.last_execution) == (NOW, EXEC, EXEC)
        assert (after.channel, after.ts) == (None, None)  # filled in once posted
        assert decision.window == timedelta(0)
    elif case.action is Action.NOTHING:
        assert after == case.incident
    else:
        assert case.incident is not None
        assert after.id == case.incident.id
        assert (after.last_execution, after.last_failure_at, after.updated_at) == (EXEC, NOW, NOW)
        assert decision.window == NOW - T0  # "… time in 2 h"
        assert (after.channel, after.ts) == (case.incident.channel, case.incident.ts)
        assert after.acked_by == case.incident.acked_by  # counting never changes who/when


def test_a_snooze_that_ended_is_cleared() -> None:
    snoozed = opened(
        state=State.SNOOZED, snoozed_until=T0, snoozed_by="U2", held_back=2, failures=3
    )
    after = decide_failure(snoozed, job_path=JOB, fingerprint=ESM, execution=EXEC, now=NOW)
    assert after.incident is not None
    assert after.incident.snoozed_until is None
    assert after.incident.snoozed_by is None
    assert after.incident.snooze_until_success is False


def test_decide_failure_is_idempotent_per_execution() -> None:
    first = decide_failure(opened(), job_path=JOB, fingerprint=ESM, execution=EXEC, now=NOW)
    assert first.incident is not None
    again = decide_failure(
        first.incident,
        job_path=JOB,
        fingerprint=ESM,
        execution=EXEC,
        now=NOW + timedelta(minutes=1),
    )
    assert again.action is Action.NOTHING
    assert again.incident == first.incident


# --- success -----------------------------------------------------------------------------------


def test_success_with_no_open_incident_says_nothing() -> None:
    assert decide_success([], execution="ok-1", now=NOW) == []
    closed = opened(state=State.RESOLVED, resolved_by="U1", resolved_at=T0)
    assert decide_success([closed], execution="ok-1", now=NOW) == []


def test_success_recovers_every_open_incident() -> None:
    esm = opened(failures=3)
    db = opened(id="db0001", fingerprint=DB, opened_at=T0 + timedelta(hours=1), **ACKED)
    decisions = decide_success([esm, db], execution="ok-1", now=NOW)
    assert [d.action for d in decisions] == [Action.RECOVER, Action.RECOVER]
    assert [d.open_for for d in decisions] == [timedelta(hours=2), timedelta(hours=1)]
    assert [d.failures for d in decisions] == [3, 1]
    for decision, before in zip(decisions, (esm, db), strict=True):
        after = decision.incident
        assert after is not None
        assert after.id == before.id
        assert after.state is State.RECOVERED
        assert after.state.closed
        assert (after.recovered_execution, after.recovered_at, after.updated_at) == (
            "ok-1",
            NOW,
            NOW,
        )
        assert decision.posts


def test_a_success_older_than_the_last_failure_recovers_nothing() -> None:
    late = opened(last_failure_at=NOW - timedelta(minutes=1))
    (decision,) = decide_success(
        [late], execution="ok-0", now=NOW, finished_at=NOW - timedelta(minutes=5)
    )
    assert decision.action is Action.NOTHING
    assert decision.incident == late
    assert not decision.posts


def test_snooze_until_success_holds_until_the_success_which_recovers() -> None:
    decision = decide_failure(None, job_path=JOB, fingerprint=ESM, execution="e1", now=T0)
    incident = decision.incident
    assert incident is not None
    incident = snooze(incident, user="U1", until_success=True, now=T0).incident

    actions: list[Action] = []
    for n, execution in enumerate(("e2", "e3"), start=1):
        held = decide_failure(
            incident,
            job_path=JOB,
            fingerprint=ESM,
            execution=execution,
            now=T0 + timedelta(days=n),
        )
        actions.append(held.action)
        assert held.incident is not None
        incident = held.incident
    assert actions == [Action.HOLD, Action.HOLD]
    assert incident.held_back == 2
    assert incident.failures == 3

    (recovered,) = decide_success([incident], execution="ok", now=T0 + timedelta(days=3))
    assert recovered.action is Action.RECOVER
    assert recovered.held_back == 2  # "2 failures were held back while snoozed"
    assert recovered.open_for == timedelta(days=3)
    assert recovered.incident is not None
    assert recovered.incident.snooze_until_success is False

    # The incident is closed: the next failure opens a new one.
    after = decide_failure(
        recovered.incident,
        job_path=JOB,
        fingerprint=ESM,
        execution="e4",
        now=T0 + timedelta(days=4),
    )
    assert after.action is Action.NEW_ALERT


def test_recover_leaves_a_closed_incident_alone() -> None:
    resolved = opened(state=State.RESOLVED, resolved_by="U1", resolved_at=T0)
    assert recover(resolved, execution="ok", now=NOW) == resolved


# --- clicks ------------------------------------------------------------------------------------

SNOOZE_END = NOW + timedelta(hours=1)
RESOLVED = {"state": State.RESOLVED, "resolved_by": "U1", "resolved_at": T0}
RECOVERED = {"state": State.RECOVERED, "recovered_execution": "ok-1", "recovered_at": T0}


@dataclass(frozen=True)
class ClickCase:
    before: Incident
    click: str  # "ack", "resolve", "snooze", "snooze_success"
    result: TransitionResult
    state_after: State
    user: str = "U2"
    reason_has: str = ""


def click(incident: Incident, kind: str, user: str, now: datetime = NOW) -> object:
    if kind == "ack":
        return acknowledge(incident, user=user, now=now)
    if kind == "resolve":
        return resolve(incident, user=user, now=now)
    if kind == "snooze":
        return snooze(incident, user=user, until=SNOOZE_END, now=now)
    return snooze(incident, user=user, until_success=True, now=now)


APPLIED, UNCHANGED, REFUSED = (
    TransitionResult.APPLIED,
    TransitionResult.UNCHANGED,
    TransitionResult.REFUSED,
)
SNOOZED = {"state": State.SNOOZED, "snoozed_until": SNOOZE_END, "snoozed_by": "U3"}

CLICK_CASES = {
    "acknowledge an open incident": ClickCase(opened(), "ack", APPLIED, State.ACKNOWLEDGED),
    "acknowledge again (replay)": ClickCase(
        opened(**ACKED), "ack", UNCHANGED, State.ACKNOWLEDGED, user="U1",
        reason_has="already acknowledged by U1",
    ),
    "acknowledge by someone else": ClickCase(
        opened(**ACKED), "ack", UNCHANGED, State.ACKNOWLEDGED,
        reason_has="already acknowledged by U1",
    ),
    "acknowledge a snoozed incident ends the snooze": ClickCase(
        opened(**SNOOZED), "ack", APPLIED, State.ACKNOWLEDGED
    ),
    "acknowledge a resolved incident": ClickCase(
        opened(**RESOLVED), "ack", REFUSED, State.RESOLVED,
        reason_has="already resolved by U1",
    ),
    "acknowledge a recovered incident": ClickCase(
        opened(**RECOVERED), "ack", REFUSED, State.RECOVERED,
        reason_has="recovered",
    ),
    "resolve an open incident": ClickCase(opened(), "resolve", APPLIED, State.RESOLVED),
    "resolve an acknowledged incident": ClickCase(
        opened(**ACKED), "resolve", APPLIED, State.RESOLVED
    ),
    "resolve a snoozed incident": ClickCase(
        opened(**SNOOZED), "resolve", APPLIED, State.RESOLVED
    ),
    "resolve again (replay)": ClickCase(
        opened(**RESOLVED), "resolve", UNCHANGED, State.RESOLVED,
        reason_has="already resolved by U1",
    ),
    "resolve a recovered incident": ClickCase(
        opened(**RECOVERED), "resolve", REFUSED, State.RECOVERED,
        reason_has="recovered",
    ),
    "snooze an open incident": ClickCase(opened(), "snooze", APPLIED, State.SNOOZED),
    "snooze an acknowledged incident": ClickCase(
        opened(**ACKED), "snooze", APPLIED, State.SNOOZED
    ),
    "snooze again with the same end (replay)": ClickCase(
        opened(**SNOOZED), "snooze", UNCHANGED, State.SNOOZED,
        reason_has="already snoozed by U3",
    ),
    "change a timed snooze to until-success": ClickCase(
        opened(**SNOOZED), "snooze_success", APPLIED, State.SNOOZED
    ),
    "snooze a resolved incident": ClickCase(
        opened(**RESOLVED), "snooze", REFUSED, State.RESOLVED,
        reason_has="resolved",
    ),
    "snooze until success a recovered incident": ClickCase(
        opened(**RECOVERED), "snooze_success", REFUSED, State.RECOVERED,
        reason_has="recovered",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CLICK_CASES.values(), ids=CLICK_CASES.keys())
def test_click_transitions(case: ClickCase) -> None:
    t = click(case.before, case.click, case.user)
    assert t.result is case.result  # type: ignore[attr-defined]
    after: Incident = t.incident  # type: ignore[attr-defined]
    assert after.state is case.state_after
    assert case.reason_has in t.reason  # type: ignore[attr-defined]
    if case.result is not TransitionResult.APPLIED:
        assert after == case.before  # unchanged means unchanged, who and when included
        assert not t.changed  # type: ignore[attr-defined]
        return
    assert t.changed  # type: ignore[attr-defined]
    assert after.updated_at == NOW
    assert (after.id, after.failures, after.channel, after.ts) == (
        case.before.id,
        case.before.failures,
        case.before.channel,
        case.before.ts,
    )
    if case.click == "ack":
        assert after.acked_by == (case.before.acked_by or case.user)
        assert after.acked_at == (case.before.acked_at or NOW)
        assert (after.snoozed_until, after.snooze_until_success) == (None, False)
    elif case.click == "resolve":
        assert (after.resolved_by, after.resolved_at) == (case.user, NOW)
        assert after.state.closed
        assert (after.snoozed_until, after.snooze_until_success) == (None, False)
    elif case.click == "snooze":
        assert (after.snoozed_until, after.snooze_until_success) == (SNOOZE_END, False)
        assert after.snoozed_by == case.user
        assert after.acked_by == case.before.acked_by
    else:
        assert (after.snoozed_until, after.snooze_until_success) == (None, True)


@pytest.mark.parametrize("kind", ["ack", "resolve", "snooze", "snooze_success"])
@pytest.mark.parametrize(
    "before",
    [opened(), opened(**ACKED), opened(**SNOOZED), opened(**RESOLVED), opened(**RECOVERED)],
    ids=["open", "acknowledged", "snoozed", "resolved", "recovered"],
)
def test_a_replayed_click_changes_nothing(before: Incident, kind: str) -> None:
    once = click(before, kind, "U2").incident  # type: ignore[attr-defined]
    later = NOW + timedelta(seconds=3)  # a retry a few seconds on, by someone else
    twice = click(once, kind, "U9", now=later)
    assert twice.incident == once  # type: ignore[attr-defined]
    assert twice.result is not TransitionResult.APPLIED  # type: ignore[attr-defined]


def test_acknowledge_after_acknowledge_then_snooze_keeps_the_first_who_and_when() -> None:
    acked = acknowledge(opened(), user="U1", now=T0).incident
    snoozed = snooze(acked, user="U2", until=SNOOZE_END, now=NOW).incident
    again = acknowledge(snoozed, user="U3", now=NOW + timedelta(minutes=1))
    assert again.result is TransitionResult.APPLIED
    assert (again.incident.acked_by, again.incident.acked_at) == ("U1", T0)
    assert again.incident.state is State.ACKNOWLEDGED


def test_snooze_arguments() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        snooze(opened(), user="U1", now=NOW)
    with pytest.raises(ValueError, match="exactly one"):
        snooze(opened(), user="U1", now=NOW, until=SNOOZE_END, until_success=True)
    past = snooze(opened(), user="U1", now=NOW, until=NOW)
    assert past.result is TransitionResult.REFUSED
    assert "not after now" in past.reason


# --- the pattern the pipeline uses, against a store --------------------------------------------


def test_decisions_applied_through_store_update_count_each_execution_once() -> None:
    store = MemoryStore()
    first = decide_failure(None, job_path=JOB, fingerprint=ESM, execution="e1", now=T0)
    assert first.incident is not None
    store.create(replace(first.incident, channel="C0123", ts="1.1"))
    incident_key = first.incident.id

    def fail(execution: str, now: datetime) -> Decision:
        seen: list[Decision] = []

        def apply(current: Incident) -> Incident:
            seen.append(
                decide_failure(current, job_path=JOB, fingerprint=ESM, execution=execution, now=now)
            )
            return apply_failure(
                current, job_path=JOB, fingerprint=ESM, execution=execution, now=now
            )

        store.update(incident_key, apply)
        return seen[-1]

    second = fail("e2", T0 + timedelta(hours=1))
    third = fail("e3", T0 + timedelta(hours=2))
    replay = fail("e3", T0 + timedelta(hours=2, minutes=1))
    assert [d.action for d in (second, third, replay)] == [
        Action.THREAD_REPLY,
        Action.THREAD_REPLY,
        Action.NOTHING,
    ]
    assert (third.failures, third.window) == (3, timedelta(hours=2))  # "3rd time in 2 h"
    stored = store.get(incident_key)
    assert stored is not None
    assert stored.failures == 3
    assert stored.version == 2

    store.update(
        incident_key, lambda i: resolve(i, user="U1", now=T0 + timedelta(hours=3)).incident
    )
    late = fail("e4", T0 + timedelta(hours=4))
    assert late.action is Action.NEW_ALERT
    assert store.get(incident_key) == replace(stored, **_resolved_fields(stored))


def _resolved_fields(before: Incident) -> dict[str, object]:
    at = T0 + timedelta(hours=3)
    return {
        "state": State.RESOLVED,
        "resolved_by": "U1",
        "resolved_at": at,
        "updated_at": at,
        "version": before.version + 1,
    }
