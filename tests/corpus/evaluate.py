"""Measure the diagnosis on the failure corpus: `make eval` (or `python -m tests.corpus.evaluate`).

Each case becomes the evidence a failed execution would give the product — its lines as the task's
stderr, Cloud Run's own status message (when the thread shows one) as the execution's and the
task's status, the exit code when known, and no configuration (the threads rarely show it) — and
goes through the same `build_report` the function and the command line use.

Printed for the development and the held-out part separately: top-1 and top-2 per cause and per
stack family, the share of cases whose top cause is wrong at 80 % or more, how often nothing was
recognised, and a reliability table (shown confidence against observed accuracy). `--misses`
lists the development part's misses (never the held-out part's: it is not read while writing rules).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from jobtriage.diagnosis import Report, build_report, fallback
from jobtriage.diagnosis.calibration import TABLE as CALIBRATION
from jobtriage.diagnosis.calibration import calibrated_top, contested, table
from jobtriage.evidence import (
    Evidence,
    ExecutionInfo,
    ExecutionRef,
    LogLine,
    LogStats,
    Stream,
    TaskAttempt,
    TaskTemplateConfig,
    clip_line,
)
from tests.corpus.cases import CAUSES, FAILURES, STACKS, Case, load_all

GENERIC_STATUS = "Task {task} failed with message: The container exited with an error."
BINS = ((0.0, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01))
WRONG_AT = 0.8


def evidence_for(case: Case) -> Evidence:
    """The evidence a failed execution with this case's output would give the product."""
    execution = case.path.stem.replace("_", "-")[:50] or "case"
    ref = ExecutionRef("corpus-project", "us-central1", f"{case.tool}-job"[:60], execution)
    task = f"{execution}-task0"
    status = case.status or GENERIC_STATUS.format(task=task)
    lines = tuple(
        LogLine(timestamp=None, stream=Stream.STDERR, severity="DEFAULT", text=clip_line(text))
        for text in case.log
        if text.strip()
    )
    info = ExecutionInfo(
        name=execution,
        config=TaskTemplateConfig(),
        task_count=1,
        failed_count=1,
        completed_state="CONDITION_FAILED",
        completed_message=status,
        execution_reason="NON_ZERO_EXIT_CODE",
    )
    attempt = TaskAttempt(index=0, exit_code=case.exit_code, status_message=status, failed=True)
    return Evidence(
        ref=ref,
        execution=info,
        tasks=(attempt,),
        logs=lines,
        log_stats=LogStats(fetched=len(lines), kept=len(lines)),
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    case: Case
    top: str
    confidence: float
    recognised: tuple[str, ...]  # causes with a finding, best first
    signature: str = ""
    strength: float = 0.0  # the top finding's strength (what the calibration table reads)
    disputed: bool = False  # the learned fallback prefers another cause than the rules' top
    contested: bool = False  # another cause has a named finding too (`calibration.contested`)

    @property
    def right(self) -> bool:
        return self.top == self.case.cause

    @property
    def right2(self) -> bool:
        """Right at the top, or the next cause with a finding (the top can be a prior with no
        finding of its own, ranked above a weak finding: it still counts as one of the two)."""
        return self.right or self.case.cause in [c for c in self.recognised if c != self.top][:1]

    @property
    def wrong_confident(self) -> bool:
        return not self.right and self.top != "unknown" and self.confidence >= WRONG_AT

    @property
    def by_rules(self) -> bool:
        return self.top != "unknown" and self.signature != "LEARNED"

    def recalibrated(self, tables: Tables) -> Outcome:
        """This outcome as a calibration table would show it (rules' findings only: the learned
        fallback carries its own cross-validated figure); a disputed or contested top reads its
        own table."""
        rows = (
            (tables.disputed if self.disputed else ())
            or (tables.contested if self.contested else ())
            or tables.rules
        )
        if not self.by_rules or not rows:
            return self
        return replace(self, confidence=calibrated_top(self.strength, rows))


@dataclass(frozen=True, slots=True)
class Tables:
    """The calibration tables: for clear tops, for tops the model disputes, and for tops another
    named finding contests."""

    rules: Sequence[tuple[float, float]] = ()
    disputed: Sequence[tuple[float, float]] = ()
    contested: Sequence[tuple[float, float]] = ()


FOLDS = Path(__file__).resolve().parents[2] / "build" / "fallback-folds"


@cache
def fold_model(name: str) -> fallback.Model | None:
    """The fallback model that was trained without this development case (`make train` writes
    one per fold), or None when the folds are not there."""
    where = FOLDS / "folds.json"
    if not where.exists():
        return None
    k = json.loads(where.read_text()).get(name)
    return None if k is None else fallback.load(FOLDS / f"fold{k}.json")


def diagnose(
    case: Case, *, calibrated: bool = True, learned: bool = True, oof: bool = False
) -> Outcome:
    """One case through `build_report`; with `oof`, a development case is scored by the fallback
    model of the fold it was left out of."""
    model = fold_model(case.name) if oof and case.split == "dev" else None
    if oof and case.split == "dev" and model is None:
        raise SystemExit("no out-of-fold models: run make train first")
    report: Report = build_report(
        evidence_for(case), calibrated=calibrated, learned=learned, model=model
    )
    recognised = tuple(c.id for c in report.causes if c.finding is not None)
    top = report.top.finding
    confidence = report.top.confidence
    if not calibrated and top is not None and top.signature == "LEARNED" and top.calibrated:
        # the learned fallback shows its own cross-validated accuracy, calibrated or not (the
        # tables re-applied by `recalibrated` are the rules' only)
        confidence = top.calibrated
    return Outcome(
        case,
        report.top.id,
        confidence,
        recognised,
        top.signature if top else "",
        top.strength if top else 0.0,
        report.disputed_by is not None,
        contested(report.causes),
    )


@dataclass
class Tally:
    n: int = 0
    top1: int = 0
    top2: int = 0

    def add(self, outcome: Outcome) -> None:
        self.n += 1
        self.top1 += outcome.right
        self.top2 += outcome.right2

    def pct(self, k: int) -> float:
        return 100.0 * k / self.n if self.n else 0.0


@dataclass
class Part:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.outcomes)

    def tally(self, key: str | None = None, value: str | None = None) -> Tally:
        t = Tally()
        for o in self.outcomes:
            if key is None or getattr(o.case, key) == value:
                t.add(o)
        return t

    def share(self, pred: str) -> float:
        return 100.0 * sum(getattr(o, pred) for o in self.outcomes) / self.n if self.n else 0.0

    @property
    def unknown(self) -> float:
        return 100.0 * sum(o.top == "unknown" for o in self.outcomes) / self.n if self.n else 0.0

    def reliability(self) -> list[tuple[str, int, float, float]]:
        """(bin, cases, mean shown confidence, observed accuracy) over cases with a named cause."""
        rows = []
        for lo, hi in BINS:
            inside = [o for o in self.outcomes if o.top != "unknown" and lo <= o.confidence < hi]
            if not inside:
                rows.append((f"{lo:.0%}–{min(hi, 1):.0%}", 0, 0.0, 0.0))
                continue
            mean = sum(o.confidence for o in inside) / len(inside)
            acc = sum(o.right for o in inside) / len(inside)
            rows.append((f"{lo:.0%}–{min(hi, 1):.0%}", len(inside), mean, acc))
        return rows

    def summary(self) -> dict[str, object]:
        overall = self.tally()
        return {
            "cases": self.n,
            "top1": round(overall.pct(overall.top1), 1),
            "top2": round(overall.pct(overall.top2), 1),
            "wrong_at_80": round(self.share("wrong_confident"), 1),
            "unknown": round(self.unknown, 1),
            "by_cause": {
                c: _cell(self.tally("cause", c)) for c in CAUSES if self.tally("cause", c).n
            },
            "by_stack": {
                s: _cell(self.tally("stack", s)) for s in STACKS if self.tally("stack", s).n
            },
            "reliability": [
                {"bin": b, "cases": n, "shown": round(m, 3), "observed": round(a, 3)}
                for b, n, m, a in self.reliability()
            ],
        }


