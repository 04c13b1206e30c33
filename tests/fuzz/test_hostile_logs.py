"""Hostile log lines through the whole pipeline, judged by what the fake Slack received.

A job's log is written by whoever controls the job: lines of a megabyte, binary junk, invalid
UTF-8, right-to-left overrides and zero-width characters, text that looks like Slack markup
(mentions, links, code fences) and real-looking secrets. Whatever they write, the message
stays within Slack's limits, shows no secret, pings nobody and cannot be made to read
differently from what was written (bidi and zero-width characters are removed, see
`jobtriage.notify.mrkdwn.clean`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from urllib.parse import unquote_plus

import pytest

from jobtriage.ownlog import LOGGER_NAME
from standins.load.harness import (
    Harness,
    HarnessConfig,
    Plan,
    base_scenario,
    renamed,
    single_plan,
    with_logs,
)
from standins.slack import FakeSlack, block_kit_errors

SECRETS = (
    "S3cr3tPassw0rd-x9",
    "xoxb-123456789012-123456789012-AbCdEfGhIjKlMnOpQrStUvWx",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_0123456789abcdefghijABCDEFGHIJ0123",
    "hunter2hunter2",
)
INVISIBLE = ("\u202e", "\u202d", "\u2066", "\u2067", "\u200b", "\u2060", "\ufeff", "\u200f")

HOSTILE = [
    # each also says what an analyzer looks for, so that it is quoted as evidence
    "Error [ERR_REQUIRE_ESM]: <!channel> <!here> <!everyone> <@U024BE7LH> <!subteam^S012|@oncall>",
    "Error [ERR_REQUIRE_ESM]: see <https://evil.example/login|the console> and <mailto:a@b.c|mail>",
    "Error [ERR_REQUIRE_ESM]: ``` closing the fence *bold* _it_ ~strike~ &amp; &lt;!channel&gt;",
    "Error [ERR_REQUIRE_ESM]: \u202eexe.tropeR\u202c invoice\u200bpdf \u2066hidden\u2069 \ufeffbom",
    "Error: connect ECONNREFUSED postgres://app:S3cr3tPassw0rd-x9@10.0.0.5:5432/ledger",
    "Error [ERR_REQUIRE_ESM]: token=xoxb-123456789012-123456789012-AbCdEfGhIjKlMnOpQrStUvWx",
    "Error [ERR_REQUIRE_ESM]: AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE "
    "ghp_0123456789abcdefghijABCDEFGHIJ0123",
    'Error [ERR_REQUIRE_ESM]: {"password": "hunter2hunter2", "user": "app"}',
    "Error [ERR_REQUIRE_ESM]: " + "A" * 1_000_000,  # one megabyte on one line
    "Error [ERR_REQUIRE_ESM]: " + bytes(range(256)).decode("latin-1"),  # binary junk
    "Error [ERR_REQUIRE_ESM]: invalid utf-8 \udcff\udcfe here",  # lone surrogates
    "\x1b[31mError [ERR_REQUIRE_ESM]\x1b[0m: \x00\x07\x08 control codes\r\n",
]


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    logger = logging.getLogger(LOGGER_NAME)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def _bodies(slack: FakeSlack) -> list[str]:
    """Every request body Slack received, as sent and decoded."""
    out = []
    for req in slack.server.requests:
        raw = req.body.decode("utf-8", "replace")
        out.append(raw)
        out.append(unquote_plus(raw))
    return out


CHUNKS = [HOSTILE[i : i + 3] for i in range(0, len(HOSTILE), 3)]


@pytest.fixture(
    scope="module", params=range(len(CHUNKS)), ids=lambda i: f"lines{i * 3}-{i * 3 + 2}"
)
def received(request: pytest.FixtureRequest) -> tuple[FakeSlack, list[str]]:
    """Two executions of the seed job whose only error lines are three hostile ones: the alert
    quotes them as evidence, the thread reply quotes one again."""
    lines = CHUNKS[request.param]
    seed = base_scenario("seed")
    plain = [e for e in seed.logs if "ERR_REQUIRE_ESM" not in json.dumps(e)]
    scenarios = []
    for suffix in ("h0st1", "h0st2"):
        sc = renamed(seed, job=seed.ref.job, execution=f"{seed.ref.job}-{suffix}")
        sc.logs[:] = [e for e in sc.logs if "ERR_REQUIRE_ESM" not in json.dumps(e)]
        assert len(sc.logs) == len(plain)
        scenarios.append(with_logs(sc, lines))
    first, second = (single_plan(sc, copies=2) for sc in scenarios)
    plan = Plan(first.scenarios + second.scenarios, first.events + second.events)
    with Harness(HarnessConfig(workers=1, scale=0.01), plan) as h:
        h.publish_plan()
        report = h.run(timeout=60)
        assert report.unhandled == []
        assert report.dead_letters == []
        assert report.account()["duplicated"] == []
        assert len(report.posted) == 2  # the alert and one reply; the copies are duplicates
        return h.slack, _bodies(h.slack)


def test_the_hostile_lines_are_quoted(received: tuple[FakeSlack, list[str]]) -> None:
    slack, _ = received
    alert, reply = slack.messages()
    assert reply.thread_ts == alert.ts
    quoted = alert.body().count("ERR_REQUIRE_ESM") + alert.body().count("ECONNREFUSED")
    assert quoted >= 2


def test_within_slack_limits(received: tuple[FakeSlack, list[str]]) -> None:
    slack, _ = received
    for call in slack.calls():
        blocks = call.args.get("blocks") or []
        assert block_kit_errors(blocks) == []
        assert len(blocks) <= 50
        assert len(json.dumps(blocks, ensure_ascii=False)) < 40_000
        assert len(str(call.args.get("text", ""))) <= 300
    assert slack.refused == {}


def test_no_secret_leaves(received: tuple[FakeSlack, list[str]]) -> None:
    _, bodies = received
    for body in bodies:
        for secret in SECRETS:
            assert secret not in body


def test_nobody_is_pinged_and_no_link_is_hidden(received: tuple[FakeSlack, list[str]]) -> None:
    slack, _ = received
    for call in slack.calls():
        text = json.dumps(call.args, ensure_ascii=False)
        # our own <!date^…> is the only special sequence we write
        assert not re.search(r"<[!@#](?!date\^)", text), "a mention or special command survived"
        for link in re.findall(r"<(https?://[^|>]*)", text):
            assert link.startswith("https://console.cloud.google.com/"), link
        assert "<mailto:" not in text


def test_no_invisible_reordering_or_hiding(received: tuple[FakeSlack, list[str]]) -> None:
    slack, _ = received
    for call in slack.calls():
        text = json.dumps(call.args, ensure_ascii=False)
        for char in INVISIBLE:
            assert char not in text, f"U+{ord(char):04X} reached Slack"
        assert "\x1b" not in text
        assert "\\u0000" not in text
