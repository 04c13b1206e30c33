"""The shared pieces every message is built of: the `Message` itself, text objects, sections and
context blocks, dates, and untrusted text made safe to show (`say`)."""

from __future__ import annotations

import copy
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from analyzers.base import Fact
from jobtriage.diagnosis.model import Report
from jobtriage.evidence import Outcome
from jobtriage.formatting import as_utc, human_duration
from jobtriage.incident.model import Incident
from jobtriage.notify import mrkdwn
from jobtriage.notify.limits import (
    MAX_CONTEXT_ELEMENTS,
    MAX_SECTION_TEXT,
    MAX_TEXT_OBJECT,
)
from jobtriage.notify.mrkdwn import (
    REDACT_MARGIN,
    TRUNCATION_MARKER,
    truncate,
    untrusted,
)
from jobtriage.redact import scrub, scrub_tree
from jobtriage.text import Lang
from jobtriage.words import Word, say

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    """A Slack message: its blocks, and `text`, the notification fallback (always set, escaped)."""

    text: str
    blocks: tuple[Block, ...]

    def __post_init__(self) -> None:
        # The last check before anything reaches Slack, Block Kit Builder or the incident store:
        # every string but our own ids and button values is scrubbed (issue 9).
        object.__setattr__(self, "text", scrub(self.text))
        object.__setattr__(self, "blocks", tuple(scrub_tree(b) for b in self.blocks))

    def payload(self) -> dict[str, Any]:
        """The JSON a Web API call or Block Kit Builder takes."""
        return {"text": self.text, "blocks": [copy.deepcopy(b) for b in self.blocks]}


def mrkdwn_text(text: str) -> Block:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def plain_text(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(block_id: str, text: str) -> Block:
    return {
        "type": "section",
        "block_id": block_id,
        "text": mrkdwn_text(truncate(text, MAX_SECTION_TEXT)),
    }


def context(block_id: str, texts: Iterable[str]) -> Block:
    elements = [mrkdwn_text(truncate(t, MAX_TEXT_OBJECT)) for t in texts if t][
        :MAX_CONTEXT_ELEMENTS
    ]
    return {"type": "context", "block_id": block_id, "elements": elements}


def slack_date(when: datetime) -> str:
    """A time every reader sees in their own time zone; the fallback is UTC.

    https://api.slack.com/reference/surfaces/formatting#date-formatting
    """
    when = as_utc(when)
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def safe_text(text: str, limit: int) -> str:
    """Untrusted text on one line, redacted and escaped, within `limit` characters."""
    return truncate(untrusted(mrkdwn.one_line(text[: limit + REDACT_MARGIN]), limit=limit), limit)


def signal_name(number: int) -> str:
    try:
        return f"{number} ({signal.Signals(number).name})"
    except ValueError:
        return str(number)


def job_name(incident: Incident) -> str:
    return incident.job_path.rstrip("/").rsplit("/", 1)[-1] or incident.job_path


def user(user_id: str | None) -> str:
    """A mention for a Slack user id (given to us by Slack); anything else is shown escaped."""
    if user_id and user_id.isalnum() and user_id.isupper() and len(user_id) <= 32:
        return f"<@{user_id}>"
    return safe_text(user_id or "?", 40)


def bullets(title: str, lines: Iterable[str], total: int, budget: int, lang: Lang) -> str:
    """`title` and as many "• line"s as fit in `budget`, then "…and N more".

    `lines` is consumed lazily (there may be hundreds; only those shown are rendered); `total` is
    how many it holds.
    """
    text = title
    shown = 0
    for line in lines:
        left = total - shown - 1
        more = "\n" + say(Word.MORE, lang, n=left) if left > 0 else ""
        candidate = f"{text}\n• {line}"
        if len(candidate) + len(more) <= budget:
            text = candidate
            shown += 1
            continue
        rest = total - shown
        if shown == 0:
            # a first line too long on its own is cut rather than hidden
            tail = "\n" + say(Word.MORE, lang, n=rest - 1) if rest > 1 else ""
            room = budget - len(text) - len("\n• ") - len(tail)
            if room > len(TRUNCATION_MARKER) + 20:
                return f"{text}\n• {truncate(line, room)}{tail}"
        return text + "\n" + say(Word.MORE, lang, n=rest)
    if total > shown:  # the caller left some out on purpose (e.g. causes below 2 %)
        return text + "\n" + say(Word.MORE, lang, n=total - shown)
    return text


def evidence_line(fact: Fact) -> str:
    prefix = []
    if fact.timestamp is not None:
        prefix.append(as_utc(fact.timestamp).strftime("%H:%M:%SZ"))
    if fact.stream:
        prefix.append(fact.stream)
    head = " ".join(prefix)
    return f"{head}  {fact.quote}" if head else (fact.quote or "")


def exit_text(report: Report, lang: Lang) -> str | None:
    s = report.summary
    if s.outcome is Outcome.TIMED_OUT:
        if s.timeout is not None:
            return say(
                Word.EXIT_TIMEOUT, lang, timeout=human_duration(s.timeout, lang, precise=True)
            )
        return say(Word.OUTCOME_TIMED_OUT, lang)
    if s.term_signal is not None:
        return say(Word.EXIT_SIGNAL, lang, signal=signal_name(s.term_signal))
    if s.exit_code is not None:
        return say(Word.EXIT_CODE, lang, code=s.exit_code)
    return None


def failure_span(incident: Incident, lang: Lang) -> str:
    last = incident.last_failure_at or incident.updated_at
    return human_duration(last - incident.opened_at, lang)
