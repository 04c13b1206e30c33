"""What the next alert learns from the incidents before it: seen before, the job's figures and the
learned priors — pure functions over a simulated history, with a virtual `now`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from analyzers import ANALYZERS
from analyzers.base import Finding
from jobtriage.diagnosis.rank import base_priors, rank, rank_with_history
from jobtriage.incident.memory import (
    HISTORY_LIMIT,
    MAX_FACTOR,
    SOMETHING_ELSE,
    History,
    job_figures,
    learned_priors,
    seen_before,
)
from jobtriage.incident.model import Incident, State
from jobtriage.text import Text

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
JOB = "projects/acme/locations/asia-northeast3/jobs/migrate"
OTHER_JOB = "projects/acme/locations/asia-northeast3/jobs/nightly"
FP = "secret_config:SECRET_NOT_FOUND"


def past(
    n: int,
    *,
    days_ago: float,
    fingerprint: str = FP,
    job: str = JOB,
    state: State = State.RESOLVED,
    minutes_open: int = 14,
    failures: int = 1,
    cause: str | None = None,
    by: str | None = "U0ALICE",
    note: str | None = None,
) -> Incident:
    opened = NOW - timedelta(days=days_ago)
    closed = opened + timedelta(minutes=minutes_open)
    return Incident(
        id=f"inc{n:04d}",
        job_path=job,
        fingerprint=fingerprint,
        state=state,
        opened_at=opened,
        updated_at=closed,
        failures=failures,
        last_failure_at=opened + timedelta(minutes=min(minutes_open, failures)),
        resolved_by=by if state is State.RESOLVED else None,
        resolved_at=closed if state is State.RESOLVED else None,
        recovered_at=closed if state is State.RECOVERED else None,
        confirmed_cause=cause,
        confirmed_by=by if cause else None,
        confirmed_at=closed if cause else None,
        resolution_note=note,
    )


def draft() -> Incident:
    return Incident(
        id="new0001",
        job_path=JOB,
        fingerprint=FP,
        state=State.OPEN,
        opened_at=NOW,
        updated_at=NOW,
        last_failure_at=NOW,
    )


# --- seen before ---------------------------------------------------------------------------------


def test_first_time_is_not_seen_before() -> None:
    other = past(1, days_ago=2, fingerprint="db_connection:ECONNREFUSED", cause="db_connection")
    elsewhere = past(2, days_ago=1, job=OTHER_JOB, cause="secret_config")
    assert seen_before(draft(), [other, elsewhere], NOW) is None
    assert seen_before(draft(), [], NOW) is None


def test_third_time_names_the_last_confirmed_cause_who_and_how_fast() -> None:
    history = [  # newest first, as the store hands it
        past(3, days_ago=1, state=State.RECOVERED, minutes_open=120),  # not confirmed
        past(2, days_ago=5, cause="secret_config", note="pinned secret version 6"),
        past(1, days_ago=18, cause="db_connection", by="U0BOB"),
        past(9, days_ago=3, fingerprint="db_connection:ECONNREFUSED"),
    ]
    seen = seen_before(draft(), history, NOW)
    assert seen is not None
    assert seen.times == 4  # three before, this one the fourth
    assert seen.since == NOW - timedelta(days=18)
    # the newest *confirmed* one wins over a newer unconfirmed one
    assert (seen.cause, seen.closed_by, seen.took) == (
        "secret_config",
        "U0ALICE",
        timedelta(minutes=14),
    )
    assert seen.note == "pinned secret version 6"
    assert not seen.recovered
    assert not seen.at_least


def test_without_a_confirmation_the_last_closed_one_says_how_it_ended() -> None:
    history = [past(2, days_ago=1, state=State.RECOVERED, minutes_open=90), past(1, days_ago=4)]
    seen = seen_before(draft(), history, NOW)
    assert seen is not None
    assert (seen.times, seen.cause, seen.recovered, seen.closed_by) == (3, None, True, None)
    assert seen.took == timedelta(minutes=90)


def test_an_incident_from_the_future_and_the_new_one_itself_are_left_out() -> None:
    ahead = replace(past(5, days_ago=0), opened_at=NOW + timedelta(minutes=3))
    assert seen_before(draft(), [ahead, draft()], NOW) is None


def test_a_full_page_says_at_least() -> None:
    history = [past(n, days_ago=n) for n in range(HISTORY_LIMIT)]
    seen = seen_before(draft(), history, NOW)
    assert seen is not None
    assert seen.at_least
    assert seen.times == HISTORY_LIMIT + 1


# --- the job's figures ---------------------------------------------------------------------------


def test_figures_count_the_window_the_streak_and_the_median_recovery() -> None:
    history = [
        draft(),
        past(4, days_ago=1, failures=3, minutes_open=30),  # 3 failures, resolved by hand
        past(3, days_ago=2, state=State.RECOVERED, minutes_open=10),  # a success ended it
        past(2, days_ago=6, minutes_open=50, failures=2),
        past(1, days_ago=9, minutes_open=20, failures=5),  # outside the window
    ]
    figures = job_figures(history, NOW)
    assert figures.failures_7d == 1 + 3 + 1 + 2
    # the latest recovery closed #3: only what opened after it is the current streak
    assert figures.streak == 1 + 3
    assert figures.median_recovery == timedelta(minutes=25)  # of 10, 20, 30, 50
    assert figures.closed == 4


def test_the_last_success_the_evidence_names_bounds_the_streak() -> None:
    history = [draft(), past(2, days_ago=1, failures=2), past(1, days_ago=3, failures=4)]
    assert job_figures(history, NOW).streak == 7  # no success known: everything read
    success = NOW - timedelta(days=2)
    assert job_figures(history, NOW, last_success=success).streak == 3


def test_an_incident_older_than_the_window_still_failing_inside_it_counts_once() -> None:
    long_one = replace(
        past(1, days_ago=10, failures=40, state=State.OPEN),
        last_failure_at=NOW - timedelta(days=1),
    )
    figures = job_figures([long_one], NOW)
    assert figures.failures_7d == 1
    assert figures.median_recovery is None
    assert figures.closed == 0


# --- learned priors ------------------------------------------------------------------------------

BASE = base_priors()


def confirmations(cause: str, n: int, *, job: str = JOB, start: int = 0) -> list[Incident]:
    return [past(start + i, days_ago=i + 1, cause=cause, job=job) for i in range(n)]


def test_nothing_confirmed_moves_nothing() -> None:
    unconfirmed = History(JOB, job=(past(1, days_ago=1),))
    assert learned_priors(unconfirmed, BASE).factors == ()
    assert learned_priors(History(JOB), BASE).factors == ()


def test_confirmations_move_priors_within_the_bound_and_more_with_more_evidence() -> None:
    one = learned_priors(History(JOB, job=tuple(confirmations("db_connection", 1))), BASE)
    many = learned_priors(History(JOB, job=tuple(confirmations("db_connection", 8))), BASE)
    assert 1.0 < one.factor("db_connection") < many.factor("db_connection") <= MAX_FACTOR
    assert many.factor("entrypoint_runtime") < one.factor("entrypoint_runtime") < 1.0
    assert min(f for _, f in many.factors) >= 1 / MAX_FACTOR
    assert (many.job_confirmations, many.project_confirmations) == (8, 0)


def test_the_project_counts_weaker_than_the_job_and_the_job_is_not_counted_twice() -> None:
    on_job = confirmations("db_connection", 2)
    elsewhere = confirmations("db_connection", 2, job=OTHER_JOB, start=50)
    job_only = learned_priors(History(JOB, job=tuple(on_job)), BASE)
    project_only = learned_priors(History(JOB, project=tuple(elsewhere)), BASE)
    both = learned_priors(History(JOB, job=tuple(on_job), project=(*on_job, *elsewhere)), BASE)
    assert 1.0 < project_only.factor("db_connection") < job_only.factor("db_connection")
    assert (both.job_confirmations, both.project_confirmations) == (2, 2)


def test_something_else_only_dilutes() -> None:
    history = History(JOB, job=tuple(confirmations(SOMETHING_ELSE, 6)))
    priors = learned_priors(history, BASE)
    assert SOMETHING_ELSE not in dict(priors.factors)
    assert all(f < 1.0 for _, f in priors.factors)


def finding(cause: str, strength: float) -> Finding:
    return Finding(cause=cause, strength=strength, title=Text(en=cause, ko=cause), signature="X")


def test_a_weak_tie_flips_with_the_jobs_confirmations() -> None:
    findings = [finding("entrypoint_runtime", 0.25), finding("db_connection", 0.3)]
    assert rank(findings)[0].id == "entrypoint_runtime"  # the larger prior wins the tie
    history = History(JOB, job=tuple(confirmations("db_connection", 3)))
    causes, effect = rank_with_history(findings, ANALYZERS, learned_priors(history, BASE))
    assert causes[0].id == "db_connection"
    assert effect.moved[0] == ("db_connection", "entrypoint_runtime")
    assert effect.held is None


def test_a_strong_signature_is_not_overruled_by_history() -> None:
    findings = [finding("secret_config", 0.95), finding("entrypoint_runtime", 0.3)]
    history = History(JOB, job=tuple(confirmations("entrypoint_runtime", 10)))
    priors = learned_priors(history, BASE)
    # the bounded factors alone would unseat it (×2 against ÷2)…
    assert rank(findings, priors=priors)[0].id == "entrypoint_runtime"
    # …so the base ranking stands, and the report says history was held back
    causes, effect = rank_with_history(findings, ANALYZERS, priors)
    assert causes[0].id == "secret_config"
    assert (effect.held, effect.moved) == ("secret_config", ())
    # a strong signature with no rival finding wins even with the history applied
    alone = [finding("secret_config", 0.95)]
    assert rank(alone, priors=priors)[0].id == "secret_config"


def test_history_without_a_change_of_order_names_no_move() -> None:
    findings = [finding("db_connection", 0.9)]
    history = History(JOB, job=tuple(confirmations("db_connection", 3)))
    causes, effect = rank_with_history(findings, ANALYZERS, learned_priors(history, BASE))
    assert causes[0].id == "db_connection"
    assert all(x != "db_connection" for x, _ in effect.moved)
