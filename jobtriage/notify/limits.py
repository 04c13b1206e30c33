"""Slack's Block Kit limits (each with its doc), our own share of a message's text budget per
part, and the block ids our messages use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# ---- Slack's limits -------------------------------------------------------------------------
# https://docs.slack.dev/reference/block-kit/blocks
MAX_BLOCKS = 50
# https://docs.slack.dev/reference/block-kit/blocks/section-block
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
# https://docs.slack.dev/reference/block-kit/blocks/header-block
MAX_HEADER_TEXT = 150
# https://docs.slack.dev/reference/block-kit/blocks/context-block
MAX_CONTEXT_ELEMENTS = 10
# https://docs.slack.dev/reference/block-kit/block-elements/button-element
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
# https://docs.slack.dev/reference/block-kit/composition-objects/option-object
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
# https://docs.slack.dev/reference/block-kit/composition-objects/text-object
MAX_TEXT_OBJECT = 3000
# Any block's block_id.
MAX_BLOCK_ID = 255
# Not documented: chat.postMessage answers `msg_blocks_too_long` at roughly 12,000 characters of
# block text in total even when every single limit is kept
# (https://github.com/slackapi/bolt-js/issues/2509). We stay under this.
MAX_TOTAL_TEXT = 10_000
# The top-level `text` is all that mobile notifications and screen readers get
# (https://docs.slack.dev/reference/methods/chat.postMessage); a notification shows a line or two.
MAX_FALLBACK_TEXT = 300

# ---- our own shares of the total budget (characters of text per part) -------------------------
# They add up to less than MAX_TOTAL_TEXT, so a message within them is within Slack's limits however
# large the report is; `test_limits.py` feeds huge reports to prove it.
BUDGET_FIELD = 160  # each fact of the summary line
BUDGET_SUMMARY = 1000  # the one context line of summary facts at the bottom
BUDGET_TOP = 2400  # the top cause with its evidence
BUDGET_DO_NOW = 1100  # the first workaround and the first check's command
BUDGET_OTHERS = 1000  # the other hypotheses with why they are ruled out or unchecked
BUDGET_SEEN_BEFORE = 300  # reserved for the "seen before" line (alert.seen_before slot)
BUDGET_HISTORY = 200  # what the history did to the order, beside the "seen before" line
BUDGET_FOOTER = 300  # reserved for the per-job figures (alert.footer slot)
BUDGET_CHANGES = 1500
BUDGET_GAPS = 700
BUDGET_LINKS = 800
BUDGET_STATE = 400
BUDGET_REPEAT = 1200  # a "failed again" reply

EVIDENCE_LINES = 2  # distinct quoted log lines under the top cause (near-duplicates collapsed)
NOTES = 1  # config or status facts under the top cause
OTHERS_MAX = 3  # other hypotheses shown, one line each
DIGEST_CHARS = 8  # hex digits of an image digest shown (the full value is behind a link)
EVIDENCE_LINE_CHARS = 700  # each, after escaping
NOTE_CHARS = 300  # a config or status fact, a title, a purpose
VALUE_CHARS = 120  # one side of a change
LAST_LINES = 5  # shown when no cause was recognised

BLOCK_HEADER = "jt:header"
BLOCK_SUMMARY = "jt:summary"
BLOCK_TOP = "jt:top"
BLOCK_SEEN_BEFORE = "jt:seen_before"
BLOCK_DO_NOW = "jt:do_now"
BLOCK_OTHERS = "jt:others"
BLOCK_CHANGES = "jt:changes"
BLOCK_GAPS = "jt:gaps"
BLOCK_LINKS = "jt:links"
BLOCK_FOOTER = "jt:footer"
BLOCK_STATE = "jt:state"  # + ":<incident version>"
BLOCK_ACTIONS = "jt:actions"  # + ":<incident version>"
BLOCK_TRIMMED = "jt:trimmed"


def block_text_length(blocks: Iterable[Mapping[str, Any]]) -> int:
    """Characters of text in `blocks`: every text object's `text`, however deep."""

    def walk(node: object) -> int:
        if isinstance(node, Mapping):
            own = (
                len(node["text"])
                if node.get("type") in ("mrkdwn", "plain_text")
                and isinstance(node.get("text"), str)
                else 0
            )
            return own + sum(
                walk(v) for k, v in node.items() if k != "text" or not isinstance(v, str)
            )
        if isinstance(node, list | tuple):
            return sum(walk(v) for v in node)
        return 0

    return sum(walk(b) for b in blocks)
