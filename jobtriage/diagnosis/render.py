"""Report → terminal text and → JSON. Both scrub every string on the way out (the last check of
issue 9: invisible characters dropped, secrets masked; the evidence was redacted already).

The JSON is a stable contract (the command line's `--format json`): an object with `causes`, a
list sorted by confidence, each with `id`, `confidence` (0–1), `title`, `evidence` (strings); plus
`summary`, `verdict`, `differential`, `changes`, `gaps`, `commands`, `links`, `logs`,
`fingerprint`. `differential` has one entry per cause considered, in ranked order: `id`,
`verdict` (`likely` / `possible` / `ruled_out` / `unchecked`), `reason` (one sentence in the
report's language) and `confidence`. `verdict.disputed_by` is the cause the learned fallback
preferred when it disputes the top cause (else null); the top then shows a lower confidence.
`history` is what the incident memory's learned priors did (null when no history was read):
`job_confirmations`, `project_confirmations`, `factors` (cause id → factor on its prior, within
×2 / ÷2), `moved` (`[{"cause": X, "above": Y}]`: history moved X above Y) and `held` (a cause
whose strong finding history would have overruled, and did not; else null).
"""

from __future__ import annotations

import json
from typing import Any

from analyzers.base import Fact, FactKind
from jobtriage.diagnosis.changes import NONE
from jobtriage.diagnosis.differential import VERDICT_WORDS
from jobtriage.diagnosis.model import HistoryEffect, RankedCause, Report
from jobtriage.evidence import Source
from jobtriage.formatting import fmt_time, human_duration, percent
from jobtriage.redact import scrub, scrub_tree
from jobtriage.text import Lang
from jobtriage.words import OUTCOME_WORDS, Word, change_field, say, suspect_kind

JSON_SCHEMA_VERSION = 1


def _r(text: str) -> str:
    return scrub(text)


def cause_to_json(rc: RankedCause, report: Report, lang: Lang) -> dict[str, Any]:
    checks = rc.checks + rc.cause.checks(report.summary.ref)
    return {
        "id": rc.id,
        "confidence": round(rc.confidence, 4),
        "title": _r(rc.title.get(lang)),
        "name": rc.cause.name.get(lang),
        "evidence": [_r(fact_text(f, lang)) for f in rc.facts],
        "signature": rc.finding.signature if rc.finding else None,
        "checks": [{"purpose": c.purpose.get(lang), "command": _r(c.command)} for c in checks],
        "workarounds": [w.get(lang) for w in rc.cause.workarounds],
        "docs": list(rc.cause.docs),
    }


def to_json_obj(report: Report, *, lang: Lang = "en") -> dict[str, Any]:
    s = report.summary
    first = report.first_step
    return {
        "schema": JSON_SCHEMA_VERSION,
        "lang": lang,
        "summary": {
            "project": s.ref.project,
            "region": s.ref.region,
            "job": s.ref.job,
            "execution": s.ref.execution,
            "outcome": str(s.outcome),
            "status_message": _r(s.status_message),
            "tasks_total": s.tasks_total,
            "tasks_failed": s.tasks_failed,
            "attempts": s.attempts,
            "max_retries": s.max_retries,
            "exit_code": s.exit_code,
            "term_signal": s.term_signal,
            "duration_seconds": s.duration.total_seconds() if s.duration else None,
            "started_by": _r(s.started_by) if s.started_by else None,
            "started_at": s.started_at.isoformat() if s.started_at else None,
            "finished_at": s.finished_at.isoformat() if s.finished_at else None,
            "image": _r(s.image) if s.image else None,
        },
        "causes": [cause_to_json(rc, report, lang) for rc in report.causes],
        "verdict": {
            "cause": report.top.id,
            "title": _r(report.top.title.get(lang)),
            "first_step": _r(first.command) if first else None,
            "disputed_by": report.disputed_by,
        },
        "differential": [
            {
                "id": h.id,
                "verdict": str(h.verdict),
                "reason": _r(h.reason.get(lang)),
                "confidence": round(h.confidence, 4),
            }
            for h in report.differential
        ],
        "history": history_to_json(report.history),
        "fingerprint": report.fingerprint,
        "baseline_execution": report.baseline_execution,
        "suspects": [
            {
                "kind": x.kind,
                "when": x.when.isoformat() if x.when else None,
                "who": _r(x.who) if x.who else None,
                "what": _r(x.what.get(lang)),
                "lines_up": x.lines_up,
                "link": _r(x.link) if x.link else None,
            }
            for x in report.suspects
        ],
        "changes": [
            {
                "field": c.field,
                "before": _r(c.before),
                "after": _r(c.after),
                "related_cause": c.related_cause,
            }
            for c in report.changes
        ],
        "gaps": [
            {"source": str(g.source), "reason": _r(g.says(lang)[0]), "fix": _r(g.says(lang)[1])}
            for g in report.gaps
        ],
        "commands": [
            {"purpose": c.purpose.get(lang), "command": _r(c.command)} for c in report.commands
        ],
        "links": {
            "execution": report.links.execution,
            "logs": report.links.logs,
            "job": report.links.job,
        },
        "logs": {
            "fetched": report.log_stats.fetched,
            "kept": report.log_stats.kept,
            "requests": report.log_stats.requests,
            "sampled": report.log_stats.sampled,
        },
        "last_lines": [_r(fact_text(f, lang)) for f in report.last_lines],
        "error_line": _r(fact_text(report.error_line, lang)) if report.error_line else None,
    }


