"""The incident memory's pure functions: confirming a cause, and what later alerts learn."""

from __future__ import annotations

from datetime import timedelta

from jobtriage.incident.decide import TransitionResult
from jobtriage.incident.memory import NOTE_MAX_CHARS, SOMETHING_ELSE, confirm_cause
from jobtriage.incident.model import State
from tests.notify import reports as R

LATER = R.T0 + timedelta(hours=1, minutes=2)


def test_a_confirmation_is_stored_with_who_when_and_the_note() -> None:
    resolved = R.STATES["resolved"]
    t = confirm_cause(
        resolved, cause="secret_config", note="  pinned secret\nversion 6 ", user="U1", now=LATER
    )
    assert t.result is TransitionResult.APPLIED
    assert t.incident.confirmed_cause == "secret_config"
    assert t.incident.resolution_note == "pinned secret version 6"  # one line
    assert (t.incident.confirmed_by, t.incident.confirmed_at) == ("U1", LATER)
    assert t.incident.state is State.RESOLVED  # the state is the click's business


def test_the_same_answer_again_changes_nothing_and_a_new_one_replaces_it() -> None:
    first = confirm_cause(
        R.STATES["resolved"], cause="db_connection", note=None, user="U1", now=LATER
    ).incident
    again = confirm_cause(first, cause="db_connection", note="", user="U2", now=LATER)
    assert again.result is TransitionResult.UNCHANGED
    assert again.incident == first
    other = confirm_cause(first, cause=SOMETHING_ELSE, note="a DNS change", user="U2", now=LATER)
    assert other.result is TransitionResult.APPLIED
    assert (other.incident.confirmed_cause, other.incident.confirmed_by) == ("other", "U2")


def test_a_recovered_incident_can_be_confirmed_too_and_garbage_is_refused() -> None:
    recovered = R.STATES["recovered"]
    assert confirm_cause(recovered, cause="oom", note=None, user="U1", now=LATER).changed
    refused = confirm_cause(recovered, cause="<!channel>", note=None, user="U1", now=LATER)
    assert refused.result is TransitionResult.REFUSED
    assert refused.incident == recovered


def test_a_long_note_is_cut() -> None:
    t = confirm_cause(R.STATES["resolved"], cause="oom", note="x" * 5000, user="U1", now=LATER)
    assert len(t.incident.resolution_note or "") == NOTE_MAX_CHARS
