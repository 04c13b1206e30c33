"""The Slack message for a diagnosis: one pure renderer, English and Korean.

`render_alert` lays out what on-call needs to act in the first minute, in this order: which job
failed (header), the execution's facts, the most likely cause with the log lines that prove it, the
one command to run first, the other candidates, what changed since the last success, what could not
be checked, links, and the incident's state with its buttons.

Every block is built within Slack's limits (named below, each with its doc) and the whole message
within a total text budget, cutting visibly ("…[truncated]", "…and 12 more") instead of letting
Slack refuse the post. Every string that came from a job is redacted and escaped
(`mrkdwn.untrusted`); every mrkdwn text object is `verbatim` so Slack does not turn words into
links or mentions by itself.

The state line and the buttons have their own `block_id`s ("jt:state:<version>",
"jt:actions:<version>") so that a click re-renders only them (`render_state_update`) in the
message as it was first posted. The version in the id changes on every update, as Slack asks
of blocks that are replaced
(https://docs.slack.dev/reference/block-kit/blocks/header-block, `block_id`).
"""

from __future__ import annotations

import copy
import itertools
import re
import signal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from analyzers.base import Fact
from jobtriage.diagnosis.changes import NONE
from jobtriage.diagnosis.labels import CHANGE_FIELDS, SUSPECT_KINDS, human_duration, percent
from jobtriage.diagnosis.labels import label as label_of
from jobtriage.diagnosis.model import Change, RankedCause, Report, Suspect
from jobtriage.diagnosis.report import console_links
from jobtriage.evidence import ExecutionRef, Gap, Outcome
from jobtriage.incident.model import Incident, State
from jobtriage.notify import mrkdwn
from jobtriage.notify.actions import ButtonAction, ButtonValue, Snooze, encode_value
from jobtriage.notify.mrkdwn import (
    REDACT_MARGIN,
    TRUNCATION_MARKER,
    truncate,
    untrusted,
    untrusted_plain,
)
from jobtriage.redact import scrub, scrub_tree
from jobtriage.text import Lang, Text

Block = dict[str, Any]

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
BUDGET_FIELD = 160  # each summary field; at most MAX_FIELDS of them
BUDGET_TOP = 2400  # the top cause with its evidence
BUDGET_FIRST_STEP = 900
BUDGET_OTHERS = 900
BUDGET_CHANGES = 1200
BUDGET_GAPS = 700
BUDGET_LINKS = 900
BUDGET_STATE = 400
BUDGET_REPEAT = 1200  # a "failed again" reply

EVIDENCE_LINES = 3  # quoted log lines under the top cause
EVIDENCE_LINE_CHARS = 700  # each, after escaping
NOTE_CHARS = 300  # a config or status fact, a title, a purpose
VALUE_CHARS = 120  # one side of a change
LAST_LINES = 5  # shown when no cause was recognised

BLOCK_HEADER = "jt:header"
BLOCK_SUMMARY = "jt:summary"
BLOCK_TOP = "jt:top"
BLOCK_FIRST_STEP = "jt:first_step"
BLOCK_OTHERS = "jt:others"
BLOCK_CHANGES = "jt:changes"
BLOCK_GAPS = "jt:gaps"
BLOCK_LINKS = "jt:links"
BLOCK_STATE = "jt:state"  # + ":<incident version>"
BLOCK_ACTIONS = "jt:actions"  # + ":<incident version>"
BLOCK_TRIMMED = "jt:trimmed"


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


# ---- words ------------------------------------------------------------------------------------

