"""Make the confidence the report prints mean what it says.

The ranking's posterior is a good order but a poor number: a single matching line gives 90 %+
whether or not that signature is right nine times in ten, and the seed's priors push it higher
still for the seed's causes (on the corpus's held-out part, tops shown at 90–100 % were right
less often than those at 70–80 %). What does track accuracy is the strength of the top finding —
how specific its signature is. `calibration.json` maps that strength to the accuracy observed
(`make calibrate`; pool-adjacent-violators, so a stronger match never shows less). The learned
fallback brings its own cross-validated accuracy (`Finding.calibrated`). The top cause shows the
calibrated figure; the others share the rest in their ranked proportions and never overtake it.
The held-out part then shows whether it holds (`make eval`, reliability table).

A second table is for a top cause the learned fallback disputes: the model read the same lines
independently and prefers another cause. On the held-out part such tops were right about half as
often as the undisputed ones at the same strength, so they show their own observed figure.

A third is for a contested top: another cause's finding is itself a named signature (strength at
least `CONTESTED_AT`), so the log says two things. On the development part such tops shown at
80 % or more were right 7 times in 13 (clear ones: 400 in 423); they show their own figure too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

from jobtriage.diagnosis.model import RankedCause

TABLE = Path(__file__).with_name("calibration.json")
# Another cause's finding at least this strong makes the top contested (a named signature, not a
# capped symptom or a bare crash).
CONTESTED_AT = 0.6


@cache
def table(path: Path = TABLE, key: str = "rules") -> tuple[tuple[float, float], ...]:
    """(lowest finding strength, calibrated confidence) rows, ascending; empty without a file.
    `key="disputed"`: the rows for a top cause the learned fallback disagrees with;
    `key="contested"`: for a top cause another named finding competes with."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8")).get(key, ())
    except FileNotFoundError:
        return ()
    return tuple((float(lo), float(value)) for lo, value in rows)


def calibrated_top(strength: float, rows: Sequence[tuple[float, float]]) -> float:
    value = strength
    for lo, calibrated in rows:
        if strength >= lo:
            value = calibrated
    return value


def contested(ranked: Sequence[RankedCause]) -> bool:
    """Another cause than the top one has a named finding (`CONTESTED_AT`)."""
    return any(r.finding is not None and r.finding.strength >= CONTESTED_AT for r in ranked[1:])


def calibrate(
    ranked: Sequence[RankedCause], *, disputed: bool = False, contested: bool = False
) -> tuple[RankedCause, ...]:
    """The same order with the top cause's confidence calibrated (unknown is left as it is);
    `disputed`: the learned fallback prefers another cause than the top one; `contested`:
    another cause has a named finding too (`contested()`). Disputed reads its table first."""
    if not ranked or ranked[0].finding is None:
        return tuple(ranked)
    top = ranked[0]
    finding = top.finding
    assert finding is not None
    if finding.calibrated is not None:
        target = finding.calibrated
    else:
        rows = (
            (table(key="disputed") if disputed else ())
            or (table(key="contested") if contested else ())
            or table()
        )
        if not rows:
            return tuple(ranked)
        target = calibrated_top(finding.strength, rows)
    target = min(0.99, max(0.01, target))
    rest = sum(r.confidence for r in ranked[1:])
    scale = (1.0 - target) / rest if rest > 0 else 0.0
    out = [replace(top, confidence=target)]
    out += [replace(r, confidence=min(target, r.confidence * scale)) for r in ranked[1:]]
    return tuple(out)