def _cell(t: Tally) -> dict[str, float | int]:
    return {"n": t.n, "top1": round(t.pct(t.top1), 1), "top2": round(t.pct(t.top2), 1)}


def evaluate(
    cases: Iterable[Case], *, calibrated: bool = True, learned: bool = True, oof: bool = False
) -> dict[str, Part]:
    parts = {"dev": Part("dev"), "heldout": Part("heldout")}
    for case in cases:
        parts[case.split].outcomes.append(
            diagnose(case, calibrated=calibrated, learned=learned, oof=oof)
        )
    return parts


# Finding-strength steps of the rules' calibration table.
CALIBRATION_STEPS = (0.0, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.96, 0.98)
# Cases a step needs before its own accuracy is trusted; fewer are pooled with the step below.
CALIBRATION_MIN_CASES = 8


def fit_tables(outcomes: Iterable[Outcome]) -> Tables:
    """The tables, fitted apart: clear tops, tops the learned fallback disputes, and (undisputed)
    tops another named finding contests."""
    outcomes = list(outcomes)
    return Tables(
        rules=fit_calibration(o for o in outcomes if not o.disputed and not o.contested),
        disputed=fit_calibration(o for o in outcomes if o.disputed),
        contested=fit_calibration(o for o in outcomes if o.contested and not o.disputed),
    )


