"""The failure corpus and the diagnosis measured on it.

The held-out figures must stay above the floor recorded in floor.json (raise it as the diagnosis
improves). The figures themselves are printed by `make eval` and go in the README.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from jobtriage.diagnosis import fallback
from jobtriage.diagnosis.calibration import table
from tests.corpus.cases import CAUSES, STACKS, Case, CaseError, load_all, load_case, split_of
from tests.corpus.evaluate import Outcome, evaluate, evidence_for

FLOOR = json.loads((Path(__file__).with_name("floor.json")).read_text(encoding="utf-8"))
CASES = load_all()


@pytest.fixture(scope="module")
def parts():  # type: ignore[no-untyped-def]
    return evaluate(CASES)


def test_every_case_has_its_form() -> None:
    assert len(CASES) >= FLOOR["min_cases"]
    assert all(c.cause in CAUSES and c.stack in STACKS for c in CASES)


def test_no_case_is_collected_twice() -> None:
    # The same failure from one thread, filed twice, would count twice.
    by_source = Counter((c.source.lower().rstrip("/"), c.log) for c in CASES)
    assert [s for s, n in by_source.items() if n > 1] == []


def test_every_stack_family_is_covered() -> None:
    counts = Counter(c.stack for c in CASES)
    short = {s: counts[s] for s in STACKS if counts[s] < FLOOR["min_cases_per_stack"]}
    assert short == {}


def test_split_is_by_source_and_about_seventy_thirty() -> None:
    assert split_of("https://github.com/a/b/issues/1") == split_of(
        "http://github.com/A/b/issues/1/"
    )
    held = sum(c.split == "heldout" for c in CASES) / len(CASES)
    assert 0.2 < held < 0.4


def test_a_case_without_its_header_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "node"
    folder.mkdir()
    bad = folder / "x.txt"
    bad.write_text("source: https://example.com/1\nstack: node\n---\nError\n", encoding="utf-8")
    with pytest.raises(CaseError, match="missing tool, cause, confirmed"):
        load_case(bad)
    bad.write_text(
        "source: https://example.com/1\nstack: go\ntool: t\ncause: db_connection\n"
        "confirmed: x\n---\nError\n",
        encoding="utf-8",
    )
    with pytest.raises(CaseError, match="under node/ but its stack is go"):
        load_case(bad)


def test_held_out_stays_above_the_floor(parts) -> None:  # type: ignore[no-untyped-def]
    held = parts["heldout"].summary()
    assert held["top1"] >= FLOOR["heldout_top1"], held
    assert held["top2"] >= FLOOR["heldout_top2"], held
    assert held["wrong_at_80"] <= FLOOR["heldout_wrong_at_80"], held


def test_the_learned_fallback_never_outranks_a_signature() -> None:
    # A case the rules name outright keeps the rules' cause and signature, whatever the model says.
    case = next(c for c in CASES if c.split == "dev" and c.cause == "quota_exceeded")
    from jobtriage.diagnosis.rank import run_analyzers

    found = run_analyzers(evidence_for(case)).findings
    assert found, case.name
    assert max(found, key=lambda f: f.strength).signature != "LEARNED"
    assert fallback.MAX_STRENGTH < fallback.RULES_SILENT_BELOW


def test_the_learned_fallback_speaks_when_rules_are_silent() -> None:
    from jobtriage.diagnosis.rank import run_analyzers
    from tests.corpus.evaluate import diagnose

    model = fallback.load()
    assert model is not None, "fallback_weights.json is missing: run make train"
    spoke = 0
    for case in (c for c in CASES if c.split == "dev"):
        rules = [f for f in run_analyzers(evidence_for(case), learned=False).findings]
        if any(f.strength >= fallback.RULES_SILENT_BELOW for f in rules):
            continue
        outcome = diagnose(case)
        if outcome.signature == "LEARNED":
            spoke += 1
            assert outcome.confidence <= 0.99
    assert spoke > 0


def test_the_fallback_quotes_the_lines_that_drove_it() -> None:
    model = fallback.load()
    assert model is not None
    lines = [
        "starting nightly export",
        "google.api_core.exceptions.TooManyRequests: 429 Quota exceeded for quota metric",
        "done",
    ]
    guess = fallback.score(model, lines)
    assert guess is not None
    assert guess.lines == (1,)  # the error line, not the chatter around it
    assert guess.cause in CAUSES
    assert 0.0 < guess.accuracy <= 1.0


def test_calibration_is_monotone() -> None:
    rows = table()
    assert rows, "calibration.json is missing: run make calibrate"
    values = [v for _, v in rows]
    assert values == sorted(values)
    assert all(0.0 <= v <= 1.0 for v in values)


@pytest.mark.parametrize(
    ("cause", "top", "recognised", "right2"),
    [
        ("secret_config", "db_connection", ("db_connection", "secret_config"), True),
        ("network_egress", "db_connection", ("db_connection", "secret_config"), False),
        # The top is a prior with no finding of its own above a weak finding: both count.
        ("entrypoint_runtime", "entrypoint_runtime", ("network_egress",), True),
        ("network_egress", "entrypoint_runtime", ("network_egress", "secret_config"), True),
        ("secret_config", "entrypoint_runtime", ("network_egress", "secret_config"), False),
    ],
)
def test_top_two_is_the_top_and_the_next_cause_with_a_finding(
    cause: str, top: str, recognised: tuple[str, ...], right2: bool
) -> None:
    case = Case(Path("x/y.txt"), "https://example.test/1", "go", "t", cause, "c", ("line",))
    outcome = Outcome(case, top, 0.3, recognised)
    assert outcome.right2 is right2
    assert outcome.right2 or not outcome.right  # top-2 is never below top-1
