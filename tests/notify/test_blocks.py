"""What on-call sees: job text shown as plain text (never a ping), secrets never shown, state
updates touching only the state line and buttons."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from analyzers.base import Check, Fact, FactKind, Finding
from jobtriage.diagnosis.model import Change, RankedCause, Report
from jobtriage.evidence import ExecutionRef, Gap, Source
from jobtriage.formatting import human_duration, ordinal
from jobtriage.incident.model import State
from jobtriage.notify import limits as B
from jobtriage.notify.actions import ButtonAction, decode_value
from jobtriage.notify.alert import render_alert
from jobtriage.notify.builder_url import builder_url, render_terminal
from jobtriage.notify.parts import Message
from jobtriage.notify.recovery import render_recovered
from jobtriage.notify.repeat import render_repeat
from jobtriage.notify.state import render_state_update, state_line
from jobtriage.text import Text
from tests.notify import reports as R
from tests.notify.checks import assert_valid, payload_text, text_objects

PINGS = (
    "<!channel>",
    "<!here>",
    "<@U123>",
    "<http://x|click>",
    "<!subteam^S0123|@oncall>",
    "<!everyone>",
)


def hostile_report(text: str) -> Report:
    """`text` wherever job text can reach the message."""
    facts = (
        Fact(kind=FactKind.LOG, quote=text, timestamp=R.T0, stream="stderr"),
        Fact(kind=FactKind.STATUS, note=Text(en=text, ko=text)),
    )
    finding = Finding(
        cause="entrypoint_runtime",
        strength=0.9,
        title=Text(en=f"crash: {text}", ko=f"오류: {text}"),
        facts=facts,
        checks=(Check(Text(en=text, ko=text), f"echo {text}"),),
    )
    ref = ExecutionRef(project="p", region="r", job=f"job {text}", execution=f"exec {text}")
    return R.esm_report(
        summary=replace(R.summary(), ref=ref, started_by=text),
        causes=(RankedCause(R.ESM, 0.7, finding), RankedCause(R.cause("x", text, text, 0.1), 0.3)),
        changes=(Change(field=text, before=text, after=text, related_cause="entrypoint_runtime"),),
        gaps=(Gap(source=Source.LOGS, reason=text, fix=text),),
        last_lines=facts,
    )


def all_messages(report: Report) -> list[Message]:
    out = []
    for lang in ("en", "ko"):
        for incident in R.STATES.values():
            alert = render_alert(report, incident, lang=lang)
            out += [alert, render_state_update(alert.blocks, incident, lang=lang)]
        out.append(render_repeat(report, R.repeat_incident(), lang=lang))
        out.append(render_recovered(R.STATES["recovered"], report.summary.ref, lang=lang))
    return out


@pytest.mark.parametrize("ping", PINGS)
def test_mentions_and_links_from_job_text_arrive_as_plain_text(ping: str) -> None:
    for message in all_messages(hostile_report(f"boom {ping} boom")):
        assert_valid(message)  # no `<…>` but our own links, dates and clickers
        text = payload_text(message)
        assert ping not in text
    alert = render_alert(hostile_report(f"boom {ping} boom"), R.STATES["open"], lang="en")
    escaped = ping.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in payload_text(alert)  # what the reader sees: the characters themselves
    assert escaped in alert.text


def test_reader_sees_channel_literally() -> None:
    alert = render_alert(hostile_report("<!channel> & co"), R.STATES["open"], lang="en")
    top = next(b for b in alert.blocks if b.get("block_id") == B.BLOCK_TOP)["text"]["text"]
    assert "&lt;!channel&gt; &amp; co" in top
    assert "<!channel>" in render_terminal(alert)  # the terminal shows what Slack readers see


def test_backticks_cannot_close_the_evidence_fence() -> None:
    alert = render_alert(hostile_report("```\n*bold* <!channel>\n```"), R.STATES["open"], lang="en")
    assert_valid(alert)
    top = next(b for b in alert.blocks if b.get("block_id") == B.BLOCK_TOP)["text"]["text"]
    assert top.count("```") == 2


def test_already_escaped_text_is_shown_as_written() -> None:
    alert = render_alert(hostile_report("&lt;!channel&gt;"), R.STATES["open"], lang="en")
    assert "&amp;lt;!channel&amp;gt;" in payload_text(alert)


SLACK_TOKEN = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
SECRETS = {
    "postgres://app:S3cr3tP4ssw0rd@10.0.0.5:5432/orders": "S3cr3tP4ssw0rd",
    f"SLACK_BOT_TOKEN {SLACK_TOKEN}": SLACK_TOKEN,
    "aws key AKIAIOSFODNN7EXAMPLE used": "AKIAIOSFODNN7EXAMPLE",
    f"auth {JWT} ok": JWT.rsplit(".", 1)[1],
    "connecting with password=hunter2hunter2 to db": "hunter2hunter2",
}


@pytest.mark.parametrize("leak", sorted(SECRETS))
def test_secrets_never_reach_slack(leak: str) -> None:
    secret = SECRETS[leak]
    report = hostile_report(leak)
    for message in all_messages(report):
        text = payload_text(message)
        assert secret not in text
        assert secret not in render_terminal(message)
        assert secret not in builder_url(message)
        assert secret not in json.dumps(message.payload(), ensure_ascii=True)
    alert = render_alert(report, R.STATES["open"], lang="en")
    assert "[REDACTED]" in payload_text(alert)


def test_every_mrkdwn_object_is_verbatim() -> None:
    alert = render_alert(R.esm_report(), R.STATES["open"], lang="en")
    mrkdwn = [o for o in text_objects(list(alert.blocks)) if o["type"] == "mrkdwn"]
    assert mrkdwn
    assert all(o["verbatim"] is True for o in mrkdwn)


def test_header_names_job_and_failure_in_both_languages() -> None:
    en = render_alert(R.esm_report(), R.STATES["open"], lang="en").blocks[0]
    ko = render_alert(R.esm_report(), R.STATES["open"], lang="ko").blocks[0]
    assert en["type"] == "header"
    assert "o4o-api-migrations failed" in en["text"]["text"]
    assert "o4o-api-migrations 실패" in ko["text"]["text"]


def test_top_cause_shows_confidence_and_its_evidence() -> None:
    alert = render_alert(R.esm_report(), R.STATES["open"], lang="en")
    top = next(b for b in alert.blocks if b.get("block_id") == B.BLOCK_TOP)["text"]["text"]
    assert "Module format mismatch (ESM/CJS)" in top
    assert "82%" in top
    assert "ERR_REQUIRE_ESM" in top
    assert "migrate.js:4:15" in top


def test_fallback_text_names_job_cause_and_execution() -> None:
    alert = render_alert(R.esm_report(), R.STATES["open"], lang="en")
    assert "o4o-api-migrations failed" in alert.text
    assert "Module format mismatch" in alert.text
    assert "82%" in alert.text
    assert "o4o-api-migrations-h5x5h" in alert.text


def test_buttons_carry_the_incident_and_their_action() -> None:
    alert = render_alert(R.esm_report(), R.STATES["open"], lang="en")
    actions = next(b for b in alert.blocks if b["type"] == "actions")
    seen = set()
    for element in actions["elements"]:
        values = (
            [element["value"]]
            if element["type"] == "button"
            else [o["value"] for o in element["options"]]
        )
        for raw in values:
            value = decode_value(raw)
            assert value.incident_id == R.INCIDENT_ID
            assert value.action.value == element["action_id"]
            seen.add((value.action, value.snooze))
    assert {a for a, _ in seen} == set(ButtonAction)
    assert len(seen) == 5  # ack, resolve, three snooze choices


@pytest.mark.parametrize(
    ("state", "buttons"),
    [
        ("open", {"jobtriage_ack", "jobtriage_resolve", "jobtriage_snooze"}),
        ("acknowledged", {"jobtriage_resolve", "jobtriage_snooze"}),
        ("snoozed_1h", {"jobtriage_ack", "jobtriage_resolve", "jobtriage_snooze"}),
        ("resolved", set()),
        ("recovered", set()),
    ],
)
def test_buttons_follow_the_state(state: str, buttons: set[str]) -> None:
    alert = render_alert(R.esm_report(), R.STATES[state], lang="en")
    found = {e["action_id"] for b in alert.blocks if b["type"] == "actions" for e in b["elements"]}
    assert found == buttons


def test_state_update_changes_only_state_and_buttons() -> None:
    parent = render_alert(R.esm_report(), R.STATES["open"], lang="en")
    acked = R.STATES["acknowledged"]
    update = render_state_update(parent.blocks, acked, lang="en")
    ids = [b.get("block_id") for b in update.blocks]
    assert f"{B.BLOCK_STATE}:{acked.version}" in ids
    assert f"{B.BLOCK_ACTIONS}:{acked.version}" in ids
    kept = [
        b
        for b in update.blocks
        if not str(b.get("block_id")).startswith(("jt:state", "jt:actions"))
    ]
    before = [
        b
        for b in parent.blocks
        if not str(b.get("block_id")).startswith(("jt:state", "jt:actions"))
    ]
    assert kept == before
    assert "<@U024BE7LH>" in payload_text(update)
    # applied twice (two clicks), there is still one state line and one row of buttons
    again = render_state_update(update.blocks, replace(acked, version=3), lang="en")
    assert sum(str(b.get("block_id")).startswith("jt:state") for b in again.blocks) == 1
    assert sum(b["type"] == "actions" for b in again.blocks) == 1
    # parent untouched
    assert parent.blocks[-1]["block_id"] == f"{B.BLOCK_ACTIONS}:1"


def test_state_update_of_a_parent_without_state_appends_it() -> None:
    update = render_state_update(
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
        R.STATES["resolved"],
        lang="en",
    )
    assert update.blocks[-1]["block_id"].startswith(B.BLOCK_STATE)


def test_state_line_counts_failures() -> None:
    incident = R.incident(failures=3, last_failure_at=R.T0 + timedelta(hours=2))
    assert "failed 3 times in 2 h" in state_line(incident, "en")
    assert "2시간 동안 3회 실패" in state_line(incident, "ko")
    assert "failed once" in state_line(R.incident(), "en")


def test_state_line_per_state() -> None:
    assert "*Open*" in state_line(R.STATES["open"], "en")
    acked = state_line(R.STATES["acknowledged"], "en")
    assert "*Acknowledged* by <@U024BE7LH> <!date^" in acked
    assert "*Snoozed* until <!date^" in state_line(R.STATES["snoozed_1h"], "en")
    assert "2 more failures held back" in state_line(R.STATES["snoozed_1h"], "en")
    assert "next successful execution" in state_line(R.STATES["snoozed_until_success"], "en")
    assert "*Resolved* by <@U024BE7LH>" in state_line(R.STATES["resolved"], "en")
    assert "o4o-api-migrations-k2m9q" in state_line(R.STATES["recovered"], "en")


def test_a_clicker_id_that_is_not_a_slack_id_is_not_a_mention() -> None:
    incident = replace(R.STATES["acknowledged"], acked_by="<!channel>")
    line = state_line(incident, "en")
    assert "<!channel>" not in line
    assert "&lt;!channel&gt;" in line


def test_repeat_is_short_and_counts() -> None:
    message = render_repeat(R.esm_report(), R.repeat_incident(), lang="en")
    assert len(message.blocks) <= 2
    assert "3rd time in 2 h" in message.text
    assert "3번째" in render_repeat(R.esm_report(), R.repeat_incident(), lang="ko").text


def test_no_state_on_empty_incident_state() -> None:
    for state in State:
        incident = R.incident(state)
        assert state_line(incident, "en")


@pytest.mark.parametrize(
    ("seconds", "precise", "en", "ko"),
    [
        (5, False, "5 s", "5초"),
        (133, True, "2 min 13 s", "2분 13초"),
        (133, False, "2 min", "2분"),
        (7200, False, "2 h", "2시간"),
        (30 * 3600, False, "30 h", "30시간"),
        (3 * 86400, False, "3 d", "3일"),
    ],
)
def test_human_duration(seconds: int, precise: bool, en: str, ko: str) -> None:
    span = timedelta(seconds=seconds)
    assert human_duration(span, "en", precise=precise) == en
    assert human_duration(span, "ko", precise=precise) == ko


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (112, "112th"),
    ],
)
def test_ordinal(n: int, text: str) -> None:
    assert ordinal(n, "en") == text


def test_summary_leaves_out_what_is_unknown() -> None:
    bare = R.summary(
        tasks_total=0,
        tasks_failed=0,
        attempts=None,
        exit_code=None,
        duration=None,
        started_by=None,
        started_at=None,
    )
    alert = render_alert(R.esm_report(summary=bare), R.STATES["open"], lang="en")
    [line] = next(b for b in alert.blocks if b.get("block_id") == B.BLOCK_SUMMARY)["elements"]
    assert line["text"] == "*Execution* `o4o-api-migrations-h5x5h` · `asia-northeast3` · `o4o-prod`"
    assert_valid(alert)


def test_signal_is_named() -> None:
    report = R.esm_report(summary=R.summary(exit_code=None, term_signal=9))
    alert = render_alert(report, R.STATES["open"], lang="en")
    assert "signal 9 (SIGKILL)" in payload_text(alert)


def test_snoozed_state_says_who_snoozed() -> None:
    from jobtriage.incident.model import State
    from jobtriage.notify.state import state_line
    from tests.notify.reports import incident

    snoozed = incident(State.SNOOZED, snooze_until_success=True, snoozed_by="U0SNOOZER")
    assert "<@U0SNOOZER>" in state_line(snoozed, "en")
    assert "<@U0SNOOZER>" in state_line(snoozed, "ko")


def test_unlikely_causes_without_findings_stay_out_of_the_phone_view() -> None:
    from analyzers import CAUSES
    from jobtriage.diagnosis.model import RankedCause
    from jobtriage.incident.model import State
    from jobtriage.notify.alert import render_alert
    from jobtriage.notify.limits import BLOCK_OTHERS
    from tests.notify.reports import esm_report, incident

    report = esm_report()
    quiet = tuple(RankedCause(CAUSES[c], 0.001) for c in ("image_pull", "resource_limit"))
    message = render_alert(
        esm_report(causes=report.causes + quiet), incident(State.OPEN), lang="en"
    )
    others = next(b for b in message.blocks if b.get("block_id") == BLOCK_OTHERS)["text"]["text"]
    assert CAUSES["image_pull"].name.en not in others
    assert "…and " in others  # left out, visibly


def test_unknown_alert_leads_with_the_line_most_likely_to_be_the_error() -> None:
    error = R.log_fact(3, "RuntimeError: export bucket gs://nightly-exports is locked")
    report = replace(
        R.unknown_report(),
        error_line=error,
        last_lines=(
            R.log_fact(3, "RuntimeError: export bucket gs://nightly-exports is locked"),
            R.log_fact(4, "npm ERR! A complete log of this run can be found in: /root/.npm"),
        ),
    )
    for lang, heading in (
        ("en", "most likely to be the error"),
        ("ko", "오류일 가능성이 가장 높은 줄"),
    ):
        alert = render_alert(report, R.STATES["open"], lang=lang)  # type: ignore[arg-type]
        top = next(b for b in alert.blocks if b.get("block_id") == B.BLOCK_TOP)["text"]["text"]
        assert heading in top
        # the error line is shown once, before the remaining last lines
        assert top.count("export bucket") == 1
        assert top.index("export bucket") < top.index("complete log")
        assert_valid(alert)


def test_an_empty_side_of_a_change_is_said_in_the_reports_language() -> None:
    from jobtriage.diagnosis import to_text
    from jobtriage.diagnosis.changes import NONE

    change = Change(field="env_names", before=NONE, after="+DATABASE_URL")
    report = R.esm_report(changes=(change,))
    assert "(없음) → +DATABASE_URL" in to_text(report, lang="ko")
    assert "(none) → +DATABASE_URL" in to_text(report, lang="en")
    ko = json.dumps(render_alert(report, R.STATES["open"], lang="ko").payload(), ensure_ascii=False)
    assert "(없음)" in ko
    assert "(none)" not in ko