_W: dict[str, Text] = {
    "failed": Text(en="{job} failed", ko="{job} 실패"),
    "timed_out": Text(en="{job} failed (timed out)", ko="{job} 실패 (시간 초과)"),
    "cancelled": Text(en="{job} was cancelled", ko="{job} 취소됨"),
    "execution": Text(en="Execution", ko="실행"),
    "region": Text(en="Region · project", ko="리전 · 프로젝트"),
    "tasks": Text(en="Tasks", ko="태스크"),
    "tasks_value": Text(en="{failed} of {total} failed", ko="{total}개 중 {failed}개 실패"),
    "attempts": Text(en="Attempts", ko="시도"),
    "attempts_retries": Text(
        en="{attempts} (max retries {retries})", ko="{attempts}회 (최대 재시도 {retries})"
    ),
    "attempts_value": Text(en="{attempts}", ko="{attempts}회"),
    "exit": Text(en="Exit", ko="종료"),
    "exit_code": Text(en="exit code {code}", ko="종료 코드 {code}"),
    "exit_signal": Text(en="signal {signal}", ko="시그널 {signal}"),
    "exit_timeout": Text(en="timed out after {timeout}", ko="{timeout} 후 시간 초과"),
    "exit_timeout_bare": Text(en="timed out", ko="시간 초과"),
    "duration": Text(en="Duration", ko="실행 시간"),
    "started_by": Text(en="Started by", ko="실행한 주체"),
    "started_at": Text(en="Started", ko="시작"),
    "top": Text(en="Most likely: {title}", ko="가장 유력: {title}"),
    "likely_error": Text(
        en="No known cause recognised. Most likely the error:",
        ko="알려진 원인을 찾지 못했습니다. 오류일 가능성이 가장 높은 줄:",
    ),
    "then_last_lines": Text(en="The last lines of the log:", ko="로그의 마지막 줄:"),
    "none": Text(en="(none)", ko="(없음)"),
    "nothing_recognised": Text(
        en="No known cause recognised. The last lines of the log:",
        ko="알려진 원인을 찾지 못했습니다. 로그의 마지막 줄:",
    ),
    "no_lines": Text(
        en="No log lines were found for this execution.", ko="이 실행의 로그를 찾지 못했습니다."
    ),
    "first_step": Text(en="First step", ko="먼저 실행할 명령"),
    "others": Text(en="Other candidates", ko="다른 후보"),
    "more": Text(en="…and {n} more", ko="… 외 {n}개"),
    "changes": Text(
        en="Changed since the last successful execution", ko="마지막 성공 실행 이후 변경 사항"
    ),
    "related": Text(en="lines up with the most likely cause", ko="가장 유력한 원인과 관련"),
    "suspects": Text(en="Suspect changes", ko="의심되는 변경"),
    "gaps": Text(en="Could not check", ko="확인하지 못한 항목"),
    "link_execution": Text(en="Execution", ko="실행 상세"),
    "link_logs": Text(en="Logs Explorer", ko="로그 탐색기"),
    "link_job": Text(en="Job", ko="Job"),
    "sampled": Text(
        en="logs sampled: {kept} of {fetched} lines read",
        ko="로그 일부만 확인: {fetched}줄 중 {kept}줄",
    ),
    "state_open": Text(
        en="*Open* — not acknowledged yet", ko="*미확인* — 아직 아무도 확인하지 않음"
    ),
    "state_acked": Text(en="*Acknowledged* by {user} {when}", ko="{user} 님이 {when} *확인함*"),
    "state_snoozed_until": Text(en="*Snoozed* until {when}", ko="{when}까지 *알림 중지*"),
    "state_snoozed_success": Text(
        en="*Snoozed* until the next successful execution",
        ko="다음 성공 실행까지 *알림 중지*",
    ),
    "held_back": Text(en="{n} more failures held back", ko="알리지 않은 실패 {n}회"),
    "held_back_one": Text(en="1 more failure held back", ko="알리지 않은 실패 1회"),
    "state_resolved": Text(en="*Resolved* by {user} {when}", ko="{user} 님이 {when} *해결함*"),
    "state_resolved_anon": Text(en="*Resolved* {when}", ko="{when} *해결됨*"),
    "state_recovered": Text(
        en="*Recovered* — execution {execution} succeeded {when}",
        ko="*복구됨* — 실행 {execution} 성공 {when}",
    ),
    "failed_once": Text(en="failed once", ko="1회 실패"),
    "failed_n": Text(en="failed {n} times in {span}", ko="{span} 동안 {n}회 실패"),
    "acknowledge": Text(en="Acknowledge", ko="확인"),
    "resolve": Text(en="Resolve", ko="해결"),
    "snooze": Text(en="Snooze…", ko="알림 중지…"),
    "snooze_1h": Text(en="Snooze 1 h", ko="1시간 중지"),
    "snooze_24h": Text(en="Snooze 24 h", ko="24시간 중지"),
    "snooze_success": Text(en="Until next success", ko="다음 성공까지 중지"),
    "fallback": Text(
        en="{job} failed: most likely {title} ({pct}) — execution {execution}",
        ko="{job} 실패: 가장 유력한 원인 {title} ({pct}) — 실행 {execution}",
    ),
    "again": Text(en="*Failed again* — {nth} time in {span}", ko="*다시 실패* — {span} 동안 {nth}"),
    "again_fallback": Text(
        en="{job} failed again ({nth} time in {span})",
        ko="{job} 다시 실패 ({span} 동안 {nth})",
    ),
    "again_cause": Text(en="Most likely: {title} ({pct})", ko="가장 유력: {title} ({pct})"),
    "recovered": Text(
        en="*Recovered* — execution {execution} succeeded{when}.",
        ko="*복구됨* — 실행 {execution} 성공{when}.",
    ),
    "recovered_history": Text(
        en="It had failed {n} times over {span}.",
        ko="그 전까지 {span} 동안 {n}회 실패했습니다.",
    ),
    "recovered_history_once": Text(en="It had failed once.", ko="그 전에 1회 실패했습니다."),
    "recovered_fallback": Text(
        en="{job} recovered: execution {execution} succeeded",
        ko="{job} 복구됨: 실행 {execution} 성공",
    ),
    "trimmed": Text(
        en="Parts of this report were left out to fit Slack's message size limit.",
        ko="Slack 메시지 크기 제한 때문에 보고서 일부를 생략했습니다.",
    ),
    "state_fallback": Text(en="{job} failed — {state}", ko="{job} 실패 — {state}"),
    "logs_skipped": Text(
        en="Logs not read for this one: Logging reads are kept for new incidents while many "
        "jobs fail. Counted in this incident because the same job failed.",
        ko="이번 실패는 로그를 읽지 않았습니다: 여러 Job이 동시에 실패하는 동안 Logging 읽기는 "
        "새 인시던트용으로 남겨 둡니다. 같은 Job의 실패라서 이 인시던트에 포함했습니다.",
    ),
    "digest_header": Text(
        en=":rotating_light: Many jobs are failing at once",
        ko=":rotating_light: 여러 Job이 동시에 실패 중",
    ),
    "digest_body": Text(
        en="More than {after} new incidents within {minutes} minutes. To keep the channel "
        "readable, the next new incidents are posted *in this thread*, each with its own "
        "buttons; repeats go to their incident as usual.",
        ko="{minutes}분 안에 새 인시던트가 {after}개를 넘었습니다. 채널이 읽기 어려워지지 않도록 "
        "이후의 새 인시던트는 *이 스레드에* 각자의 버튼과 함께 올립니다. 반복 실패는 평소처럼 해당 "
        "인시던트로 갑니다.",
    ),
    "digest_fallback": Text(
        en="Many jobs are failing at once: new incidents are grouped in this thread",
        ko="여러 Job이 동시에 실패 중: 새 인시던트를 이 스레드에 모읍니다",
    ),
}

