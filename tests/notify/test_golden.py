"""The messages on-call sees, compared whole with checked-in Block Kit payloads
(tests/golden/notify).

Refresh after an intended change and review the diff:
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/notify
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from jobtriage.notify.alert import render_alert
from jobtriage.notify.builder_url import render_terminal
from jobtriage.notify.parts import Message
from jobtriage.notify.recall import alert_slots
from jobtriage.notify.recovery import render_recovered
from jobtriage.notify.repeat import render_repeat
from jobtriage.notify.state import render_state_update
from jobtriage.text import Lang
from tests.notify import reports as R
from tests.notify.checks import assert_valid
from tests.notify.golden import check_golden
from tests.notify.test_limits import huge_report

LANGS: tuple[Lang, ...] = ("en", "ko")

ALERTS: dict[str, Callable[[], object]] = {
    "esm": R.esm_report,
    "unknown": R.unknown_report,
    "timeout": R.timeout_report,
    "limits": huge_report,
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", sorted(ALERTS))
def test_alert(case: str, lang: Lang) -> None:
    report = ALERTS[case]()
    message = render_alert(report, R.STATES["open"], lang=lang)  # type: ignore[arg-type]
    assert_valid(message)
    check_golden(f"alert_{case}_{lang}", message.payload())


@pytest.mark.parametrize("lang", LANGS)
def test_alert_with_a_past(lang: Lang) -> None:
    """The seed failure for the third time: seen before (with the last confirmed cause, who closed
    it, how fast, and the note made harmless), what history did to the order, the footer."""
    draft = R.STATES["open"]
    slots = alert_slots(
        draft, R.history(), now=R.T0, last_success=R.T0 - timedelta(days=3), lang=lang
    )
    message = render_alert(
        R.history_report(), draft, lang=lang, seen_before=slots.seen_before, footer=slots.footer
    )
    assert_valid(message)
    check_golden(f"alert_seen_before_{lang}", message.payload())


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("state", sorted(R.STATES))
def test_state_update(state: str, lang: Lang) -> None:
    parent = render_alert(R.esm_report(), R.STATES["open"], lang=lang)
    message = render_state_update(parent.blocks, R.STATES[state], lang=lang)
    assert_valid(message)
    check_golden(f"state_{state}_{lang}", message.payload())


@pytest.mark.parametrize("lang", LANGS)
def test_repeat(lang: Lang) -> None:
    message = render_repeat(R.esm_report(), R.repeat_incident(), lang=lang)
    assert_valid(message)
    check_golden(f"repeat_{lang}", message.payload())


@pytest.mark.parametrize("lang", LANGS)
def test_recovered(lang: Lang) -> None:
    recovered = R.STATES["recovered"]
    execution = R.REF.__class__(
        project=R.REF.project,
        region=R.REF.region,
        job=R.REF.job,
        execution="o4o-api-migrations-k2m9q",
    )
    message = render_recovered(recovered, execution, lang=lang)
    assert_valid(message)
    check_golden(f"recovered_{lang}", message.payload())


@pytest.mark.parametrize("lang", LANGS)
def test_terminal(lang: Lang) -> None:
    message: Message = render_alert(R.esm_report(), R.STATES["acknowledged"], lang=lang)
    check_golden(f"terminal_esm_{lang}", render_terminal(message))
