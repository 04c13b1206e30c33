"""The learned fallback as a second opinion: where it disputes the rules' top cause, the report
says so and shows the (lower) disputed calibration; where it agrees, nothing changes."""

from __future__ import annotations

from analyzers import ANALYZERS
from jobtriage.diagnosis import build_report
from jobtriage.diagnosis.calibration import table
from jobtriage.diagnosis.fallback import Model
from jobtriage.diagnosis.rank import run_analyzers
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
