"""A Google API quota or rate limit was hit.

BigQuery's `quotaExceeded` / `rateLimitExceeded` ("Exceeded rate limits: too many table update
operations"), `RESOURCE_EXHAUSTED` and 429 answers from Google APIs, Cloud Storage's per-object
update limit, "Quota exceeded for quota metric …". Rate limits of third-party APIs are
`upstream_service`: only a 429 that names a Google API or quota counts here.
"""

from __future__ import annotations

from analyzers import commands
from analyzers.base import Analyzer, Cause, Check, Finding, Signature, sig, signature_finding
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.text import Text


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="Read the quota errors of this execution (which API and which limit)",
                ko="이 실행의 할당량 오류 로그 확인(어떤 API의 어떤 한도인지)",
            ),
            commands.read_logs(
                ref,
                extra='(textPayload:"quota" OR textPayload:"rate limit" OR '
                'textPayload:"RESOURCE_EXHAUSTED" OR textPayload:"429")',
            ),
        ),
        Check(
            Text(
                en="Did other executions of this job run at the same time?",
                ko="이 Job의 다른 실행이 동시에 돌았는지 확인",
            ),
            commands.list_executions(ref, limit=10),
        ),
    )


CAUSE = Cause(
    id="quota_exceeded",
    prior=0.04,
    name=Text(en="A Google API quota or rate limit was hit", ko="Google API 할당량·속도 제한 초과"),
    checks=_checks,
    workarounds=(
        Text(
            en="Re-run once the quota window has passed (per-minute limits reset within a "
            "minute, daily ones at midnight Pacific time)",
            ko="할당량 구간이 지난 뒤 재실행(분당 한도는 1분 내, 일일 한도는 태평양 시간 자정에 "
            "초기화)",
        ),
        Text(
            en="Lower the job's parallelism or batch the calls (e.g. one load job per table "
            "instead of one per file), and retry with exponential back-off",
            ko="Job 병렬 수를 줄이거나 호출을 묶고(예: 파일마다가 아니라 테이블마다 로드 작업 "
            "하나), 지수 백오프로 재시도",
        ),
        Text(
            en="Request a higher quota in the console's Quotas page for the limit named in "
            "the error",
            ko="오류에 적힌 한도에 대해 콘솔 할당량 페이지에서 상향 요청",
        ),
    ),
    refute_hint=Text(
        en="no quota, rate-limit or 429 answer from a Google API in the log",
        ko="로그에 Google API의 할당량·속도 제한·429 응답이 없음",
    ),
    docs=(
        "https://cloud.google.com/docs/quotas/view-manage",
        "https://cloud.google.com/bigquery/quotas",
    ),
)

_QUOTA = Text(en="A Google API quota was exceeded", ko="Google API 할당량 초과")
_RATE = Text(en="A Google API rate limit was hit", ko="Google API 속도 제한에 걸림")
_BQ_RATE = Text(
    en="BigQuery rate limit: too many operations on one table",
    ko="BigQuery 속도 제한: 한 테이블에 작업이 너무 많음",
)

_NOT_CAPACITY = r"^(?!.*temporarily out of capacity)"

SIGNATURES: tuple[Signature, ...] = (
    sig("Quota exceeded", "QUOTA_EXCEEDED", 0.93, _QUOTA),
    # Cloud SQL Admin API's per-instance limit on concurrent operations
    sig("Too many operations are being executed on the instance", "RATE_LIMIT", 0.86, _RATE),
    # BigQuery's maximum_bytes_billed (a cost cap the job or project set)
    sig("Query exceeded limit for bytes billed", "QUOTA_EXCEEDED", 0.88, _QUOTA),
    sig("quotaExceeded", "QUOTA_EXCEEDED", 0.93, _QUOTA),
    sig("exceeded quota", "QUOTA_EXCEEDED", 0.9, _QUOTA),
    sig("quota metric", "QUOTA_EXCEEDED", 0.9, _QUOTA),
    sig("Exceeded rate limits", "RATE_LIMIT", 0.93, _BQ_RATE),
    sig("rateLimitExceeded", "RATE_LIMIT", 0.93, _RATE),
    sig("userRateLimitExceeded", "RATE_LIMIT", 0.93, _RATE),
    sig("RATE_LIMIT_EXCEEDED", "RATE_LIMIT", 0.9, _RATE),
    # Vertex AI and other serving APIs answer RESOURCE_EXHAUSTED also when the *service* is out
    # of capacity, which no quota increase fixes: that wording is `upstream_service`'s.
    sig("RESOURCE_EXHAUSTED", "RESOURCE_EXHAUSTED", 0.86, _QUOTA, _NOT_CAPACITY),
    sig("ResourceExhausted", "RESOURCE_EXHAUSTED", 0.86, _QUOTA, _NOT_CAPACITY),
    sig("exceptions.TooManyRequests", "RATE_LIMIT", 0.88, _RATE),
    sig("rate of change requests", "RATE_LIMIT", 0.9, _RATE),
    sig("The object exceeded the rate limit", "RATE_LIMIT", 0.92, _RATE),
    sig("429", "RATE_LIMIT", 0.82, _RATE, r"\b429\b.*googleapis\.com|googleapis\.com.*\b429\b"),
    sig("Rate Limit Exceeded", "RATE_LIMIT", 0.8, _RATE, r"^(?!.*API rate limit exceeded)"),
    sig("insufficient quota", "QUOTA_EXCEEDED", 0.9, _QUOTA),
    sig(
        "quota",
        "QUOTA_EXCEEDED",
        0.88,
        _QUOTA,
        r"Insufficient '\w+' quota|quota.{0,40}(exceeded|exhausted)",
    ),
    sig("exceeds the rate limit", "RATE_LIMIT", 0.9, _RATE),
    sig("exceeded the rate limit", "RATE_LIMIT", 0.9, _RATE),
    sig(
        "too many concurrent",
        "RATE_LIMIT",
        0.75,
        _RATE,
        r"too many concurrent (queries|jobs|requests)",
    ),
)


def analyze(evidence: Evidence) -> Finding | None:
    """A Google API answered quota exceeded, rate limit exceeded or RESOURCE_EXHAUSTED."""
    return signature_finding(CAUSE, SIGNATURES, evidence)


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
