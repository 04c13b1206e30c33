"""What every message we send must satisfy, whatever the report: Slack's limits and our rules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from slack_sdk.models.blocks import Block

from jobtriage.notify import limits as B
from jobtriage.notify.parts import Message

# The only `<…>` sequences our own renderer writes: console links, dates, mentions of the Slack user
# who clicked (ids given to us by Slack), and the reminder's mention of the configured user group.
ALLOWED_SEQUENCE = re.compile(
    r"<(?:https://console\.cloud\.google\.com/[^<>|\s]*\|[^<>]*"
    r"|!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>]*"
    r"|@U[A-Z0-9]+"
    r"|!subteam\^S[A-Z0-9]+)>"
)


def text_objects(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from text_objects(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from text_objects(value)


def assert_valid(message: Message) -> None:
    """Every limit Slack documents (and the undocumented total), plus our escaping rules."""
    blocks = list(message.blocks)
    assert message.text.strip(), "the notification fallback text is always set"
    assert len(message.text) <= B.MAX_FALLBACK_TEXT
    assert 1 <= len(blocks) <= B.MAX_BLOCKS
    assert B.block_text_length(blocks) <= B.MAX_TOTAL_TEXT
    ids = [b.get("block_id") for b in blocks if b.get("block_id")]
    assert len(ids) == len(set(ids)), "block ids are unique within a message"
    for block in blocks:
        assert len(block.get("block_id", "")) <= B.MAX_BLOCK_ID
        kind = block["type"]
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(block["text"]["text"]) <= B.MAX_HEADER_TEXT
        if kind == "section":
            if "text" in block:
                assert 1 <= len(block["text"]["text"]) <= B.MAX_SECTION_TEXT
            fields = block.get("fields", [])
            assert len(fields) <= B.MAX_FIELDS
            for field in fields:
                assert 1 <= len(field["text"]) <= B.MAX_FIELD_TEXT
        if kind == "context":
            assert 1 <= len(block["elements"]) <= B.MAX_CONTEXT_ELEMENTS
        if kind == "actions":
            for element in block["elements"]:
                if element["type"] == "button":
                    assert len(element["text"]["text"]) <= B.MAX_BUTTON_TEXT
                    assert len(element["value"]) <= B.MAX_BUTTON_VALUE
                for option in element.get("options", []):
                    assert len(option["text"]["text"]) <= B.MAX_OPTION_TEXT
                    assert len(option["value"]) <= B.MAX_OPTION_VALUE
        # slack_sdk's own model checks the per-object limits it knows about
        Block.parse(block).validate_json()  # type: ignore[union-attr]
    for obj in text_objects(blocks):
        text = obj["text"]
        assert text, "Slack rejects empty text objects"
        if obj["type"] == "mrkdwn":
            assert obj.get("verbatim") is True, "mrkdwn is verbatim: no automatic links or mentions"
            assert text.count("```") % 2 == 0, f"an unclosed code fence: {text!r}"
            leftover = ALLOWED_SEQUENCE.sub("", text)
            assert "<" not in leftover, f"unexpected control sequence: {text!r}"
            assert ">" not in leftover, f"unexpected control sequence: {text!r}"
    fallback = ALLOWED_SEQUENCE.sub("", message.text)
    assert "<" not in fallback
    assert ">" not in fallback


def payload_text(message: Message) -> str:
    return json.dumps(message.payload(), ensure_ascii=False)
