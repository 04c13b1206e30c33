"""The phone-first layout: what broke and why, the distinct evidence, "Do this now", the other
hypotheses with why, shortened digests, and the slots the incident memory fills."""

from __future__ import annotations

from dataclasses import replace

from analyzers.base import Check
from jobtriage.diagnosis.model import Change, RankedCause
from jobtriage.notify import limits as B
from jobtriage.notify.alert import distinct_quotes, render_alert
from jobtriage.notify.parts import Message
from jobtriage.text import Text
from tests.notify import reports as R
from tests.notify.checks import assert_valid

DIGEST = "7c1f4e9a2b6d83c05f1e7a9d4b2c6e8f0a3d5b7c9e1f2a4b6c8d0e2f4a6b8c0d"
IMAGE = "asia-northeast3-docker.pkg.dev/o4o-prod/api/api-server"


def _block(message: Message, block_id: str) -> str:
    block = next(b for b in message.blocks if b.get("block_id") == block_id)
    if block["type"] == "context":
        return " ".join(e["text"] for e in block["elements"])
    return str(block["text"]["text"])


def _alert(report: R.Report | None = None, **kwargs: object) -> Message:
    message = render_alert(report or R.esm_report(), R.STATES["open"], lang="en", **kwargs)  # type: ignore[arg-type]
    assert_valid(message)
    return message


def _with_checks(*checks: Check) -> R.Report:
    report = R.esm_report()
    top = report.top
    assert top.finding is not None
    finding = replace(top.finding, checks=checks)
    cause = replace(top.cause, checks=lambda ref: ())
    return R.esm_report(causes=(RankedCause(cause, top.confidence, finding), *report.causes[1:]))


def test_block_order_puts_the_cause_and_what_to_do_first() -> None:
    ids = [b.get("block_id") for b in _alert().blocks]
    assert ids[:4] == [B.BLOCK_HEADER, B.BLOCK_TOP, B.BLOCK_DO_NOW, B.BLOCK_OTHERS]
    assert ids.index(B.BLOCK_SUMMARY) > ids.index(B.BLOCK_GAPS)  # the facts at the bottom


def test_near_duplicate_evidence_lines_are_collapsed() -> None:
    facts = (
        R.log_fact(5, "Error [ERR_REQUIRE_ESM]: require() of ES Module /app/x.js not supported."),
        R.log_fact(5, "  code: 'ERR_REQUIRE_ESM'"),
        R.log_fact(20, "Error [ERR_REQUIRE_ESM]: require() of ES Module /app/x.js not supported."),
        R.log_fact(21, "Node.js v20.11.1"),
    )
    kept = distinct_quotes(facts, 2)
    assert [(f.quote, n) for f, n in kept] == [
        ("Error [ERR_REQUIRE_ESM]: require() of ES Module /app/x.js not supported.", 2),
        ("Node.js v20.11.1", 1),
    ]
    report = R.esm_report(causes=(RankedCause(R.ESM, 0.9, R.esm_finding(facts)),))
    top = _block(_alert(report), B.BLOCK_TOP)
    assert top.count("ERR_REQUIRE_ESM") == 1
    assert "(×2)" in top


def test_do_now_has_the_first_workaround_and_a_short_gcloud_check() -> None:
    docker = Check(
        Text(en="Look inside", ko="이미지 확인"),
        f"docker run --rm --entrypoint sh {IMAGE}@sha256:{DIGEST} -c "
        "'grep -n '\"'\"'\"type\"'\"'\"' package.json'",
    )
    gcloud = Check(
        Text(en="Read the job's containers", ko="컨테이너 확인"),
        "gcloud run jobs describe o4o-api-migrations --region=asia-northeast3",
    )
    report = _with_checks(docker, gcloud)
    assert report.first_step == gcloud
    text = _block(_alert(report), B.BLOCK_DO_NOW)
    assert text.startswith("*Do this now*\n• *Unblock:* Restore the previous entry point")
    assert "• *Confirm:* Read the job's containers" in text
    assert "docker" not in text
    assert "'\"'\"'" not in text


