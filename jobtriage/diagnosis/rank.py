"""Run every analyzer over the evidence and rank the causes.

Ranking is a small Bayesian update: each cause starts at its prior (the seed report's 50/30/20/10
for the four causes it names, small priors for the rest); a finding multiplies it by a likelihood
ratio that grows steeply with the finding's strength (a 0.9 finding ≈ ×50). The results are
normalised so the confidences add up to 1. With no finding at all, `unknown` leads and the other
causes follow in prior order — the report then says what was seen instead of guessing.

The incident memory can scale the priors (`LearnedPriors`, from the causes on-call confirmed for
the job and its project, each factor within ×2 / ÷2): `rank_with_history` ranks with and without
them and says what moved; it breaks near-ties, and never unseats a top cause whose finding is at
least `HISTORY_NEVER_OVERRULES` strong.

Symptoms (`analyzers.symptoms`) are capped after every analyzer has run. An analyzer that raises
does not blank the report: its crash becomes a gap and the rest go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from analyzers import ANALYZERS, UNKNOWN, Analyzer, Fact, Finding
from analyzers.base import status_texts
from analyzers.symptoms import apply_symptoms
from jobtriage.diagnosis import fallback
from jobtriage.diagnosis.corroborate import corroborate
from jobtriage.diagnosis.model import HistoryEffect, LearnedPriors, RankedCause
from jobtriage.evidence import Evidence, Gap, Source
from jobtriage.text import Text

# Share of belief left for "something we do not recognise" when no analyzer found anything.
UNKNOWN_WHEN_SILENT = 0.55
# What a rules' finding below fallback.RULES_SILENT_BELOW weighs once the model has spoken.
WEAK_BESIDE_LEARNED = 0.1
# Below this strength a finding is a hint (a capped symptom, a bare crash marker), not a cause.
NAMES_A_CAUSE = 0.2
# Prior weight of `unknown` when at least one analyzer found something.
UNKNOWN_PRIOR = 0.02


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    findings: tuple[Finding, ...]
    gaps: tuple[Gap, ...]
    # The learned fallback's cause when the rules named one themselves: an independent reading
    # of the same lines. Where it disagrees with the rules' top cause, the rules are right far
    # less often, and the calibration shows a lower confidence (`calibration.calibrate`).
    second_opinion: str | None = None
    # That cause as a finding of its own, when no rule saw it at all: the report offers it as
    # the next cause to check, never above the rules' top (`build_report`).
    alternative: Finding | None = None


def run_analyzers(
    evidence: Evidence,
    analyzers: Sequence[Analyzer] = ANALYZERS,
    *,
    learned: bool = True,
    model: fallback.Model | None = None,
) -> AnalysisResult:
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
                    reason_ko=f"분석기 {analyzer.id} 실패: {type(exc).__name__}",
                    fix_ko="나머지 원인은 평가됨; 버그로 보고해 주세요",
                )
            )
            continue
        if finding is not None:
            if finding.cause != analyzer.id:
                gaps.append(
                    Gap(
                        Source.ANALYZER,
                        f"analyzer {analyzer.id} returned cause {finding.cause}",
                        reason_ko=f"분석기 {analyzer.id}가 다른 원인 {finding.cause}을(를) 반환함",
                    )
                )
                continue
            findings.append(finding)
    found = corroborate(apply_symptoms(findings), evidence)  # facts beyond the logs
    guess = learned_finding(evidence, found, analyzers, model) if learned else None
    if guess is not None:  # the model explains the weak markers the rules saw (bare crashes)
        weak = (replace(f, strength=min(f.strength, WEAK_BESIDE_LEARNED)) for f in found)
        found = (*(f for f in weak if f.cause != guess.cause), guess)
    # Where a rule named a cause, the model reads the same lines once: its own first choice
    # (a second opinion on the rules' top), and its best cause besides the rules' (offered as
    # the next one to check).
    second = _reading(evidence, found, model) if learned and guess is None else None
    named = max(found, key=lambda f: f.strength, default=None)
    other = second.best() if second else None
    nxt = (
        second.best(excluding=named.cause, min_probability=RUNNER_UP_FROM)
        if second and named
        else None
    )
    alternative = _alternative(evidence, found, analyzers, nxt) if nxt else None
    return AnalysisResult(found, tuple(gaps), other.cause if other else None, alternative)


def _model_lines(evidence: Evidence) -> list[str]:
    statuses = [s.text for s in status_texts(evidence)]
    return [*(line.text for line in evidence.logs[-fallback.MAX_LINES :]), *statuses]


def _reading(
    evidence: Evidence, findings: Sequence[Finding], model: fallback.Model | None = None
) -> fallback.Reading | None:
    """The learned fallback's reading, when a rule already named a cause (None when the rules
    are silent: the fallback then speaks for itself)."""
    if not any(f.strength >= fallback.RULES_SILENT_BELOW for f in findings):
        return None
    return fallback.reading(_model_lines(evidence), model)


# The fallback's best cause besides the rules' is offered from this probability on (chosen on
# the development part, out of fold).
RUNNER_UP_FROM = 0.1


# The learned alternative's strength: a hint to check next, below every named error (≥ 0.6).
ALTERNATIVE_MAX = 0.45

_ALTERNATIVE_TITLE = Text(
    en="Also worth checking: {name} (similar failures were of this kind; no known error "
    "message of it matched)",
    ko="함께 확인할 원인: {name} (유사 사례가 이 유형이었음; 해당 오류 메시지는 일치하지 않음)",
)


def _alternative(
    evidence: Evidence,
    findings: Sequence[Finding],
    analyzers: Sequence[Analyzer],
    guess: fallback.Guess,
) -> Finding | None:
    """The fallback's cause as a weak finding of its own, when no rule saw that cause at all."""
    by_id = {a.id: a.cause for a in analyzers}
    if guess.cause not in by_id or any(f.cause == guess.cause for f in findings):
        return None
    cause = by_id[guess.cause]
    tail = evidence.logs[-fallback.MAX_LINES :]
    return Finding(
        cause=cause.id,
        strength=min(ALTERNATIVE_MAX, fallback.MAX_STRENGTH * guess.accuracy),
        title=Text(
            en=_ALTERNATIVE_TITLE.en.format(name=cause.name.en),
            ko=_ALTERNATIVE_TITLE.ko.format(name=cause.name.ko),
        ),
        facts=tuple(Fact.from_line(tail[i]) for i in guess.lines if i < len(tail)),
        signature="LEARNED_ALTERNATIVE",
        checks=cause.checks(evidence.ref),
        calibrated=guess.accuracy,
    )


