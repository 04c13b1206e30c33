"""Seeing a message without posting it: the Block Kit Builder link and the terminal picture."""

from __future__ import annotations

import json
from urllib.parse import unquote

from jobtriage.notify.alert import render_alert
from jobtriage.notify.builder_url import BUILDER_BASE, builder_url, mrkdwn_to_plain, render_terminal
from tests.notify import reports as R


def test_builder_url_carries_the_exact_blocks() -> None:
    message = render_alert(R.esm_report(), R.STATES["open"], lang="ko")
    url = builder_url(message)
    assert url.startswith(BUILDER_BASE + "#")
    fragment = url.split("#", 1)[1]
    assert " " not in fragment  # fully URL-encoded
    assert "{" not in fragment
    assert json.loads(unquote(fragment)) == {"blocks": message.payload()["blocks"]}


def test_builder_url_for_a_workspace_and_for_bare_blocks() -> None:
    blocks = [{"type": "divider"}]
    assert builder_url(blocks, team_id="T0001").startswith(BUILDER_BASE + "T0001#")


def test_mrkdwn_to_plain_shows_what_a_reader_sees() -> None:
    text = (
        "<https://x.example/a?b=1&amp;c=2|:link: Logs> by <@U1> "
        "<!date^1^{time}|09:14 UTC> &lt;!here&gt;"
    )
    assert (
        mrkdwn_to_plain(text)
        == ":link: Logs (https://x.example/a?b=1&c=2) by @U1 09:14 UTC <!here>"
    )


def test_terminal_rendering_has_every_part() -> None:
    message = render_alert(R.esm_report(), R.STATES["open"], lang="en")
    out = render_terminal(message, width=80)
    assert out.startswith(":red_circle: o4o-api-migrations failed\n=")
    for needle in (
        "*Execution* `o4o-api-migrations-h5x5h`",
        "Most likely: Module format mismatch (ESM/CJS)",
        "    09:00:03Z  Error [ERR_REQUIRE_ESM]",
        "Do this now",
        "[Acknowledge] [Resolve] [Snooze… Snooze 1 h | Snooze 24 h | Until next success]",
        "(https://console.cloud.google.com/run/jobs/executions/details/asia-northeast3/",
    ):
        assert needle in out, needle
    assert "```" not in out  # code is shown indented instead


def test_terminal_rendering_drops_terminal_escape_sequences() -> None:
    from tests.notify.test_blocks import hostile_report

    message = render_alert(hostile_report("\x1b]0;owned\x07 \x1b[2J"), R.STATES["open"], lang="en")
    assert "\x1b" not in render_terminal(message)
