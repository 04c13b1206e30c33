"""The new-incident message (`render_alert`): what on-call needs to act in the first minute, in
this order: which job failed, the execution's facts, the most likely cause with the log lines
that prove it, the one command to run first, the other candidates, what changed since the last
success, what could not be checked, links, and the incident's state with its buttons."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from jobtriage.diagnosis.changes import NONE
from jobtriage.diagnosis.model import Change, RankedCause, Report, Suspect
from jobtriage.evidence import Gap, Outcome
from jobtriage.formatting import human_duration, percent
from jobtriage.incident.model import Incident
from jobtriage.notify import mrkdwn
from jobtriage.notify.fit import fallback, fit
from jobtriage.notify.limits import (
    BLOCK_CHANGES,
    BLOCK_FIRST_STEP,
    BLOCK_GAPS,
    BLOCK_HEADER,
    BLOCK_LINKS,
    BLOCK_OTHERS,
    BLOCK_SUMMARY,
    BLOCK_TOP,
    BUDGET_CHANGES,
    BUDGET_FIELD,
    BUDGET_FIRST_STEP,
    BUDGET_GAPS,
    BUDGET_LINKS,
    BUDGET_OTHERS,
    BUDGET_TOP,
    EVIDENCE_LINE_CHARS,
    EVIDENCE_LINES,
    LAST_LINES,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    NOTE_CHARS,
    VALUE_CHARS,
)
from jobtriage.notify.mrkdwn import (
    truncate,
    untrusted_plain,
)
from jobtriage.notify.parts import (
    Block,
    Message,
    bullets,
    context,
    evidence_line,
    exit_text,
    mrkdwn_text,
    plain_text,
    safe_text,
    section,
    slack_date,
)
from jobtriage.notify.state import state_parts
from jobtriage.text import Lang
from jobtriage.words import Word, change_field, say, suspect_kind


def _field(label: str, value: str) -> Block:
    return mrkdwn_text(truncate(f"*{label}*\n{value}", min(BUDGET_FIELD, MAX_FIELD_TEXT)))


def _header(report: Report, lang: Lang) -> Block:
    s = report.summary
    key = {Outcome.TIMED_OUT: Word.ALERT_TIMED_OUT, Outcome.CANCELLED: Word.ALERT_CANCELLED}.get(
        s.outcome, Word.ALERT_FAILED
    )
    job = untrusted_plain(mrkdwn.one_line(s.ref.job[:MAX_HEADER_TEXT]), limit=MAX_HEADER_TEXT)
    text = ":red_circle: " + say(key, lang, job=job)
    return {
        "type": "header",
        "block_id": BLOCK_HEADER,
        "text": plain_text(truncate(text, MAX_HEADER_TEXT)),
    }


def _summary(report: Report, lang: Lang) -> Block:
    s = report.summary
    fields = [
        _field(say(Word.FIELD_EXECUTION, lang), mrkdwn.inline_code(s.ref.execution, limit=100)),
        _field(
            say(Word.FIELD_REGION_PROJECT, lang),
            f"{mrkdwn.inline_code(s.ref.region, limit=60)} · "
            f"{mrkdwn.inline_code(s.ref.project, limit=60)}",
        ),
    ]
    if s.tasks_total:  # zero: the Run API was not readable (the gaps say why)
        tasks = say(Word.TASKS_VALUE, lang, failed=s.tasks_failed, total=s.tasks_total)
        fields.append(_field(say(Word.FIELD_TASKS, lang), tasks))
    if s.attempts is not None:
        if s.max_retries is not None:
            value = say(Word.ATTEMPTS_RETRIES, lang, attempts=s.attempts, retries=s.max_retries)
        else:
            value = say(Word.ATTEMPTS_VALUE, lang, attempts=s.attempts)
        fields.append(_field(say(Word.FIELD_ATTEMPTS, lang), value))
    exit_line = exit_text(report, lang)
    if exit_line:
        fields.append(_field(say(Word.FIELD_EXIT, lang), exit_line))
    if s.duration is not None:
        fields.append(
            _field(say(Word.FIELD_DURATION, lang), human_duration(s.duration, lang, precise=True))
        )
    if s.started_by:
        fields.append(
            _field(say(Word.FIELD_STARTED_BY, lang), safe_text(s.started_by, BUDGET_FIELD))
        )
    if s.started_at is not None:
        fields.append(_field(say(Word.FIELD_STARTED_AT, lang), slack_date(s.started_at)))
    return {"type": "section", "block_id": BLOCK_SUMMARY, "fields": fields[:MAX_FIELDS]}


def _top(report: Report, lang: Lang) -> Block:
    top = report.top
    title_text = safe_text(top.title.get(lang), NOTE_CHARS)
    title = truncate(
        f"*{say(Word.TOP_CAUSE, lang, title=title_text)}* · {percent(top.confidence)}", NOTE_CHARS
    )
    quotes = [f for f in top.facts if f.quote][:EVIDENCE_LINES]
    notes = [f.note.get(lang) for f in top.facts if not f.quote and f.note][:EVIDENCE_LINES]
    note_text = "".join(f"\n• {safe_text(n, NOTE_CHARS)}" for n in notes)
    parts = [title]
    room = BUDGET_TOP - len(title) - len(note_text) - 2
    if quotes:
        parts.append(
            mrkdwn.code_block(
                (evidence_line(f) for f in quotes), limit=room, line_limit=EVIDENCE_LINE_CHARS
            )
        )
    elif not notes:
        # nothing recognised: show what was seen, as the report's "last lines"
        last = report.last_lines[-LAST_LINES:]
        error = report.error_line
        if error is not None:  # the line most likely to be the error, then the last lines
            likely = say(Word.LIKELY_ERROR, lang)
            parts.append(likely)
            block = mrkdwn.code_block(
                (evidence_line(error),), limit=room // 2, line_limit=EVIDENCE_LINE_CHARS
            )
            parts.append(block)
            room -= len(likely) + len(block) + 2
            last = tuple(f for f in last if f.quote != error.quote)
        label = say(Word.NOTHING_RECOGNISED, lang) if last else say(Word.NO_LOG_LINES, lang)
        if error is not None:
            label = say(Word.THEN_LAST_LINES, lang)
        if last or error is None:
            parts.append(label)
        if last:
            room -= len(label) + 1
            parts.append(
                mrkdwn.code_block(
                    (evidence_line(f) for f in last), limit=room, line_limit=EVIDENCE_LINE_CHARS
                )
            )
    text = "\n".join(p for p in parts if p) + note_text
    return section(BLOCK_TOP, truncate(text, BUDGET_TOP))


def _first_step(report: Report, lang: Lang) -> Block | None:
    step = report.first_step
    if step is None:
        return None
    purpose = safe_text(step.purpose.get(lang), NOTE_CHARS)
    head = f"*{say(Word.FIELD_FIRST_STEP, lang)}:* {purpose}"
    code = mrkdwn.code_block([step.command], limit=BUDGET_FIRST_STEP - len(head) - 1)
    return section(BLOCK_FIRST_STEP, f"{head}\n{code}" if code else head)


# Below this confidence a cause without a finding is noise on a phone: the terminal and JSON
# reports still list every cause.
OTHERS_MIN_CONFIDENCE = 0.02


OTHERS_MAX = 4


def _others(report: Report, lang: Lang) -> Block | None:
    others: Sequence[RankedCause] = [
        c
        for c in report.causes[1:]
        if c.finding is not None or c.confidence >= OTHERS_MIN_CONFIDENCE
    ][:OTHERS_MAX]
    if not others:
        return None
    lines = (
        f"{percent(c.confidence)} — {safe_text(c.title.get(lang), NOTE_CHARS)}" for c in others
    )
    total = len(report.causes) - 1
    text = bullets(f"*{say(Word.FIELD_OTHERS, lang)}*", lines, total, BUDGET_OTHERS, lang)
    return section(BLOCK_OTHERS, text)


def _change_line(change: Change, related: bool, lang: Lang) -> str:
    field = safe_text(change_field(change.field, lang), 60)
    before, after = (
        (say(Word.NONE, lang) if value == NONE else mrkdwn.inline_code(value, limit=VALUE_CHARS))
        if value
        else "—"
        for value in (change.before, change.after)
    )
    line = f"*{field}*: {before} → {after}"
    if change.note is not None:
        line += " — " + safe_text(change.note.get(lang), NOTE_CHARS)
    if related:
        line = f":warning: {line} _({say(Word.LINES_UP, lang)})_"
    return line


# A link from the evidence is shown (as plain text) only in this shape (no <, >, | or spaces).
_SAFE_LINK = re.compile(r"https://[A-Za-z0-9.-]+/[A-Za-z0-9._~/%?=&:+-]*")


def _suspect_line(suspect: Suspect, lang: Lang) -> str:
    when = suspect.when.strftime("%H:%M") if suspect.when else "?"
    line = f"`{when}` *{safe_text(suspect_kind(suspect.kind, lang), 40)}*: "
    line += safe_text(suspect.what.get(lang), NOTE_CHARS)
    if suspect.who:
        line += " — " + safe_text(suspect.who, 80)
    if suspect.link and _SAFE_LINK.fullmatch(suspect.link):
        line += f" — {suspect.link}"
    if suspect.lines_up:
        line = f":warning: {line} _({say(Word.LINES_UP, lang)})_"
    return line


def _changes(report: Report, lang: Lang) -> Block | None:
    if not report.changes and not report.suspects:
        return None
    top_id = report.top.id
    related = [c for c in report.changes if c.related_cause == top_id]
    rest = [c for c in report.changes if c.related_cause != top_id]
    lines = itertools.chain(
        (_suspect_line(x, lang) for x in report.suspects),
        (_change_line(c, True, lang) for c in related),
        (_change_line(c, False, lang) for c in rest),
    )
    total = len(report.changes) + len(report.suspects)
    title = say(Word.SECTION_SUSPECTS if report.suspects else Word.SECTION_CHANGES, lang)
    text = bullets(f"*{title}*", lines, total, BUDGET_CHANGES, lang)
    return section(BLOCK_CHANGES, text)


def _gaps(report: Report, lang: Lang) -> Block | None:
    if not report.gaps:
        return None

    def line(gap: Gap) -> str:
        reason, fix = gap.says(lang)
        text = f"*{gap.source.value}*: {safe_text(reason, NOTE_CHARS)}"
        return text + (f" — {safe_text(fix, NOTE_CHARS)}" if fix else "")

    lines = (line(gap) for gap in report.gaps)
    text = bullets(f"*{say(Word.SECTION_GAPS, lang)}*", lines, len(report.gaps), BUDGET_GAPS, lang)
    return section(BLOCK_GAPS, text)


def _links(report: Report, lang: Lang) -> Block | None:
    candidates = [
        (report.links.execution, say(Word.LINK_EXECUTION, lang)),
        (report.links.logs, say(Word.LINK_LOGS, lang)),
        (report.links.job, say(Word.LINK_JOB, lang)),
    ]
    links: list[str] = []
    used = 0
    for url, label in candidates:
        if not url or len(url) > BUDGET_LINKS:
            continue
        piece = mrkdwn.link(url, f":link: {label}")
        # a link cut in half is worse than no link: leave out what does not fit
        if used + len(piece) + 3 > BUDGET_LINKS:
            continue
        links.append(piece)
        used += len(piece) + 3
    texts = [" · ".join(links)] if links else []
    stats = report.log_stats
    if stats.sampled:
        texts.append(say(Word.SAMPLED, lang, kept=f"{stats.kept:,}", fetched=f"{stats.fetched:,}"))
    return context(BLOCK_LINKS, texts) if texts else None


def render_alert(report: Report, incident: Incident, *, lang: Lang) -> Message:
    """The new-incident message: diagnosis, evidence, first step, state and buttons."""
    blocks: list[Block] = [_header(report, lang), _summary(report, lang), _top(report, lang)]
    for part in (
        _first_step(report, lang),
        _others(report, lang),
        _changes(report, lang),
        _gaps(report, lang),
    ):
        if part is not None:
            blocks.append(part)
    links = _links(report, lang)
    if links is not None:
        blocks.append(links)
    blocks.append({"type": "divider", "block_id": "jt:divider"})
    blocks.extend(state_parts(incident, lang))
    s = report.summary
    text = say(
        Word.ALERT_FALLBACK,
        lang,
        job=safe_text(s.ref.job, 100),
        title=safe_text(report.top.title.get(lang), 100),
        pct=percent(report.top.confidence),
        execution=safe_text(s.ref.execution, 100),
    )
    return Message(text=fallback(text), blocks=tuple(fit(blocks, lang)))
