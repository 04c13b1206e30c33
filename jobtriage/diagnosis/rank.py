"""Run every analyzer over the evidence and rank the causes.

Ranking is a small Bayesian update: each cause starts at its prior (the seed report's 50/30/20/10
for the four causes it names, small priors for the rest); a finding multiplies it by a likelihood
ratio that grows steeply with the finding's strength (a 0.9 finding ≈ ×50). The results are
normalised so the confidences add up to 1. With no finding at all, `unknown` leads and the other
causes follow in prior order — the report then says what was seen instead of guessing.

Symptoms (`analyzers.symptoms`) are capped after every analyzer has run. An analyzer that raises
does not blank the report: its crash becomes a gap and the rest go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analyzers import ANALYZERS, UNKNOWN, Analyzer, Finding
from analyzers.symptoms import apply_symptoms
from jobtriage.diagnosis.model import RankedCause
from jobtriage.evidence import Evidence, Gap, Source

# Share of belief left for "something we do not recognise" when no analyzer found anything.
UNKNOWN_WHEN_SILENT = 0.55
# Prior weight of `unknown` when at least one analyzer found something.
UNKNOWN_PRIOR = 0.02


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    findings: tuple[Finding, ...]
    gaps: tuple[Gap, ...]


def run_analyzers(evidence: Evidence, analyzers: Sequence[Analyzer] = ANALYZERS) -> AnalysisResult:
    findings: list[Finding] = []
    gaps: list[Gap] = []
    for analyzer in analyzers:
        try:
            finding = analyzer.analyze(evidence)
        except Exception as exc:
            gaps.append(
                Gap(
                    Source.ANALYZER,
                    f"analyzer {analyzer.id} failed: {type(exc).__name__}",
                    "the other causes were still evaluated; report this as a bug",
                )
            )
            continue
        if finding is not None:
            if finding.cause != analyzer.id:
                gaps.append(
                    Gap(Source.ANALYZER, f"analyzer {analyzer.id} returned cause {finding.cause}")
                )
                continue
            findings.append(finding)
    return AnalysisResult(apply_symptoms(findings), tuple(gaps))


def likelihood_ratio(strength: float) -> float:
    """0.2 → ~2, 0.5 → ~7, 0.9 → ~50, 0.99 → ~90: strong evidence overrides any prior."""
    return float(1.0 + 99.0 * strength**2.2)


def rank(
    findings: Sequence[Finding], analyzers: Sequence[Analyzer] = ANALYZERS
) -> tuple[RankedCause, ...]:
    by_cause = {f.cause: f for f in findings}
    order = {a.id: i for i, a in enumerate(analyzers)}
    if not by_cause:
        total_prior = sum(a.cause.prior for a in analyzers) or 1.0
        ranked = [RankedCause(UNKNOWN, UNKNOWN_WHEN_SILENT)]
        ranked += [
            RankedCause(a.cause, (1 - UNKNOWN_WHEN_SILENT) * a.cause.prior / total_prior)
            for a in analyzers
        ]
    else:
        weights = {
            a.id: a.cause.prior
            * (likelihood_ratio(by_cause[a.id].strength) if a.id in by_cause else 1.0)
            for a in analyzers
        }
        total = sum(weights.values()) + UNKNOWN_PRIOR
        ranked = [
            RankedCause(a.cause, weights[a.id] / total, by_cause.get(a.id)) for a in analyzers
        ]
        ranked.append(RankedCause(UNKNOWN, UNKNOWN_PRIOR / total))
    ranked.sort(key=lambda r: (-r.confidence, r.finding is None, order.get(r.id, len(order))))
    return tuple(ranked)