def test_docker_only_where_nothing_else_can_look() -> None:
    docker = Check(Text(en="Look inside", ko="확인"), f"docker run --rm {IMAGE} ls /app")
    assert _with_checks(docker).first_step == docker


def test_other_hypotheses_say_why_they_are_ruled_out() -> None:
    text = _block(_alert(), B.BLOCK_OTHERS)
    lines = text.splitlines()[1:]
    assert lines[0] == (
        "• *Database connection failed* — _ruled out_: No connection error in the log "
        "(412 lines read); explained instead by: the program crashed"
    )
    assert len(lines) == 3


def test_summary_is_one_context_line_with_a_short_service_account() -> None:
    block = next(b for b in _alert().blocks if b.get("block_id") == B.BLOCK_SUMMARY)
    assert block["type"] == "context"
    [line] = block["elements"]
    assert "deploy-pipeline@…" in line["text"]
    assert "gserviceaccount.com" not in line["text"]
    assert "*Duration* 2 min 13 s" in line["text"]


def test_digests_are_short_with_the_full_value_behind_a_link() -> None:
    change = Change(
        field="image",
        before="sha256:" + "e3a9" * 16,
        after="sha256:" + DIGEST,
        related_cause="entrypoint_runtime",
    )
    report = R.esm_report(
        changes=(change,), suspects=(), summary=R.summary(image=f"{IMAGE}@sha256:{DIGEST}")
    )
    text = _block(_alert(report), B.BLOCK_CHANGES)
    assert "|sha256:7c1f4e9a…>" in text
    assert (
        "<https://console.cloud.google.com/artifacts/docker/o4o-prod/asia-northeast3/api/"
        f"api-server/sha256:{DIGEST}?project=o4o-prod|" in text
    )
    assert text.count(DIGEST) == 1  # only inside the link


def test_lines_up_only_on_changes_that_can_explain_the_cause() -> None:
    text = _block(_alert(), B.BLOCK_CHANGES)
    for line in text.splitlines():
        if "*Env vars*" in line or "*Secret versions*" in line or "*Secret version*" in line:
            assert "lines up" not in line, line


def test_slots_for_the_incident_memory() -> None:
    plain = [b.get("block_id") for b in _alert().blocks]
    assert B.BLOCK_SEEN_BEFORE not in plain
    assert B.BLOCK_FOOTER not in plain
    message = _alert(
        seen_before="3rd time since 11-02; last confirmed `secret_config`",
        footer=["7 failures in 7 days", "median recovery 14 min"],
    )
    ids = [b.get("block_id") for b in message.blocks]
    assert ids.index(B.BLOCK_SEEN_BEFORE) == ids.index(B.BLOCK_TOP) + 1
    assert ids.index(B.BLOCK_FOOTER) > ids.index(B.BLOCK_SUMMARY)
    assert "3rd time" in _block(message, B.BLOCK_SEEN_BEFORE)
    assert "median recovery" in _block(message, B.BLOCK_FOOTER)


def test_huge_report_with_both_slots_full_stays_within_slacks_limits() -> None:
    from tests.notify.test_limits import huge_report

    for lang in ("en", "ko"):
        message = render_alert(
            huge_report(long_names=True),
            R.STATES["open"],
            lang=lang,  # type: ignore[arg-type]
            seen_before="s" * 5000,
            footer=["f" * 5000] * 20,
        )
        assert_valid(message)
        assert B.block_text_length(list(message.blocks)) <= B.MAX_TOTAL_TEXT


def test_full_digests_in_our_sentences_are_shortened() -> None:
    from jobtriage.notify.alert import short_digests

    said = short_digests(f"pulled {IMAGE}@sha256:{DIGEST} at 06:11")
    assert said == f"pulled {IMAGE}@sha256:7c1f4e9a… at 06:11"
    assert short_digests("sha256:1234abcd") == "sha256:1234abcd"  # already short