_LEARNED_TITLE = Text(
    en="Looks like: {name} (learned from similar failures; no known error message matched)",
    ko="유사 사례 기반 추정: {name} (알려진 오류 메시지와는 일치하지 않음)",
)


def learned_finding(
    evidence: Evidence,
    findings: Sequence[Finding],
    analyzers: Sequence[Analyzer],
    model: fallback.Model | None = None,
) -> Finding | None:
    """The learned fallback's finding, when the rules found nothing that names a cause."""
    if any(f.strength >= fallback.RULES_SILENT_BELOW for f in findings):
        return None
    tail = evidence.logs[-fallback.MAX_LINES :]
    guess = fallback.guess(_model_lines(evidence), model)
    by_id = {a.id: a.cause for a in analyzers}
    if guess is None or guess.cause not in by_id:
        return None
    cause = by_id[guess.cause]
    quoted = [tail[i] for i in guess.lines if i < len(tail)]
    earlier = next((f for f in findings if f.cause == cause.id), None)
    return Finding(
        cause=cause.id,
        strength=max(fallback.MAX_STRENGTH * guess.accuracy, earlier.strength if earlier else 0),
        title=Text(
            en=_LEARNED_TITLE.en.format(name=cause.name.en),
            ko=_LEARNED_TITLE.ko.format(name=cause.name.ko),
        ),
        facts=tuple(Fact.from_line(line) for line in quoted) + (earlier.facts if earlier else ()),
        signature="LEARNED",
        checks=cause.checks(evidence.ref),
        calibrated=guess.accuracy,
    )


def likelihood_ratio(strength: float) -> float:
    """0.2 → ~2, 0.5 → ~7, 0.9 → ~50, 0.99 → ~90: strong evidence overrides any prior."""
    return float(1.0 + 99.0 * strength**2.2)


def base_priors(analyzers: Sequence[Analyzer] = ANALYZERS) -> dict[str, float]:
    """Each cause's prior as its analyzer declares it (what learned priors start from)."""
    return {a.id: a.cause.prior for a in analyzers}


def rank(
    findings: Sequence[Finding],
    analyzers: Sequence[Analyzer] = ANALYZERS,
    *,
    priors: LearnedPriors | None = None,
) -> tuple[RankedCause, ...]:
    """The causes, most likely first. `priors` (the incident memory's) scales each cause's prior
    before the evidence is weighed."""
    by_cause = {f.cause: f for f in findings}
    order = {a.id: i for i, a in enumerate(analyzers)}
    prior = {a.id: a.cause.prior * (priors.factor(a.id) if priors else 1.0) for a in analyzers}
    if all(f.strength < NAMES_A_CAUSE for f in by_cause.values()):
        # Nothing names a cause (no finding, or only capped symptoms): `unknown` leads rather
        # than the cause with the largest prior and no evidence; weak findings stay attached.
        total_prior = sum(prior.values()) or 1.0
        ranked = [RankedCause(UNKNOWN, UNKNOWN_WHEN_SILENT)]
        ranked += [
            RankedCause(
                a.cause, (1 - UNKNOWN_WHEN_SILENT) * prior[a.id] / total_prior, by_cause.get(a.id)
            )
            for a in analyzers
        ]
    else:
        weights = {
            a.id: prior[a.id]
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


# History breaks ties; it never overrules a finding this strong.
HISTORY_NEVER_OVERRULES = 0.8
# Pairs the history moved that the report names ("history moved X above Y"), among the first
# causes of the order.
MOVED_SHOWN = 2
MOVED_AMONG = 3


def rank_with_history(
    findings: Sequence[Finding], analyzers: Sequence[Analyzer], priors: LearnedPriors
) -> tuple[tuple[RankedCause, ...], HistoryEffect]:
    """The ranking from the learned priors, and what it changed against the base priors'. When
    the learned priors would unseat a top cause whose finding is at least
    `HISTORY_NEVER_OVERRULES` strong, the base ranking stands (`HistoryEffect.held`)."""
    base = rank(findings, analyzers)
    learned = rank(findings, analyzers, priors=priors)
    top = base[0]
    if (
        learned[0].id != top.id
        and top.finding is not None
        and top.finding.strength >= HISTORY_NEVER_OVERRULES
    ):
        return base, HistoryEffect(priors, held=top.id)
    position = {rc.id: i for i, rc in enumerate(base)}
    moved: list[tuple[str, str]] = []
    for i, x in enumerate(learned[:MOVED_AMONG]):
        for y in learned[i + 1 :]:
            if position[y.id] < position[x.id]:
                moved.append((x.id, y.id))
    return learned, HistoryEffect(priors, moved=tuple(moved[:MOVED_SHOWN]))
