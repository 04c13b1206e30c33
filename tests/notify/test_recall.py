"""The incident memory's lines in the alert: what they say, in both languages, and that what
an earlier incident carries (a person's note above all) comes out harmless."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from jobtriage.incident.memory import SOMETHING_ELSE, History, JobFigures, SeenBefore
from jobtriage.notify.alert import render_alert
from jobtriage.notify.recall import alert_slots, figures_line, seen_before_line
from jobtriage.text import Lang
from tests.notify import reports as R
from tests.notify.checks import assert_valid

SEEN = SeenBefore(
    times=3,
    since=R.T0 - timedelta(days=25),
    at_least=False,
    cause="secret_config",
    closed_by="U0ALICE42",
    took=timedelta(minutes=14),
    note="pinned secret version 6",
)


def test_the_issues_example_line() -> None:
    line = seen_before_line(SEEN, R.T0, "en")
    assert line == (
        ":repeat: *3rd time since 11-02*; last confirmed `secret_config`, resolved by "
        "<@U0ALICE42> in 14 min: 'pinned secret version 6'"
    )
    ko = seen_before_line(SEEN, R.T0, "ko")
    assert "11-02 이후 3번째 발생" in ko
    assert "<@U0ALICE42> 님이 14분 만에 해결" in ko


def test_the_note_is_redacted_escaped_and_stripped() -> None:
    line = seen_before_line(replace(SEEN, note=R.NASTY_NOTE), R.T0, "en")
    assert "Sup3rS3cret" not in line
    assert "<!channel>" not in line
    assert "&lt;!channel&gt;" in line
    assert "\u200b" not in line
    assert "*bold*" not in line  # no formatting from a note
    message = render_alert(R.esm_report(), R.STATES["open"], lang="en", seen_before=line)
    assert_valid(message)


def test_other_endings() -> None:
    recovered = replace(
        SEEN, cause=None, closed_by=None, recovered=True, took=timedelta(hours=2), note=None
    )
    assert seen_before_line(recovered, R.T0, "en").endswith("; recovered by itself in 2 h")
    other = replace(SEEN, cause=SOMETHING_ELSE, note=None)
    assert "last confirmed something else" in seen_before_line(other, R.T0, "en")
    still_open = SeenBefore(times=2, since=R.T0 - timedelta(days=400), at_least=True)
    line = seen_before_line(still_open, R.T0, "en")
    assert "at least the 2nd time since 2025-" in line
    assert line.endswith("the last one is still open")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_figures_line(lang: Lang) -> None:
    figures = JobFigures(
        failures_7d=4, streak=2, median_recovery=timedelta(minutes=14), closed=3, at_least=False
    )
    line = figures_line(figures, lang)
    assert "4" in line
    assert "2" in line
    assert "14" in line
    single = figures_line(replace(figures, failures_7d=1, streak=1, median_recovery=None), lang)
    assert "2" not in single  # a streak of one is not a streak, no median without a closed one
    if lang == "en":
        assert line == (
            "*This job:* 4 failures in 7 days · 2 failing runs in a row · "
            "median recovery 14 min (3 closed)"
        )
        assert single == "*This job:* 1 failure in 7 days"


def test_a_first_failure_has_no_seen_before_but_its_figures() -> None:
    draft = R.STATES["open"]
    slots = alert_slots(draft, History(R.REF.job_path), now=R.T0, last_success=None, lang="en")
    assert slots.seen_before is None
    assert slots.footer == ("*This job:* 1 failure in 7 days",)


def test_the_terminal_and_json_reports_say_what_history_moved() -> None:
    from jobtriage.diagnosis import to_json_obj, to_text

    report = R.history_report()
    data = to_json_obj(report)
    assert data["history"] == {
        "job_confirmations": 1,
        "project_confirmations": 0,
        "factors": {"entrypoint_runtime": 1.6, "db_connection": 0.8},
        "moved": [{"cause": "entrypoint_runtime", "above": "db_connection"}],
        "held": None,
    }
    assert to_json_obj(R.esm_report())["history"] is None  # no history read (the CLI)
    text = to_text(report)
    assert "  history moved entrypoint_runtime above db_connection (1 confirmed" in text
    assert "history" not in to_text(R.esm_report()).lower()
    assert "과거 이력으로 entrypoint_runtime" in to_text(report, lang="ko")


def test_a_held_strong_finding_is_said_too() -> None:
    from jobtriage.diagnosis import to_text
    from jobtriage.diagnosis.model import HistoryEffect, LearnedPriors

    priors = LearnedPriors(factors=(("secret_config", 2.0),), job_confirmations=5)
    report = R.esm_report(history=HistoryEffect(priors, held="entrypoint_runtime"))
    assert "the strong evidence for entrypoint_runtime stands" in to_text(report)
    message = render_alert(report, R.STATES["open"], lang="en")
    assert "the strong evidence for `entrypoint_runtime` stands" in str(message.payload())
