"""The learned fallback as a second opinion: where it disputes the rules' top cause, the report
says so and shows the (lower) disputed calibration; where it agrees, nothing changes."""

from __future__ import annotations

from analyzers import ANALYZERS
from jobtriage.diagnosis import build_report
from jobtriage.diagnosis.calibration import table
from jobtriage.diagnosis.fallback import RULES_SILENT_BELOW, Model
from jobtriage.diagnosis.rank import ALTERNATIVE_MAX, RUNNER_UP_FROM, run_analyzers
from tests.corpus.cases import load_all
from tests.corpus.evaluate import evidence_for

QUOTA = next(c for c in load_all() if c.split == "dev" and c.cause == "quota_exceeded")


def _model_for(cause: str) -> Model:
    """A model that says `cause` whatever it reads (only its intercept speaks)."""
    classes = tuple(a.id for a in ANALYZERS)
    return Model(
        classes=classes,
        intercept=tuple(10.0 if c == cause else 0.0 for c in classes),
        weights={},
        reliability=((0.0, 0.9),),
        min_probability=0.3,
    )


def test_the_second_opinion_is_read_only_when_a_rule_named_a_cause() -> None:
    evidence = evidence_for(QUOTA)
    assert run_analyzers(evidence, model=_model_for("data_error")).second_opinion == "data_error"
    assert run_analyzers(evidence, learned=False).second_opinion is None


def test_a_disputed_top_shows_the_disputed_calibration_and_names_the_other_cause() -> None:
    evidence = evidence_for(QUOTA)
    agreed = build_report(evidence, model=_model_for("quota_exceeded"))
    disputed = build_report(evidence, model=_model_for("data_error"))
    assert agreed.top.id == disputed.top.id == "quota_exceeded"  # the rules still decide
    assert agreed.disputed_by is None
    assert disputed.disputed_by == "data_error"
    assert table(key="disputed"), "calibration.json carries a disputed table"
    assert disputed.top.confidence < agreed.top.confidence
    assert disputed.top.confidence < 0.8


def _model_between(first: str, second: str, gap: float) -> Model:
    """A model that says `first`, and `second` a little less (logit `gap` below)."""
    classes = tuple(a.id for a in ANALYZERS)
    return Model(
        classes=classes,
        intercept=tuple(
            10.0 if c == first else 10.0 - gap if c == second else 0.0 for c in classes
        ),
        weights={},
        reliability=((0.0, 0.9),),
        min_probability=0.3,
    )


def test_a_disputing_model_offers_its_cause_second_never_first() -> None:
    evidence = evidence_for(QUOTA)
    rules = build_report(evidence, learned=False)
    report = build_report(evidence, model=_model_for("data_error"))
    assert report.top.id == rules.top.id == "quota_exceeded"
    second = report.causes[1]
    assert second.id == "data_error"
    assert second.finding is not None
    assert second.finding.signature == "LEARNED_ALTERNATIVE"
    assert second.finding.strength <= ALTERNATIVE_MAX
    assert "Also worth checking" in second.finding.title.en
    assert second.finding.title.ko


def test_an_agreeing_model_offers_its_runner_up_when_likely_enough() -> None:
    evidence = evidence_for(QUOTA)
    near = build_report(evidence, model=_model_between("quota_exceeded", "upstream_service", 0.5))
    assert near.top.id == "quota_exceeded"
    assert near.disputed_by is None
    assert near.causes[1].id == "upstream_service"
    assert near.causes[1].finding is not None
    # far below RUNNER_UP_FROM: nothing is offered
    far = build_report(evidence, model=_model_between("quota_exceeded", "upstream_service", 8.0))
    assert all(
        c.finding is None or c.finding.signature != "LEARNED_ALTERNATIVE" for c in far.causes
    )
    assert RUNNER_UP_FROM > 0


def test_the_alternative_never_unseats_a_named_cause() -> None:
    """Whatever the model says, the top cause is the rules' (the alternative's prior may be far
    larger than the named cause's: the report then keeps the rules' ranking)."""
    cases = [c for c in load_all() if c.split == "dev"][:80]
    for case in cases:
        evidence = evidence_for(case)
        rules = build_report(evidence, learned=False, calibrated=False)
        if rules.top.finding is None or rules.top.finding.strength < RULES_SILENT_BELOW:
            continue  # no named cause: the fallback speaks for itself
        for cause in ("entrypoint_runtime", "db_connection", "data_error"):
            report = build_report(evidence, model=_model_for(cause), calibrated=False)
            assert report.top.id == rules.top.id, (case.name, cause)
