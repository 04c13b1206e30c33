"""What every message we post says about itself: Slack message metadata, and finding it again.

Each chat.postMessage carries (https://docs.slack.dev/messaging/message-metadata)

    metadata = {"event_type": "jobtriage_post",
                "event_payload": {"delivery": <claim key>, "incident": <id>,
                                  "execution": <name>, "kind": "alert" | "reply" | …}}

It is not shown to people. `conversations.history` / `conversations.replies` return it with
`include_all_metadata=true`, so a delivery whose earlier attempt's outcome is unknown (Slack
answered after the timeout, or the instance died before recording the answer) can find that
message by its delivery key instead of posting it a second time (`jobtriage.incident.ledger`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from jobtriage.redact import scrub, scrub_tree

EVENT_TYPE = "jobtriage_post"


class PostKind(StrEnum):
    ALERT = "alert"  # a new incident's message (in the channel, or in a digest thread)
    REPLY = "reply"  # "failed again" in the incident's thread
    DIGEST = "digest"  # the parent of a digest thread in a failure storm
    RECOVERY = "recovery"  # "recovered" in the incident's thread
    REMINDER = "reminder"  # "nobody has acknowledged this" in the incident's thread (a tick)


@dataclass(frozen=True, slots=True)
class PostTag:
    """Which delivery posted a message, for what."""

    delivery: str  # the claim key (`jobtriage.incident.ledger.claim_key`)
    kind: PostKind
    incident: str = ""
    execution: str = ""

    def metadata(self) -> dict[str, Any]:
        """The `metadata` argument of chat.postMessage (redacted like everything that leaves)."""
        payload = {
            "delivery": self.delivery,
            "incident": self.incident,
            "execution": self.execution,
            "kind": str(self.kind),
        }
        # a digest belongs to no incident or execution: those keys are left out, not sent empty
        present = {k: v for k, v in payload.items() if v}
        return {"event_type": EVENT_TYPE, "event_payload": scrub_tree(present)}


def tagged_ts(messages: Iterable[Any], delivery: str) -> str | None:
    """The ts of the first message of `messages` (Slack message objects, as conversations.history
    and conversations.replies return them) that a delivery with key `delivery` posted."""
    wanted = scrub(delivery)  # compared as it was sent
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        metadata = message.get("metadata")
        if not isinstance(metadata, Mapping) or metadata.get("event_type") != EVENT_TYPE:
            continue
        payload = metadata.get("event_payload")
        ts = message.get("ts")
        if isinstance(payload, Mapping) and payload.get("delivery") == wanted and ts:
            return str(ts)
    return None
