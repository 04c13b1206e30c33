"""The alert of a missed run: a job expected to succeed every so often has not (jobtriage/ticks.py).

Laid out like a failure's alert, shorter: the header says how long the job has gone without a
success; then what was expected and the last success (or that none of the newest executions
succeeded, or that there are none); the newest execution; **Do this now** (its executions, and
what triggers it); the incident's state and its buttons — so it is acknowledged, snoozed,
resolved and recovered like any other incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from jobtriage.evidence.cloud_run import succeeded, succeeded_at
from jobtriage.evidence.model import ExecutionInfo
from jobtriage.formatting import human_duration
from jobtriage.incident.model import Incident
from jobtriage.notify import mrkdwn
from jobtriage.notify.fit import fallback, fit
from jobtriage.notify.limits import BLOCK_DO_NOW, BLOCK_HEADER, BLOCK_TOP, MAX_HEADER_TEXT
from jobtriage.notify.mrkdwn import truncate, untrusted_plain
from jobtriage.notify.parts import Block, Message, plain_text, safe_text, section, slack_date
from jobtriage.notify.state import state_parts
from jobtriage.text import Lang
from jobtriage.words import Word, say


@dataclass(frozen=True, slots=True)
class MissedRun:
    """What a tick found: `job` has no success within `interval` before `now`."""

    project: str
    region: str
    job: str
    interval: timedelta
    now: datetime
    last_success: ExecutionInfo | None  # the newest success among those read, if any
    newest: ExecutionInfo | None  # the newest execution read, if any
    looked_at: int  # executions read

    @property
    def job_path(self) -> str:
        return f"projects/{self.project}/locations/{self.region}/jobs/{self.job}"

    @property
    def without_success(self) -> timedelta | None:
        """How long since the last success ended; None when none was among those read."""
        if self.last_success is None:
            return None
        return self.now - succeeded_at(self.last_success)


def _outcome(info: ExecutionInfo, lang: Lang) -> str:
    if succeeded(info):
        return say(Word.OUTCOME_SUCCEEDED, lang)
    if info.completed_state is None and info.completion_time is None:
        return say(Word.EXECUTION_RUNNING, lang)
    if info.execution_reason == "CANCELLED" or info.cancelled_count:
        return say(Word.OUTCOME_CANCELLED, lang)
    return say(Word.OUTCOME_FAILED, lang)


def _span(found: MissedRun, lang: Lang) -> tuple[str, bool]:
    """How long without a success, and whether that is known (else: at least the interval)."""
    gone = found.without_success
    if gone is None:
        return human_duration(found.interval, lang), False
    return human_duration(gone, lang), True


def _header(found: MissedRun, lang: Lang) -> Block:
    span, known = _span(found, lang)
    job = untrusted_plain(mrkdwn.one_line(found.job[:MAX_HEADER_TEXT]), limit=MAX_HEADER_TEXT)
    key = Word.MISSED_HEADER if known else Word.MISSED_HEADER_UNKNOWN
    return {
        "type": "header",
        "block_id": BLOCK_HEADER,
        "text": plain_text(truncate(say(key, lang, job=job, span=span), MAX_HEADER_TEXT)),
    }


def _body(found: MissedRun, lang: Lang) -> str:
    job = safe_text(found.job, 100)
    lines = [
        say(Word.MISSED_EXPECTED, lang, job=job, interval=human_duration(found.interval, lang))
    ]
    last = found.last_success
    if last is not None:
        lines.append(
            say(
                Word.MISSED_LAST_SUCCESS,
                lang,
                execution=mrkdwn.inline_code(last.name, limit=100),
                when=slack_date(succeeded_at(last)),
                span=human_duration(found.now - succeeded_at(last), lang),
            )
        )
    elif found.looked_at:
        lines.append(say(Word.MISSED_NO_SUCCESS, lang, n=found.looked_at))
    else:
        lines.append(say(Word.MISSED_NEVER_RAN, lang))
    newest = found.newest
    if newest is not None and (last is None or newest.name != last.name):
        created = newest.create_time or newest.start_time
        lines.append(
            say(
                Word.MISSED_NEWEST,
                lang,
                execution=mrkdwn.inline_code(newest.name, limit=100),
                outcome=_outcome(newest, lang),
                when=slack_date(created) if created else "?",
            )
        )
    return "\n".join(lines)


def _do_now(found: MissedRun, lang: Lang) -> Block:
    # Job, region and project names were checked against Cloud Run's rules before they got here.
    commands = [
        f"gcloud run jobs executions list --job={found.job} --region={found.region} "
        f"--project={found.project} --limit=5",
        f"gcloud scheduler jobs list --location={found.region} --project={found.project}",
    ]
    text = say(Word.MISSED_DO_NOW, lang) + "\n" + mrkdwn.code_block(commands, limit=600)
    return section(BLOCK_DO_NOW, text)


def render_missed_run(found: MissedRun, incident: Incident, *, lang: Lang) -> Message:
    """The new-incident message of a missed run, with the incident's state and buttons."""
    blocks: list[Block] = [
        _header(found, lang),
        section(BLOCK_TOP, _body(found, lang)),
        _do_now(found, lang),
        {"type": "divider", "block_id": "jt:divider"},
        *state_parts(incident, lang),
    ]
    span, known = _span(found, lang)
    text = say(
        Word.MISSED_FALLBACK if known else Word.MISSED_FALLBACK_UNKNOWN,
        lang,
        job=safe_text(found.job, 100),
        span=span,
        interval=human_duration(found.interval, lang),
    )
    return Message(text=fallback(text), blocks=tuple(fit(blocks, lang)))