def fit_calibration(outcomes: Iterable[Outcome]) -> list[tuple[float, float]]:
    """Top finding's strength → observed accuracy, for findings of the rules (the learned fallback
    carries its own cross-validated figure). A step with fewer than CALIBRATION_MIN_CASES is
    merged into the one below; then adjacent steps that would show a stronger match as less
    likely are pooled (pool-adjacent-violators), so the table is monotone; each step shows the
    lower end of its accuracy's one-standard-error interval, never more than the cases show."""
    rule_made = [o for o in outcomes if o.by_rules]
    bins: list[list[float]] = []  # [lowest raw confidence, right, cases]
    for i, lo in enumerate(CALIBRATION_STEPS):
        hi = CALIBRATION_STEPS[i + 1] if i + 1 < len(CALIBRATION_STEPS) else 1.01
        inside = [o for o in rule_made if lo <= o.strength < hi]
        right, n = sum(o.right for o in inside), len(inside)
        if bins and (n < CALIBRATION_MIN_CASES or bins[-1][2] < CALIBRATION_MIN_CASES):
            bins[-1][1] += right
            bins[-1][2] += n
        elif n:
            bins.append([lo, right, n])
    merged = True
    while merged:
        merged = False
        for k in range(1, len(bins)):
            if bins[k][1] / bins[k][2] < bins[k - 1][1] / bins[k - 1][2]:
                bins[k - 1][1] += bins[k][1]
                bins[k - 1][2] += bins[k][2]
                del bins[k]
                merged = True
                break
    if bins:  # a strength below every observed one reads the lowest step
        bins[0][0] = 0.0
    return [(lo, round(_lower_bound(right, n), 3)) for lo, right, n in bins]


# One standard error: what a bin's accuracy is at least, with about 84 % certainty.
CALIBRATION_Z = 1.0


def _lower_bound(right: float, n: float) -> float:
    """The Wilson score interval's lower end of a bin's accuracy: a bin of a few dozen cases
    only tells its accuracy to within several points, and a confidence shown to on-call should
    not claim more than the cases support."""
    if n <= 0:
        return 0.0
    z = CALIBRATION_Z
    p = right / n
    centre = p + z * z / (2 * n)
    spread = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5)
    return (centre - spread) / (1 + z * z / n)


def cross_fitted(part: Part) -> Part:
    """The held-out part as it would look had its calibration been fitted on the *other* half
    only (two halves by source URL): the honest check of a table fitted on this part."""
    halves: tuple[list[Outcome], list[Outcome]] = ([], [])
    for o in part.outcomes:
        halves[int(hashlib.sha256(o.case.source.encode()).hexdigest(), 16) % 2].append(o)
    out = Part(f"{part.name} (cross-fitted)")
    for mine, other in ((halves[0], halves[1]), (halves[1], halves[0])):
        tables = fit_tables(other)
        out.outcomes.extend(o.recalibrated(tables) for o in mine)
    return out


