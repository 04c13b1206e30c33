"""However large the report, the message fits Slack: ≤50 blocks, every limit kept, total under
budget, and every cut is visible."""

from __future__ import annotations

from dataclasses import replace

import pytest

from analyzers.base import Check, Finding
from jobtriage.diagnosis.model import Change, Links, RankedCause, Report
from jobtriage.evidence import ExecutionRef, Gap, Source
from jobtriage.notify import fit as F
from jobtriage.notify import limits as B
from jobtriage.notify.alert import render_alert
from jobtriage.notify.mrkdwn import TRUNCATION_MARKER
from jobtriage.notify.repeat import render_repeat
from jobtriage.notify.state import render_state_update
from jobtriage.text import Text
from standins.slack import block_kit_errors
from tests.notify import reports as R
from tests.notify.checks import assert_valid

MEGABYTE = 1_000_000


def huge_report(*, line: str = "x", long_names: bool = False) -> Report:
    """60 causes, 200 changes, 1 MB of evidence lines, 30 gaps; optionally 1,000-char names."""
    per_line = 2000  # what evidence keeps of one line (MAX_LINE_CHARS)
    facts = tuple(R.log_fact(i, f"{i:05d} " + line * per_line) for i in range(MEGABYTE // per_line))
    finding = replace(
        R.esm_finding(facts), checks=(Check(Text(en="run", ko="실행"), "echo " + "y" * 5000),)
    )
    causes = (
        RankedCause(R.ESM, 0.4, finding),
        *(
            # each above the 2 % a cause needs to be listed in Slack without a finding
            RankedCause(R.cause(f"cause_{i}", f"Cause {i} " + "w" * 200, f"원인 {i}", 0.01), 0.03)
            for i in range(59)
        ),
    )
    changes = tuple(
        Change(
            field=f"env_{i}",
            before="a" * 3000,
            after="b" * 3000,
            related_cause="entrypoint_runtime" if i % 7 == 0 else None,
        )
        for i in range(200)
    )
    gaps = tuple(
        Gap(source=Source.LOGS, reason="denied " * 300, fix="grant " * 300) for _ in range(30)
    )
    report = R.esm_report(causes=causes, changes=changes, gaps=gaps, last_lines=facts, suspects=())
    if long_names:
        name = "n" * 1000
        ref = ExecutionRef(project=name, region=name, job=name, execution=name)
        report = replace(
            report,
            summary=replace(report.summary, ref=ref, started_by="s" * 5000),
            links=Links(
                execution="https://console.cloud.google.com/" + "e" * 5000, logs="", job=""
            ),
        )
    return report


CASES = {
    "plain": lambda: huge_report(),
    "escaped": lambda: huge_report(line="<"),  # escaping makes every character four
    "backticks": lambda: huge_report(line="`"),
    "long_names": lambda: huge_report(long_names=True),
    "mentions": lambda: huge_report(line="<!channel> "),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_huge_report_fits(case: str, lang: str) -> None:
    report = CASES[case]()
    message = render_alert(report, R.STATES["open"], lang=lang)  # type: ignore[arg-type]
    assert_valid(message)
    assert block_kit_errors(list(message.blocks)) == []
    for incident in R.STATES.values():
        update = render_state_update(message.blocks, incident, lang=lang)  # type: ignore[arg-type]
        assert_valid(update)
    assert_valid(render_repeat(report, R.repeat_incident(), lang=lang))  # type: ignore[arg-type]


def test_huge_report_fits_in_every_state() -> None:
    report = huge_report(line="<")
    for incident in R.STATES.values():
        assert_valid(render_alert(report, incident, lang="ko"))


def test_cuts_are_visible() -> None:
    message = render_alert(huge_report(), R.STATES["open"], lang="en")
    by_id = {b.get("block_id"): b for b in message.blocks}
    top = by_id[B.BLOCK_TOP]["text"]["text"]
    assert TRUNCATION_MARKER in top  # a 2,000-char line is cut, visibly
    assert "…and " in by_id[B.BLOCK_OTHERS]["text"]["text"]
    assert "…and " in by_id[B.BLOCK_CHANGES]["text"]["text"]
    assert "…and " in by_id[B.BLOCK_GAPS]["text"]["text"]


def test_top_shows_two_distinct_evidence_lines_even_when_each_is_long() -> None:
    facts = tuple(R.log_fact(i, f"{word} " + word * 2000) for i, word in enumerate("abc"))
    report = R.esm_report(causes=(RankedCause(R.ESM, 0.9, R.esm_finding(facts)),))
    message = render_alert(report, R.STATES["open"], lang="en")
    top = next(b for b in message.blocks if b.get("block_id") == B.BLOCK_TOP)["text"]["text"]
    assert "a aaaa" in top
    assert "b bbbb" in top
    assert "c cccc" not in top  # two lines on a phone; the terminal report has them all
    assert_valid(message)


def test_related_changes_come_first_and_are_marked() -> None:
    message = render_alert(huge_report(), R.STATES["open"], lang="en")
    changes = next(b for b in message.blocks if b.get("block_id") == B.BLOCK_CHANGES)["text"][
        "text"
    ]
    first = changes.split("\n")[1]
    assert first.startswith("• :warning: *env_0*")


def test_message_too_large_for_the_parts_budget_is_trimmed_not_refused() -> None:
    # A layout that outgrew its budgets: the last guard drops optional parts and says so.
    blocks = [
        {"type": "section", "block_id": f"x{i}", "text": {"type": "mrkdwn", "text": "z"}}
        for i in range(60)
    ]
    blocks += [
        {
            "type": "section",
            "block_id": B.BLOCK_GAPS,
            "text": {"type": "mrkdwn", "text": "g" * 3000},
        }
    ]
    fitted = F.fit(blocks, "en")
    assert len(fitted) <= B.MAX_BLOCKS
    assert any(b.get("block_id") == B.BLOCK_TRIMMED for b in fitted)


def test_first_step_with_a_huge_command_keeps_its_fence_closed() -> None:
    finding = Finding(
        cause="entrypoint_runtime",
        strength=0.9,
        title=Text(en="t", ko="t"),
        checks=(Check(Text(en="p", ko="p"), "```" + "<!here>" * 2000),),
    )
    report = R.esm_report(causes=(RankedCause(R.ESM, 1.0, finding),))
    message = render_alert(report, R.STATES["open"], lang="en")
    assert_valid(message)


def test_a_trimmed_parent_keeps_one_trimmed_note_through_updates() -> None:
    blocks = [
        {"type": "section", "block_id": f"x{i}", "text": {"type": "mrkdwn", "text": "z"}}
        for i in range(60)
    ]
    fitted = F.fit(blocks, "en")
    update = render_state_update(fitted, R.STATES["acknowledged"], lang="en")
    assert sum(b.get("block_id") == B.BLOCK_TRIMMED for b in update.blocks) == 1
    assert len(update.blocks) <= B.MAX_BLOCKS
