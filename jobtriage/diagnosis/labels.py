"""Words of the report that are not findings: section titles, field names, outcomes, change fields.

Shared by every renderer so that the terminal, JSON and Slack say the same thing the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from analyzers.base import Fact, FactKind
from jobtriage.evidence import Outcome
from jobtriage.text import Lang, Text

SECTIONS: dict[str, Text] = {
    "title": Text(en="Cloud Run Job failure report", ko="Cloud Run Job 실패 원인 조사 보고서"),
    "summary": Text(en="Summary", ko="현상 요약"),
    "causes": Text(en="Ranked causes", ko="원인 후보"),
    "verdict": Text(en="Verdict and first step", ko="핵심 판단"),
    "commands": Text(en="Commands", ko="조사 명령어"),
    "workarounds": Text(en="Workarounds", ko="임시 우회 방안"),
    "changes": Text(en="What changed since the last success", ko="변경 사항 (마지막 성공 이후)"),
    "suspects": Text(en="Suspect changes", ko="의심되는 변경"),
    "gaps": Text(en="Gaps in the evidence", ko="수집하지 못한 정보"),
    "links": Text(en="Links", ko="링크"),
    "seen": Text(en="What was seen", ko="확인된 로그"),
}

# Kinds of suspect change (`diagnosis.suspects`), as the report names them.
SUSPECT_KINDS: dict[str, Text] = {
    "commit": Text(en="Commit", ko="커밋"),
    "job_edit": Text(en="Job edit", ko="Job 변경"),
    "secret_version": Text(en="Secret version", ko="보안 비밀 버전"),
    "instance_event": Text(en="Cloud SQL", ko="Cloud SQL"),
    "iam_change": Text(en="IAM change", ko="IAM 변경"),
}

FIELDS: dict[str, Text] = {
    "job": Text(en="Job", ko="Job 이름"),
    "execution": Text(en="Execution", ko="Execution ID"),
    "region": Text(en="Region", ko="리전"),
    "project": Text(en="Project", ko="프로젝트"),
    "outcome": Text(en="Outcome", ko="상태"),
    "tasks": Text(en="Tasks failed", ko="실패한 태스크"),
    "attempts": Text(en="Attempts", ko="시도 횟수"),
    "exit": Text(en="Exit", ko="종료"),
    "duration": Text(en="Duration", ko="실행 시간"),
    "started_by": Text(en="Started by", ko="실행 주체"),
    "image": Text(en="Image", ko="이미지"),
    "confidence": Text(en="confidence", ko="가능성"),
    "evidence": Text(en="Evidence", ko="근거"),
    "confirm": Text(en="Confirm", ko="확인 방법"),
    "first_step": Text(en="Run first", ko="먼저 실행할 명령"),
    "most_likely": Text(en="Most likely", ko="가장 유력한 원인"),
    "execution_page": Text(en="Execution", ko="실행 상세"),
    "logs_page": Text(en="Logs Explorer", ko="로그 탐색기"),
    "job_page": Text(en="Job", ko="Job"),
    "no_changes": Text(
        en="No configuration change since the last successful execution",
        ko="마지막 성공 이후 설정 변경 없음",
    ),
    "not_checked": Text(
        en="Not checked (see the gaps below)",
        ko="확인하지 못함(아래 '수집하지 못한 정보' 참고)",
    ),
    "no_baseline": Text(
        en="No successful execution found to compare with",
        ko="비교할 성공 실행을 찾지 못함",
    ),
    "lines_up": Text(en="lines up with the top cause", ko="가장 유력한 원인과 관련"),
    "no_suspects": Text(
        en="No build, job edit, secret version, instance event or IAM change found",
        ko="빌드·Job 변경·보안 비밀 버전·인스턴스 이벤트·IAM 변경을 찾지 못함",
    ),
    "config_diff": Text(en="Configuration", ko="설정"),
    "no_gaps": Text(en="none", ko="없음"),
    "none": Text(en="(none)", ko="(없음)"),
    "sampled": Text(
        en="logs sampled: {kept} of {fetched} lines kept (errors and the tail first)",
        ko="로그 샘플링: {fetched}줄 중 {kept}줄 사용 (오류와 마지막 부분 우선)",
    ),
    "likely_error": Text(
        en="No analyzer recognised this failure. The line most likely to be the error:",
        ko="알려진 원인 패턴과 일치하지 않았습니다. 오류일 가능성이 가장 높은 줄:",
    ),
    "nothing_recognised": Text(
        en="No analyzer recognised this failure. These are the last lines it wrote:",
        ko="알려진 원인 패턴과 일치하지 않았습니다. 마지막 로그는 다음과 같습니다:",
    ),
    "signal": Text(en="signal {n}", ko="시그널 {n}"),
    "code": Text(en="exit code {n}", ko="종료 코드 {n}"),
}

OUTCOMES: dict[Outcome, Text] = {
    Outcome.FAILED: Text(en="failed", ko="실패"),
    Outcome.TIMED_OUT: Text(en="timed out", ko="시간 초과"),
    Outcome.CANCELLED: Text(en="cancelled", ko="취소됨"),
    Outcome.SUCCEEDED: Text(en="succeeded", ko="성공"),
}

CHANGE_FIELDS: dict[str, Text] = {
    "image": Text(en="Image", ko="이미지"),
    "command": Text(en="Command", ko="커맨드"),
    "args": Text(en="Args", ko="인자"),
    "env_names": Text(en="Env vars", ko="환경변수"),
    "secret_versions": Text(en="Secret versions", ko="시크릿 버전"),
    "service_account": Text(en="Service account", ko="서비스 계정"),
    "cloudsql_instances": Text(en="Cloud SQL instances", ko="Cloud SQL 인스턴스"),
    "memory": Text(en="Memory limit", ko="메모리 한도"),
    "cpu": Text(en="CPU limit", ko="CPU 한도"),
    "timeout": Text(en="Task timeout", ko="태스크 타임아웃"),
    "max_retries": Text(en="Max retries", ko="최대 재시도"),
    "vpc": Text(en="VPC access", ko="VPC 연결"),
    "job_generation": Text(en="Job generation", ko="Job 세대(generation)"),
    "last_modifier": Text(en="Last modified by", ko="마지막 수정자"),
}


def label(table: dict[str, Text], key: str, lang: Lang) -> str:
    text = table.get(key)
    return text.get(lang) if text else key


def human_duration(span: timedelta, lang: Lang, *, precise: bool = False) -> str:
    """ "2 h", "45 min" (or "2 min 13 s" when precise) — and the same in Korean."""
    seconds = max(0, int(span.total_seconds()))
    units_en = ("d", "h", "min", "s")
    units_ko = ("일", "시간", "분", "초")
    units = units_ko if lang == "ko" else units_en
    sep = "" if lang == "ko" else " "
    values = (seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60, seconds % 60)
    if seconds < 60:
        return f"{seconds}{sep}{units[3]}"
    # the largest unit alone, or the two largest when precise
    first = next(i for i, v in enumerate(values) if v)
    shown = [first]
    if precise and first + 1 < len(values) and values[first + 1]:
        shown.append(first + 1)
    if not precise and first == 0 and values[0] < 2:
        # "1 d" hides too much; say "30 h"
        return f"{values[0] * 24 + values[1]}{sep}{units[1]}"
    return " ".join(f"{values[i]}{sep}{units[i]}" for i in shown)


def percent(confidence: float) -> str:
    return f"{round(max(0.0, min(1.0, confidence)) * 100)}%"


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def fmt_exit(exit_code: int | None, term_signal: int | None, lang: Lang) -> str:
    if term_signal:
        return FIELDS["signal"].format(n=term_signal).get(lang)
    if exit_code is not None:
        return FIELDS["code"].format(n=exit_code).get(lang)
    return "-"


def fact_text(fact: Fact, lang: Lang) -> str:
    """One line of evidence as plain (unescaped, unredacted) text."""
    if fact.kind is FactKind.LOG:
        stamp = fact.timestamp.strftime("%H:%M:%S") + " " if fact.timestamp else ""
        return f"{stamp}[{fact.stream or '?'}] {fact.quote or ''}"
    return fact.note.get(lang) if fact.note else (fact.quote or "")
