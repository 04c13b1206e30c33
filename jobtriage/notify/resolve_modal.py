"""Resolve asks "what was it?": the modal the Resolve button opens, and reading its answer.

The click resolves the incident at once (as before) and opens this modal with the click's
`trigger_id` (views.open, https://docs.slack.dev/reference/methods/views.open, within 3 s of the
click). It lists the incident's ranked causes, most likely first, plus "something else", and an
optional note. Submitting sends a `view_submission` payload to the same interactivity URL
(https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload), which
`parse_submission` reads strictly; the click handler stores the answer with the incident
(`jobtriage.incident.memory.confirm_cause`). Closing the modal leaves the incident resolved with
no confirmed cause.

The modal carries the incident id in `private_metadata` (`v1|<incident id>`): Slack hands it back
unchanged with the submission, which is signed like every interactivity request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from analyzers import CAUSES
from jobtriage.incident.memory import NOTE_MAX_CHARS, SOMETHING_ELSE, valid_cause
from jobtriage.incident.model import Incident
from jobtriage.notify.actions import MalformedPayload, _obj, _opt_str, _str
from jobtriage.notify.mrkdwn import truncate
from jobtriage.notify.parts import Block, job_name, mrkdwn_text, plain_text, safe_text
from jobtriage.text import Lang
from jobtriage.words import Word, say

# ---- Slack's limits for modals ------------------------------------------------------------------
# https://docs.slack.dev/reference/views/modal-views
MAX_TITLE = 24  # title, submit and close are plain_text of at most 24 characters
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255
# https://docs.slack.dev/reference/block-kit/block-elements/radio-button-group-element
MAX_RADIO_OPTIONS = 10
# https://docs.slack.dev/reference/block-kit/composition-objects/option-object
MAX_OPTION_TEXT = 75

CALLBACK_ID = "jobtriage_resolve_cause"
METADATA_VERSION = "v1"
BLOCK_CAUSE = "jt:cause"
ACTION_CAUSE = "cause"
BLOCK_NOTE = "jt:note"
ACTION_NOTE = "note"
# The ranked causes offered, before "something else" (a phone shows about this many at once).
CAUSES_OFFERED = 5

_INCIDENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SLACK_ID = re.compile(r"[A-Z0-9]{2,32}")


def cause_name(cause: str, lang: Lang) -> str:
    """The cause's name as the report shows it; "something else" for `SOMETHING_ELSE`."""
    if cause == SOMETHING_ELSE:
        return say(Word.MODAL_SOMETHING_ELSE, lang)
    known = CAUSES.get(cause)
    return known.name.get(lang) if known is not None else cause


def offered_causes(incident: Incident) -> list[str]:
    """The cause ids the modal lists: the incident's ranked causes (its fingerprint's cause for
    an incident stored before causes were), then "something else"."""
    ranked = list(incident.causes) or [incident.fingerprint.split(":", 1)[0]]
    known = [c for c in dict.fromkeys(ranked) if valid_cause(c) and c != SOMETHING_ELSE]
    return [*known[:CAUSES_OFFERED], SOMETHING_ELSE][:MAX_RADIO_OPTIONS]


def _option(cause: str, lang: Lang) -> Block:
    return {
        "text": plain_text(truncate(cause_name(cause, lang), MAX_OPTION_TEXT)),
        "value": cause,
    }


