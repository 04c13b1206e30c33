"""The last guard before a message leaves: within Slack's block count and total text, with a
visible note when parts were left out; and the one-line notification text."""

from __future__ import annotations

from jobtriage.notify import mrkdwn
from jobtriage.notify.limits import (
    BLOCK_ACTIONS,
    BLOCK_CHANGES,
    BLOCK_DO_NOW,
    BLOCK_FOOTER,
    BLOCK_GAPS,
    BLOCK_LINKS,
    BLOCK_OTHERS,
    BLOCK_SEEN_BEFORE,
    BLOCK_STATE,
    BLOCK_TRIMMED,
    MAX_BLOCKS,
    MAX_FALLBACK_TEXT,
    MAX_TOTAL_TEXT,
    block_text_length,
)
from jobtriage.notify.mrkdwn import (
    truncate,
)
from jobtriage.notify.parts import (
    Block,
    context,
)
from jobtriage.text import Lang
from jobtriage.words import Word, say

# Room kept for the note that says parts were left out.
_TRIMMED_NOTE = 200

# Parts dropped first when a message is still too large (in this order).
_DROPPABLE = (
    BLOCK_FOOTER,
    BLOCK_GAPS,
    BLOCK_CHANGES,
    BLOCK_SEEN_BEFORE,
    BLOCK_OTHERS,
    BLOCK_LINKS,
    BLOCK_DO_NOW,
)


def fit(blocks: list[Block], lang: Lang) -> list[Block]:
    """A last guard after per-part budgets: never more than MAX_BLOCKS or MAX_TOTAL_TEXT.

    The per-part budgets keep every alert within both, so this only acts on a future layout change;
    it drops whole optional parts, says so, and always keeps the header, top cause, state and
    buttons.
    """
    dropped = False
    for block_id in _DROPPABLE:
        if (
            block_text_length(blocks) <= MAX_TOTAL_TEXT - _TRIMMED_NOTE
            and len(blocks) <= MAX_BLOCKS
        ):
            break
        kept = [b for b in blocks if b.get("block_id") != block_id]
        dropped = dropped or len(kept) != len(blocks)
        blocks = kept
    if len(blocks) > MAX_BLOCKS:
        tail = [
            b for b in blocks if str(b.get("block_id", "")).startswith((BLOCK_STATE, BLOCK_ACTIONS))
        ]
        head = [b for b in blocks if b not in tail]
        blocks = head[: MAX_BLOCKS - len(tail) - 1] + tail
        dropped = True
    if dropped and not any(b.get("block_id") == BLOCK_TRIMMED for b in blocks):
        note = context(BLOCK_TRIMMED, [f"_{say(Word.TRIMMED, lang)}_"])
        at = next(
            (i for i, b in enumerate(blocks) if str(b.get("block_id", "")).startswith(BLOCK_STATE)),
            len(blocks),
        )
        blocks.insert(at, note)
    return blocks


def fallback(text: str) -> str:
    """The notification text: one line, escaped by the caller, within MAX_FALLBACK_TEXT."""
    return truncate(mrkdwn.one_line(text), MAX_FALLBACK_TEXT)
