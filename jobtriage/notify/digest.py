"""The parent message of a digest thread: many jobs failed at once, their alerts follow inside."""

from __future__ import annotations

from datetime import timedelta

from jobtriage.notify.fit import fallback
from jobtriage.notify.limits import (
    MAX_HEADER_TEXT,
)
from jobtriage.notify.mrkdwn import (
    truncate,
)
from jobtriage.notify.parts import (
    Block,
    Message,
    plain_text,
    section,
)
from jobtriage.text import Lang
from jobtriage.words import Word, say


def render_digest(*, after: int, window: timedelta, lang: Lang) -> Message:
    """The parent of a digest thread: many jobs failed at once, their alerts follow inside."""
    minutes = max(1, int(window.total_seconds() // 60))
    blocks: list[Block] = [
        {
            "type": "header",
            "block_id": "jt:digest_header",
            "text": plain_text(truncate(say(Word.DIGEST_HEADER, lang), MAX_HEADER_TEXT)),
        },
        section("jt:digest", say(Word.DIGEST_BODY, lang, after=after, minutes=minutes)),
    ]
    return Message(text=fallback(say(Word.DIGEST_FALLBACK, lang)), blocks=tuple(blocks))
