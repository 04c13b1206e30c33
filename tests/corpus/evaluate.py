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
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jobtriage.diagnosis import Report, build_report
from jobtriage.diagnosis.calibration import TABLE as CALIBRATION
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

    @property
    def right(self) -> bool:
        return self.top == self.case.cause

    @property
    def right2(self) -> bool:
        return self.case.cause in self.recognised[:2]

    @property
    def wrong_confident(self) -> bool:
        return not self.right and self.top != "unknown" and self.confidence >= WRONG_AT


def diagnose(case: Case, *, calibrated: bool = True, learned: bool = True) -> Outcome:
    report: Report = build_report(evidence_for(case), calibrated=calibrated, learned=learned)
    recognised = tuple(c.id for c in report.causes if c.finding is not None)
    top = report.top.finding
    return Outcome(
        case, report.top.id, report.top.confidence, recognised, top.signature if top else ""
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
    cases: Iterable[Case], *, calibrated: bool = True, learned: bool = True
) -> dict[str, Part]:
    parts = {"dev": Part("dev"), "heldout": Part("heldout")}
    for case in cases:
        parts[case.split].outcomes.append(diagnose(case, calibrated=calibrated, learned=learned))
    return parts


# Raw-confidence steps of the rules' calibration table.
CALIBRATION_STEPS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)
# Cases a step needs before its own accuracy is trusted; fewer are pooled with the step below.
CALIBRATION_MIN_CASES = 8


def fit_calibration(dev: Part) -> list[list[float]]:
    """Raw top confidence → observed accuracy on the development part, for findings of the rules
    (the learned fallback carries its own cross-validated figure). Pooled and monotone."""
    rule_made = [o for o in dev.outcomes if o.top != "unknown" and o.signature != "LEARNED"]
    rows: list[list[float]] = []
    for i, lo in enumerate(CALIBRATION_STEPS):
        hi = CALIBRATION_STEPS[i + 1] if i + 1 < len(CALIBRATION_STEPS) else 1.01
        inside = [o for o in rule_made if lo <= o.confidence < hi]
        if len(inside) < CALIBRATION_MIN_CASES and rows:
            continue  # too few: the step below speaks for these
        if not inside:
            continue
        rows.append([lo, round(sum(o.right for o in inside) / len(inside), 3)])
    for i in range(1, len(rows)):
        rows[i][1] = max(rows[i][1], rows[i - 1][1])
    return rows


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
    lines += [
        "| confidence shown | dev cases | dev observed | held-out cases | held-out observed |"
    ]
    lines += ["|---|---:|---:|---:|---:|"]
    for d, h in zip(parts["dev"].reliability(), parts["heldout"].reliability(), strict=True):
        lines.append(
            f"| {d[0]} | {d[1]} | {d[3]:.0%} | {h[1]} | {h[3]:.0%} |"
            if d[1] or h[1]
            else f"| {d[0]} | 0 | – | 0 | – |"
        )
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
        "--rules-only", action="store_true", help="without the learned fallback and calibration"
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="fit the rules' confidence on the development part and write calibration.json",
    )
    args = parser.parse_args(argv)
    if args.calibrate:
        raw = evaluate((c for c in load_all(args.root) if c.split == "dev"), calibrated=False)
        rows = fit_calibration(raw["dev"])
        CALIBRATION.write_text(json.dumps({"rules": rows}, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION.name}: {rows}")
        return 0
    plain = args.rules_only
    parts = evaluate(load_all(args.root), calibrated=not plain, learned=not plain)
    if args.json:
        print(json.dumps({k: p.summary() for k, p in parts.items()}, indent=2))
    elif args.misses:
        print(format_misses(parts["dev"]))  # never the held-out part's
    else:
        print(format_results(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