def history_to_json(effect: HistoryEffect | None) -> dict[str, Any] | None:
    if effect is None:
        return None
    priors = effect.priors
    return {
        "job_confirmations": priors.job_confirmations,
        "project_confirmations": priors.project_confirmations,
        "factors": dict(priors.factors),
        "moved": [{"cause": x, "above": y} for x, y in effect.moved],
        "held": effect.held,
    }


def history_text(effect: HistoryEffect | None, lang: Lang) -> str | None:
    """One line for the terminal: what history did to the order, or None when nothing."""
    if effect is None or not (
        effect.priors.job_confirmations or effect.priors.project_confirmations
    ):
        return None
    counts = say(
        Word.HISTORY_COUNTS,
        lang,
        job=effect.priors.job_confirmations,
        project=effect.priors.project_confirmations,
    )
    if effect.held:
        said = say(Word.HISTORY_HELD, lang, cause=effect.held)
    elif effect.moved:
        said = "; ".join(say(Word.HISTORY_MOVED, lang, cause=x, other=y) for x, y in effect.moved)
    else:
        return f"{say(Word.FIELD_HISTORY, lang)}: {counts}"
    return f"{said} ({counts})"


def to_json(report: Report, *, lang: Lang = "en") -> str:
    return json.dumps(scrub_tree(to_json_obj(report, lang=lang)), ensure_ascii=False, indent=2)


