"""The differential: every hypothesis the diagnosis weighed, with a verdict and the reason for it.

The seed report did not only name the winner; it said why the other candidates did not hold
("DB connection — no connection error in the log; the process crashed while loading modules").
This module says the same from the ranked causes and the evidence, as data that the terminal,
JSON and Slack renderers read:

- `likely`: the top cause, when a finding strong enough to name a cause backs it;
- `possible`: any other cause some finding speaks for (a weaker signature, a capped symptom);
- `ruled_out`: no finding, the log was there to read, and another cause explains the failure —
  the cause's `refute_hint` says what was looked for and not found;
- `unchecked`: no finding, but nothing could be concluded either — no log lines, a log not read
  in full, its analyzer failed, or nothing else explains the failure (absence of evidence alone
  rules nothing out).

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from analyzers import UNKNOWN
from jobtriage.diagnosis.model import Hypothesis, RankedCause, Verdict
from jobtriage.diagnosis.rank import NAMES_A_CAUSE
from jobtriage.evidence import Gap, Source
from jobtriage.formatting import percent
from jobtriage.text import LANGS, Lang, Text
from jobtriage.words import Word, say, text_of

VERDICT_WORDS = {
    Verdict.LIKELY: Word.VERDICT_LIKELY,
    Verdict.POSSIBLE: Word.VERDICT_POSSIBLE,
    Verdict.RULED_OUT: Word.VERDICT_RULED_OUT,
    Verdict.UNCHECKED: Word.VERDICT_UNCHECKED,
}


def _both(word: Word, **params: Text | str | int) -> Text:
    """A word with its placeholders filled per language (a `Text` parameter in its own one)."""

    def fill(lang: Lang) -> str:
        values = {k: v.get(lang) if isinstance(v, Text) else v for k, v in params.items()}
        return say(word, lang, **values)

    en, ko = (fill(lang) for lang in LANGS)
    return Text(en=en, ko=ko)


def _sentence(text: Text) -> Text:
    """Capitalised first letter (the causes' refute hints are not written alike)."""
    return Text(en=text.en[:1].upper() + text.en[1:], ko=text.ko)


def _inline(text: Text) -> Text:
    """A cause's name inside a sentence: lower-case first letter (unless it is an acronym)."""
    en = text.en if text.en[1:2].isupper() else text.en[:1].lower() + text.en[1:]
    return Text(en=en, ko=text.ko)


def _failed_analyzers(gaps: Sequence[Gap]) -> set[str]:
    """Cause ids whose analyzer crashed or misbehaved (`rank.run_analyzers` records a gap)."""
    failed: set[str] = set()
    for gap in gaps:
        if gap.source is Source.ANALYZER and gap.reason.startswith("analyzer "):
            failed.add(gap.reason.split(" ", 2)[1])
    return failed


def differential(
    causes: Sequence[RankedCause], *, lines_read: int, gaps: Sequence[Gap] = ()
) -> tuple[Hypothesis, ...]:
    """One entry per cause considered, in ranked order (`unknown` is not a hypothesis: it is
    what the report says when none holds)."""
    if not causes:
        return ()
    top = causes[0]
    likely = (
        top
        if top.id != UNKNOWN.id and top.finding and top.finding.strength >= NAMES_A_CAUSE
        else None
    )
    failed = _failed_analyzers(gaps)
    log_gap = next((g for g in gaps if g.source is Source.LOGS), None)
    out: list[Hypothesis] = []
    for rc in causes:
        if rc.id == UNKNOWN.id:
            continue
        pct = percent(rc.confidence)
        if rc is likely:
            verdict, reason = Verdict.LIKELY, _both(Word.WHY_LIKELY, title=rc.title, pct=pct)
        elif rc.finding is not None:
            word = (
                Word.WHY_POSSIBLE
                if likely is not None and rc.finding.strength >= NAMES_A_CAUSE
                else Word.WHY_POSSIBLE_WEAK
            )
            verdict, reason = Verdict.POSSIBLE, _both(word, title=rc.title, pct=pct)
        elif rc.id in failed:
            verdict, reason = Verdict.UNCHECKED, text_of(Word.WHY_ANALYZER_FAILED)
        elif lines_read == 0:
            verdict, reason = Verdict.UNCHECKED, text_of(Word.WHY_NO_LOGS)
        else:
            hint = _sentence(rc.cause.refute_hint or text_of(Word.WHY_NO_SIGN))
            if log_gap is not None:  # what was not read may hold it
                verdict = Verdict.UNCHECKED
                gap = Text(en=log_gap.says("en")[0], ko=log_gap.says("ko")[0])
                reason = _both(Word.WHY_LOGS_PARTIAL, hint=hint, lines=f"{lines_read:,}", gap=gap)
            elif likely is not None:
                verdict = Verdict.RULED_OUT
                reason = _both(
                    Word.WHY_RULED_OUT,
                    hint=hint,
                    lines=f"{lines_read:,}",
                    top=_inline(likely.cause.name),
                )
            else:
                verdict = Verdict.UNCHECKED
                reason = _both(Word.WHY_NOTHING_EXPLAINS, hint=hint, lines=f"{lines_read:,}")
        out.append(Hypothesis(rc.id, verdict, reason, rc.confidence))
    return tuple(out)
