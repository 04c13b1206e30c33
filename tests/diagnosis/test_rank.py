"""Ranking: priors when the evidence is silent, evidence overrides priors, crashes become gaps."""

from __future__ import annotations

from analyzers.base import Analyzer, Cause, Finding
from jobtriage.diagnosis.rank import rank, run_analyzers
from jobtriage.evidence import Evidence, ExecutionRef, Source
from jobtriage.text import Text

REF = ExecutionRef("p-123456", "us-central1", "job", "job-abcde")


def _cause(cid: str, prior: float) -> Cause:
    return Cause(id=cid, prior=prior, name=Text(en=cid, ko=cid), checks=lambda ref: ())


def _analyzer(cid: str, prior: float, strength: float | None) -> Analyzer:
    def analyze(ev: Evidence) -> Finding | None:
        if strength is None:
            return None
        return Finding(cause=cid, strength=strength, title=Text(en=cid, ko=cid), signature="S")

    return Analyzer(_cause(cid, prior), analyze)


SEED = [
    ("entrypoint_runtime", 0.5),
    ("db_connection", 0.3),
    ("missing_artifact", 0.2),
    ("cloudsql_permission", 0.1),
]


def test_silent_evidence_puts_unknown_first_then_the_seed_priors() -> None:
    analyzers = [_analyzer(c, p, None) for c, p in SEED]
    ranked = rank(run_analyzers(Evidence(ref=REF), analyzers).findings, analyzers)
    assert [r.id for r in ranked] == [
        "unknown",
        "entrypoint_runtime",
        "db_connection",
        "missing_artifact",
        "cloudsql_permission",
    ]
    assert abs(sum(r.confidence for r in ranked) - 1) < 1e-9


def test_strong_evidence_overrides_a_larger_prior() -> None:
    analyzers = [
        _analyzer("entrypoint_runtime", 0.5, None),
        _analyzer("cloudsql_permission", 0.1, 0.9),
    ]
    ranked = rank(run_analyzers(Evidence(ref=REF), analyzers).findings, analyzers)
    assert ranked[0].id == "cloudsql_permission"
    assert ranked[0].confidence > 0.85
    assert ranked[-1].id == "unknown"


def test_two_findings_compete_by_strength_and_prior() -> None:
    analyzers = [_analyzer("entrypoint_runtime", 0.5, 0.5), _analyzer("db_connection", 0.3, 0.9)]
    ranked = rank(run_analyzers(Evidence(ref=REF), analyzers).findings, analyzers)
    assert [r.id for r in ranked[:2]] == ["db_connection", "entrypoint_runtime"]
    assert ranked[0].confidence > ranked[1].confidence > 0.1


def test_a_crashing_analyzer_becomes_a_gap_and_the_rest_go_on() -> None:
    def boom(ev: Evidence) -> Finding | None:
        raise KeyError("x")

    analyzers = [Analyzer(_cause("broken", 0.2), boom), _analyzer("db_connection", 0.3, 0.9)]
    result = run_analyzers(Evidence(ref=REF), analyzers)
    assert [f.cause for f in result.findings] == ["db_connection"]
    assert len(result.gaps) == 1
    assert result.gaps[0].source is Source.ANALYZER
    assert "broken" in result.gaps[0].reason
    assert "KeyError" in result.gaps[0].reason


def test_a_finding_for_another_cause_is_refused() -> None:
    liar = Analyzer(
        _cause("a", 0.2), lambda ev: Finding(cause="b", strength=0.5, title=Text(en="", ko=""))
    )
    result = run_analyzers(Evidence(ref=REF), [liar])
    assert not result.findings
    assert "returned cause b" in result.gaps[0].reason


def test_only_a_hint_leaves_unknown_first_with_the_hint_attached() -> None:
    # A capped symptom (0.1) names no cause: the cause with the largest prior and no evidence
    # must not be shown as the answer.
    analyzers = [_analyzer("entrypoint_runtime", 0.5, None), _analyzer("data_error", 0.05, 0.1)]
    ranked = rank(run_analyzers(Evidence(ref=REF), analyzers, learned=False).findings, analyzers)
    assert ranked[0].id == "unknown"
    hint = next(r for r in ranked if r.id == "data_error")
    assert hint.finding is not None
    assert abs(sum(r.confidence for r in ranked) - 1) < 1e-9
