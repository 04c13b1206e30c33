"""The "recovered" reply in an incident's thread: a later execution of the job succeeded."""

from __future__ import annotations

from jobtriage.console import console_links
from jobtriage.evidence import ExecutionRef
from jobtriage.incident.model import Incident
from jobtriage.notify import mrkdwn
from jobtriage.notify.fit import fallback
from jobtriage.notify.limits import (
    BUDGET_LINKS,
)
from jobtriage.notify.parts import (
    Block,
    Message,
    context,
    failure_span,
    safe_text,
    section,
    slack_date,
)
from jobtriage.text import Lang
from jobtriage.words import Word, say


def render_recovered(
    incident: Incident, execution: ExecutionRef, *, lang: Lang, with_job: bool = False
) -> Message:
    """A reply in the incident's thread: a later execution of the job succeeded.

    `with_job`: name the job first (the thread is a digest that several jobs share).
    """
    when = f" {slack_date(incident.recovered_at)}" if incident.recovered_at else ""
    name = mrkdwn.inline_code(execution.execution, limit=100)
    job = f"*{safe_text(execution.job, 100)}* " if with_job else ""
    text = f":large_green_circle: {job}{say(Word.RECOVERED, lang, execution=name, when=when)}"
    if incident.failures > 1:
        text += " " + say(
            Word.RECOVERED_HISTORY, lang, n=incident.failures, span=failure_span(incident, lang)
        )
    else:
        text += " " + say(Word.RECOVERED_HISTORY_ONCE, lang)
    blocks: list[Block] = [section("jt:recovered", text)]
    url = console_links(execution).execution
    if len(url) <= BUDGET_LINKS:
        link = mrkdwn.link(url, f":link: {say(Word.LINK_EXECUTION, lang)}")
        blocks.append(context("jt:recovered_links", [link]))
    note = say(
        Word.RECOVERED_FALLBACK,
        lang,
        job=safe_text(execution.job, 100),
        execution=safe_text(execution.execution, 100),
    )
    return Message(text=fallback(note), blocks=tuple(blocks))
