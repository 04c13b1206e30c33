"""Seeing a Slack message without posting it: a Block Kit Builder link and a terminal rendering.

`builder_url` opens the exact blocks in Slack's Block Kit Builder
(`https://app.slack.com/block-kit-builder/#<url-encoded {"blocks": [...]}>`, not formally documented
but stable; `slack blocks preview` in the Slack CLI does the same). `render_terminal` is a
plain-text approximation for the command line: what a reader would see, with links spelled out
and buttons shown in brackets.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from jobtriage.notify.mrkdwn import FENCE, clean, unescape
from jobtriage.notify.parts import Message
from jobtriage.redact import scrub_tree

BUILDER_BASE = "https://app.slack.com/block-kit-builder/"

# <!date^epoch^format|fallback>, <url|label>, <@U123>, <#C123>, <!here>
_SEQUENCE = re.compile(r"<([^<>]*)>")


def builder_url(
    message: Message | Sequence[Mapping[str, Any]], *, team_id: str | None = None
) -> str:
    """A link opening `message` (or bare blocks) in Block Kit Builder, in `team_id`'s workspace."""
    blocks = list(message.blocks) if isinstance(message, Message) else list(message)
    # the link carries the whole message: the same last check as a post (issue 9)
    payload = json.dumps(scrub_tree({"blocks": blocks}), ensure_ascii=False, separators=(",", ":"))
    team = quote(team_id, safe="") if team_id else ""
    return f"{BUILDER_BASE}{team}#{quote(payload, safe='')}"


def _sequence(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("!date^"):
        return label or target
    if target.startswith("@"):
        return label or target
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):
        return f"@{target[1:].split('^', 1)[0]}"
    return f"{label} ({unescape(target)})" if label else unescape(target)


def mrkdwn_to_plain(text: str) -> str:
    """What a Slack reader sees of a mrkdwn text, as plain characters."""
    shown = _SEQUENCE.sub(_sequence, text)
    return clean(unescape(shown))


def _text(obj: Mapping[str, Any] | None) -> str:
    if not obj:
        return ""
    raw = str(obj.get("text", ""))
    return mrkdwn_to_plain(raw) if obj.get("type") == "mrkdwn" else clean(raw)


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    out: list[str] = []
    in_code = False
    for line in text.split("\n"):
        if line == FENCE:  # our code blocks put their fences on lines of their own
            in_code = not in_code
            continue
        if in_code:
            out.append(f"{indent}    {line}")  # code keeps its lines as they are
            continue
        wrapped = textwrap.wrap(
            line,
            width=width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,  # a URL stays whole, so it can be copied
            break_on_hyphens=False,
        )
        out.extend(wrapped or [""])
    return out


def render_terminal(message: Message, *, width: int = 100) -> str:
    """A plain-text picture of the message for a terminal."""
    lines: list[str] = []
    for block in message.blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"))
            lines += [title, "=" * min(width, max(len(title), 1))]
        elif kind == "section":
            if block.get("text"):
                lines += _wrap(_text(block["text"]), width)
            for field in block.get("fields", []):
                label, _, value = _text(field).partition("\n")
                lines += _wrap(f"{label.strip('*')}: {value}", width, indent="  ")
        elif kind == "context":
            for element in block.get("elements", []):
                lines += _wrap(_text(element), width, indent="  ")
        elif kind == "divider":
            lines.append("-" * width)
        elif kind == "actions":
            buttons = []
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    buttons.append(f"[{_text(element.get('text'))}]")
                elif element.get("type") in ("static_select", "overflow"):
                    choices = " | ".join(_text(o.get("text")) for o in element.get("options", []))
                    buttons.append(f"[{_text(element.get('placeholder'))} {choices}]")
            lines.append(" ".join(buttons))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
