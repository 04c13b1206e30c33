"""The "failed again" reply in an incident's thread."""

from __future__ import annotations

from collections.abc import Sequence

from jobtriage.diagnosis.model import Report
from jobtriage.formatting import ordinal, percent
from jobtriage.incident.model import Incident
from jobtriage.notify import mrkdwn
from jobtriage.notify.fit import fallback
from jobtriage.notify.limits import (
    BUDGET_LINKS,
    BUDGET_REPEAT,
    EVIDENCE_LINE_CHARS,
    NOTE_CHARS,
)
from jobtriage.notify.mrkdwn import (
    truncate,
)
from jobtriage.notify.parts import (
    Block,
    Message,
    context,
    evidence_line,
    exit_text,
    failure_span,
    safe_text,
    section,
)
from jobtriage.text import Lang
from jobtriage.words import Word, say


def _executions(names: Sequence[str]) -> str:
    shown = [mrkdwn.inline_code(n, limit=100) for n in names]
    return ", ".join(shown)


def render_repeats(
    incident: Incident, executions: Sequence[str], *, lang: Lang, with_job: bool = False
) -> Message:
    """One reply for several repeats posted together (`incident.coalesce`): how many, the n-th
    time, and every execution it covers. The cause is the incident's (same fingerprint)."""
    nth = ordinal(max(incident.failures, 2), lang)
    span = failure_span(incident, lang)
    job_name = incident.job_path.rsplit("/", 1)[-1]
    job = f"*{safe_text(job_name, 100)}* " if with_job else ""
    count = len(executions)
    head = f":repeat: {job}{say(Word.AGAIN_MANY, lang, count=count, nth=nth, span=span)}"
    text = f"{truncate(head, NOTE_CHARS)}\n{_executions(executions)}"
    blocks: list[Block] = [section("jt:repeat", truncate(text, BUDGET_REPEAT))]
    note = say(
        Word.AGAIN_MANY_FALLBACK,
        lang,
        job=safe_text(job_name, 100),
        count=count,
        nth=nth,
        span=span,
    )
    return Message(text=fallback(note), blocks=tuple(blocks))


def render_repeat(
    report: Report,
    incident: Incident,
    *,
    lang: Lang,
    with_job: bool = False,
    also: Sequence[str] = (),
) -> Message:
    """A short reply in the incident's thread: failed again, the n-th time, one line of proof.

    `with_job`: name the job first (the thread is a digest that several jobs share).
    `also`: other executions that failed the same way since the last reply, named on one line.
    """
    s = report.summary
    nth = ordinal(max(incident.failures, 2), lang)
    span = failure_span(incident, lang)
    execution = mrkdwn.inline_code(s.ref.execution, limit=100)
    job = f"*{safe_text(s.ref.job, 100)}* " if with_job else ""
    head = f":repeat: {job}{say(Word.AGAIN, lang, nth=nth, span=span)} · {execution}"
    exit_line = exit_text(report, lang)
    if exit_line:
        head += f" · {exit_line}"
    title = safe_text(report.top.title.get(lang), NOTE_CHARS)
    cause = truncate(
        say(Word.TOP_CAUSE_PCT, lang, title=title, pct=percent(report.top.confidence)), NOTE_CHARS
    )
    text = f"{truncate(head, NOTE_CHARS)}\n{cause}"
    if report.log_stats.skipped:
        text += f"\n_{say(Word.LOGS_SKIPPED, lang)}_"
    quote = next((f for f in report.top.facts if f.quote), None)
    if quote is not None:
        code = mrkdwn.code_block(
            [evidence_line(quote)],
            limit=BUDGET_REPEAT - len(text) - 1,
            line_limit=EVIDENCE_LINE_CHARS,
        )
        if code:
            text += "\n" + code
    blocks: list[Block] = [section("jt:repeat", text)]
    if also:
        line = say(Word.ALSO_FAILED, lang, executions=_executions(also))
        blocks.append(context("jt:repeat_also", [truncate(line, BUDGET_REPEAT)]))
    if report.links.execution or report.links.logs:
        links = [
            mrkdwn.link(url, f":link: {say(key, lang)}")
            for url, key in (
                (report.links.execution, Word.LINK_EXECUTION),
                (report.links.logs, Word.LINK_LOGS),
            )
            if url and len(url) < BUDGET_LINKS // 2
        ]
        if links:
            blocks.append(context("jt:repeat_links", [" · ".join(links)]))
    note = say(Word.AGAIN_FALLBACK, lang, job=safe_text(s.ref.job, 100), nth=nth, span=span)
    return Message(text=fallback(note), blocks=tuple(blocks))