def to_text(report: Report, *, lang: Lang = "en") -> str:
    """The seed report's layout, for a terminal. Every line is redacted."""
    s = report.summary
    out: list[str] = []

    def h(word: Word) -> None:
        out.append("")
        out.append(f"## {say(word, lang)}")

    def f(word: Word, value: object) -> None:
        out.append(f"  {say(word, lang)}: {value}")

    out.append(f"# {say(Word.REPORT_TITLE, lang)} — {s.ref.job} / {s.ref.execution}")
    h(Word.SECTION_SUMMARY)
    f(Word.FIELD_JOB, s.ref.job)
    f(Word.FIELD_EXECUTION, s.ref.execution)
    f(Word.FIELD_REGION, s.ref.region)
    f(Word.FIELD_PROJECT, s.ref.project)
    f(Word.FIELD_OUTCOME, f"{say(OUTCOME_WORDS[s.outcome], lang)} — {s.status_message}")
    f(Word.FIELD_TASKS_FAILED, f"{s.tasks_failed}/{s.tasks_total}")
    if s.attempts is None:
        attempts = "-"
    elif s.max_retries is not None:
        attempts = say(Word.ATTEMPTS_RETRIES, lang, attempts=s.attempts, retries=s.max_retries)
    else:
        attempts = say(Word.ATTEMPTS_VALUE, lang, attempts=s.attempts)
    f(Word.FIELD_ATTEMPTS, attempts)
    f(Word.FIELD_EXIT, _exit(s.exit_code, s.term_signal, lang))
    f(
        Word.FIELD_DURATION,
        f"{human_duration(s.duration, lang, precise=True) if s.duration else '-'}"
        f" ({fmt_time(s.started_at)} → {fmt_time(s.finished_at)})",
    )
    f(Word.FIELD_STARTED_BY, s.started_by or "-")
    f(Word.FIELD_IMAGE, s.image or "-")

    h(Word.SECTION_CAUSES)
    for i, rc in enumerate(report.causes, 1):
        if rc.finding is None and i > 1 and rc.confidence < 0.01:
            continue
        out.append(f"  {i}. [{percent(rc.confidence)}] {rc.id} — {rc.title.get(lang)}")
        for fact in rc.facts:
            out.append(f"       > {fact_text(fact, lang)}")
        for check in (rc.checks + rc.cause.checks(s.ref))[:2] if rc.finding else ():
            out.append(f"       {say(Word.FIELD_CONFIRM, lang)}: {check.command}")
    if report.error_line is not None:
        out.append("")
        out.append(f"  {say(Word.LIKELY_ERROR, lang)}")
        out.append(f"       > {fact_text(report.error_line, lang)}")
    if report.last_lines:
        out.append("")
        out.append(f"  {say(Word.NOTHING_RECOGNISED, lang)}")
        for fact in report.last_lines:
            out.append(f"       > {fact_text(fact, lang)}")

    h(Word.SECTION_VERDICT)
    top = report.top
    out.append(
        f"  {say(Word.FIELD_MOST_LIKELY, lang)}: {top.title.get(lang)}"
        f" ({top.id}, {percent(top.confidence)})"
    )
    if report.first_step:
        out.append(f"  {say(Word.FIELD_FIRST_STEP, lang)}: {report.first_step.command}")
    history = history_text(report.history, lang)
    if history:
        out.append(f"  {history}")

    if report.differential:
        out.append("")
        out.append(f"  {say(Word.SECTION_DIFFERENTIAL, lang)}:")
    for hyp in report.differential:
        verdict = say(VERDICT_WORDS[hyp.verdict], lang)
        # the verdict first: "secret_config [ruled out]" reads to the redactor as a secret
        out.append(f"  - [{verdict}] {hyp.id} — {hyp.reason.get(lang)}")

    h(Word.SECTION_COMMANDS)
    for check in report.commands:
        out.append(f"  # {check.purpose.get(lang)}")
        out.append(f"  {check.command}")

    h(Word.SECTION_WORKAROUNDS)
    for w in top.cause.workarounds:
        out.append(f"  - {w.get(lang)}")

    h(Word.SECTION_SUSPECTS)
    if not report.suspects:
        out.append(f"  {say(Word.NO_SUSPECTS, lang)}")
    for x in report.suspects:
        mark = f"  ← {say(Word.LINES_UP, lang)}" if x.lines_up else ""
        when = x.when.strftime("%Y-%m-%d %H:%M UTC") if x.when else "?"
        who = f" — {x.who}" if x.who else ""
        kind = suspect_kind(x.kind, lang)
        out.append(f"  - {when} {kind}: {x.what.get(lang)}{who}{mark}")
        if x.link:
            out.append(f"      {x.link}")

    h(Word.SECTION_CHANGES)
    if not report.changes:
        unchecked = any(g.source is Source.LAST_SUCCESS for g in report.gaps)
        key = (
            Word.NO_CHANGES
            if report.baseline_execution
            else (Word.CHANGES_NOT_CHECKED if unchecked else Word.NO_BASELINE)
        )
        out.append(f"  {say(key, lang)}")
    for c in report.changes:
        mark = f"  ← {say(Word.LINES_UP, lang)}" if c.related_cause else ""
        before, after = (say(Word.NONE, lang) if v == NONE else v for v in (c.before, c.after))
        out.append(f"  - {change_field(c.field, lang)}: {before} → {after}{mark}")

    h(Word.SECTION_GAPS)
    if report.log_stats.sampled:
        out.append(
            "  - "
            + say(Word.SAMPLED, lang, kept=report.log_stats.kept, fetched=report.log_stats.fetched)
        )
    if not report.gaps and not report.log_stats.sampled:
        out.append(f"  {say(Word.NO_GAPS, lang)}")
    for g in report.gaps:
        reason, fix = g.says(lang)
        out.append(f"  - {g.source}: {reason}" + (f" — {fix}" if fix else ""))

    h(Word.SECTION_LINKS)
    out.append(f"  {say(Word.LINK_EXECUTION, lang)}: {report.links.execution}")
    out.append(f"  {say(Word.LINK_LOGS, lang)}: {report.links.logs}")
    # line by line, then once more as a whole: a secret the report split over lines is seen
    return scrub("\n".join(_r(line) for line in out)) + "\n"


def _exit(exit_code: int | None, term_signal: int | None, lang: Lang) -> str:
    if term_signal:
        return say(Word.EXIT_SIGNAL, lang, signal=term_signal)
    if exit_code is not None:
        return say(Word.EXIT_CODE, lang, code=exit_code)
    return "-"


def fact_text(fact: Fact, lang: Lang) -> str:
    """One line of evidence as plain (unescaped, unredacted) text."""
    if fact.kind is FactKind.LOG:
        stamp = fact.timestamp.strftime("%H:%M:%S") + " " if fact.timestamp else ""
        return f"{stamp}[{fact.stream or '?'}] {fact.quote or ''}"
    return fact.note.get(lang) if fact.note else (fact.quote or "")