def render_resolve_modal(incident: Incident, *, lang: Lang) -> dict[str, Any]:
    """The modal view for views.open."""
    options = [_option(c, lang) for c in offered_causes(incident)]
    cause_element: Block = {
        "type": "radio_buttons",
        "action_id": ACTION_CAUSE,
        "options": options,
    }
    if incident.confirmed_cause in offered_causes(incident):
        # Asked again (a second Resolve): the earlier answer is shown, not lost.
        cause_element["initial_option"] = _option(incident.confirmed_cause or "", lang)
    note_element: Block = {
        "type": "plain_text_input",
        "action_id": ACTION_NOTE,
        "multiline": True,
        "max_length": NOTE_MAX_CHARS,
        "placeholder": plain_text(say(Word.MODAL_NOTE_HINT, lang)),
    }
    if incident.resolution_note:
        note_element["initial_value"] = incident.resolution_note[:NOTE_MAX_CHARS]
    job = safe_text(job_name(incident), 100)
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": f"{METADATA_VERSION}|{incident.id}",
        "title": plain_text(truncate(say(Word.MODAL_TITLE, lang), MAX_TITLE)),
        "submit": plain_text(truncate(say(Word.MODAL_SUBMIT, lang), MAX_TITLE)),
        "close": plain_text(truncate(say(Word.MODAL_CLOSE, lang), MAX_TITLE)),
        "blocks": [
            {
                "type": "section",
                "block_id": "jt:intro",
                "text": mrkdwn_text(say(Word.MODAL_INTRO, lang, job=job)),
            },
            {
                "type": "input",
                "block_id": BLOCK_CAUSE,
                "label": plain_text(say(Word.MODAL_CAUSE_LABEL, lang)),
                "element": cause_element,
            },
            {
                "type": "input",
                "block_id": BLOCK_NOTE,
                "optional": True,
                "label": plain_text(say(Word.MODAL_NOTE_LABEL, lang)),
                "element": note_element,
            },
        ],
    }


# ---- the answer ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CauseAnswer:
    """What someone submitted in the modal."""

    user_id: str
    incident_id: str
    cause: str | None  # None: nothing picked (Slack requires a pick, so a hand-made request)
    note: str | None
    team_id: str | None = None


def is_ours(payload: dict[str, Any]) -> bool:
    """True for a view_submission of this modal (other views are not ours to answer)."""
    view = payload.get("view")
    return (
        payload.get("type") == "view_submission"
        and isinstance(view, dict)
        and view.get("callback_id") == CALLBACK_ID
    )


def parse_submission(payload: dict[str, Any]) -> CauseAnswer:
    """Read a verified view_submission of this modal; raise `MalformedPayload` and only that."""
    if not is_ours(payload):
        raise MalformedPayload("payload is not a submission of the resolve modal")
    user = _obj(payload.get("user"), "user")
    user_id = _str(user.get("id"), "user.id", _SLACK_ID)
    view = _obj(payload.get("view"), "view")
    metadata = _str(view.get("private_metadata"), "view.private_metadata")
    parts = metadata.split("|")
    if (
        len(metadata) > MAX_PRIVATE_METADATA
        or len(parts) != 2
        or parts[0] != METADATA_VERSION
        or not _INCIDENT_ID.fullmatch(parts[1])
    ):
        raise MalformedPayload("view.private_metadata is not one of ours")
    state = _obj(view.get("state") or {}, "view.state")
    values = _obj(state.get("values") or {}, "view.state.values")
    cause_block = values.get(BLOCK_CAUSE)
    cause: str | None = None
    if isinstance(cause_block, dict) and isinstance(cause_block.get(ACTION_CAUSE), dict):
        selected = cause_block[ACTION_CAUSE].get("selected_option")
        if isinstance(selected, dict):
            raw = selected.get("value")
            if not isinstance(raw, str) or not valid_cause(raw):
                raise MalformedPayload("the selected cause is not a cause id")
            cause = raw
    note: str | None = None
    note_block = values.get(BLOCK_NOTE)
    if isinstance(note_block, dict) and isinstance(note_block.get(ACTION_NOTE), dict):
        raw_note = note_block[ACTION_NOTE].get("value")
        if isinstance(raw_note, str) and raw_note.strip():
            note = raw_note[:NOTE_MAX_CHARS]
    team = payload.get("team")
    team_id = _opt_str(team.get("id")) if isinstance(team, dict) else None
    return CauseAnswer(
        user_id=user_id, incident_id=parts[1], cause=cause, note=note, team_id=team_id
    )


def errors_answer(lang: Lang) -> dict[str, Any]:
    """The answer that keeps the modal open and says what is missing
    (https://docs.slack.dev/surfaces/modals#displaying_errors)."""
    return {"response_action": "errors", "errors": {BLOCK_CAUSE: say(Word.MODAL_PICK_ONE, lang)}}