_STATE_ICON = {
    State.OPEN: ":red_circle:",
    State.ACKNOWLEDGED: ":large_orange_circle:",
    State.SNOOZED: ":zzz:",
    State.RESOLVED: ":white_check_mark:",
    State.RECOVERED: ":large_green_circle:",
}

_STATE_WORD: dict[State, Text] = {
    State.OPEN: Text(en="open", ko="미확인"),
    State.ACKNOWLEDGED: Text(en="acknowledged", ko="확인됨"),
    State.SNOOZED: Text(en="snoozed", ko="알림 중지"),
    State.RESOLVED: Text(en="resolved", ko="해결됨"),
    State.RECOVERED: Text(en="recovered", ko="복구됨"),
}


def _w(key: str, lang: Lang, **params: object) -> str:
    text = _W[key].get(lang)
    return text.format(**params) if params else text


# ---- small helpers ----------------------------------------------------------------------------


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": True}


def _section(block_id: str, text: str) -> Block:
    return {
        "type": "section",
        "block_id": block_id,
        "text": _mrkdwn(truncate(text, MAX_SECTION_TEXT)),
    }


def _context(block_id: str, texts: Iterable[str]) -> Block:
    elements = [_mrkdwn(truncate(t, MAX_TEXT_OBJECT)) for t in texts if t][:MAX_CONTEXT_ELEMENTS]
    return {"type": "context", "block_id": block_id, "elements": elements}


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def slack_date(when: datetime) -> str:
    """A time every reader sees in their own time zone; the fallback is UTC.

    https://api.slack.com/reference/surfaces/formatting#date-formatting
    """
    when = _utc(when)
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _plain_date(when: datetime) -> str:
    return _utc(when).strftime("%Y-%m-%d %H:%M UTC")


def ordinal(n: int, lang: Lang) -> str:
    if lang == "ko":
        return f"{n}번째"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _say(text: str, limit: int) -> str:
    """Untrusted text on one line, redacted and escaped, within `limit` characters."""
    return truncate(untrusted(mrkdwn.one_line(text[: limit + REDACT_MARGIN]), limit=limit), limit)


def _signal_name(number: int) -> str:
    try:
        return f"{number} ({signal.Signals(number).name})"
    except ValueError:
        return str(number)


def _job_name(incident: Incident) -> str:
    return incident.job_path.rstrip("/").rsplit("/", 1)[-1] or incident.job_path


