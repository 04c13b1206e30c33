"""The two messages a tick posts — the reminder and a missed run's alert — compared whole with
golden payloads (tests/golden/notify, `make golden`), within Block Kit's limits, escaped."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from jobtriage.evidence.cloud_run import execution_info
from jobtriage.evidence.model import ExecutionInfo
from jobtriage.incident.decide import new_incident
from jobtriage.incident.model import MISSED_RUN, Incident, State
from jobtriage.notify.missed import MissedRun, render_missed_run
from jobtriage.notify.reminder import render_reminder
from jobtriage.notify.state import render_state_update
from jobtriage.text import Lang
from standins.replay.history import Run, job_history
from tests.notify import reports as R
from tests.notify.checks import assert_valid
from tests.notify.golden import check_golden

LANGS: tuple[Lang, ...] = ("en", "ko")
NOW = R.T0 + timedelta(hours=40)
NIGHTLY = "nightly-export"


def _executions(runs: list[Run]) -> list[ExecutionInfo]:
    from google.cloud import run_v2

    scenario = job_history(NIGHTLY, runs, project=R.REF.project, region=R.REF.region)
    return [
        execution_info(run_v2.Execution.from_json(json.dumps(e), ignore_unknown_fields=True))
        for e in scenario.executions
    ]


def missed(**changes: object) -> MissedRun:
    last, newest = _executions(
        [
            Run("k2m9q", NOW - timedelta(hours=31), ok=True),
            Run("z8c1d", NOW - timedelta(hours=7), ok=False),
        ]
    )[::-1]
    found = MissedRun(
        project=R.REF.project,
        region=R.REF.region,
        job=NIGHTLY,
        interval=timedelta(hours=26),
        now=NOW,
        last_success=last,
        newest=newest,
        looked_at=2,
    )
    return replace(found, **changes)  # type: ignore[arg-type]


def missed_incident() -> Incident:
    path = f"projects/{R.REF.project}/locations/{R.REF.region}/jobs/{NIGHTLY}"
    return new_incident(job_path=path, fingerprint=MISSED_RUN, execution="", now=NOW)


@pytest.mark.parametrize("lang", LANGS)
def test_reminder(lang: Lang) -> None:
    message = render_reminder(
        R.STATES["open"], waiting=timedelta(minutes=34), usergroup="S0ONCALL", lang=lang
    )
    assert_valid(message)
    assert "<!subteam^S0ONCALL>" in message.text
    check_golden(f"reminder_{lang}", message.payload())


def test_reminder_mentions_only_a_user_group_id() -> None:
    for group in (None, "", "here", "channel", "S0ONCALL> <!channel", "U024BE7LH"):
        message = render_reminder(
            R.STATES["open"], waiting=timedelta(minutes=34), usergroup=group, lang="en"
        )
        assert_valid(message)
        assert "<!" not in json.dumps(message.payload())


def test_reminder_escapes_the_job_name() -> None:
    hostile = replace(
        R.STATES["open"], job_path="projects/p/locations/r/jobs/<!channel> *bold* `x`"
    )
    message = render_reminder(hostile, waiting=timedelta(hours=2), usergroup=None, lang="en")
    assert_valid(message)
    assert "<!channel>" not in json.dumps(message.payload())


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", ["last_success", "no_success", "never_ran"])
def test_missed_run(case: str, lang: Lang) -> None:
    found = {
        "last_success": missed(),
        "no_success": missed(last_success=None, looked_at=20),
        "never_ran": missed(last_success=None, newest=None, looked_at=0),
    }[case]
    message = render_missed_run(found, missed_incident(), lang=lang)
    assert_valid(message)
    check_golden(f"missed_run_{case}_{lang}", message.payload())


def test_missed_run_says_how_long_and_what_to_run() -> None:
    message = render_missed_run(missed(), missed_incident(), lang="en")
    body = json.dumps(message.payload())
    assert "nightly-export has not succeeded for 31 h" in body
    assert "expected to succeed at least every *26 h*" in body
    assert "nightly-export-k2m9q" in body
    assert "nightly-export-z8c1d" in body
    assert "gcloud run jobs executions list --job=nightly-export" in body
    assert "jobtriage_ack" in body
    assert message.text == "nightly-export has not succeeded for 31 h (expected every 26 h)"


def test_missed_run_parent_redraws_its_state_without_a_failure_count() -> None:
    incident = missed_incident()
    parent = render_missed_run(missed(), incident, lang="en")
    acked = replace(
        incident, state=State.ACKNOWLEDGED, acked_by="U024BE7LH", acked_at=NOW, version=1
    )
    redrawn = render_state_update(parent.blocks, acked, lang="en")
    assert_valid(redrawn)
    text = json.dumps(redrawn.payload())
    assert "<@U024BE7LH>" in text
    assert "no success in time" in text
    assert "failed once" not in text


def test_a_recovered_missed_run_does_not_say_it_is_still_missing() -> None:
    incident = missed_incident()
    parent = render_missed_run(missed(), incident, lang="en")
    recovered = replace(
        incident,
        state=State.RECOVERED,
        recovered_execution="nightly-export-q5r6s",
        recovered_at=NOW + timedelta(hours=1),
        version=1,
    )
    redrawn = render_state_update(parent.blocks, recovered, lang="en")
    assert_valid(redrawn)
    text = json.dumps(redrawn.payload())
    assert "nightly-export-q5r6s" in text
    assert "no success in time" not in text
    assert "failed once" not in text
