"""Learned priors through the whole report builder, on a development case of the corpus: the
report carries what they did, and a strong signature keeps its place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobtriage.diagnosis import build_report, to_json_obj
from jobtriage.diagnosis.rank import base_priors
from jobtriage.incident.memory import History, learned_priors
from jobtriage.incident.model import Incident, State
from tests.corpus.cases import load_all
from tests.corpus.evaluate import evidence_for

QUOTA = next(c for c in load_all() if c.split == "dev" and c.cause == "quota_exceeded")
JOB = "projects/acme/locations/r/jobs/batch"
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def confirmed(n: int, cause: str) -> Incident:
    at = T0 + timedelta(days=n)
    return Incident(
        id=f"c{n:04d}",
        job_path=JOB,
        fingerprint=f"{cause}:X",
        state=State.RESOLVED,
        opened_at=at,
        updated_at=at,
        confirmed_cause=cause,
        confirmed_at=at,
    )


def test_without_history_the_report_is_unchanged_and_says_nothing() -> None:
    evidence = evidence_for(QUOTA)
    plain = build_report(evidence)
    empty = build_report(evidence, priors=learned_priors(History(JOB), base_priors()))
    assert plain.history is None
    assert [c.id for c in empty.causes] == [c.id for c in plain.causes]
    assert empty.history is not None
    assert empty.history.moved == ()


def test_a_habit_of_another_cause_does_not_unseat_a_strong_signature() -> None:
    evidence = evidence_for(QUOTA)
    plain = build_report(evidence)
    assert plain.top.id == "quota_exceeded"
    history = History(JOB, job=tuple(confirmed(n, "data_error") for n in range(10)))
    report = build_report(evidence, priors=learned_priors(history, base_priors()))
    assert report.top.id == "quota_exceeded"
    assert report.history is not None
    assert all(x != "data_error" or y != "quota_exceeded" for x, y in report.history.moved)
    data = to_json_obj(report)["history"]
    assert data["job_confirmations"] == 10
    assert data["factors"]["data_error"] == 2.0
