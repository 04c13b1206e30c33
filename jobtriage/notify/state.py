"""The incident's state line and its buttons, and the parent message redrawn with them after a
click or a repeat (`render_state_update`)."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from jobtriage.formatting import human_duration
from jobtriage.incident.model import Incident, State
from jobtriage.notify import mrkdwn
from jobtriage.notify.actions import ButtonAction, ButtonValue, Snooze, encode_value
from jobtriage.notify.fit import fallback, fit
from jobtriage.notify.limits import (
    BLOCK_ACTIONS,
    BLOCK_STATE,
    BUDGET_STATE,
    MAX_BUTTON_TEXT,
    MAX_OPTION_TEXT,
)
from jobtriage.notify.mrkdwn import (
    truncate,
)
from jobtriage.notify.parts import (
    Block,
    Message,
    context,
    job_name,
    plain_text,
    safe_text,
    slack_date,
    user,
)
from jobtriage.text import Lang
from jobtriage.words import STATE_WORDS, Word, say

STATE_ICON = {
    State.OPEN: ":red_circle:",
    State.ACKNOWLEDGED: ":large_orange_circle:",
    State.SNOOZED: ":zzz:",
    State.RESOLVED: ":white_check_mark:",
    State.RECOVERED: ":large_green_circle:",
}


def _failure_count(incident: Incident, lang: Lang) -> str:
    if incident.missed_run:  # opened by a tick: no execution failed (jobtriage/ticks.py)
        return "" if incident.state.closed else say(Word.MISSED_STATE, lang)
    if incident.failures <= 1:
        return say(Word.FAILED_ONCE, lang)
    last = incident.last_failure_at or incident.updated_at
    span = human_duration(last - incident.opened_at, lang)
    return say(Word.FAILED_N, lang, n=incident.failures, span=span)


def state_line(incident: Incident, lang: Lang) -> str:
    """Where the incident stands, e.g. "Acknowledged by @ana 09:14 · failed 3 times in 2 h"."""
    state = incident.state
    if state is State.ACKNOWLEDGED:
        when = slack_date(incident.acked_at) if incident.acked_at else ""
        phrase = say(Word.STATE_ACKNOWLEDGED_LINE, lang, user=user(incident.acked_by), when=when)
    elif state is State.SNOOZED:
        if incident.snooze_until_success or incident.snoozed_until is None:
            phrase = say(Word.STATE_SNOOZED_SUCCESS_LINE, lang)
        else:
            phrase = say(
                Word.STATE_SNOOZED_UNTIL_LINE, lang, when=slack_date(incident.snoozed_until)
            )
        if incident.snoozed_by:
            phrase += f" ({user(incident.snoozed_by)})"
        if incident.held_back == 1:
            phrase += " · " + say(Word.HELD_BACK_ONE, lang)
        elif incident.held_back > 1:
            phrase += " · " + say(Word.HELD_BACK, lang, n=incident.held_back)
    elif state is State.RESOLVED:
        when = slack_date(incident.resolved_at) if incident.resolved_at else ""
        if incident.resolved_by:
            phrase = say(Word.STATE_RESOLVED_LINE, lang, user=user(incident.resolved_by), when=when)
        else:
            phrase = say(Word.STATE_RESOLVED_ANON_LINE, lang, when=when)
    elif state is State.RECOVERED:
        when = slack_date(incident.recovered_at) if incident.recovered_at else ""
        execution = mrkdwn.inline_code(incident.recovered_execution or "?", limit=100)
        phrase = say(Word.STATE_RECOVERED_LINE, lang, execution=execution, when=when)
    else:
        phrase = say(Word.STATE_OPEN_LINE, lang)
    if incident.confirmed_cause:  # the Resolve modal's answer (jobtriage/notify/resolve_modal.py)
        cause = mrkdwn.inline_code(incident.confirmed_cause, limit=64)
        phrase += " · " + say(Word.CONFIRMED, lang, cause=cause)
    count = _failure_count(incident, lang)
    text = f"{STATE_ICON[state]} {phrase.strip()}" + (f" · {count}" if count else "")
    return truncate(re.sub(r" {2,}", " ", text), BUDGET_STATE)


def _state_block(incident: Incident, lang: Lang) -> Block:
    return context(f"{BLOCK_STATE}:{incident.version}", [state_line(incident, lang)])


def _button(
    action: ButtonAction, label: str, incident: Incident, *, primary: bool = False
) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action.value,
        "text": plain_text(truncate(label, MAX_BUTTON_TEXT)),
        "value": encode_value(ButtonValue(action=action, incident_id=incident.id)),
    }
    if primary:
        button["style"] = "primary"
    return button


def _snooze_select(incident: Incident, lang: Lang) -> Block:
    choices = (
        (Snooze.HOUR, Word.BUTTON_SNOOZE_1H),
        (Snooze.DAY, Word.BUTTON_SNOOZE_24H),
        (Snooze.UNTIL_SUCCESS, Word.BUTTON_SNOOZE_SUCCESS),
    )
    options = [
        {
            "text": plain_text(truncate(say(key, lang), MAX_OPTION_TEXT)),
            "value": encode_value(
                ButtonValue(action=ButtonAction.SNOOZE, incident_id=incident.id, snooze=choice)
            ),
        }
        for choice, key in choices
    ]
    return {
        "type": "static_select",
        "action_id": ButtonAction.SNOOZE.value,
        "placeholder": plain_text(say(Word.BUTTON_SNOOZE, lang)),
        "options": options,
    }


def _actions_block(incident: Incident, lang: Lang) -> Block | None:
    """The buttons that make sense in the incident's state; none once it is closed."""
    state = incident.state
    if state.closed:
        return None
    elements: list[Block] = []
    if state is not State.ACKNOWLEDGED:
        elements.append(
            _button(
                ButtonAction.ACKNOWLEDGE, say(Word.BUTTON_ACKNOWLEDGE, lang), incident, primary=True
            )
        )
    elements.append(_button(ButtonAction.RESOLVE, say(Word.BUTTON_RESOLVE, lang), incident))
    elements.append(_snooze_select(incident, lang))
    return {
        "type": "actions",
        "block_id": f"{BLOCK_ACTIONS}:{incident.version}",
        "elements": elements,
    }


def state_parts(incident: Incident, lang: Lang) -> list[Block]:
    parts = [_state_block(incident, lang)]
    actions = _actions_block(incident, lang)
    if actions is not None:
        parts.append(actions)
    return parts


def render_state_update(
    parent_blocks: Sequence[Mapping[str, Any]], incident: Incident, *, lang: Lang
) -> Message:
    """The stored parent message with only its state line and buttons re-rendered (for chat.update).

    Everything else is kept as first posted. A parent without a state line gets one at the end.
    """
    blocks: list[Block] = []
    inserted = False
    for block in parent_blocks:
        block_id = str(block.get("block_id", ""))
        if block_id.startswith((BLOCK_STATE, BLOCK_ACTIONS)):
            if not inserted:
                blocks.extend(state_parts(incident, lang))
                inserted = True
            continue
        blocks.append(copy.deepcopy(dict(block)))
    if not inserted:
        blocks.extend(state_parts(incident, lang))
    state = say(STATE_WORDS[incident.state], lang)
    text = say(Word.STATE_FALLBACK, lang, job=safe_text(job_name(incident), 100), state=state)
    return Message(text=fallback(text), blocks=tuple(fit(blocks, lang)))
