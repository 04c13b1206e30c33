"""Escaping, code blocks and truncation of untrusted job text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobtriage.notify import mrkdwn as M


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<!here>", "&lt;!here&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<http://x|click>", "&lt;http://x|click&gt;"),
        ("a & b", "a &amp; b"),
        ("&lt;", "&amp;lt;"),  # & first: an escape in the input is shown, not obeyed
        (
            "*bold* _it_ `code` \"q\" 'q'",
            "*bold* _it_ `code` \"q\" 'q'",
        ),  # only the three characters
    ],
)
def test_escape(raw: str, shown: str) -> None:
    assert M.escape(raw) == shown
    assert M.unescape(shown) == raw


@given(st.text())
def test_escape_leaves_no_control_characters(text: str) -> None:
    escaped = M.escape(text)
    assert "<" not in escaped
    assert ">" not in escaped
    assert M.unescape(escaped) == text


def test_untrusted_redacts_before_escaping() -> None:
    # the redaction pattern must see the raw URL; escaping first would hide the password from it
    assert M.untrusted("postgres://u:pw123456@db<x>") == "postgres://u:[REDACTED]@db&lt;x&gt;"


def test_untrusted_drops_control_characters() -> None:
    # whole ANSI sequences go, not only their ESC (issue 9)
    assert M.untrusted("a\x1b[31mred\x1b[0m\rb") == "aredb"


def test_truncate_is_visible_and_bounded() -> None:
    assert M.truncate("short", 10) == "short"
    cut = M.truncate("x" * 100, 20)
    assert len(cut) == 20
    assert cut.endswith(M.TRUNCATION_MARKER)


def test_truncate_never_splits_an_escape() -> None:
    text = M.escape("a" * 10 + "<<<<")  # "aaaaaaaaaa&lt;&lt;&lt;&lt;"
    for limit in range(len(M.TRUNCATION_MARKER), len(text)):
        cut = M.truncate(text, limit)
        head = cut[: -len(M.TRUNCATION_MARKER)]
        assert len(cut) <= limit
        assert M.unescape(head) == M.unescape(head).replace("&", "")  # no dangling "&l"


@given(st.text(), st.integers(min_value=0, max_value=200))
def test_truncate_never_exceeds(text: str, limit: int) -> None:
    assert len(M.truncate(text, limit)) <= limit


def test_code_block_fence_cannot_be_closed_from_inside() -> None:
    block = M.code_block(["```", "<!channel>", "x``y"], limit=500)
    assert block.startswith("```\n")
    assert block.endswith("\n```")
    assert block.count("```") == 2
    assert "&lt;!channel&gt;" in block


def test_code_block_keeps_whole_lines_and_counts_the_rest() -> None:
    block = M.code_block([f"line {i} " + "z" * 50 for i in range(100)], limit=400)
    assert len(block) <= 400
    assert "more lines]" in block
    assert block.count("```") == 2


def test_code_block_cuts_a_single_huge_line_visibly() -> None:
    block = M.code_block(["q" * 10_000], limit=300)
    assert len(block) <= 300
    assert M.TRUNCATION_MARKER in block
    assert block.endswith("```")


def test_code_block_line_limit_leaves_room_for_every_line() -> None:
    block = M.code_block(["a" * 5000, "b" * 5000, "c" * 5000], limit=1000, line_limit=300)
    assert "aaa" in block
    assert "bbb" in block
    assert "ccc" in block


@given(st.lists(st.text(), max_size=20), st.integers(min_value=0, max_value=3000))
def test_code_block_always_bounded_and_balanced(lines: list[str], limit: int) -> None:
    block = M.code_block(lines, limit=limit)
    assert len(block) <= limit
    assert block.count("```") in (0, 2)
    assert "<" not in block
    assert ">" not in block


def test_inline_code_neutralises_backticks_and_newlines() -> None:
    code = M.inline_code("a`b\nc", limit=50)
    assert code == "`aˋb c`"


def test_link_url_cannot_break_out() -> None:
    link = M.link("https://example.com/a?b=1&c=<x>|y z", "<!here> label")
    assert link.startswith("<https://example.com/a?b=1&amp;c=%3Cx%3E%7Cy%20z|")
    assert link.count("<") == 1
    assert link.count(">") == 1
    assert "&lt;!here&gt; label" in link


def test_a_long_secret_crossing_the_cut_is_still_redacted() -> None:
    secret = "S" * 900
    text = "x" * 50 + f" postgres://app:{secret}@db/app"
    shown = M.untrusted(text, limit=100)
    assert "SSSS" not in shown
