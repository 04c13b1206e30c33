"""An external or Google service the job calls failed.

A 5xx answer (`503 Service Unavailable`, BigQuery's `backendError`, `ServiceUnavailable`,
`InternalServerError`), a gateway timeout, a third-party API's rate limit (429 without a Google
quota), or an API that changed under the job (an unexpected 404/410 from a remote endpoint, a
response the client could not parse). These are usually transient: the report says so and the
first workaround is a re-run with back-off.
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
                en="Read the failed calls of this execution (which host answered what)",
                ko="이 실행의 실패한 호출 로그 확인(어느 호스트가 무엇을 응답했는지)",
            ),
            commands.read_logs(
                ref,
                extra='(textPayload:"50" OR textPayload:"Service Unavailable" OR '
                'textPayload:"backendError" OR textPayload:"timed out")',
            ),
        ),
        Check(
            Text(
                en="Did the previous executions of this job succeed? (a transient outage fails "
                "one run, a changed API fails every run)",
                ko="이전 실행은 성공했는지 확인(일시 장애는 한 번, API 변경은 매번 실패)",
            ),
            commands.list_executions(ref, limit=10),
        ),
        Check(Text(en="Re-run the execution", ko="실행을 다시 돌려보기"), commands.re_execute(ref)),
    )


CAUSE = Cause(
    id="upstream_service",
    prior=0.05,
    name=Text(
        en="A service the job calls failed (5xx, outage, rate limit or changed API)",
        ko="Job이 호출하는 외부·Google 서비스가 실패함(5xx, 장애, 속도 제한, API 변경)",
    ),
    checks=_checks,
    workarounds=(
        Text(
            en="Re-run the execution: 5xx answers and outages are usually transient",
            ko="실행을 다시 돌리기: 5xx 응답과 장애는 대개 일시적임",
        ),
        Text(
            en="Retry the call with exponential back-off in the job, and set --max-retries on "
            "the job so one bad minute does not fail the night",
            ko="Job 안에서 지수 백오프로 재시도하고, Job에 --max-retries를 설정해 잠깐의 장애로 "
            "실패하지 않게 하기",
        ),
        Text(
            en="Check the provider's status page; if every run fails since a date, the API "
            "changed: pin the client or API version",
            ko="제공자 상태 페이지 확인. 특정 날짜 이후 매번 실패하면 API가 바뀐 것이므로 "
            "클라이언트·API 버전 고정",
        ),
    ),
    refute_hint=Text(
        en="no 5xx, outage or rate-limit answer from a remote service in the log",
        ko="로그에 원격 서비스의 5xx·장애·속도 제한 응답이 없음",
    ),
    docs=(
        "https://status.cloud.google.com",
        "https://cloud.google.com/storage/docs/retry-strategy",
    ),
)

_5XX = Text(
    en="A remote service answered with a server error (5xx)",
    ko="원격 서비스가 5xx 서버 오류로 응답함",
)
_DOWN = Text(en="A remote service was unavailable", ko="원격 서비스를 사용할 수 없었음")
_RATE = Text(en="A third-party API rate-limited the job", ko="외부 API가 Job의 요청을 제한함(429)")
_GONE = Text(
    en="A remote API answered in a way the job does not expect (changed API?)",
    ko="원격 API가 Job이 예상하지 않은 응답을 줌(API 변경?)",
)

SIGNATURES: tuple[Signature, ...] = (
    sig("backendError", "BACKEND_ERROR", 0.88, _5XX),
    sig("exceptions.ServiceUnavailable", "UNAVAILABLE_503", 0.88, _DOWN),
    sig("exceptions.InternalServerError", "SERVER_ERROR_500", 0.85, _5XX),
    sig("exceptions.BadGateway", "BAD_GATEWAY_502", 0.85, _5XX),
    sig("exceptions.GatewayTimeout", "GATEWAY_TIMEOUT_504", 0.85, _DOWN),
    # google-api-core / grpc-js: the call ran past its deadline (a slow service; with no route
    # out, network_egress names the cause and this is capped as its symptom)
    sig("exceptions.DeadlineExceeded", "GATEWAY_TIMEOUT_504", 0.74, _DOWN),
    sig("4 DEADLINE_EXCEEDED:", "GATEWAY_TIMEOUT_504", 0.7, _DOWN, r"\b4 DEADLINE_EXCEEDED: "),
    sig("Service Unavailable", "UNAVAILABLE_503", 0.8, _DOWN),
    sig("Bad Gateway", "BAD_GATEWAY_502", 0.8, _5XX),
    sig("Gateway Time", "GATEWAY_TIMEOUT_504", 0.78, _DOWN, r"Gateway Time-?out"),
    sig("Internal Server Error", "SERVER_ERROR_500", 0.72, _5XX),
    sig("Server Error", "SERVER_ERROR_5XX", 0.82, _5XX, r"\b5\d\d Server Error"),
    sig("status code 5", "SERVER_ERROR_5XX", 0.8, _5XX, r"status code:? 5\d\d\b"),
    sig("StatusCode.UNAVAILABLE", "UNAVAILABLE_503", 0.75, _DOWN),
    sig("code = Unavailable", "UNAVAILABLE_503", 0.75, _DOWN),
    sig("Too Many Requests", "THIRD_PARTY_RATE_LIMIT", 0.7, _RATE, r"^(?!.*googleapis)"),
    sig("status code 429", "THIRD_PARTY_RATE_LIMIT", 0.75, _RATE, r"^(?!.*googleapis)"),
    sig("Client Error: Not Found for url", "REMOTE_NOT_FOUND", 0.6, _GONE),
    sig("410 Gone", "REMOTE_GONE", 0.7, _GONE),
    sig("API rate limit exceeded", "THIRD_PARTY_RATE_LIMIT", 0.92, _RATE),
    sig("secondary rate limit", "THIRD_PARTY_RATE_LIMIT", 0.9, _RATE),
    sig("UNAVAILABLE", "UNAVAILABLE_503", 0.8, _DOWN, r'status"?\s*:\s*"UNAVAILABLE"'),
    sig("code", "SERVER_ERROR_5XX", 0.78, _5XX, r'"?code"?\s*:\s*50[0-4]\b'),
    sig("model is overloaded", "UNAVAILABLE_503", 0.86, _DOWN),
    sig(
        "ReadTimeout",
        "READ_TIMEOUT",
        0.7,
        _DOWN,
        r"Net::ReadTimeout|ReadTimeoutError|exceptions\.ReadTimeout",
    ),
    sig("Net::OpenTimeout", "READ_TIMEOUT", 0.62, _DOWN),
    # java.net: connected, then the answer did not come within the socket's read timeout
    sig("SocketTimeoutException: Read timed out", "READ_TIMEOUT", 0.66, _DOWN),
    # Google clients: Vertex AI's "service is temporarily out of capacity" (sent with
    # RESOURCE_EXHAUSTED, but no quota of the project is at fault), gax-java's and grpc-js's
    # names for 503 / 500.
    sig("temporarily out of capacity", "OUT_OF_CAPACITY", 0.9, _DOWN),
    sig("com.google.api.gax.rpc.UnavailableException", "UNAVAILABLE_503", 0.84, _DOWN),
    sig("com.google.api.gax.rpc.InternalException", "SERVER_ERROR_500", 0.8, _5XX),
    sig("The service is currently unavailable", "UNAVAILABLE_503", 0.84, _DOWN),
    sig("13 INTERNAL:", "SERVER_ERROR_500", 0.75, _5XX, r"\b13 INTERNAL: "),
    sig("14 UNAVAILABLE:", "UNAVAILABLE_503", 0.72, _DOWN, r"\b14 UNAVAILABLE: "),
    # Envoy's own 503 / 504 bodies (Cloud Run, GKE and Istio ingress, API gateways in front of
    # the service the job calls): no healthy host, a reset before the response, its timeout
    sig(
        "upstream connect error",
        "UPSTREAM_RESET",
        0.84,
        _DOWN,
        r"upstream connect error or disconnect/reset",
    ),
    sig("no healthy upstream", "UNAVAILABLE_503", 0.84, _DOWN),
    sig("upstream request timeout", "GATEWAY_TIMEOUT_504", 0.8, _DOWN),
    # The OpenAI / Anthropic SDKs (Python and Node): "Error code: 429 - {...}", RateLimitError,
    # Anthropic's 529 overloaded_error; Faraday's ServerError
    sig("RateLimitError", "THIRD_PARTY_RATE_LIMIT", 0.86, _RATE, r"(?-i:\bRateLimitError\b)"),
    sig("Error code: ", "THIRD_PARTY_RATE_LIMIT", 0.8, _RATE, r"\bError code: 429\b"),
    sig("Error code: ", "SERVER_ERROR_5XX", 0.82, _5XX, r"\bError code: 5(?:0[0-4]|29)\b"),
    sig("overloaded_error", "UNAVAILABLE_503", 0.86, _DOWN),
    sig("responded with status 5", "SERVER_ERROR_5XX", 0.82, _5XX, r"responded with status 5\d\d"),
    # google-api-go-client and the JSON APIs' error reasons.
    sig("googleapi: Error 5", "SERVER_ERROR_5XX", 0.85, _5XX, r"googleapi: Error 50[0-4]\b"),
    sig("internalError", "SERVER_ERROR_500", 0.8, _5XX, r"(?-i:\binternalError\b)"),
    # A status line quoted by the client: Composer's "(HTTP/2 502 )", Erlang's httpc tuple
    # {'HTTP/1.1', 503, '…'}
    sig("HTTP/", "SERVER_ERROR_5XX", 0.8, _5XX, r"\bHTTP/[\d.]+'?,?\s+50[0-4]\b"),
    # cargo fetching crates
    sig(
        "failed to get successful HTTP response",
        "SERVER_ERROR_5XX",
        0.82,
        _5XX,
        r"failed to get successful HTTP response from .*, got 5\d\d\b",
    ),
)


def analyze(evidence: Evidence) -> Finding | None:
    """A remote service answered 5xx / unavailable / rate-limited / in an unexpected way."""
    return signature_finding(CAUSE, SIGNATURES, evidence)


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