def _user(user_id: str | None) -> str:
    """A mention for a Slack user id (given to us by Slack); anything else is shown escaped."""
    if user_id and user_id.isalnum() and user_id.isupper() and len(user_id) <= 32:
        return f"<@{user_id}>"
    return _say(user_id or "?", 40)


def _bullets(title: str, lines: Iterable[str], total: int, budget: int, lang: Lang) -> str:
    """`title` and as many "• line"s as fit in `budget`, then "…and N more".

    `lines` is consumed lazily (there may be hundreds; only those shown are rendered); `total` is
    how many it holds.
    """
    text = title
    shown = 0
    for line in lines:
        left = total - shown - 1
        more = "\n" + _w("more", lang, n=left) if left > 0 else ""
        candidate = f"{text}\n• {line}"
        if len(candidate) + len(more) <= budget:
            text = candidate
            shown += 1
            continue
        rest = total - shown
        if shown == 0:
            # a first line too long on its own is cut rather than hidden
            tail = "\n" + _w("more", lang, n=rest - 1) if rest > 1 else ""
            room = budget - len(text) - len("\n• ") - len(tail)
            if room > len(TRUNCATION_MARKER) + 20:
                return f"{text}\n• {truncate(line, room)}{tail}"
        return text + "\n" + _w("more", lang, n=rest)
    if total > shown:  # the caller left some out on purpose (e.g. causes below 2 %)
        return text + "\n" + _w("more", lang, n=total - shown)
    return text


# ---- the parts of an alert --------------------------------------------------------------------


def _header(report: Report, lang: Lang) -> Block:
    s = report.summary
    key = {Outcome.TIMED_OUT: "timed_out", Outcome.CANCELLED: "cancelled"}.get(s.outcome, "failed")
    job = untrusted_plain(mrkdwn.one_line(s.ref.job[:MAX_HEADER_TEXT]), limit=MAX_HEADER_TEXT)
    text = ":red_circle: " + _w(key, lang, job=job)
    return {
        "type": "header",
        "block_id": BLOCK_HEADER,
        "text": _plain(truncate(text, MAX_HEADER_TEXT)),
    }


def _field(label: str, value: str) -> Block:
    return _mrkdwn(truncate(f"*{label}*\n{value}", min(BUDGET_FIELD, MAX_FIELD_TEXT)))


def _exit(report: Report, lang: Lang) -> str | None:
    s = report.summary
    if s.outcome is Outcome.TIMED_OUT:
        if s.timeout is not None:
            return _w("exit_timeout", lang, timeout=human_duration(s.timeout, lang, precise=True))
        return _w("exit_timeout_bare", lang)
    if s.term_signal is not None:
        return _w("exit_signal", lang, signal=_signal_name(s.term_signal))
    if s.exit_code is not None:
        return _w("exit_code", lang, code=s.exit_code)
    return None


def _summary(report: Report, lang: Lang) -> Block:
    s = report.summary
    fields = [
        _field(_w("execution", lang), mrkdwn.inline_code(s.ref.execution, limit=100)),
        _field(
            _w("region", lang),
            f"{mrkdwn.inline_code(s.ref.region, limit=60)} · "
            f"{mrkdwn.inline_code(s.ref.project, limit=60)}",
        ),
    ]
    if s.tasks_total:  # zero: the Run API was not readable (the gaps say why)
        tasks = _w("tasks_value", lang, failed=s.tasks_failed, total=s.tasks_total)
        fields.append(_field(_w("tasks", lang), tasks))
    if s.attempts is not None:
        if s.max_retries is not None:
            value = _w("attempts_retries", lang, attempts=s.attempts, retries=s.max_retries)
        else:
            value = _w("attempts_value", lang, attempts=s.attempts)
        fields.append(_field(_w("attempts", lang), value))
    exit_text = _exit(report, lang)
    if exit_text:
        fields.append(_field(_w("exit", lang), exit_text))
    if s.duration is not None:
        fields.append(_field(_w("duration", lang), human_duration(s.duration, lang, precise=True)))
    if s.started_by:
        fields.append(_field(_w("started_by", lang), _say(s.started_by, BUDGET_FIELD)))
    if s.started_at is not None:
        fields.append(_field(_w("started_at", lang), slack_date(s.started_at)))
    return {"type": "section", "block_id": BLOCK_SUMMARY, "fields": fields[:MAX_FIELDS]}


def _evidence_line(fact: Fact) -> str:
    prefix = []
    if fact.timestamp is not None:
        prefix.append(_utc(fact.timestamp).strftime("%H:%M:%SZ"))
    if fact.stream:
        prefix.append(fact.stream)
    head = " ".join(prefix)
    return f"{head}  {fact.quote}" if head else (fact.quote or "")


