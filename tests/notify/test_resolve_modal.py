"""The Resolve modal: within Slack's modal limits in both languages (golden), and its submission
read strictly."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from jobtriage.notify.actions import MalformedPayload
from jobtriage.notify.resolve_modal import (
    BLOCK_CAUSE,
    CALLBACK_ID,
    errors_answer,
    offered_causes,
    parse_submission,
    render_resolve_modal,
)
from standins.slack import modal_errors
from tests.notify import reports as R
from tests.notify.golden import check_golden

RESOLVED = replace(
    R.STATES["resolved"], causes=("entrypoint_runtime", "db_connection", "missing_artifact")
)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_modal_lists_the_ranked_causes_then_something_else(lang: str) -> None:
    view = render_resolve_modal(RESOLVED, lang=lang)  # type: ignore[arg-type]
    assert modal_errors(view) == []
    radio = view["blocks"][1]["element"]
    assert [o["value"] for o in radio["options"]] == [
        "entrypoint_runtime",
        "db_connection",
        "missing_artifact",
        "other",
    ]
    assert "initial_option" not in radio  # nobody answered yet: no answer is suggested
    assert view["private_metadata"] == f"v1|{RESOLVED.id}"
    check_golden(f"resolve_modal_{lang}", view)


def test_an_earlier_answer_is_shown_when_asked_again() -> None:
    answered = replace(RESOLVED, confirmed_cause="db_connection", resolution_note="pool size")
    view = render_resolve_modal(answered, lang="en")
    assert view["blocks"][1]["element"]["initial_option"]["value"] == "db_connection"
    assert view["blocks"][2]["element"]["initial_value"] == "pool size"


def test_an_incident_stored_before_causes_were_offers_its_fingerprint_cause() -> None:
    assert offered_causes(R.STATES["resolved"]) == ["entrypoint_runtime", "other"]


def _submission(cause: str | None = "db_connection", note: str | None = "pool size") -> Any:
    values: dict[str, Any] = {"jt:note": {"note": {"type": "plain_text_input", "value": note}}}
    if cause is not None:
        values[BLOCK_CAUSE] = {
            "cause": {"type": "radio_buttons", "selected_option": {"value": cause}}
        }
    return {
        "type": "view_submission",
        "team": {"id": "T0TEAM"},
        "user": {"id": "U0ONCALL", "username": "minji"},
        "view": {
            "id": "V0001",
            "type": "modal",
            "callback_id": CALLBACK_ID,
            "private_metadata": f"v1|{RESOLVED.id}",
            "state": {"values": values},
        },
    }


def test_a_submission_is_read() -> None:
    answer = parse_submission(_submission())
    assert (answer.user_id, answer.incident_id) == ("U0ONCALL", RESOLVED.id)
    assert (answer.cause, answer.note) == ("db_connection", "pool size")
    assert answer.team_id == "T0TEAM"
    empty = parse_submission(_submission(cause=None, note="  "))
    assert (empty.cause, empty.note) == (None, None)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p["view"].update(private_metadata="v2|abc"),
        lambda p: p["view"].update(private_metadata=f"v1|{RESOLVED.id}|extra"),
        lambda p: p["view"].update(private_metadata="v1|../../etc"),
        lambda p: p["view"].update(callback_id="someone_elses_modal"),
        lambda p: p["user"].update(id="<!channel>"),
        lambda p: p["view"]["state"]["values"][BLOCK_CAUSE]["cause"].update(
            selected_option={"value": "<!here>"}
        ),
    ],
)
def test_a_submission_we_cannot_read_is_refused(change: Any) -> None:
    payload = _submission()
    change(payload)
    with pytest.raises(MalformedPayload):
        parse_submission(payload)


def test_nothing_picked_keeps_the_modal_open_with_a_reason() -> None:
    answer = errors_answer("en")
    assert answer["response_action"] == "errors"
    assert answer["errors"][BLOCK_CAUSE]
