"""The one reminder in an incident's thread: nobody has acknowledged it for a while."""

from __future__ import annotations

import re
from datetime import timedelta

from jobtriage.formatting import human_duration
from jobtriage.incident.model import Incident
from jobtriage.notify.fit import fallback
from jobtriage.notify.parts import Message, job_name, safe_text, section
from jobtriage.text import Lang
from jobtriage.words import Word, say

BLOCK_REMINDER = "jt:reminder"
_USERGROUP = re.compile(r"^S[A-Z0-9]{2,}$")


def usergroup_mention(usergroup: str | None) -> str:
    """Slack's mention of a user group (`<!subteam^S0123ABCD>`), or "" for none. Only a user
    group id (from our settings) is ever written into the syntax."""
    if usergroup and _USERGROUP.match(usergroup):
        return f"<!subteam^{usergroup}>"
    return ""


def render_reminder(
    incident: Incident,
    *,
    waiting: timedelta,
    usergroup: str | None,
    lang: Lang,
) -> Message:
    """ "@oncall *job* — nobody has acknowledged this for 35 min", as a reply in the thread.

    `waiting`: how long the incident has waited for someone. `usergroup`: the Slack user group
    to mention (REMIND_USERGROUP), or None to mention nobody.
    """
    mention = usergroup_mention(usergroup)
    job = safe_text(job_name(incident), 100)
    span = human_duration(waiting, lang)
    text = say(Word.REMINDER, lang, mention=f"{mention} " if mention else "", job=job, span=span)
    note = say(Word.REMINDER_FALLBACK, lang, job=job, span=span)
    # The mention goes in the notification text too: that is what pages people on their phones.
    return Message(
        text=fallback(f"{mention} {note}" if mention else note),
        blocks=(section(BLOCK_REMINDER, text),),
    )