def _top(report: Report, lang: Lang) -> Block:
    top = report.top
    title_text = _say(top.title.get(lang), NOTE_CHARS)
    title = truncate(
        f"*{_w('top', lang, title=title_text)}* · {percent(top.confidence)}", NOTE_CHARS
    )
    quotes = [f for f in top.facts if f.quote][:EVIDENCE_LINES]
    notes = [f.note.get(lang) for f in top.facts if not f.quote and f.note][:EVIDENCE_LINES]
    note_text = "".join(f"\n• {_say(n, NOTE_CHARS)}" for n in notes)
    parts = [title]
    room = BUDGET_TOP - len(title) - len(note_text) - 2
    if quotes:
        parts.append(
            mrkdwn.code_block(
                (_evidence_line(f) for f in quotes), limit=room, line_limit=EVIDENCE_LINE_CHARS
            )
        )
    elif not notes:
        # nothing recognised: show what was seen, as the report's "last lines"
        last = report.last_lines[-LAST_LINES:]
        error = report.error_line
        if error is not None:  # the line most likely to be the error, then the last lines
            likely = _w("likely_error", lang)
            parts.append(likely)
            block = mrkdwn.code_block(
                (_evidence_line(error),), limit=room // 2, line_limit=EVIDENCE_LINE_CHARS
            )
            parts.append(block)
            room -= len(likely) + len(block) + 2
            last = tuple(f for f in last if f.quote != error.quote)
        label = _w("nothing_recognised", lang) if last else _w("no_lines", lang)
        if error is not None:
            label = _w("then_last_lines", lang)
        if last or error is None:
            parts.append(label)
        if last:
            room -= len(label) + 1
            parts.append(
                mrkdwn.code_block(
                    (_evidence_line(f) for f in last), limit=room, line_limit=EVIDENCE_LINE_CHARS
                )
            )
    text = "\n".join(p for p in parts if p) + note_text
    return _section(BLOCK_TOP, truncate(text, BUDGET_TOP))


def _first_step(report: Report, lang: Lang) -> Block | None:
    step = report.first_step
    if step is None:
        return None
    purpose = _say(step.purpose.get(lang), NOTE_CHARS)
    head = f"*{_w('first_step', lang)}:* {purpose}"
    code = mrkdwn.code_block([step.command], limit=BUDGET_FIRST_STEP - len(head) - 1)
    return _section(BLOCK_FIRST_STEP, f"{head}\n{code}" if code else head)


# Below this confidence a cause without a finding is noise on a phone: the terminal and JSON
# reports still list every cause.
OTHERS_MIN_CONFIDENCE = 0.02
OTHERS_MAX = 4


def _others(report: Report, lang: Lang) -> Block | None:
    others: Sequence[RankedCause] = [
        c
        for c in report.causes[1:]
        if c.finding is not None or c.confidence >= OTHERS_MIN_CONFIDENCE
    ][:OTHERS_MAX]
    if not others:
        return None
    lines = (f"{percent(c.confidence)} — {_say(c.title.get(lang), NOTE_CHARS)}" for c in others)
    total = len(report.causes) - 1
    text = _bullets(f"*{_w('others', lang)}*", lines, total, BUDGET_OTHERS, lang)
    return _section(BLOCK_OTHERS, text)


def _change_line(change: Change, related: bool, lang: Lang) -> str:
    field = _say(label_of(CHANGE_FIELDS, change.field, lang), 60)
    before, after = (
        (_w("none", lang) if value == NONE else mrkdwn.inline_code(value, limit=VALUE_CHARS))
        if value
        else "—"
        for value in (change.before, change.after)
    )
    line = f"*{field}*: {before} → {after}"
    if change.note is not None:
        line += " — " + _say(change.note.get(lang), NOTE_CHARS)
    if related:
        line = f":warning: {line} _({_w('related', lang)})_"
    return line


# A link from the evidence is shown (as plain text) only in this shape (no <, >, | or spaces).
_SAFE_LINK = re.compile(r"https://[A-Za-z0-9.-]+/[A-Za-z0-9._~/%?=&:+-]*")


def _suspect_line(suspect: Suspect, lang: Lang) -> str:
    when = suspect.when.strftime("%H:%M") if suspect.when else "?"
    line = f"`{when}` *{_say(label_of(SUSPECT_KINDS, suspect.kind, lang), 40)}*: "
    line += _say(suspect.what.get(lang), NOTE_CHARS)
    if suspect.who:
        line += " — " + _say(suspect.who, 80)
    if suspect.link and _SAFE_LINK.fullmatch(suspect.link):
        line += f" — {suspect.link}"
    if suspect.lines_up:
        line = f":warning: {line} _({_w('related', lang)})_"
    return line


