"""Report → terminal text and → JSON. Both scrub every string on the way out (the last check of
issue 9: invisible characters dropped, secrets masked; the evidence was redacted already).

The JSON is a stable contract (the command line's `--format json`): an object with `causes`, a
list sorted by confidence, each with `id`, `confidence` (0–1), `title`, `evidence` (strings); plus
`summary`, `verdict`, `changes`, `gaps`, `commands`, `links`, `logs`, `fingerprint`.
"""

from __future__ import annotations

import json
from typing import Any

from jobtriage.diagnosis.changes import NONE
from jobtriage.diagnosis.labels import (
    CHANGE_FIELDS,
    FIELDS,
    OUTCOMES,
    SECTIONS,
    SUSPECT_KINDS,
    fact_text,
    fmt_exit,
    fmt_time,
    human_duration,
    label,
    percent,
)
from jobtriage.diagnosis.model import RankedCause, Report
from jobtriage.evidence import Source
from jobtriage.redact import scrub, scrub_tree
from jobtriage.text import Lang

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
        },
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


def to_json(report: Report, *, lang: Lang = "en") -> str:
    return json.dumps(scrub_tree(to_json_obj(report, lang=lang)), ensure_ascii=False, indent=2)


def to_text(report: Report, *, lang: Lang = "en") -> str:
    """The seed report's layout, for a terminal. Every line is redacted."""
    s = report.summary
    out: list[str] = []

    def h(key: str) -> None:
        out.append("")
        out.append(f"## {SECTIONS[key].get(lang)}")

    def f(key: str, value: object) -> None:
        out.append(f"  {label(FIELDS, key, lang)}: {value}")

    out.append(f"# {SECTIONS['title'].get(lang)} — {s.ref.job} / {s.ref.execution}")
    h("summary")
    f("job", s.ref.job)
    f("execution", s.ref.execution)
    f("region", s.ref.region)
    f("project", s.ref.project)
    f("outcome", f"{OUTCOMES[s.outcome].get(lang)} — {s.status_message}")
    f("tasks", f"{s.tasks_failed}/{s.tasks_total}")
    attempts = "-" if s.attempts is None else str(s.attempts)
    if s.max_retries is not None:
        attempts += (
            f" (max retries {s.max_retries})" if lang == "en" else f" (최대 재시도 {s.max_retries})"
        )
    f("attempts", attempts)
    f("exit", fmt_exit(s.exit_code, s.term_signal, lang))
    f(
        "duration",
        f"{human_duration(s.duration, lang, precise=True) if s.duration else '-'}"
        f" ({fmt_time(s.started_at)} → {fmt_time(s.finished_at)})",
    )
    f("started_by", s.started_by or "-")
    f("image", s.image or "-")

    h("causes")
    for i, rc in enumerate(report.causes, 1):
        if rc.finding is None and i > 1 and rc.confidence < 0.01:
            continue
        out.append(f"  {i}. [{percent(rc.confidence)}] {rc.id} — {rc.title.get(lang)}")
        for fact in rc.facts:
            out.append(f"       > {fact_text(fact, lang)}")
        for check in (rc.checks + rc.cause.checks(s.ref))[:2] if rc.finding else ():
            out.append(f"       {label(FIELDS, 'confirm', lang)}: {check.command}")
    if report.error_line is not None:
        out.append("")
        out.append(f"  {FIELDS['likely_error'].get(lang)}")
        out.append(f"       > {fact_text(report.error_line, lang)}")
    if report.last_lines:
        out.append("")
        out.append(f"  {FIELDS['nothing_recognised'].get(lang)}")
        for fact in report.last_lines:
            out.append(f"       > {fact_text(fact, lang)}")

    h("verdict")
    top = report.top
    out.append(
        f"  {label(FIELDS, 'most_likely', lang)}: {top.title.get(lang)}"
        f" ({top.id}, {percent(top.confidence)})"
    )
    if report.first_step:
        out.append(f"  {label(FIELDS, 'first_step', lang)}: {report.first_step.command}")

    h("commands")
    for check in report.commands:
        out.append(f"  # {check.purpose.get(lang)}")
        out.append(f"  {check.command}")

    h("workarounds")
    for w in top.cause.workarounds:
        out.append(f"  - {w.get(lang)}")

    h("suspects")
    if not report.suspects:
        out.append(f"  {FIELDS['no_suspects'].get(lang)}")
    for x in report.suspects:
        mark = f"  ← {FIELDS['lines_up'].get(lang)}" if x.lines_up else ""
        when = x.when.strftime("%Y-%m-%d %H:%M UTC") if x.when else "?"
        who = f" — {x.who}" if x.who else ""
        kind = label(SUSPECT_KINDS, x.kind, lang)
        out.append(f"  - {when} {kind}: {x.what.get(lang)}{who}{mark}")
        if x.link:
            out.append(f"      {x.link}")

    h("changes")
    if not report.changes:
        unchecked = any(g.source is Source.LAST_SUCCESS for g in report.gaps)
        key = (
            "no_changes"
            if report.baseline_execution
            else ("not_checked" if unchecked else "no_baseline")
        )
        out.append(f"  {FIELDS[key].get(lang)}")
    for c in report.changes:
        mark = f"  ← {FIELDS['lines_up'].get(lang)}" if c.related_cause else ""
        before, after = (FIELDS["none"].get(lang) if v == NONE else v for v in (c.before, c.after))
        out.append(f"  - {label(CHANGE_FIELDS, c.field, lang)}: {before} → {after}{mark}")

    h("gaps")
    if report.log_stats.sampled:
        out.append(
            "  - "
            + FIELDS["sampled"]
            .format(kept=report.log_stats.kept, fetched=report.log_stats.fetched)
            .get(lang)
        )
    if not report.gaps and not report.log_stats.sampled:
        out.append(f"  {FIELDS['no_gaps'].get(lang)}")
    for g in report.gaps:
        reason, fix = g.says(lang)
        out.append(f"  - {g.source}: {reason}" + (f" — {fix}" if fix else ""))

    h("links")
    out.append(f"  {label(FIELDS, 'execution_page', lang)}: {report.links.execution}")
    out.append(f"  {label(FIELDS, 'logs_page', lang)}: {report.links.logs}")
    # line by line, then once more as a whole: a secret the report split over lines is seen
    return scrub("\n".join(_r(line) for line in out)) + "\n"
