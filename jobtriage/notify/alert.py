"""The new-incident message (`render_alert`), laid out for a phone: what on-call needs to act in
the first ten seconds comes first.

1. header: which job failed;
2. what broke and why, with the confidence, and the one or two distinct log lines that prove it;
3. (slot) "seen before" — `seen_before=`, filled in by the incident memory;
4. **Do this now**: the first workaround and the first check as one short command (`gcloud` where
   the cause has one, `docker` only where it is the only way);
5. the other hypotheses, one line each, with why they are ruled out or unchecked (the
   report's differential);
6. suspect changes and what changed since the last success (digests shortened, the full value
   behind a link; "lines up" only on changes that can explain the top cause);
7. what could not be checked;
8. the summary facts in one context line, then the links;
9. (slot) per-job figures — `footer=`, filled in by the incident memory;
10. the incident's state and its buttons.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from analyzers.base import Fact
from jobtriage.diagnosis.changes import NONE
from jobtriage.diagnosis.differential import VERDICT_WORDS
from jobtriage.diagnosis.model import Change, Hypothesis, Report, Suspect, Verdict
from jobtriage.evidence import Gap, Outcome
from jobtriage.formatting import as_utc, human_duration, percent
from jobtriage.incident.model import Incident
from jobtriage.notify import mrkdwn
from jobtriage.notify.fit import fallback, fit
from jobtriage.notify.limits import (
    BLOCK_CHANGES,
    BLOCK_DO_NOW,
    BLOCK_FOOTER,
    BLOCK_GAPS,
    BLOCK_HEADER,
    BLOCK_LINKS,
    BLOCK_OTHERS,
    BLOCK_SEEN_BEFORE,
    BLOCK_SUMMARY,
    BLOCK_TOP,
    BUDGET_CHANGES,
    BUDGET_DO_NOW,
    BUDGET_FIELD,
    BUDGET_FOOTER,
    BUDGET_GAPS,
    BUDGET_LINKS,
    BUDGET_OTHERS,
    BUDGET_SEEN_BEFORE,
    BUDGET_SUMMARY,
    BUDGET_TOP,
    DIGEST_CHARS,
    EVIDENCE_LINE_CHARS,
    EVIDENCE_LINES,
    LAST_LINES,
    MAX_HEADER_TEXT,
    NOTE_CHARS,
    NOTES,
    OTHERS_MAX,
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
    plain_text,
    safe_text,
    section,
    slack_date,
)
from jobtriage.notify.recall import history_line
from jobtriage.notify.state import state_parts
from jobtriage.text import Lang
from jobtriage.words import Word, change_field, say, suspect_kind


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


def _fact(label: str, value: str) -> str:
    return truncate(f"*{label}* {value}", BUDGET_FIELD)


# A Google service account is long and its domain says nothing on a phone: its name is enough.
_SERVICE_ACCOUNT = re.compile(r"^([a-z][a-z0-9-]{0,62})@[a-z0-9.-]+\.gserviceaccount\.com$")


def _who(started_by: str) -> str:
    m = _SERVICE_ACCOUNT.match(started_by)
    return safe_text(f"{m.group(1)}@…" if m else started_by, BUDGET_FIELD)


def _summary(report: Report, lang: Lang) -> str:
    """The execution's facts on one line (the issue's "one context line at the bottom")."""
    s = report.summary
    facts = [
        _fact(say(Word.FIELD_EXECUTION, lang), mrkdwn.inline_code(s.ref.execution, limit=100)),
        " · ".join(mrkdwn.inline_code(v, limit=60) for v in (s.ref.region, s.ref.project)),
    ]
    if s.tasks_total:  # zero: the Run API was not readable (the gaps say why)
        tasks = say(Word.TASKS_VALUE, lang, failed=s.tasks_failed, total=s.tasks_total)
        facts.append(_fact(say(Word.FIELD_TASKS, lang), tasks))
    if s.attempts is not None:
        if s.max_retries is not None:
            value = say(Word.ATTEMPTS_RETRIES, lang, attempts=s.attempts, retries=s.max_retries)
        else:
            value = say(Word.ATTEMPTS_VALUE, lang, attempts=s.attempts)
        facts.append(_fact(say(Word.FIELD_ATTEMPTS, lang), value))
    exit_line = exit_text(report, lang)
    if exit_line:
        facts.append(safe_text(exit_line, BUDGET_FIELD))
    if s.duration is not None:
        facts.append(
            _fact(say(Word.FIELD_DURATION, lang), human_duration(s.duration, lang, precise=True))
        )
    if s.started_by:
        facts.append(_fact(say(Word.FIELD_STARTED_BY, lang), _who(s.started_by)))
    if s.started_at is not None:
        facts.append(_fact(say(Word.FIELD_STARTED_AT, lang), slack_date(s.started_at)))
    line = ""
    for fact in facts:  # whole facts only: a date or a code span cut in half breaks the line
        candidate = f"{line} · {fact}" if line else fact
        if len(candidate) > BUDGET_SUMMARY:
            break
        line = candidate
    return line


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_./@-]{4,}")
_DIGITS = re.compile(r"\d+")
# A line this short that repeats only words of a line already shown adds nothing
# (`  code: 'ERR_REQUIRE_ESM'` under `Error [ERR_REQUIRE_ESM]: require() of ES Module …`).
_ECHO_CHARS = 60


def _key(quote: str) -> str:
    return _DIGITS.sub("0", " ".join(quote.split()).lower())


def _echoes(quote: str, shown: str) -> bool:
    words = _WORD.findall(quote)
    return (
        len(quote.strip()) <= _ECHO_CHARS
        and bool(words)
        and all(w.lower() in shown.lower() for w in words)
    )


def distinct_quotes(facts: Iterable[Fact], limit: int) -> list[tuple[Fact, int]]:
    """The first `limit` distinct log lines with how often each was seen: a line repeated by a
    retry (same text but for numbers) is counted, not shown again, and a short line that only
    echoes a shown one is left out."""
    shown: list[Fact] = []
    counts: dict[str, int] = {}
    for fact in facts:
        if not fact.quote:
            continue
        key = _key(fact.quote)
        if key in counts:
            counts[key] += 1
        elif not any(_echoes(fact.quote, s.quote or "") for s in shown):
            counts[key] = 1
            shown.append(fact)
    return [(f, counts[_key(f.quote or "")]) for f in shown[:limit]]


def _quote_line(fact: Fact, count: int) -> str:
    """A phone-width evidence line: the time only (the stream is in the terminal report)."""
    stamp = as_utc(fact.timestamp).strftime("%H:%M:%SZ") + "  " if fact.timestamp else ""
    return f"{stamp}{fact.quote or ''}" + (f"  (×{count})" if count > 1 else "")


def _top(report: Report, lang: Lang) -> Block:
    top = report.top
    title_text = safe_text(top.title.get(lang), NOTE_CHARS)
    title = truncate(
        f"*{say(Word.TOP_CAUSE, lang, title=title_text)}* · {percent(top.confidence)}", NOTE_CHARS
    )
    quotes = distinct_quotes(top.facts, EVIDENCE_LINES)
    notes = [short_digests(f.note.get(lang)) for f in top.facts if not f.quote and f.note][:NOTES]
    note_text = "".join(f"\n• {safe_text(n, NOTE_CHARS)}" for n in notes)
    parts = [title]
    room = BUDGET_TOP - len(title) - len(note_text) - 2
    if quotes:
        parts.append(
            mrkdwn.code_block(
                (_quote_line(f, n) for f, n in quotes),
                limit=room,
                line_limit=EVIDENCE_LINE_CHARS,
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


def _do_now(report: Report, lang: Lang) -> Block | None:
    workarounds = report.top.cause.workarounds if report.top.finding else ()
    check = report.first_step
    if not workarounds and check is None:
        return None
    text = f"*{say(Word.DO_NOW, lang)}*"
    if workarounds:
        text += f"\n• *{say(Word.DO_NOW_WORKAROUND, lang)}:* "
        text += safe_text(workarounds[0].get(lang), NOTE_CHARS)
    if check is not None:
        purpose = safe_text(check.purpose.get(lang), NOTE_CHARS)
        text += f"\n• *{say(Word.DO_NOW_CHECK, lang)}:* {purpose}"
        code = mrkdwn.code_block([check.command], limit=BUDGET_DO_NOW - len(text) - 1)
        if code:
            text += f"\n{code}"
    return section(BLOCK_DO_NOW, text)


# Below this confidence a cause without a finding is noise on a phone: the terminal and JSON
# reports still list every hypothesis.
OTHERS_MIN_CONFIDENCE = 0.01


def _hypothesis_line(h: Hypothesis, name: str, lang: Lang) -> str:
    verdict = say(VERDICT_WORDS[h.verdict], lang)
    return f"*{safe_text(name, 80)}* — _{verdict}_: {safe_text(h.reason.get(lang), NOTE_CHARS)}"


def _others(report: Report, lang: Lang) -> Block | None:
    """The other hypotheses, one line each, with why they are ruled out or unchecked."""
    names = {c.id: c.cause.name.get(lang) for c in report.causes}
    rest = [h for h in report.differential if h.verdict is not Verdict.LIKELY]
    shown: Sequence[Hypothesis] = [
        h for h in rest if h.verdict is Verdict.POSSIBLE or h.confidence >= OTHERS_MIN_CONFIDENCE
    ][:OTHERS_MAX]
    if not shown:
        return None
    lines = (_hypothesis_line(h, names.get(h.id, h.id), lang) for h in shown)
    text = bullets(f"*{say(Word.FIELD_OTHERS, lang)}*", lines, len(rest), BUDGET_OTHERS, lang)
    return section(BLOCK_OTHERS, text)


_DIGEST = re.compile(r"sha256:([0-9a-f]{12,64})")
# REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE: an Artifact Registry image, which the console
# shows by digest (https://cloud.google.com/artifact-registry/docs/docker/manage-images).
_ARTIFACT_REGISTRY = re.compile(
    r"^(?P<location>[a-z0-9-]+)-docker\.pkg\.dev/(?P<project>[a-z0-9.:-]+)/"
    r"(?P<repo>[a-z0-9._-]+)/(?P<image>[a-z0-9._/-]+)$"
)


_FULL_DIGEST = re.compile(rf"sha256:([0-9a-f]{{{DIGEST_CHARS}}})[0-9a-f]{{{64 - DIGEST_CHARS}}}")


def short_digests(text: str) -> str:
    """Every full image digest in a sentence of ours shortened (the links block leads to the
    execution, which shows the whole one)."""
    return _FULL_DIGEST.sub(r"sha256:\1…", text)


def digest_url(repository: str | None, hex_digest: str, fallback: str | None) -> str | None:
    """Where the full digest can be read: its Artifact Registry page, else `fallback` (the
    execution's console page, which shows the image it ran)."""
    m = _ARTIFACT_REGISTRY.match(repository or "")
    if m is None:
        return fallback
    project = m["project"]
    return (
        f"https://console.cloud.google.com/artifacts/docker/{project}/{m['location']}/"
        f"{m['repo']}/{quote(m['image'], safe='')}/sha256:{hex_digest}?project={project}"
    )


def _value(value: str, report: Report) -> str:
    """One side of a change; a digest shortened (`sha256:1234abcd…`), the full one behind a
    link."""
    m = _DIGEST.search(value)
    if m is None:
        return mrkdwn.inline_code(value, limit=VALUE_CHARS)
    repository = value[: m.start()].rstrip("@") or (
        (report.summary.image or "").split("@", 1)[0] or None
    )
    short = f"sha256:{m.group(1)[:DIGEST_CHARS]}…"
    url = digest_url(repository, m.group(1), report.links.execution)
    return mrkdwn.link(url, short) if url else mrkdwn.inline_code(short, limit=VALUE_CHARS)


def _change_line(change: Change, related: bool, report: Report, lang: Lang) -> str:
    field = safe_text(change_field(change.field, lang), 60)
    before, after = (
        (say(Word.NONE, lang) if value == NONE else _value(value, report)) if value else "—"
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
    line += safe_text(short_digests(suspect.what.get(lang)), NOTE_CHARS)
    if suspect.who:
        line += " — " + _who(suspect.who)
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
        (_change_line(c, True, report, lang) for c in related),
        (_change_line(c, False, report, lang) for c in rest),
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


def _slot(block_id: str, texts: Sequence[str], budget: int) -> Block | None:
    """A context block for lines another part of the product renders (already escaped mrkdwn)."""
    kept = [truncate(t, budget) for t in texts if t]
    return context(block_id, kept) if kept else None


def render_alert(
    report: Report,
    incident: Incident,
    *,
    lang: Lang,
    seen_before: str | None = None,
    footer: Sequence[str] = (),
) -> Message:
    """The new-incident message: diagnosis, evidence, what to do now, state and buttons.

    Two slots for the incident memory (`notify.recall.alert_slots` fills them): `seen_before`,
    one line shown under the top cause ("3rd time since 11-02; last confirmed …"), beside what
    the history did to the order ("history moved X above Y", from the report itself); and
    `footer`, per-job figures shown under the summary line (failures in 7 days, streak, time to
    recover). Both are mrkdwn that the caller has already made safe (`parts.safe_text`,
    `parts.user`); each keeps within its budget in `limits`, and `fit` drops them before
    anything else.
    """
    blocks: list[Block] = [_header(report, lang), _top(report, lang)]
    for part in (
        _slot(
            BLOCK_SEEN_BEFORE,
            [seen_before or "", history_line(report, lang) or ""],
            BUDGET_SEEN_BEFORE,
        ),
        _do_now(report, lang),
        _others(report, lang),
        _changes(report, lang),
        _gaps(report, lang),
    ):
        if part is not None:
            blocks.append(part)
    summary = _summary(report, lang)
    if summary:
        blocks.append(context(BLOCK_SUMMARY, [summary]))
    links = _links(report, lang)
    if links is not None:
        blocks.append(links)
    bottom = _slot(BLOCK_FOOTER, footer, BUDGET_FOOTER)
    if bottom is not None:
        blocks.append(bottom)
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