def _changes(report: Report, lang: Lang) -> Block | None:
    if not report.changes and not report.suspects:
        return None
    top_id = report.top.id
    related = [c for c in report.changes if c.related_cause == top_id]
    rest = [c for c in report.changes if c.related_cause != top_id]
    lines = itertools.chain(
        (_suspect_line(x, lang) for x in report.suspects),
        (_change_line(c, True, lang) for c in related),
        (_change_line(c, False, lang) for c in rest),
    )
    total = len(report.changes) + len(report.suspects)
    title = _w("suspects" if report.suspects else "changes", lang)
    text = _bullets(f"*{title}*", lines, total, BUDGET_CHANGES, lang)
    return _section(BLOCK_CHANGES, text)


def _gaps(report: Report, lang: Lang) -> Block | None:
    if not report.gaps:
        return None

    def line(gap: Gap) -> str:
        reason, fix = gap.says(lang)
        text = f"*{gap.source.value}*: {_say(reason, NOTE_CHARS)}"
        return text + (f" — {_say(fix, NOTE_CHARS)}" if fix else "")

    lines = (line(gap) for gap in report.gaps)
    text = _bullets(f"*{_w('gaps', lang)}*", lines, len(report.gaps), BUDGET_GAPS, lang)
    return _section(BLOCK_GAPS, text)


def _links(report: Report, lang: Lang) -> Block | None:
    candidates = [
        (report.links.execution, _w("link_execution", lang)),
        (report.links.logs, _w("link_logs", lang)),
        (report.links.job, _w("link_job", lang)),
    ]
    links: list[str] = []
    used = 0
    for url, label in candidates:
        if not url or len(url) > BUDGET_LINKS:
            continue
        piece = mrkdwn.link(url, f":link: {label}")
        # a link cut in half is worse than no link: leave out what does not fit
        if used + len(piece) + 3 > BUDGET_LINKS:
            continue
        links.append(piece)
        used += len(piece) + 3
    texts = [" · ".join(links)] if links else []
    stats = report.log_stats
    if stats.sampled:
        texts.append(_w("sampled", lang, kept=f"{stats.kept:,}", fetched=f"{stats.fetched:,}"))
    return _context(BLOCK_LINKS, texts) if texts else None


# ---- state and actions ------------------------------------------------------------------------


def _failure_count(incident: Incident, lang: Lang) -> str:
    if incident.failures <= 1:
        return _w("failed_once", lang)
    last = incident.last_failure_at or incident.updated_at
    span = human_duration(last - incident.opened_at, lang)
    return _w("failed_n", lang, n=incident.failures, span=span)


def state_line(incident: Incident, lang: Lang) -> str:
    """Where the incident stands, e.g. "Acknowledged by @ana 09:14 · failed 3 times in 2 h"."""
    state = incident.state
    if state is State.ACKNOWLEDGED:
        when = slack_date(incident.acked_at) if incident.acked_at else ""
        phrase = _w("state_acked", lang, user=_user(incident.acked_by), when=when)
    elif state is State.SNOOZED:
        if incident.snooze_until_success or incident.snoozed_until is None:
            phrase = _w("state_snoozed_success", lang)
        else:
            phrase = _w("state_snoozed_until", lang, when=slack_date(incident.snoozed_until))
        if incident.snoozed_by:
            phrase += f" ({_user(incident.snoozed_by)})"
        if incident.held_back == 1:
            phrase += " · " + _w("held_back_one", lang)
        elif incident.held_back > 1:
            phrase += " · " + _w("held_back", lang, n=incident.held_back)
    elif state is State.RESOLVED:
        when = slack_date(incident.resolved_at) if incident.resolved_at else ""
        if incident.resolved_by:
            phrase = _w("state_resolved", lang, user=_user(incident.resolved_by), when=when)
        else:
            phrase = _w("state_resolved_anon", lang, when=when)
    elif state is State.RECOVERED:
        when = slack_date(incident.recovered_at) if incident.recovered_at else ""
        execution = mrkdwn.inline_code(incident.recovered_execution or "?", limit=100)
        phrase = _w("state_recovered", lang, execution=execution, when=when)
    else:
        phrase = _w("state_open", lang)
    text = f"{_STATE_ICON[state]} {phrase.strip()} · {_failure_count(incident, lang)}"
    return truncate(re.sub(r" {2,}", " ", text), BUDGET_STATE)


