"""A contested top: another cause has a named finding too, so the log says two things. The order
stays as the rules rank it, the alternative is second, and the top shows the contested
calibration (lower than a clear top at the same strength)."""

from __future__ import annotations

from jobtriage.diagnosis import build_report
from jobtriage.diagnosis.calibration import CONTESTED_AT, contested, table
from tests.analyzers._build import evidence

REFUSED_LOCALHOST = ("Error: connect ECONNREFUSED 127.0.0.1:5432",)
REFUSED_PRIVATE = ("Error: connect ECONNREFUSED 10.20.0.3:5432",)


def test_a_refused_localhost_names_the_unset_host_as_the_alternative() -> None:
    report = build_report(evidence(REFUSED_LOCALHOST))
    ids = [c.id for c in report.causes if c.finding is not None]
    assert ids[:2] == ["db_connection", "secret_config"]
    assert report.causes[1].finding is not None
    assert report.causes[1].finding.signature == "LOOPBACK_HOST"
    assert contested(report.causes)


def test_a_contested_top_shows_the_contested_calibration() -> None:
    assert table(key="contested"), "calibration.json carries a contested table"
    loopback = build_report(evidence(REFUSED_LOCALHOST))
    private = build_report(evidence(REFUSED_PRIVATE))
    assert loopback.top.id == private.top.id == "db_connection"
    assert loopback.top.finding is not None
    assert private.top.finding is not None
    assert loopback.top.finding.strength == private.top.finding.strength  # the same signature
    assert not contested(private.causes)
    assert loopback.top.confidence < private.top.confidence
    assert loopback.top.confidence < 0.8


def test_a_weak_second_finding_does_not_contest() -> None:
    report = build_report(evidence(REFUSED_PRIVATE))
    others = [c.finding.strength for c in report.causes[1:] if c.finding is not None]
    assert all(s < CONTESTED_AT for s in others)
    assert not contested(report.causes)
