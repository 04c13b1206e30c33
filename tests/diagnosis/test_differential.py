"""The differential: every cause considered gets a verdict and a reason, in both languages."""

from __future__ import annotations

import io
import json

from analyzers import ANALYZERS, UNKNOWN
from analyzers.base import Cause, Finding
from jobtriage.cli import main
from jobtriage.diagnosis.differential import differential
from jobtriage.diagnosis.model import RankedCause, Verdict
from jobtriage.evidence import Gap, Source
from jobtriage.text import LANGS, Text


def _cause(cid: str, hint: str | None = None) -> Cause:
    return Cause(
        id=cid,
        prior=0.1,
        name=Text(en=f"{cid} failed", ko=f"{cid} 실패"),
        checks=lambda ref: (),
        refute_hint=Text(en=hint, ko=f"{hint} (ko)") if hint else None,
    )


def _ranked(cid: str, confidence: float, strength: float | None = None) -> RankedCause:
    finding = (
        Finding(cause=cid, strength=strength, title=Text(en=f"{cid} seen", ko=f"{cid} 발견"))
        if strength is not None
        else None
    )
    return RankedCause(_cause(cid, f"no {cid} error in the log"), confidence, finding)


def _seed_differential() -> list[dict[str, object]]:
    out = io.StringIO()
    assert main(["demo", "--format", "json"], out=out) == 0
    entries: list[dict[str, object]] = json.loads(out.getvalue())["differential"]
    return entries


def test_seed_replay_weighs_the_seed_reports_four_hypotheses() -> None:
    entries = _seed_differential()
    by_id = {e["id"]: e for e in entries}
    assert entries[0]["id"] == "entrypoint_runtime"
    assert by_id["entrypoint_runtime"]["verdict"] == "likely"
    for cid in ("db_connection", "missing_artifact", "cloudsql_permission"):
        assert by_id[cid]["verdict"] in ("ruled_out", "unchecked"), by_id[cid]
        assert by_id[cid]["reason"]
    db = str(by_id["db_connection"]["reason"])
    assert "connection error" in db
    assert "lines read" in db
    assert "program crashed" in db  # what explains the failure instead
    assert all(set(e) == {"id", "verdict", "reason", "confidence"} for e in entries)
    assert "unknown" not in by_id


def test_seed_replay_differential_in_the_terminal_report() -> None:
    for lang in LANGS:
        out = io.StringIO()
        assert main(["demo", "--lang", lang], out=out) == 0
        text = out.getvalue()
        assert "entrypoint_runtime" in text
        marker = "[ruled out] db_connection" if lang == "en" else "[배제] db_connection"
        assert marker in text
        assert "[REDACTED]" not in text.split("## Commands")[0].split("## 조사 명령어")[0]


def test_every_verdict_is_reachable() -> None:
    causes = (
        _ranked("a", 0.8, strength=0.9),
        _ranked("b", 0.1, strength=0.5),
        _ranked("c", 0.05),
        _ranked("d", 0.05),
        RankedCause(UNKNOWN, 0.01),
    )
    gaps = (Gap(Source.ANALYZER, "analyzer d failed: KeyError"),)
    got = {h.id: h.verdict for h in differential(causes, lines_read=212, gaps=gaps)}
    assert got == {
        "a": Verdict.LIKELY,
        "b": Verdict.POSSIBLE,
        "c": Verdict.RULED_OUT,
        "d": Verdict.UNCHECKED,
    }


def test_ruled_out_says_what_was_looked_for_and_what_explains_it_instead() -> None:
    causes = (_ranked("a", 0.9, strength=0.9), _ranked("c", 0.1))
    ruled_out = differential(causes, lines_read=212)[1]
    assert ruled_out.verdict is Verdict.RULED_OUT
    assert ruled_out.reason.en == (
        "No c error in the log (212 lines read); explained instead by: a failed"
    )
    assert "212" in ruled_out.reason.ko
    assert "(ko)" in ruled_out.reason.ko


def test_nothing_recognised_leaves_the_rest_unchecked() -> None:
    causes = (RankedCause(UNKNOWN, 0.55), _ranked("a", 0.3), _ranked("b", 0.15, strength=0.1))
    got = differential(causes, lines_read=40)
    assert [(h.id, h.verdict) for h in got] == [("a", Verdict.UNCHECKED), ("b", Verdict.POSSIBLE)]
    assert "no other cause explains" in got[0].reason.en


def test_without_log_lines_nothing_is_ruled_out() -> None:
    causes = (_ranked("a", 0.9, strength=0.9), _ranked("c", 0.1))
    got = differential(causes, lines_read=0)
    assert got[1].verdict is Verdict.UNCHECKED
    assert got[1].reason.en == "No log lines to check it against"


def test_a_cause_without_a_refute_hint_still_gets_a_reason() -> None:
    bare = RankedCause(_cause("z"), 0.1)
    got = differential((_ranked("a", 0.9, strength=0.9), bare), lines_read=10)
    assert got[1].verdict is Verdict.RULED_OUT
    assert got[1].reason.en.startswith("No line names it")


def test_every_registered_cause_says_what_would_refute_it() -> None:
    assert [a.id for a in ANALYZERS if a.cause.refute_hint is None] == []


def test_reasons_are_scrubbed_at_every_exit() -> None:
    from dataclasses import replace

    from jobtriage.diagnosis.render import to_json, to_text
    from jobtriage.notify.alert import render_alert
    from tests.notify import reports as R
    from tests.notify.checks import assert_valid

    secret = "hunter2hunter2"
    base = R.esm_report()
    assert base.top.finding is not None
    title = Text(en=f"crash <!channel> password={secret}", ko=f"오류 <!channel> password={secret}")
    top = RankedCause(base.top.cause, 0.9, replace(base.top.finding, title=title))
    report = R.esm_report(causes=(top, *base.causes[1:]))
    assert secret in report.differential[0].reason.en  # unredacted in the model, as all evidence
    for lang in LANGS:
        assert secret not in to_json(report, lang=lang)
        assert secret not in to_text(report, lang=lang)
        message = render_alert(report, R.STATES["open"], lang=lang)
        assert_valid(message)
        assert secret not in json.dumps(message.payload(), ensure_ascii=False)


def test_a_log_not_read_in_full_rules_nothing_out() -> None:
    causes = (_ranked("a", 0.9, strength=0.9), _ranked("c", 0.1))
    gaps = (Gap(Source.LOGS, "read stopped after 100,000 lines", reason_ko="10만 줄에서 중단"),)
    got = differential(causes, lines_read=100_000, gaps=gaps)[1]
    assert got.verdict is Verdict.UNCHECKED
    assert got.reason.en == (
        "No c error in the log (100,000 lines read), but the log was not read in full: "
        "read stopped after 100,000 lines"
    )
    assert "10만 줄에서 중단" in got.reason.ko
