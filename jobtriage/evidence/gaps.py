"""Turn a failed Google API call into a `Gap`: what could not be read, why, and what to do about it.

Every evidence source goes through `gap_for`, so the report speaks about a 403 from the Run API and
a 403 from Logging in the same way, and the fix names the exact role or setting. The reason text
may quote the API's own message; it is clipped here and redacted by the renderers like any other
untrusted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jobtriage.evidence.model import ExecutionRef, Gap, Source

_REQUEST_LINE = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE) \S+: ")
# The part of an API error message we quote in a gap: enough to recognise it, no more.
_MAX_QUOTED = 240


@dataclass(frozen=True, slots=True)
class GoogleApi:
    """One Google API as the user knows it: its name, its viewer role and its service id."""

    title: str
    role: str
    service: str


RUN_API = GoogleApi("Cloud Run Admin API", "roles/run.viewer", "run.googleapis.com")
LOGGING_API = GoogleApi("Cloud Logging API", "roles/logging.viewer", "logging.googleapis.com")
BUILD_API = GoogleApi(
    "Cloud Build API", "roles/cloudbuild.builds.viewer", "cloudbuild.googleapis.com"
)
ARTIFACT_API = GoogleApi(
    "Artifact Registry API", "roles/artifactregistry.reader", "artifactregistry.googleapis.com"
)
SECRET_API = GoogleApi(
    "Secret Manager API", "roles/secretmanager.viewer", "secretmanager.googleapis.com"
)
SQL_API = GoogleApi("Cloud SQL Admin API", "roles/cloudsql.viewer", "sqladmin.googleapis.com")

# What each source reads, in the words of the report ("permission denied reading <this>").
_WHAT = {
    Source.EXECUTION: "the execution",
    Source.TASKS: "the execution's tasks",
    Source.JOB: "the job",
    Source.LAST_SUCCESS: "the job's earlier executions",
    Source.LOGS: "logs",
    Source.BUILDS: "the builds behind the images",
    Source.IMAGE_LABELS: "the image's labels",
    Source.AUDIT: "the job's Admin Activity audit entries",
    Source.SECRETS: "the referenced secrets' versions",
    Source.CLOUD_SQL: "the attached Cloud SQL instances",
}


_WHAT_KO = {
    Source.EXECUTION: "실행",
    Source.TASKS: "실행의 태스크",
    Source.JOB: "Job",
    Source.LAST_SUCCESS: "Job의 이전 실행",
    Source.LOGS: "로그",
    Source.BUILDS: "이미지의 빌드",
    Source.IMAGE_LABELS: "이미지 라벨",
    Source.AUDIT: "Job의 관리 활동 감사 로그",
    Source.SECRETS: "참조된 보안 비밀의 버전",
    Source.CLOUD_SQL: "연결된 Cloud SQL 인스턴스",
}


# 404 from the sources beyond the execution: what it means and what to do.
_NOT_FOUND = {
    Source.BUILDS: (
        "Cloud Build has no such project or location",
        "builds are looked for in the job's project; images built elsewhere show their OCI "
        "annotations instead",
        "Cloud Build에 해당 프로젝트나 위치가 없음",
        "빌드는 Job의 프로젝트에서 찾음; 다른 곳에서 빌드된 이미지는 OCI 주석으로 확인",
    ),
    Source.IMAGE_LABELS: (
        "the image digest is no longer in Artifact Registry",
        "it was deleted or cleaned up after the run; check the repository's cleanup policy",
        "이미지 다이제스트가 Artifact Registry에 더 이상 없음",
        "실행 이후 삭제되었거나 정리됨; 저장소의 정리 정책 확인",
    ),
    Source.SECRETS: (
        "a referenced secret or version no longer exists",
        "the job references a deleted secret or version: gcloud secrets versions list <secret>",
        "참조된 보안 비밀이나 버전이 더 이상 없음",
        "삭제된 보안 비밀이나 버전을 참조함: gcloud secrets versions list <secret>",
    ),
    Source.CLOUD_SQL: (
        "an attached Cloud SQL instance does not exist",
        "check the job's --set-cloudsql-instances name: gcloud sql instances list",
        "연결된 Cloud SQL 인스턴스가 없음",
        "Job의 --set-cloudsql-instances 이름 확인: gcloud sql instances list",
    ),
}


def _quote(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    message = " ".join(str(message).split())
    # The REST transports prefix the request line ("GET https://…: "): noise in a report.
    message = _REQUEST_LINE.sub("", message)
    if len(message) > _MAX_QUOTED:
        message = message[: _MAX_QUOTED - 1] + "…"
    return message


def _http_code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    # google.api_core exceptions carry the HTTP status as an int; gRPC-style codes are enums.
    return code if isinstance(code, int) and 100 <= code < 600 else None


def _is_timeout(exc: BaseException) -> bool:
    for cls in type(exc).__mro__:
        name = cls.__name__.lower()
        if "timeout" in name or name == "deadlineexceeded":
            return True
    return isinstance(exc, TimeoutError)


# Exceptions (anywhere in the chain of causes) that mean the network path failed: the transports'
# (requests, urllib3, google-auth, gRPC) and the socket's own.
_UNREACHABLE = frozenset(
    {
        "ConnectionError",
        "ServiceUnavailable",
        "TransportError",
        "NewConnectionError",
        "MaxRetryError",
        "NameResolutionError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "gaierror",
    }
)
_DNS_WORDS = (
    "Name or service not known",
    "Temporary failure in name resolution",
    "nodename nor servname",
    "NameResolutionError",
    "Failed to resolve",
    "getaddrinfo",
)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _is_unreachable(exc: BaseException) -> bool:
    if _http_code(exc) not in (None, 503):
        return False
    for link in _chain(exc):
        names = {cls.__name__ for cls in type(link).__mro__}
        if names & _UNREACHABLE:
            return True
    return False


def _is_dns(exc: BaseException) -> bool:
    for link in _chain(exc):
        if type(link).__name__ in ("gaierror", "NameResolutionError"):
            return True
        text = f"{link!r} {link}"
        if any(word in text for word in _DNS_WORDS):
            return True
    return False


def _service_disabled(exc: BaseException) -> bool:
    text = _quote(exc)
    reason = str(getattr(exc, "reason", "") or "")
    return reason == "SERVICE_DISABLED" or "has not been used in project" in text


def _root(exc: BaseException) -> str:
    deepest = _chain(exc)[-1]
    return type(deepest).__name__


def gap_for(
    source: Source,
    exc: BaseException,
    *,
    api: GoogleApi,
    ref: ExecutionRef,
    timeout: float,
) -> Gap:
    """The gap a failed call leaves in the report, with the fix spelled out."""
    what = _WHAT.get(source, source.value)
    what_ko = _WHAT_KO.get(source, source.value)
    code = _http_code(exc)
    project = ref.project
    if type(exc).__name__ == "DefaultCredentialsError":
        return Gap(
            source,
            f"no Google credentials to read {what}",
            "run where Application Default Credentials exist (the function's service account), "
            "or locally: gcloud auth application-default login",
            reason_ko=f"{what_ko}을(를) 읽을 Google 자격 증명이 없음",
            fix_ko="Application Default Credentials가 있는 곳(함수의 서비스 계정)에서 실행하거나, "
            "로컬에서는 gcloud auth application-default login",
        )
    if code == 403 and _service_disabled(exc):
        return Gap(
            source,
            f"the {api.title} is not enabled in project {project}",
            f"gcloud services enable {api.service} --project={project}",
            reason_ko=f"프로젝트 {project}에서 {api.title}가 사용 설정되어 있지 않음",
        )
    if code in (401, 403):
        return Gap(
            source,
            f"permission denied reading {what} ({api.title} answered {code})",
            f"grant {api.role} to the function's service account: gcloud projects "
            f"add-iam-policy-binding {project} --member=serviceAccount:<function SA> "
            f"--role={api.role}",
            reason_ko=f"{what_ko} 읽기 권한 없음({api.title} 응답 {code})",
            fix_ko=f"함수의 서비스 계정에 {api.role} 부여: gcloud projects "
            f"add-iam-policy-binding {project} --member=serviceAccount:<function SA> "
            f"--role={api.role}",
        )
    if code == 404:
        if source in (Source.EXECUTION, Source.TASKS):
            return Gap(
                source,
                "execution no longer exists (Cloud Run keeps the last 1,000 per job)",
                f"check the name; gcloud run jobs executions list --job={ref.job} "
                f"--region={ref.region} --project={project}",
                reason_ko="실행이 더 이상 없음(Cloud Run은 Job마다 최근 1,000개만 보관)",
                fix_ko=f"이름 확인: gcloud run jobs executions list --job={ref.job} "
                f"--region={ref.region} --project={project}",
            )
        if source in (Source.JOB, Source.LAST_SUCCESS):
            return Gap(
                source,
                f"job {ref.job} no longer exists in {ref.region}",
                "it was deleted or renamed after this execution ran",
                reason_ko=f"Job {ref.job}이(가) {ref.region}에 더 이상 없음",
                fix_ko="이 실행 이후 삭제되었거나 이름이 바뀜",
            )
        if source in _NOT_FOUND:
            reason, fix, reason_ko, fix_ko = _NOT_FOUND[source]
            return Gap(
                source, f"{reason} ({_quote(exc)})", fix, f"{reason_ko}({_quote(exc)})", fix_ko
            )
        return Gap(
            source,
            f"{what}: not found ({_quote(exc)})",
            reason_ko=f"{what_ko}: 찾을 수 없음({_quote(exc)})",
        )
    if code == 429:
        if api is LOGGING_API:
            return Gap(
                source,
                "Logging read quota exhausted",
                "the project's 'Read requests per minute' quota of logging.googleapis.com is used "
                "up (other log readers share it); diagnose again in a minute, or request a higher "
                "quota in the Cloud console (IAM & Admin > Quotas)",
                reason_ko="Logging 읽기 할당량 소진",
                fix_ko="프로젝트의 logging.googleapis.com '분당 읽기 요청' 할당량이 "
                "소진됨(다른 로그 조회와 공유); 1분 뒤 다시 진단하거나 Cloud 콘솔"
                "(IAM 및 관리자 > 할당량)에서 상향 요청",
            )
        return Gap(
            source,
            f"{api.title} read quota exhausted",
            f"the per-region 'Read requests per minute' quota of {api.service} is used up; "
            "diagnose again in a minute, or request a higher quota",
            reason_ko=f"{api.title} 읽기 할당량 소진",
            fix_ko=f"{api.service}의 리전별 '분당 읽기 요청' 할당량이 소진됨; 1분 뒤 다시 "
            "진단하거나 할당량 상향 요청",
        )
    if _is_timeout(exc):
        return Gap(
            source,
            f"{api.title} gave no answer within {timeout:g} s",
            "a slow or overloaded API; diagnose again, or raise API_TIMEOUT_SECONDS",
            reason_ko=f"{api.title}가 {timeout:g}초 안에 응답하지 않음",
            fix_ko="API가 느리거나 과부하 상태; 다시 진단하거나 API_TIMEOUT_SECONDS를 늘리기",
        )
    if code is not None and code >= 500:
        return Gap(
            source,
            f"{api.title} error {code}: {_quote(exc)}",
            "a fault on Google's side, usually brief; diagnose again in a minute",
            reason_ko=f"{api.title} 오류 {code}: {_quote(exc)}",
            fix_ko="Google 쪽 장애로 대개 잠시뿐임; 1분 뒤 다시 진단",
        )
    if _is_dns(exc):
        return Gap(
            source,
            f"could not reach the {api.title}: its host name did not resolve (no network "
            "or no DNS)",
            "check this machine's network and DNS (or the emulator host setting)",
            reason_ko=f"{api.title}에 연결할 수 없음: 호스트 이름을 찾지 못함(네트워크 또는 "
            "DNS 없음)",
            fix_ko="이 머신의 네트워크와 DNS(또는 에뮬레이터 호스트 설정) 확인",
        )
    if _is_unreachable(exc):
        return Gap(
            source,
            f"could not reach the {api.title}: the connection failed ({_root(exc)})",
            "check the network path to Google APIs (or the emulator host setting)",
            reason_ko=f"{api.title}에 연결할 수 없음: 연결 실패({_root(exc)})",
            fix_ko="Google API까지의 네트워크 경로(또는 에뮬레이터 호스트 설정) 확인",
        )
    if code is not None:
        return Gap(
            source,
            f"{api.title} refused the request ({code}): {_quote(exc)}",
            reason_ko=f"{api.title}가 요청을 거부함({code}): {_quote(exc)}",
        )
    return Gap(
        source,
        f"unexpected error reading {what}: {type(exc).__name__}: {_quote(exc)}",
        "this is a bug in jobtriage if it repeats; the rest of the report is still valid",
        reason_ko=f"{what_ko}을(를) 읽는 중 예상하지 못한 오류: {type(exc).__name__}: "
        f"{_quote(exc)}",
        fix_ko="반복되면 jobtriage의 버그임; 보고서의 나머지는 유효함",
    )
