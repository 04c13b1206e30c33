"""Train the learned fallback on the failure corpus's development part (`make train`).

Reads only the development part (the held-out part is never loaded), fits a logistic regression
over the same word and character n-gram features `jobtriage.diagnosis.fallback` scores at run time,
and writes `jobtriage/diagnosis/fallback_weights.json`: the weights, the lowest probability at
which the model may speak, and a reliability table (top probability → accuracy) measured by 5-fold
cross- validation on the development part, which is what the report shows as the fallback's
confidence. Deterministic: fixed folds and solver, sorted features; the same corpus gives the same
file.

Needs scikit-learn (requirements-train.txt, installed into .venv-train by `make train`); the
product itself only reads the JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2]))

import numpy as np  # noqa: E402
from sklearn.feature_extraction import DictVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from jobtriage.diagnosis.fallback import MAX_LINES, WEIGHTS, features  # noqa: E402
from tests.corpus.cases import Case, load_all  # noqa: E402

C_GRID = (0.1, 0.3, 1.0)
FOLDS = 5
# Probability steps of the reliability table.
STEPS = (0.0, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
# The model speaks only where its cross-validated accuracy is at least this.
MIN_ACCURACY = 0.4
KEEP_FEATURES = 8000


def doc(case: Case) -> dict[str, int]:
    texts = [*case.log[-MAX_LINES:], *([case.status] if case.status else [])]
    out: dict[str, int] = {}
    for text in texts:
        for feat in features(text):
            out[feat] = 1
    return out


def fit(x: object, y: np.ndarray, c: float) -> LogisticRegression:
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced", solver="lbfgs")
    model.fit(x, y)
    return model


FOLDS_DIR = HERE.parents[2] / "build" / "fallback-folds"


def export(model: LogisticRegression, vec: DictVectorizer, meta: dict[str, object]) -> dict:  # type: ignore[type-arg]
    names = vec.get_feature_names_out()
    coef = model.coef_  # (classes, features)
    strength = np.abs(coef).max(axis=0)
    keep = np.argsort(-strength, kind="stable")[:KEEP_FEATURES]
    weights = {
        str(names[j]): [round(float(coef[i, j]), 4) for i in range(coef.shape[0])]
        for j in sorted(keep, key=lambda j: str(names[j]))
        if strength[j] >= 0.01
    }
    return {
        "classes": [str(c) for c in model.classes_],
        "intercept": [round(float(v), 4) for v in model.intercept_],
        "weights": weights,
        **meta,
    }


def write_fold_models(cases, x, y, c, folds, min_probability, reliability, vec) -> None:  # type: ignore[no-untyped-def]
    """One model per fold, trained without that fold, and which case is in which fold: the
    evaluation scores each development case with the model that never saw it (`make eval
    ARGS=--oof`), so the development figures of the learned fallback are out-of-sample too."""
    FOLDS_DIR.mkdir(parents=True, exist_ok=True)
    where: dict[str, int] = {}
    for k, (train, test) in enumerate(folds):
        model = fit(x[train], y[train], c)
        meta = {"min_probability": min_probability, "reliability": reliability}
        (FOLDS_DIR / f"fold{k}.json").write_text(json.dumps(export(model, vec, meta)))
        where.update({cases[i].name: k for i in test})
    (FOLDS_DIR / "folds.json").write_text(json.dumps(where, sort_keys=True))


def main() -> int:
    cases = [c for c in load_all() if c.split == "dev"]
    docs = [doc(c) for c in cases]
    y = np.array([c.cause for c in cases])
    vec = DictVectorizer(sort=True)
    x = vec.fit_transform(docs)
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=7).split(x, y))
    best_c, best_acc, best_oof = C_GRID[0], -1.0, None
    for c in C_GRID:
        oof_p = np.zeros(len(cases))
        oof_ok = np.zeros(len(cases), dtype=bool)
        for train, test in folds:
            model = fit(x[train], y[train], c)
            proba = model.predict_proba(x[test])
            pred = model.classes_[proba.argmax(axis=1)]
            oof_p[test] = proba.max(axis=1)
            oof_ok[test] = pred == y[test]
        acc = float(oof_ok.mean())
        print(f"C={c}: cross-validated top-1 {acc:.3f}")
        if acc > best_acc:
            best_c, best_acc, best_oof = c, acc, (oof_p, oof_ok)
    assert best_oof is not None
    oof_p, oof_ok = best_oof
    reliability = []
    for lo in STEPS:
        inside = oof_p >= lo
        hi_mask = inside & (oof_p < next((s for s in STEPS if s > lo), 1.01))
        observed = float(oof_ok[hi_mask].mean()) if hi_mask.any() else float(oof_ok[inside].mean())
        reliability.append([lo, round(observed, 3)])
    # the model speaks from the lowest step whose own bin and every higher one are right at
    # least MIN_ACCURACY of the time
    min_probability = STEPS[-1]
    for lo, observed in reversed(reliability):
        if observed < MIN_ACCURACY:
            break
        min_probability = lo
    # make the table monotone (a higher score never shows a lower confidence)
    for i in range(1, len(reliability)):
        reliability[i][1] = max(reliability[i][1], reliability[i - 1][1])
    write_fold_models(cases, x, y, best_c, folds, min_probability, reliability, vec)
    model = fit(x, y, best_c)
    out = export(
        model,
        vec,
        {
            "trained_on": f"{len(cases)} development cases of tests/corpus/failures",
            "C": best_c,
            "cross_validated_top1": round(best_acc, 3),
            "min_probability": min_probability,
            "reliability": reliability,
        },
    )
    weights = out["weights"]
    WEIGHTS.write_text(json.dumps(out, separators=(",", ":"), sort_keys=True) + "\n")
    print(
        f"wrote {WEIGHTS.relative_to(HERE.parents[2])}: {len(weights)} features, C={best_c}, "
        f"speaks at p ≥ {min_probability}, reliability {reliability}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
