"""Every fixed word the product prints — the terminal report, the Slack messages, the command
line — in English and Korean, once each.

A word is a `Word` member, so a misspelt one fails the type check; `say(Word.X, lang, **params)`
fills its `{placeholders}` (tests/test_words.py checks both languages have the same ones). What a
cause *is* (titles, explanations, checks, workarounds) is knowledge and stays with the analyzers;
gap reasons stay with evidence/gaps.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from jobtriage.evidence import Outcome
from jobtriage.incident.model import State
from jobtriage.text import Lang, Text


class Word(StrEnum):
    # The terminal report: title and sections
    REPORT_TITLE = "report_title"
    SECTION_SUMMARY = "section_summary"
    SECTION_CAUSES = "section_causes"
    SECTION_VERDICT = "section_verdict"
    SECTION_COMMANDS = "section_commands"
    SECTION_WORKAROUNDS = "section_workarounds"
    SECTION_CHANGES = "section_changes"
    SECTION_GAPS = "section_gaps"
    SECTION_LINKS = "section_links"
    # Field names (the report's summary and the alert's fields)
    FIELD_JOB = "field_job"
    FIELD_EXECUTION = "field_execution"
    FIELD_REGION = "field_region"
    FIELD_PROJECT = "field_project"
    FIELD_OUTCOME = "field_outcome"
    FIELD_TASKS_FAILED = "field_tasks_failed"
    FIELD_TASKS = "field_tasks"
    FIELD_ATTEMPTS = "field_attempts"
    FIELD_EXIT = "field_exit"
    FIELD_DURATION = "field_duration"
    FIELD_STARTED_BY = "field_started_by"
    FIELD_STARTED_AT = "field_started_at"
    FIELD_IMAGE = "field_image"
    FIELD_CONFIRM = "field_confirm"
    FIELD_FIRST_STEP = "field_first_step"
    FIELD_MOST_LIKELY = "field_most_likely"
    FIELD_OTHERS = "field_others"
    # The differential: every hypothesis considered, with its verdict and why
    SECTION_DIFFERENTIAL = "section_differential"
    VERDICT_LIKELY = "verdict_likely"
    VERDICT_POSSIBLE = "verdict_possible"
    VERDICT_RULED_OUT = "verdict_ruled_out"
    VERDICT_UNCHECKED = "verdict_unchecked"
    WHY_LIKELY = "why_likely"
    WHY_POSSIBLE = "why_possible"
    WHY_POSSIBLE_WEAK = "why_possible_weak"
    WHY_RULED_OUT = "why_ruled_out"
    WHY_NO_SIGN = "why_no_sign"
    WHY_NOTHING_EXPLAINS = "why_nothing_explains"
    WHY_NO_LOGS = "why_no_logs"
    WHY_LOGS_PARTIAL = "why_logs_partial"
    WHY_ANALYZER_FAILED = "why_analyzer_failed"
    # The alert's "Do this now"
    DO_NOW = "do_now"
    DO_NOW_WORKAROUND = "do_now_workaround"
    DO_NOW_CHECK = "do_now_check"
    # Field values
    TASKS_VALUE = "tasks_value"
    ATTEMPTS_VALUE = "attempts_value"
    ATTEMPTS_RETRIES = "attempts_retries"
    EXIT_CODE = "exit_code"
    EXIT_SIGNAL = "exit_signal"
    EXIT_TIMEOUT = "exit_timeout"
    TOP_CAUSE = "top_cause"
    TOP_CAUSE_PCT = "top_cause_pct"
    # What was seen
    LIKELY_ERROR = "likely_error"
    NOTHING_RECOGNISED = "nothing_recognised"
    THEN_LAST_LINES = "then_last_lines"
    NO_LOG_LINES = "no_log_lines"
    SAMPLED = "sampled"
    NO_GAPS = "no_gaps"
    NONE = "none"
    MORE = "more"
    # Changes since the last success
    NO_CHANGES = "no_changes"
    CHANGES_NOT_CHECKED = "changes_not_checked"
    SECTION_SUSPECTS = "section_suspects"
    NO_SUSPECTS = "no_suspects"
    SUSPECT_COMMIT = "suspect_commit"
    SUSPECT_JOB_EDIT = "suspect_job_edit"
    SUSPECT_SECRET_VERSION = "suspect_secret_version"  # noqa: S105 (a word, not a secret)
    SUSPECT_INSTANCE_EVENT = "suspect_instance_event"
    SUSPECT_IAM_CHANGE = "suspect_iam_change"
    NO_BASELINE = "no_baseline"
    LINES_UP = "lines_up"
    CHANGE_COMMAND = "change_command"
    CHANGE_ARGS = "change_args"
    CHANGE_ENV_NAMES = "change_env_names"
    CHANGE_SECRET_VERSIONS = "change_secret_versions"  # noqa: S105 (a word, not a secret)
    CHANGE_SERVICE_ACCOUNT = "change_service_account"
    CHANGE_CLOUDSQL_INSTANCES = "change_cloudsql_instances"
    CHANGE_MEMORY = "change_memory"
    CHANGE_CPU = "change_cpu"
    CHANGE_TIMEOUT = "change_timeout"
    CHANGE_MAX_RETRIES = "change_max_retries"
    CHANGE_VPC = "change_vpc"
    CHANGE_JOB_GENERATION = "change_job_generation"
    CHANGE_LAST_MODIFIER = "change_last_modifier"
    # Links
    LINK_EXECUTION = "link_execution"
    LINK_LOGS = "link_logs"
    LINK_JOB = "link_job"
    # Outcomes of an execution
    OUTCOME_FAILED = "outcome_failed"
    OUTCOME_TIMED_OUT = "outcome_timed_out"
    OUTCOME_CANCELLED = "outcome_cancelled"
    OUTCOME_SUCCEEDED = "outcome_succeeded"
    # Slack: the alert's header and notification text
    ALERT_FAILED = "alert_failed"
    ALERT_TIMED_OUT = "alert_timed_out"
    ALERT_CANCELLED = "alert_cancelled"
    ALERT_FALLBACK = "alert_fallback"
    TRIMMED = "trimmed"
    # Incident states: the state line, the one-word state
    STATE_OPEN_LINE = "state_open_line"
    STATE_ACKNOWLEDGED_LINE = "state_acknowledged_line"
    STATE_SNOOZED_UNTIL_LINE = "state_snoozed_until_line"
    STATE_SNOOZED_SUCCESS_LINE = "state_snoozed_success_line"
    STATE_RESOLVED_LINE = "state_resolved_line"
    STATE_RESOLVED_ANON_LINE = "state_resolved_anon_line"
    STATE_RECOVERED_LINE = "state_recovered_line"
    HELD_BACK = "held_back"
    HELD_BACK_ONE = "held_back_one"
    FAILED_ONCE = "failed_once"
    FAILED_N = "failed_n"
    STATE_OPEN = "state_open"
    STATE_ACKNOWLEDGED = "state_acknowledged"
    STATE_SNOOZED = "state_snoozed"
    STATE_RESOLVED = "state_resolved"
    STATE_RECOVERED = "state_recovered"
    STATE_FALLBACK = "state_fallback"
    # Buttons
    BUTTON_ACKNOWLEDGE = "button_acknowledge"
    BUTTON_RESOLVE = "button_resolve"
    BUTTON_SNOOZE = "button_snooze"
    BUTTON_SNOOZE_1H = "button_snooze_1h"
    BUTTON_SNOOZE_24H = "button_snooze_24h"
    BUTTON_SNOOZE_SUCCESS = "button_snooze_success"
    # Thread replies: failed again, recovered
    AGAIN = "again"
    AGAIN_FALLBACK = "again_fallback"
    AGAIN_MANY = "again_many"
    AGAIN_MANY_FALLBACK = "again_many_fallback"
    ALSO_FAILED = "also_failed"
    LOGS_SKIPPED = "logs_skipped"
    RECOVERED = "recovered"
    RECOVERED_HISTORY = "recovered_history"
    RECOVERED_HISTORY_ONCE = "recovered_history_once"
    RECOVERED_FALLBACK = "recovered_fallback"
    # The digest of a failure storm
    DIGEST_HEADER = "digest_header"
    DIGEST_BODY = "digest_body"
    DIGEST_FALLBACK = "digest_fallback"
    # Ticks: the one reminder, and a job that has not succeeded in time
    REMINDER = "reminder"
    REMINDER_FALLBACK = "reminder_fallback"
    MISSED_HEADER = "missed_header"
    MISSED_HEADER_UNKNOWN = "missed_header_unknown"
    MISSED_EXPECTED = "missed_expected"
    MISSED_LAST_SUCCESS = "missed_last_success"
    MISSED_NO_SUCCESS = "missed_no_success"
    MISSED_NEVER_RAN = "missed_never_ran"
    MISSED_NEWEST = "missed_newest"
    MISSED_DO_NOW = "missed_do_now"
    MISSED_STATE = "missed_state"
    MISSED_FALLBACK = "missed_fallback"
    MISSED_FALLBACK_UNKNOWN = "missed_fallback_unknown"
    EXECUTION_RUNNING = "execution_running"
    # The incident memory: the Resolve modal, "seen before", learned priors, per-job figures
    MODAL_TITLE = "modal_title"
    MODAL_SUBMIT = "modal_submit"
    MODAL_CLOSE = "modal_close"
    MODAL_INTRO = "modal_intro"
    MODAL_CAUSE_LABEL = "modal_cause_label"
    MODAL_SOMETHING_ELSE = "modal_something_else"
    MODAL_NOTE_LABEL = "modal_note_label"
    MODAL_NOTE_HINT = "modal_note_hint"
    MODAL_PICK_ONE = "modal_pick_one"
    CONFIRMED = "confirmed"
    SEEN_TIMES = "seen_times"
    SEEN_TIMES_AT_LEAST = "seen_times_at_least"
    SEEN_LAST_CONFIRMED = "seen_last_confirmed"
    SEEN_RESOLVED_BY = "seen_resolved_by"
    SEEN_RESOLVED = "seen_resolved"
    SEEN_RECOVERED = "seen_recovered"
    SEEN_STILL_OPEN = "seen_still_open"
    HISTORY_MOVED = "history_moved"
    HISTORY_HELD = "history_held"
    HISTORY_COUNTS = "history_counts"
    FIELD_HISTORY = "field_history"
    FIGURES_JOB = "figures_job"
    FIGURES_FAILURES = "figures_failures"
    FIGURES_FAILURE_ONE = "figures_failure_one"
    FIGURES_STREAK = "figures_streak"
    FIGURES_RECOVERY = "figures_recovery"
    # Answers to a click only the clicker sees
    CLICK_UNCHECKED = "click_unchecked"
    CLICK_NOT_ALLOWED = "click_not_allowed"
    CLICK_UNKNOWN = "click_unknown"
    CLICK_STALE = "click_stale"
    # The command line
    CLI_SLACK_MESSAGE = "cli_slack_message"
    CLI_POSTED = "cli_posted"
    CLI_NOT_POSTED = "cli_not_posted"


_CATALOGUE: dict[Word, Text] = {
    # The terminal report: title and sections
    Word.REPORT_TITLE: Text(
        en="Cloud Run Job failure report", ko="Cloud Run Job 실패 원인 조사 보고서"
    ),
    Word.SECTION_SUMMARY: Text(en="Summary", ko="현상 요약"),
    Word.SECTION_CAUSES: Text(en="Ranked causes", ko="원인 후보"),
    Word.SECTION_VERDICT: Text(en="Verdict and first step", ko="핵심 판단"),
    Word.SECTION_COMMANDS: Text(en="Commands", ko="조사 명령어"),
    Word.SECTION_WORKAROUNDS: Text(en="Workarounds", ko="임시 우회 방안"),
    Word.SECTION_CHANGES: Text(
        en="What changed since the last success", ko="마지막 성공 이후 변경 사항"
    ),
    Word.SECTION_GAPS: Text(en="Could not check", ko="확인하지 못한 항목"),
    Word.SECTION_LINKS: Text(en="Links", ko="링크"),
    # Field names (the report's summary and the alert's fields)
    Word.FIELD_JOB: Text(en="Job", ko="Job 이름"),
    Word.FIELD_EXECUTION: Text(en="Execution", ko="실행"),
    Word.FIELD_REGION: Text(en="Region", ko="리전"),
    Word.FIELD_PROJECT: Text(en="Project", ko="프로젝트"),
    Word.FIELD_OUTCOME: Text(en="Outcome", ko="상태"),
    Word.FIELD_TASKS_FAILED: Text(en="Tasks failed", ko="실패한 태스크"),
    Word.FIELD_TASKS: Text(en="Tasks", ko="태스크"),
    Word.FIELD_ATTEMPTS: Text(en="Attempts", ko="시도 횟수"),
    Word.FIELD_EXIT: Text(en="Exit", ko="종료"),
    Word.FIELD_DURATION: Text(en="Duration", ko="실행 시간"),
    Word.FIELD_STARTED_BY: Text(en="Started by", ko="실행 주체"),
    Word.FIELD_STARTED_AT: Text(en="Started", ko="시작"),
    Word.FIELD_IMAGE: Text(en="Image", ko="이미지"),
    Word.FIELD_CONFIRM: Text(en="Confirm", ko="확인 방법"),
    Word.FIELD_FIRST_STEP: Text(en="First step", ko="먼저 실행할 명령"),
    Word.FIELD_MOST_LIKELY: Text(en="Most likely", ko="가장 유력한 원인"),
    Word.FIELD_OTHERS: Text(en="Other candidates", ko="다른 후보"),
    # The differential
    Word.SECTION_DIFFERENTIAL: Text(en="Hypotheses considered", ko="검토한 가설"),
    Word.VERDICT_LIKELY: Text(en="likely", ko="유력"),
    Word.VERDICT_POSSIBLE: Text(en="possible", ko="가능성 있음"),
    Word.VERDICT_RULED_OUT: Text(en="ruled out", ko="배제"),
    Word.VERDICT_UNCHECKED: Text(en="unchecked", ko="확인 불가"),
    Word.WHY_LIKELY: Text(en="{title} ({pct})", ko="{title} ({pct})"),
    Word.WHY_POSSIBLE: Text(
        en="{title} ({pct}); weaker evidence than the likely cause",
        ko="{title} ({pct}); 유력한 원인보다 근거가 약함",
    ),
    Word.WHY_POSSIBLE_WEAK: Text(
        en="{title} ({pct}); a hint only, not enough to name the cause",
        ko="{title} ({pct}); 단서일 뿐 원인으로 보기에는 근거 부족",
    ),
    Word.WHY_RULED_OUT: Text(
        en="{hint} ({lines} lines read); explained instead by: {top}",
        ko="{hint} (로그 {lines}줄 확인); 대신 설명하는 원인: {top}",
    ),
    Word.WHY_NO_SIGN: Text(en="No line names it", ko="이를 가리키는 로그 없음"),
    Word.WHY_NOTHING_EXPLAINS: Text(
        en="{hint} ({lines} lines read), but no other cause explains the failure either",
        ko="{hint} (로그 {lines}줄 확인), 하지만 실패를 설명하는 다른 원인도 없음",
    ),
    Word.WHY_NO_LOGS: Text(en="No log lines to check it against", ko="확인할 로그가 없음"),
    Word.WHY_LOGS_PARTIAL: Text(
        en="{hint} ({lines} lines read), but the log was not read in full: {gap}",
        ko="{hint} (로그 {lines}줄 확인), 하지만 로그를 모두 읽지 못함: {gap}",
    ),
    Word.WHY_ANALYZER_FAILED: Text(
        en="Its analyzer failed; see 'Could not check'",
        ko="분석기가 실패함; '확인하지 못한 항목' 참고",
    ),
    Word.DO_NOW: Text(en="Do this now", ko="지금 할 일"),
    Word.DO_NOW_WORKAROUND: Text(en="Unblock", ko="우회"),
    Word.DO_NOW_CHECK: Text(en="Confirm", ko="확인"),
    # Field values
    Word.TASKS_VALUE: Text(en="{failed} of {total} failed", ko="{total}개 중 {failed}개 실패"),
    Word.ATTEMPTS_VALUE: Text(en="{attempts}", ko="{attempts}회"),
    Word.ATTEMPTS_RETRIES: Text(
        en="{attempts} (max retries {retries})", ko="{attempts}회 (최대 재시도 {retries})"
    ),
    Word.EXIT_CODE: Text(en="exit code {code}", ko="종료 코드 {code}"),
    Word.EXIT_SIGNAL: Text(en="signal {signal}", ko="시그널 {signal}"),
    Word.EXIT_TIMEOUT: Text(en="timed out after {timeout}", ko="{timeout} 후 시간 초과"),
    Word.TOP_CAUSE: Text(en="Most likely: {title}", ko="가장 유력한 원인: {title}"),
    Word.TOP_CAUSE_PCT: Text(
        en="Most likely: {title} ({pct})", ko="가장 유력한 원인: {title} ({pct})"
    ),
    # What was seen
    Word.LIKELY_ERROR: Text(
        en=("No known cause recognised. The line most likely to be the error:"),
        ko="알려진 원인을 찾지 못했습니다. 오류일 가능성이 가장 높은 줄:",
    ),
    Word.NOTHING_RECOGNISED: Text(
        en="No known cause recognised. The last lines of the log:",
        ko="알려진 원인을 찾지 못했습니다. 로그의 마지막 줄:",
    ),
    Word.THEN_LAST_LINES: Text(en="The last lines of the log:", ko="로그의 마지막 줄:"),
    Word.NO_LOG_LINES: Text(
        en="No log lines were found for this execution.", ko="이 실행의 로그를 찾지 못했습니다."
    ),
    Word.SAMPLED: Text(
        en=("logs sampled: {kept} of {fetched} lines kept (errors and the tail first)"),
        ko=("로그 샘플링: {fetched}줄 중 {kept}줄 사용 (오류와 마지막 부분 우선)"),
    ),
    Word.NO_GAPS: Text(en="none", ko="없음"),
    Word.NONE: Text(en="(none)", ko="(없음)"),
    Word.MORE: Text(en="…and {n} more", ko="… 외 {n}개"),
    # Changes since the last success
    Word.NO_CHANGES: Text(
        en="No configuration change since the last successful execution",
        ko="마지막 성공 이후 설정 변경 없음",
    ),
    Word.CHANGES_NOT_CHECKED: Text(
        en="Not checked (see 'Could not check' below)",
        ko="확인하지 못함(아래 '확인하지 못한 항목' 참고)",
    ),
    Word.SECTION_SUSPECTS: Text(en="Suspect changes", ko="의심되는 변경"),
    Word.NO_SUSPECTS: Text(
        en=("No build, job edit, secret version, instance event or IAM change found"),
        ko=("빌드·Job 변경·보안 비밀 버전·인스턴스 이벤트·IAM 변경을 찾지 못함"),
    ),
    Word.SUSPECT_COMMIT: Text(en="Commit", ko="커밋"),
    Word.SUSPECT_JOB_EDIT: Text(en="Job edit", ko="Job 변경"),
    Word.SUSPECT_SECRET_VERSION: Text(en="Secret version", ko="보안 비밀 버전"),
    Word.SUSPECT_INSTANCE_EVENT: Text(en="Cloud SQL", ko="Cloud SQL"),
    Word.SUSPECT_IAM_CHANGE: Text(en="IAM change", ko="IAM 변경"),
    Word.NO_BASELINE: Text(
        en="No successful execution found to compare with", ko="비교할 성공 실행을 찾지 못함"
    ),
    Word.LINES_UP: Text(en="lines up with the most likely cause", ko="가장 유력한 원인과 관련"),
    Word.CHANGE_COMMAND: Text(en="Command", ko="커맨드"),
    Word.CHANGE_ARGS: Text(en="Args", ko="인자"),
    Word.CHANGE_ENV_NAMES: Text(en="Env vars", ko="환경변수"),
    Word.CHANGE_SECRET_VERSIONS: Text(en="Secret versions", ko="시크릿 버전"),
    Word.CHANGE_SERVICE_ACCOUNT: Text(en="Service account", ko="서비스 계정"),
    Word.CHANGE_CLOUDSQL_INSTANCES: Text(en="Cloud SQL instances", ko="Cloud SQL 인스턴스"),
    Word.CHANGE_MEMORY: Text(en="Memory limit", ko="메모리 한도"),
    Word.CHANGE_CPU: Text(en="CPU limit", ko="CPU 한도"),
    Word.CHANGE_TIMEOUT: Text(en="Task timeout", ko="태스크 타임아웃"),
    Word.CHANGE_MAX_RETRIES: Text(en="Max retries", ko="최대 재시도"),
    Word.CHANGE_VPC: Text(en="VPC access", ko="VPC 연결"),
    Word.CHANGE_JOB_GENERATION: Text(en="Job generation", ko="Job 세대(generation)"),
    Word.CHANGE_LAST_MODIFIER: Text(en="Last modified by", ko="마지막 수정자"),
    # Links
    Word.LINK_EXECUTION: Text(en="Execution", ko="실행 상세"),
    Word.LINK_LOGS: Text(en="Logs Explorer", ko="로그 탐색기"),
    Word.LINK_JOB: Text(en="Job", ko="Job"),
    # Outcomes of an execution
    Word.OUTCOME_FAILED: Text(en="failed", ko="실패"),
    Word.OUTCOME_TIMED_OUT: Text(en="timed out", ko="시간 초과"),
    Word.OUTCOME_CANCELLED: Text(en="cancelled", ko="취소됨"),
    Word.OUTCOME_SUCCEEDED: Text(en="succeeded", ko="성공"),
    # Slack: the alert's header and notification text
    Word.ALERT_FAILED: Text(en="{job} failed", ko="{job} 실패"),
    Word.ALERT_TIMED_OUT: Text(en="{job} failed (timed out)", ko="{job} 실패 (시간 초과)"),
    Word.ALERT_CANCELLED: Text(en="{job} was cancelled", ko="{job} 취소됨"),
    Word.ALERT_FALLBACK: Text(
        en=("{job} failed: most likely {title} ({pct}) — execution {execution}"),
        ko=("{job} 실패: 가장 유력한 원인 {title} ({pct}) — 실행 {execution}"),
    ),
    Word.TRIMMED: Text(
        en=("Parts of this report were left out to fit Slack's message size limit."),
        ko="Slack 메시지 크기 제한 때문에 보고서 일부를 생략했습니다.",
    ),
    # Incident states: the state line, the one-word state
    Word.STATE_OPEN_LINE: Text(
        en="*Open* — not acknowledged yet", ko="*미확인* — 아직 아무도 확인하지 않음"
    ),
    Word.STATE_ACKNOWLEDGED_LINE: Text(
        en="*Acknowledged* by {user} {when}", ko="{user} 님이 {when} *확인함*"
    ),
    Word.STATE_SNOOZED_UNTIL_LINE: Text(en="*Snoozed* until {when}", ko="{when}까지 *알림 중지*"),
    Word.STATE_SNOOZED_SUCCESS_LINE: Text(
        en="*Snoozed* until the next successful execution", ko="다음 성공 실행까지 *알림 중지*"
    ),
    Word.STATE_RESOLVED_LINE: Text(
        en="*Resolved* by {user} {when}", ko="{user} 님이 {when} *해결함*"
    ),
    Word.STATE_RESOLVED_ANON_LINE: Text(en="*Resolved* {when}", ko="{when} *해결됨*"),
    Word.STATE_RECOVERED_LINE: Text(
        en="*Recovered* — execution {execution} succeeded {when}",
        ko="*복구됨* — 실행 {execution} 성공 {when}",
    ),
    Word.HELD_BACK: Text(en="{n} more failures held back", ko="알리지 않은 실패 {n}회"),
    Word.HELD_BACK_ONE: Text(en="1 more failure held back", ko="알리지 않은 실패 1회"),
    Word.FAILED_ONCE: Text(en="failed once", ko="1회 실패"),
    Word.FAILED_N: Text(en="failed {n} times in {span}", ko="{span} 동안 {n}회 실패"),
    Word.STATE_OPEN: Text(en="open", ko="미확인"),
    Word.STATE_ACKNOWLEDGED: Text(en="acknowledged", ko="확인됨"),
    Word.STATE_SNOOZED: Text(en="snoozed", ko="알림 중지"),
    Word.STATE_RESOLVED: Text(en="resolved", ko="해결됨"),
    Word.STATE_RECOVERED: Text(en="recovered", ko="복구됨"),
    Word.STATE_FALLBACK: Text(en="{job} failed — {state}", ko="{job} 실패 — {state}"),
    # Buttons
    Word.BUTTON_ACKNOWLEDGE: Text(en="Acknowledge", ko="확인"),
    Word.BUTTON_RESOLVE: Text(en="Resolve", ko="해결"),
    Word.BUTTON_SNOOZE: Text(en="Snooze…", ko="알림 중지…"),
    Word.BUTTON_SNOOZE_1H: Text(en="Snooze 1 h", ko="1시간 중지"),
    Word.BUTTON_SNOOZE_24H: Text(en="Snooze 24 h", ko="24시간 중지"),
    Word.BUTTON_SNOOZE_SUCCESS: Text(en="Until next success", ko="다음 성공까지 중지"),
    # Thread replies: failed again, recovered
    Word.AGAIN: Text(
        en="*Failed again* — {nth} time in {span}", ko="*다시 실패* — {span} 동안 {nth}"
    ),
    Word.AGAIN_FALLBACK: Text(
        en="{job} failed again ({nth} time in {span})", ko="{job} 다시 실패 ({span} 동안 {nth})"
    ),
    Word.AGAIN_MANY: Text(
        en="*Failed {count} more times* — {nth} time in {span}, same cause",
        ko="*{count}번 더 실패* — {span} 동안 {nth}, 같은 원인",
    ),
    Word.AGAIN_MANY_FALLBACK: Text(
        en="{job} failed {count} more times ({nth} time in {span})",
        ko="{job} {count}번 더 실패 ({span} 동안 {nth})",
    ),
    Word.ALSO_FAILED: Text(
        en="Also failed the same way since the last reply: {executions}",
        ko="지난 답글 이후 같은 이유로 실패한 실행: {executions}",
    ),
    Word.LOGS_SKIPPED: Text(
        en=(
            "Logs not read for this one: Logging reads are kept for new incidents "
            "while many jobs fail. Counted in this incident because the same job "
            "failed."
        ),
        ko=(
            "이번 실패는 로그를 읽지 않았습니다: 여러 Job이 동시에 실패하는 동안 "
            "Logging 읽기는 새 인시던트용으로 남겨 둡니다. 같은 Job의 실패라서 이 "
            "인시던트에 포함했습니다."
        ),
    ),
    Word.RECOVERED: Text(
        en="*Recovered* — execution {execution} succeeded{when}.",
        ko="*복구됨* — 실행 {execution} 성공{when}.",
    ),
    Word.RECOVERED_HISTORY: Text(
        en="It had failed {n} times over {span}.", ko="그 전까지 {span} 동안 {n}회 실패했습니다."
    ),
    Word.RECOVERED_HISTORY_ONCE: Text(en="It had failed once.", ko="그 전에 1회 실패했습니다."),
    Word.RECOVERED_FALLBACK: Text(
        en="{job} recovered: execution {execution} succeeded",
        ko="{job} 복구됨: 실행 {execution} 성공",
    ),
    # The digest of a failure storm
    Word.DIGEST_HEADER: Text(
        en=":rotating_light: Many jobs are failing at once",
        ko=":rotating_light: 여러 Job이 동시에 실패 중",
    ),
    Word.DIGEST_BODY: Text(
        en=(
            "More than {after} new incidents within {minutes} minutes. To keep the "
            "channel readable, the next new incidents are posted *in this thread*, "
            "each with its own buttons; repeats go to their incident as usual."
        ),
        ko=(
            "{minutes}분 안에 새 인시던트가 {after}개를 넘었습니다. 채널이 읽기 "
            "어려워지지 않도록 이후의 새 인시던트는 *이 스레드에* 각자의 버튼과 "
            "함께 올립니다. 반복 실패는 평소처럼 해당 인시던트로 갑니다."
        ),
    ),
    Word.DIGEST_FALLBACK: Text(
        en=("Many jobs are failing at once: new incidents are grouped in this thread"),
        ko=("여러 Job이 동시에 실패 중: 새 인시던트를 이 스레드에 모읍니다"),
    ),
    # Ticks (jobtriage/ticks.py)
    Word.REMINDER: Text(
        en=(
            ":bell: {mention}*{job}* — nobody has acknowledged this for {span}. "
            "Acknowledge, snooze or resolve it on the message above."
        ),
        ko=(
            ":bell: {mention}*{job}* — {span} 동안 아무도 확인하지 않았습니다. "
            "위 메시지에서 확인, 알림 중지 또는 해결을 눌러 주세요."
        ),
    ),
    Word.REMINDER_FALLBACK: Text(
        en="{job}: not acknowledged for {span}", ko="{job}: {span} 동안 확인되지 않음"
    ),
    Word.MISSED_HEADER: Text(
        en=":hourglass: {job} has not succeeded for {span}",
        ko=":hourglass: {job} — {span} 동안 성공한 실행 없음",
    ),
    Word.MISSED_HEADER_UNKNOWN: Text(
        en=":hourglass: {job} has not succeeded for at least {span}",
        ko=":hourglass: {job} — 최소 {span} 동안 성공한 실행 없음",
    ),
    Word.MISSED_EXPECTED: Text(
        en="*{job}* is expected to succeed at least every *{interval}*.",
        ko="*{job}*은(는) 적어도 *{interval}*마다 성공해야 합니다.",
    ),
    Word.MISSED_LAST_SUCCESS: Text(
        en="Last success: {execution} {when} ({span} ago).",
        ko="마지막 성공: {execution} {when} ({span} 전).",
    ),
    Word.MISSED_NO_SUCCESS: Text(
        en="None of its newest {n} executions succeeded.",
        ko="최근 실행 {n}개 중 성공한 것이 없습니다.",
    ),
    Word.MISSED_NEVER_RAN: Text(
        en="It has no executions at all: has its schedule or trigger stopped?",
        ko="실행이 하나도 없습니다: 스케줄이나 트리거가 멈췄나요?",
    ),
    Word.MISSED_NEWEST: Text(
        en="Newest execution: {execution} — {outcome}, created {when}.",
        ko="가장 최근 실행: {execution} — {outcome}, 생성 {when}.",
    ),
    Word.MISSED_DO_NOW: Text(
        en="*Do this now* — see its executions, then what triggers it:",
        ko="*지금 할 일* — 실행 목록을 보고, 무엇이 실행시키는지 확인하세요:",
    ),
    Word.MISSED_STATE: Text(en="no success in time", ko="제때 성공하지 않음"),
    Word.MISSED_FALLBACK: Text(
        en="{job} has not succeeded for {span} (expected every {interval})",
        ko="{job} — {span} 동안 성공 없음 ({interval}마다 성공해야 함)",
    ),
    Word.MISSED_FALLBACK_UNKNOWN: Text(
        en="{job} has not succeeded for at least {interval}",
        ko="{job} — 최소 {interval} 동안 성공 없음",
    ),
    Word.EXECUTION_RUNNING: Text(en="still running", ko="실행 중"),
    # The incident memory: the Resolve modal, "seen before", learned priors, per-job figures
    Word.MODAL_TITLE: Text(en="What was it?", ko="원인이 무엇이었나요?"),
    Word.MODAL_SUBMIT: Text(en="Save", ko="저장"),
    Word.MODAL_CLOSE: Text(en="Skip", ko="건너뛰기"),
    Word.MODAL_INTRO: Text(
        en="*{job}* is resolved. Which cause was it? The next alert of this job remembers "
        "the answer, and the ranking learns from it.",
        ko="*{job}* 인시던트가 해결되었습니다. 원인이 무엇이었나요? 이 Job의 다음 알림이 "
        "이 답을 기억하고, 원인 순위에도 반영됩니다.",
    ),
    Word.MODAL_CAUSE_LABEL: Text(en="Cause", ko="원인"),
    Word.MODAL_SOMETHING_ELSE: Text(en="Something else", ko="기타 (목록에 없음)"),
    Word.MODAL_NOTE_LABEL: Text(en="Note (optional)", ko="메모 (선택)"),
    Word.MODAL_NOTE_HINT: Text(en="e.g. pinned secret version 6", ko="예: 시크릿 버전 6으로 고정"),
    Word.MODAL_PICK_ONE: Text(en="Pick the cause it was", ko="원인을 하나 골라 주세요"),
    Word.CONFIRMED: Text(en="confirmed: {cause}", ko="확인된 원인: {cause}"),
    Word.SEEN_TIMES: Text(en="{nth} time since {since}", ko="{since} 이후 {nth} 발생"),
    Word.SEEN_TIMES_AT_LEAST: Text(
        en="at least the {nth} time since {since}", ko="{since} 이후 최소 {nth} 발생"
    ),
    Word.SEEN_LAST_CONFIRMED: Text(en="last confirmed {cause}", ko="지난번 확인된 원인 {cause}"),
    Word.SEEN_RESOLVED_BY: Text(en="resolved by {who} in {took}", ko="{who} 님이 {took} 만에 해결"),
    Word.SEEN_RESOLVED: Text(en="resolved in {took}", ko="{took} 만에 해결"),
    Word.SEEN_RECOVERED: Text(en="recovered by itself in {took}", ko="{took} 만에 저절로 복구"),
    Word.SEEN_STILL_OPEN: Text(
        en="the last one is still open", ko="지난번 인시던트는 아직 열려 있음"
    ),
    Word.HISTORY_MOVED: Text(
        en="history moved {cause} above {other}",
        ko="과거 이력으로 {cause}을(를) {other}보다 위로 올림",
    ),
    Word.HISTORY_HELD: Text(
        en="history pointed elsewhere; the strong evidence for {cause} stands",
        ko="과거 이력은 다른 원인을 가리켰지만 {cause}의 강한 증거가 우선함",
    ),
    Word.HISTORY_COUNTS: Text(
        en="{job} confirmed on this job, {project} on other jobs of the project",
        ko="이 Job에서 확인 {job}건, 같은 프로젝트의 다른 Job에서 {project}건",
    ),
    Word.FIELD_HISTORY: Text(en="History", ko="과거 이력"),
    Word.FIGURES_JOB: Text(en="This job", ko="이 Job"),
    Word.FIGURES_FAILURES: Text(en="{n} failures in 7 days", ko="7일간 실패 {n}회"),
    Word.FIGURES_FAILURE_ONE: Text(en="1 failure in 7 days", ko="7일간 실패 1회"),
    Word.FIGURES_STREAK: Text(en="{n} failing runs in a row", ko="연속 실패 {n}회"),
    Word.FIGURES_RECOVERY: Text(
        en="median recovery {took} ({n} closed)", ko="복구 중앙값 {took} (종료 {n}건)"
    ),
    # Answers to a click only the clicker sees
    Word.CLICK_UNCHECKED: Text(
        en=(
            "Could not check who may change this incident (Slack user group unreadable); try again."
        ),
        ko=("권한을 확인하지 못했습니다 (Slack 사용자 그룹을 읽을 수 없음). 다시 시도해 주세요."),
    ),
    Word.CLICK_NOT_ALLOWED: Text(
        en=("You are not on the list of people who can change this incident."),
        ko="이 인시던트를 변경할 권한이 없습니다.",
    ),
    Word.CLICK_UNKNOWN: Text(
        en="This incident is no longer known (it may have been removed).",
        ko="이 인시던트를 찾을 수 없습니다 (삭제되었을 수 있습니다).",
    ),
    Word.CLICK_STALE: Text(
        en="Not applied: someone changed this incident after your click. The message shows "
        "what it is now.",
        ko="적용되지 않음: 클릭 이후 다른 사람이 이 인시던트를 변경했습니다. 메시지에 현재 "
        "상태가 표시됩니다.",
    ),
    # The command line
    Word.CLI_SLACK_MESSAGE: Text(en="The Slack message", ko="Slack 메시지"),
    Word.CLI_POSTED: Text(en="(posted)", ko="(전송됨)"),
    Word.CLI_NOT_POSTED: Text(
        en=("(not posted: set SLACK_BOT_TOKEN and SLACK_CHANNEL to post it)"),
        ko="(미전송: SLACK_BOT_TOKEN과 SLACK_CHANNEL을 설정하면 전송)",
    ),
}
CATALOGUE: Mapping[Word, Text] = MappingProxyType(_CATALOGUE)


def say(word: Word, lang: Lang, **params: object) -> str:
    """The word in `lang`, its placeholders filled."""
    text = CATALOGUE[word].get(lang)
    return text.format(**params) if params else text


def text_of(word: Word) -> Text:
    """Both languages of a word (for data that is rendered later, in either language)."""
    return CATALOGUE[word]


OUTCOME_WORDS: Mapping[Outcome, Word] = MappingProxyType(
    {
        Outcome.FAILED: Word.OUTCOME_FAILED,
        Outcome.TIMED_OUT: Word.OUTCOME_TIMED_OUT,
        Outcome.CANCELLED: Word.OUTCOME_CANCELLED,
        Outcome.SUCCEEDED: Word.OUTCOME_SUCCEEDED,
    }
)

STATE_WORDS: Mapping[State, Word] = MappingProxyType(
    {
        State.OPEN: Word.STATE_OPEN,
        State.ACKNOWLEDGED: Word.STATE_ACKNOWLEDGED,
        State.SNOOZED: Word.STATE_SNOOZED,
        State.RESOLVED: Word.STATE_RESOLVED,
        State.RECOVERED: Word.STATE_RECOVERED,
    }
)

# The configuration fields a change since the last success can be about (`Change.field`).
CHANGE_WORDS: Mapping[str, Word] = MappingProxyType(
    {
        "image": Word.FIELD_IMAGE,
        "command": Word.CHANGE_COMMAND,
        "args": Word.CHANGE_ARGS,
        "env_names": Word.CHANGE_ENV_NAMES,
        "secret_versions": Word.CHANGE_SECRET_VERSIONS,
        "service_account": Word.CHANGE_SERVICE_ACCOUNT,
        "cloudsql_instances": Word.CHANGE_CLOUDSQL_INSTANCES,
        "memory": Word.CHANGE_MEMORY,
        "cpu": Word.CHANGE_CPU,
        "timeout": Word.CHANGE_TIMEOUT,
        "max_retries": Word.CHANGE_MAX_RETRIES,
        "vpc": Word.CHANGE_VPC,
        "job_generation": Word.CHANGE_JOB_GENERATION,
        "last_modifier": Word.CHANGE_LAST_MODIFIER,
    }
)


# Kinds of suspect change (`diagnosis.suspects`, `Suspect.kind`).
SUSPECT_WORDS: Mapping[str, Word] = MappingProxyType(
    {
        "commit": Word.SUSPECT_COMMIT,
        "job_edit": Word.SUSPECT_JOB_EDIT,
        "secret_version": Word.SUSPECT_SECRET_VERSION,
        "instance_event": Word.SUSPECT_INSTANCE_EVENT,
        "iam_change": Word.SUSPECT_IAM_CHANGE,
    }
)


def suspect_kind(kind: str, lang: Lang) -> str:
    """The name of a kind of suspect change; an unknown one is shown as it is."""
    word = SUSPECT_WORDS.get(kind)
    return say(word, lang) if word is not None else kind


def change_field(field: str, lang: Lang) -> str:
    """The name of a changed configuration field; an unknown one is shown as it is."""
    word = CHANGE_WORDS.get(field)
    return say(word, lang) if word is not None else field
