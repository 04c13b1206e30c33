"""The fixed words of our Slack messages, English and Korean."""

from __future__ import annotations

from jobtriage.incident.model import State
from jobtriage.text import Lang, Text

WORDS: dict[str, Text] = {
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


STATE_ICON = {
    State.OPEN: ":red_circle:",
    State.ACKNOWLEDGED: ":large_orange_circle:",
    State.SNOOZED: ":zzz:",
    State.RESOLVED: ":white_check_mark:",
    State.RECOVERED: ":large_green_circle:",
}


STATE_WORD: dict[State, Text] = {
    State.OPEN: Text(en="open", ko="미확인"),
    State.ACKNOWLEDGED: Text(en="acknowledged", ko="확인됨"),
    State.SNOOZED: Text(en="snoozed", ko="알림 중지"),
    State.RESOLVED: Text(en="resolved", ko="해결됨"),
    State.RECOVERED: Text(en="recovered", ko="복구됨"),
}


def word(key: str, lang: Lang, **params: object) -> str:
    text = WORDS[key].get(lang)
    return text.format(**params) if params else text