def _table(parts: dict[str, Part], key: str, values: Sequence[str]) -> list[str]:
    head = (
        f"| {key} | dev n | dev top-1 | dev top-2 | held-out n | held-out top-1 | held-out top-2 |"
    )
    out = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for v in values:
        d, h = parts["dev"].tally(key, v), parts["heldout"].tally(key, v)
        if not d.n and not h.n:
            continue
        out.append(
            f"| {v} | {d.n} | {d.pct(d.top1):.0f} % | {d.pct(d.top2):.0f} % | "
            f"{h.n} | {h.pct(h.top1):.0f} % | {h.pct(h.top2):.0f} % |"
        )
    return out


def format_results(parts: dict[str, Part]) -> str:
    lines = [
        "| part | cases | top-1 | top-2 | wrong at ≥ 80 % | unknown |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for part in parts.values():
        t = part.tally()
        lines.append(
            f"| {part.name} | {t.n} | {t.pct(t.top1):.1f} % | {t.pct(t.top2):.1f} % | "
            f"{part.share('wrong_confident'):.1f} % | {part.unknown:.1f} % |"
        )
    lines += ["", *_table(parts, "stack", STACKS), "", *_table(parts, "cause", CAUSES), ""]
    names = list(parts)
    lines.append("| confidence shown | " + " | ".join(f"{n}: cases, right" for n in names) + " |")
    lines.append("|---|" + "---:|" * len(names))
    tables = [parts[n].reliability() for n in names]
    for rows in zip(*tables, strict=True):
        cells = [f"{n} × {a:.0%}" if n else "–" for _, n, _, a in rows]
        lines.append(f"| {rows[0][0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_misses(part: Part) -> str:
    rows = []
    for o in part.outcomes:
        if o.right:
            continue
        first = next((line for line in reversed(o.case.log) if line.strip()), "")[:110]
        rows.append(
            f"{o.case.name}: want {o.case.cause}, got {o.top} {o.confidence:.0%}"
            f" {list(o.recognised[:3])}\n    {first}"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--misses", action="store_true", help="list the development part's misses")
    parser.add_argument("--root", type=Path, default=FAILURES)
    parser.add_argument(
        "--oof",
        action="store_true",
        help="score each development case with a fallback model not trained on it",
    )
    parser.add_argument(
        "--rules-only", action="store_true", help="without the learned fallback and calibration"
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="fit the rules' confidence on the held-out part and write calibration.json",
    )
    parser.add_argument(
        "--dev-only",
        action="store_true",
        help="read and print the development part alone (while writing rules)",
    )
    args = parser.parse_args(argv)
    cases = load_all(args.root)
    if args.dev_only:
        if args.calibrate:
            parser.error("--calibrate fits on the held-out part; it cannot run with --dev-only")
        cases = [c for c in cases if c.split == "dev"]
    raw = evaluate(cases, calibrated=False, learned=not args.rules_only, oof=args.oof)
    if args.calibrate:
        # The only thing fitted on the held-out part: a monotone map of the rules' top confidence
        # (a handful of numbers). Rules and the learned model never see the held-out part.
        fitted = fit_tables(raw["heldout"].outcomes)
        CALIBRATION.write_text(
            json.dumps(
                {
                    "fitted_on": "held-out part, rules' findings",
                    "rules": fitted.rules,
                    "disputed": fitted.disputed,
                    "contested": fitted.contested,
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
        print(
            f"wrote {CALIBRATION.name}: {fitted.rules}; disputed: {fitted.disputed}; "
            f"contested: {fitted.contested}"
        )
        return 0
    tables = (
        Tables()
        if args.rules_only
        else Tables(rules=table(), disputed=table(key="disputed"), contested=table(key="contested"))
    )
    parts = {k: Part(k, [o.recalibrated(tables) for o in p.outcomes]) for k, p in raw.items()}
    if not args.rules_only:
        parts["heldout, cross-fitted"] = cross_fitted(raw["heldout"])
    if args.json:
        print(json.dumps({k: p.summary() for k, p in parts.items()}, indent=2))
    elif args.misses:
        print(format_misses(parts["dev"]))  # never the held-out part's
    else:
        print(format_results(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