def _state_block(incident: Incident, lang: Lang) -> Block:
    return _context(f"{BLOCK_STATE}:{incident.version}", [state_line(incident, lang)])


def _button(
    action: ButtonAction, label: str, incident: Incident, *, primary: bool = False
) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action.value,
        "text": _plain(truncate(label, MAX_BUTTON_TEXT)),
        "value": encode_value(ButtonValue(action=action, incident_id=incident.id)),
    }
    if primary:
        button["style"] = "primary"
    return button


def _snooze_select(incident: Incident, lang: Lang) -> Block:
    choices = (
        (Snooze.HOUR, "snooze_1h"),
        (Snooze.DAY, "snooze_24h"),
        (Snooze.UNTIL_SUCCESS, "snooze_success"),
    )
    options = [
        {
            "text": _plain(truncate(_w(key, lang), MAX_OPTION_TEXT)),
            "value": encode_value(
                ButtonValue(action=ButtonAction.SNOOZE, incident_id=incident.id, snooze=choice)
            ),
        }
        for choice, key in choices
    ]
    return {
        "type": "static_select",
        "action_id": ButtonAction.SNOOZE.value,
        "placeholder": _plain(_w("snooze", lang)),
        "options": options,
    }


def _actions_block(incident: Incident, lang: Lang) -> Block | None:
    """The buttons that make sense in the incident's state; none once it is closed."""
    state = incident.state
    if state.closed:
        return None
    elements: list[Block] = []
    if state is not State.ACKNOWLEDGED:
        elements.append(
            _button(ButtonAction.ACKNOWLEDGE, _w("acknowledge", lang), incident, primary=True)
        )
    elements.append(_button(ButtonAction.RESOLVE, _w("resolve", lang), incident))
    elements.append(_snooze_select(incident, lang))
    return {
        "type": "actions",
        "block_id": f"{BLOCK_ACTIONS}:{incident.version}",
        "elements": elements,
    }


def _state_parts(incident: Incident, lang: Lang) -> list[Block]:
    parts = [_state_block(incident, lang)]
    actions = _actions_block(incident, lang)
    if actions is not None:
        parts.append(actions)
    return parts


# ---- budget -----------------------------------------------------------------------------------


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


# Room kept for the note that says parts were left out.
_TRIMMED_NOTE = 200
# Parts dropped first when a message is still too large (in this order).
_DROPPABLE = (BLOCK_GAPS, BLOCK_CHANGES, BLOCK_OTHERS, BLOCK_LINKS, BLOCK_FIRST_STEP)


def _fit(blocks: list[Block], lang: Lang) -> list[Block]:
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
        note = _context(BLOCK_TRIMMED, [f"_{_w('trimmed', lang)}_"])
        at = next(
            (i for i, b in enumerate(blocks) if str(b.get("block_id", "")).startswith(BLOCK_STATE)),
            len(blocks),
        )
        blocks.insert(at, note)
    return blocks


def _fallback(text: str) -> str:
    """The notification text: one line, escaped by the caller, within MAX_FALLBACK_TEXT."""
    return truncate(mrkdwn.one_line(text), MAX_FALLBACK_TEXT)


# ---- public renderers -------------------------------------------------------------------------


def render_alert(report: Report, incident: Incident, *, lang: Lang) -> Message:
    """The new-incident message: diagnosis, evidence, first step, state and buttons."""
    blocks: list[Block] = [_header(report, lang), _summary(report, lang), _top(report, lang)]
    for part in (
        _first_step(report, lang),
        _others(report, lang),
        _changes(report, lang),
        _gaps(report, lang),
    ):
        if part is not None:
            blocks.append(part)
    links = _links(report, lang)
    if links is not None:
        blocks.append(links)
    blocks.append({"type": "divider", "block_id": "jt:divider"})
    blocks.extend(_state_parts(incident, lang))
    s = report.summary
    text = _w(
        "fallback",
        lang,
        job=_say(s.ref.job, 100),
        title=_say(report.top.title.get(lang), 100),
        pct=percent(report.top.confidence),
        execution=_say(s.ref.execution, 100),
    )
    return Message(text=_fallback(text), blocks=tuple(_fit(blocks, lang)))


def render_state_update(
    parent_blocks: Sequence[Mapping[str, Any]], incident: Incident, *, lang: Lang
) -> Message:
    """The stored parent message with only its state line and buttons re-rendered (for chat.update).

    Everything else is kept as first posted. A parent without a state line gets one at the end.
    """
    blocks: list[Block] = []
    inserted = False
    for block in parent_blocks:
        block_id = str(block.get("block_id", ""))
        if block_id.startswith((BLOCK_STATE, BLOCK_ACTIONS)):
            if not inserted:
                blocks.extend(_state_parts(incident, lang))
                inserted = True
            continue
        blocks.append(copy.deepcopy(dict(block)))
    if not inserted:
        blocks.extend(_state_parts(incident, lang))
    state = _STATE_WORD[incident.state].get(lang)
    text = _w("state_fallback", lang, job=_say(_job_name(incident), 100), state=state)
    return Message(text=_fallback(text), blocks=tuple(_fit(blocks, lang)))


