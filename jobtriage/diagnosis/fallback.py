"""The learned fallback: when no signature names the failure, what do similar failures say?

A linear model over word uni- and bigrams and character 4-grams of the log (and Cloud Run's status
text), trained on the failure corpus's development part by `tests/corpus/train.py` (`make train`)
and shipped as a small JSON weights file. Scoring is plain Python — no numerical library on the
function's cold path; the file is read on first use only.

Its finding is capped at `MAX_STRENGTH`, below every real signature, so a recognised error always
wins; it quotes the lines whose words pushed the model hardest towards its answer, and its
confidence is the model's cross-validated accuracy at that score, not the raw score.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

WEIGHTS = Path(__file__).with_name("fallback_weights.json")

# Below every signature's strength (≥ 0.6 for anything that names a cause), above a bare crash.
MAX_STRENGTH = 0.55
# The model speaks only when rules found nothing stronger than this.
RULES_SILENT_BELOW = 0.6
# At most this many lines (the last ones, where errors are) are scored.
MAX_LINES = 400

# A second quoted line must have pushed at least this share of what the first one did.
QUOTE_SHARE = 0.5

_TOKEN = re.compile(r"[a-z][a-z0-9_]*(?:[.:][a-z0-9_]+)*")
_HEX = re.compile(r"^[a-f0-9]{6,}$")


def tokens(text: str) -> list[str]:
    """Lower-cased words; numbers and hex ids dropped (they name instances, not kinds)."""
    return [t for t in _TOKEN.findall(text.lower()) if not _HEX.match(t) and len(t) < 60]


CHAR_N = 4


def features(text: str) -> set[str]:
    """Word unigrams and bigrams of one line, and the character 4-grams of its words (`c:` —
    they carry `authentication` over to `authenticate`, `ECONNREFUSED` over to `:econnrefused`).
    The exact features the training script uses."""
    words = tokens(text)
    out = set(words)
    out.update(f"{a} {b}" for a, b in pairwise(words))
    for word in words:
        padded = f"#{word}#"
        out.update("c:" + padded[i : i + CHAR_N] for i in range(len(padded) - CHAR_N + 1))
    return out


@dataclass(frozen=True, slots=True)
class Model:
    classes: tuple[str, ...]
    intercept: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]
    # (lowest top probability, observed accuracy) rows, ascending: cross-validated on dev
    reliability: tuple[tuple[float, float], ...]
    min_probability: float

    def accuracy_at(self, probability: float) -> float:
        acc = 0.0
        for lo, observed in self.reliability:
            if probability >= lo:
                acc = observed
        return acc


@cache
def load(path: Path = WEIGHTS) -> Model | None:
    """The shipped model, or None when no weights file is present (rules still work)."""
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return Model(
        classes=tuple(data["classes"]),
        intercept=tuple(float(x) for x in data["intercept"]),
        weights={k: tuple(float(x) for x in v) for k, v in data["weights"].items()},
        reliability=tuple((float(a), float(b)) for a, b in data["reliability"]),
        min_probability=float(data["min_probability"]),
    )


@dataclass(frozen=True, slots=True)
class Guess:
    cause: str
    probability: float
    accuracy: float  # cross-validated accuracy of the model at this probability
    lines: tuple[int, ...]  # indexes (into the texts given) of the lines that drove it


@dataclass(frozen=True, slots=True)
class Reading:
    """The model's reading of one log, scored once: every cause's probability, and each line's
    features (to quote the lines behind a guess)."""

    model: Model
    probabilities: tuple[float, ...]
    per_line: tuple[set[str], ...]
    offset: int  # index of the first scored line in the texts given

    def best(
        self, *, excluding: str | None = None, min_probability: float | None = None
    ) -> Guess | None:
        """The most likely cause (other than `excluding`: the cause the rules named), or None
        below `min_probability` (default: the model's own threshold for speaking). For a cause
        other than the model's first, `accuracy` is the model's at that probability as a first
        choice: an upper bound."""
        model = self.model
        floor = model.min_probability if min_probability is None else min_probability
        candidates = [i for i, c in enumerate(model.classes) if c != excluding]
        if not candidates:
            return None
        top = max(candidates, key=lambda i: self.probabilities[i])
        probability = self.probabilities[top]
        if probability < floor:
            return None
        contribution = []
        for index, feats in enumerate(self.per_line):
            c = sum(model.weights[f][top] for f in feats if f in model.weights)
            contribution.append((c, index))
        ranked = sorted((c for c in contribution if c[0] > 0), reverse=True)[:2]
        # a second line only when it pushed nearly as hard as the first (not the chatter around it)
        quoted = [c for c in ranked if c[0] >= QUOTE_SHARE * ranked[0][0]] if ranked else []
        return Guess(
            cause=model.classes[top],
            probability=probability,
            accuracy=model.accuracy_at(probability),
            lines=tuple(sorted(self.offset + i for _, i in quoted)),
        )


def read(model: Model, texts: Sequence[str]) -> Reading:
    """Score the last `MAX_LINES` of `texts` once."""
    lines = list(texts)[-MAX_LINES:]
    per_line = tuple(features(t) for t in lines)
    present: set[str] = set().union(*per_line) if per_line else set()
    n = len(model.classes)
    logits = list(model.intercept)
    for feat in present:
        w = model.weights.get(feat)
        if w is not None:
            for i in range(n):
                logits[i] += w[i]
    peak = max(logits)
    exps = [math.exp(x - peak) for x in logits]
    total = sum(exps)
    return Reading(model, tuple(e / total for e in exps), per_line, max(0, len(texts) - MAX_LINES))


def score(model: Model, texts: Sequence[str]) -> Guess | None:
    """The model's best cause for these lines, or None when it is not sure enough."""
    return read(model, texts).best()


def reading(texts: Iterable[str], model: Model | None = None) -> Reading | None:
    """The shipped model's reading (or `model`'s), None without a weights file."""
    model = model if model is not None else load()
    return read(model, list(texts)) if model is not None else None


def guess(texts: Iterable[str], model: Model | None = None) -> Guess | None:
    """The shipped model's guess (or `model`'s: the corpus evaluation scores each development
    case with a model that was not trained on it)."""
    model = model if model is not None else load()
    if model is None:
        return None
    return score(model, list(texts))
