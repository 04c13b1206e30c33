"""What the product needs from Slack, and keeping an incident's parent message current."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from jobtriage.errors import PermanentError, TransientError
from jobtriage.incident.model import Incident
from jobtriage.notify.metadata import PostTag
from jobtriage.notify.parts import Message
from jobtriage.notify.state import render_state_update
from jobtriage.ownlog import get_logger
from jobtriage.text import Lang

log = get_logger()


class Notifier(Protocol):
    """`jobtriage.notify.deliver.SlackNotifier`, or `app.LogNotifier` without Slack settings."""

    def post_alert(self, channel: str, message: Message, *, tag: PostTag | None = None) -> str: ...

    def reply(
        self,
        channel: str,
        thread_ts: str,
        message: Message,
        *,
        broadcast: bool = False,
        tag: PostTag | None = None,
    ) -> str: ...

    def find_post(
        self,
        channel: str,
        delivery: str,
        *,
        thread_ts: str | None,
        oldest: datetime,
        latest: datetime,
    ) -> str | None: ...

    def update(self, channel: str, ts: str, message: Message) -> None: ...

    def post_ephemeral(self, channel: str, user: str, text: str) -> None: ...

    def usergroup_members(self, usergroup: str) -> frozenset[str]: ...

    def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> None: ...


def blocks_json(message: Message) -> str:
    """A message's blocks as stored on its incident (to redraw the parent message later)."""
    return json.dumps(message.payload()["blocks"], ensure_ascii=False, separators=(",", ":"))


def update_parent(notifier: Notifier, incident: Incident, lang: Lang) -> None:
    """Keep the parent message showing the incident's current state. Best effort: the thread
    reply already told the channel; a failed edit is logged, not retried."""
    if not incident.parent_blocks_json or not incident.channel or not incident.ts:
        return
    message = render_state_update(json.loads(incident.parent_blocks_json), incident, lang=lang)
    try:
        notifier.update(incident.channel, incident.ts, message)
    except (TransientError, PermanentError) as exc:
        log.warning(
            "could not update the parent message: %s",
            exc,
            extra={"incident": incident.id, "job_path": incident.job_path},
        )