def _span(incident: Incident, lang: Lang) -> str:
    last = incident.last_failure_at or incident.updated_at
    return human_duration(last - incident.opened_at, lang)


def render_repeat(
    report: Report, incident: Incident, *, lang: Lang, with_job: bool = False
) -> Message:
    """A short reply in the incident's thread: failed again, the n-th time, one line of proof.

    `with_job`: name the job first (the thread is a digest that several jobs share).
    """
    s = report.summary
    nth = ordinal(max(incident.failures, 2), lang)
    span = _span(incident, lang)
    execution = mrkdwn.inline_code(s.ref.execution, limit=100)
    job = f"*{_say(s.ref.job, 100)}* " if with_job else ""
    head = f":repeat: {job}{_w('again', lang, nth=nth, span=span)} · {execution}"
    exit_text = _exit(report, lang)
    if exit_text:
        head += f" · {exit_text}"
    title = _say(report.top.title.get(lang), NOTE_CHARS)
    cause = truncate(
        _w("again_cause", lang, title=title, pct=percent(report.top.confidence)), NOTE_CHARS
    )
    text = f"{truncate(head, NOTE_CHARS)}\n{cause}"
    if report.log_stats.skipped:
        text += f"\n_{_w('logs_skipped', lang)}_"
    quote = next((f for f in report.top.facts if f.quote), None)
    if quote is not None:
        code = mrkdwn.code_block(
            [_evidence_line(quote)],
            limit=BUDGET_REPEAT - len(text) - 1,
            line_limit=EVIDENCE_LINE_CHARS,
        )
        if code:
            text += "\n" + code
    blocks: list[Block] = [_section("jt:repeat", text)]
    if report.links.execution or report.links.logs:
        links = [
            mrkdwn.link(url, f":link: {_w(key, lang)}")
            for url, key in (
                (report.links.execution, "link_execution"),
                (report.links.logs, "link_logs"),
            )
            if url and len(url) < BUDGET_LINKS // 2
        ]
        if links:
            blocks.append(_context("jt:repeat_links", [" · ".join(links)]))
    fallback = _w("again_fallback", lang, job=_say(s.ref.job, 100), nth=nth, span=span)
    return Message(text=_fallback(fallback), blocks=tuple(blocks))


def render_recovered(
    incident: Incident, execution: ExecutionRef, *, lang: Lang, with_job: bool = False
) -> Message:
    """A reply in the incident's thread: a later execution of the job succeeded.

    `with_job`: name the job first (the thread is a digest that several jobs share).
    """
    when = f" {slack_date(incident.recovered_at)}" if incident.recovered_at else ""
    name = mrkdwn.inline_code(execution.execution, limit=100)
    job = f"*{_say(execution.job, 100)}* " if with_job else ""
    text = f":large_green_circle: {job}{_w('recovered', lang, execution=name, when=when)}"
    if incident.failures > 1:
        text += " " + _w("recovered_history", lang, n=incident.failures, span=_span(incident, lang))
    else:
        text += " " + _w("recovered_history_once", lang)
    blocks: list[Block] = [_section("jt:recovered", text)]
    url = console_links(execution).execution
    if len(url) <= BUDGET_LINKS:
        link = mrkdwn.link(url, f":link: {_w('link_execution', lang)}")
        blocks.append(_context("jt:recovered_links", [link]))
    fallback = _w(
        "recovered_fallback",
        lang,
        job=_say(execution.job, 100),
        execution=_say(execution.execution, 100),
    )
    return Message(text=_fallback(fallback), blocks=tuple(blocks))


def render_digest(*, after: int, window: timedelta, lang: Lang) -> Message:
    """The parent of a digest thread: many jobs failed at once, their alerts follow inside."""
    minutes = max(1, int(window.total_seconds() // 60))
    blocks: list[Block] = [
        {
            "type": "header",
            "block_id": "jt:digest_header",
            "text": _plain(truncate(_w("digest_header", lang), MAX_HEADER_TEXT)),
        },
        _section("jt:digest", _w("digest_body", lang, after=after, minutes=minutes)),
    ]
    return Message(text=_fallback(_w("digest_fallback", lang)), blocks=tuple(blocks))
