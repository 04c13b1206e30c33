"""The incident memory in the alert: the "seen before" line under the top cause (with what the
history did to the order) and the job's figures in the footer.

The facts are computed by `jobtriage.incident.memory` (pure, from the history the store read
once for this alert); this module only words them. Everything taken from an earlier incident
— the resolution note above all, typed by a person into a modal — is untrusted: it goes through
`parts.safe_text` (redacted, escaped, invisible characters dropped) or `parts.user`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jobtriage.diagnosis.model import Report
from jobtriage.formatting import as_utc, human_duration, ordinal
from jobtriage.incident.memory import (
    SOMETHING_ELSE,
    History,
    JobFigures,
    SeenBefore,
    job_figures,
    seen_before,
)
from jobtriage.incident.model import Incident
from jobtriage.notify import mrkdwn
from jobtriage.notify.limits import BUDGET_HISTORY, BUDGET_SEEN_BEFORE, NOTE_CHARS
from jobtriage.notify.parts import safe_text, user
from jobtriage.text import Lang
from jobtriage.words import Word, say

# A resolution note quoted in the seen-before line: its first words (the line has a budget).
NOTE_SHOWN = 120


def _since(when: datetime, now: datetime) -> str:
    when = as_utc(when)
    return when.strftime("%m-%d" if when.year == as_utc(now).year else "%Y-%m-%d")


def _cause(cause: str, lang: Lang) -> str:
    if cause == SOMETHING_ELSE:
        name = say(Word.MODAL_SOMETHING_ELSE, lang)
        return name.lower() if lang == "en" else name
    return mrkdwn.inline_code(cause, limit=70)


def seen_before_line(seen: SeenBefore, now: datetime, lang: Lang) -> str:
    """ "3rd time since 11-02; last confirmed `secret_config`, resolved by @alice in 14 min:
    'pinned secret version 6'" — safe mrkdwn."""
    times = Word.SEEN_TIMES_AT_LEAST if seen.at_least else Word.SEEN_TIMES
    head = say(times, lang, nth=ordinal(seen.times, lang), since=_since(seen.since, now))
    parts: list[str] = []
    if seen.cause:
        parts.append(say(Word.SEEN_LAST_CONFIRMED, lang, cause=_cause(seen.cause, lang)))
    took = human_duration(seen.took, lang) if seen.took is not None else None
    if seen.recovered and took:
        parts.append(say(Word.SEEN_RECOVERED, lang, took=took))
    elif seen.closed_by and took:
        parts.append(say(Word.SEEN_RESOLVED_BY, lang, who=user(seen.closed_by), took=took))
    elif took:
        parts.append(say(Word.SEEN_RESOLVED, lang, took=took))
    elif seen.cause is None:
        parts.append(say(Word.SEEN_STILL_OPEN, lang))
    line = f":repeat: *{head}*"
    if parts:
        line += "; " + ", ".join(parts)
    if seen.note:
        note = safe_text(seen.note, min(NOTE_SHOWN, NOTE_CHARS))
        if note:
            line += f": '{note}'"
    return mrkdwn.truncate(line, BUDGET_SEEN_BEFORE)


def history_line(report: Report, lang: Lang) -> str | None:
    """What the learned priors did to the order ("history moved X above Y"), or None."""
    effect = report.history
    if effect is None:
        return None
    priors = effect.priors
    if effect.held:
        said = say(Word.HISTORY_HELD, lang, cause=mrkdwn.inline_code(effect.held, limit=70))
    elif effect.moved:
        said = "; ".join(
            say(
                Word.HISTORY_MOVED,
                lang,
                cause=mrkdwn.inline_code(x, limit=70),
                other=mrkdwn.inline_code(y, limit=70),
            )
            for x, y in effect.moved
        )
    else:
        return None
    counts = say(
        Word.HISTORY_COUNTS,
        lang,
        job=priors.job_confirmations,
        project=priors.project_confirmations,
    )
    return mrkdwn.truncate(f"{said} ({counts})", BUDGET_HISTORY)


def figures_line(figures: JobFigures, lang: Lang) -> str:
    """ "This job: 4 failures in 7 days · 2 failing runs in a row · median recovery 14 min (3
    closed)" — our own numbers only."""
    if figures.failures_7d == 1:
        pieces = [say(Word.FIGURES_FAILURE_ONE, lang)]
    else:
        pieces = [say(Word.FIGURES_FAILURES, lang, n=figures.failures_7d)]
    if figures.streak > 1:
        streak = f"{figures.streak}+" if figures.at_least else str(figures.streak)
        pieces.append(say(Word.FIGURES_STREAK, lang, n=streak))
    if figures.median_recovery is not None:
        took = human_duration(figures.median_recovery, lang)
        pieces.append(say(Word.FIGURES_RECOVERY, lang, took=took, n=figures.closed))
    return f"*{say(Word.FIGURES_JOB, lang)}:* " + " · ".join(pieces)


@dataclass(frozen=True, slots=True)
class Slots:
    """What `render_alert` shows in its two incident-memory slots."""

    seen_before: str | None = None
    footer: tuple[str, ...] = ()


def alert_slots(
    incident: Incident,
    history: History,
    *,
    now: datetime,
    last_success: datetime | None,
    lang: Lang,
) -> Slots:
    """The seen-before line and the footer figures of the new incident `incident`, from the
    history read for this alert (what history did to the order, `history_line`, is the
    report's own and `render_alert` adds it)."""
    seen = seen_before(incident, history.job, now)
    figures = job_figures((incident, *history.job), now, last_success=last_success)
    return Slots(
        seen_before=seen_before_line(seen, now, lang) if seen is not None else None,
        footer=(figures_line(figures, lang),),
    )
