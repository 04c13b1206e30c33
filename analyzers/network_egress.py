"""The job cannot reach a private IP or the internet.

A connection to a private address (10/8, 172.16/12, 192.168/16) that times out rather than being
refused — the job has no Serverless VPC Access connector or Direct VPC egress — and the kernel's
own answers (`Network is unreachable`, `No route to host`, `ENETUNREACH`, `EHOSTUNREACH`), a DNS
look-up that fails temporarily (`EAI_AGAIN`, `Temporary failure in name resolution`) when egress is
forced through a VPC without Cloud NAT, and a TCP connect that was never answered to any host, as
each runtime words ETIMEDOUT on connect (Go's `connect: connection timed out`, Java's
`ConnectException: Connection timed out` / `SocketTimeoutException: connect timed out`, Node's
`connect ETIMEDOUT` and undici's `UND_ERR_CONNECT_TIMEOUT`, urllib3 / requests / httpx / aiohttp,
libpq, the MySQL client, PDO, .NET's socket error 10060, curl, Rust's `os error 110`). A refused
connection means the host was reached, so it stays `db_connection`. When the configuration is
known, a job with no VPC wiring is said so.
"""

from __future__ import annotations

from analyzers import commands
from analyzers.base import (
    Analyzer,
    Cause,
    Check,
    Fact,
    Finding,
    Signature,
    sig,
    signature_finding,
)
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.text import Text


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="Which VPC connector or Direct VPC egress the job uses, and for which traffic",
                ko="Job이 쓰는 VPC 커넥터·Direct VPC egress와 적용 트래픽 확인",
            ),
            commands.job_network(ref),
        ),
        Check(
            Text(
                en="Read the unreachable-host errors of this execution",
                ko="이 실행의 호스트 도달 불가 오류 로그 확인",
            ),
            commands.read_logs(
                ref,
                extra='(textPayload:"timeout" OR textPayload:"unreachable" OR '
                'textPayload:"No route to host" OR textPayload:"EAI_AGAIN")',
            ),
        ),
    )


CAUSE = Cause(
    id="network_egress",
    prior=0.04,
    name=Text(
        en="The job cannot reach the host over the network (VPC egress, firewall, NAT)",
        ko="Job이 네트워크로 호스트에 도달하지 못함(VPC egress, 방화벽, NAT)",
    ),
    checks=_checks,
    workarounds=(
        Text(
            en="Give the job a way into the VPC: gcloud run jobs update JOB --network=NETWORK "
            "--subnet=SUBNET --vpc-egress=private-ranges-only (Direct VPC egress) or "
            "--vpc-connector=CONNECTOR",
            ko="Job에 VPC 경로 추가: gcloud run jobs update JOB --network=NETWORK --subnet=SUBNET "
            "--vpc-egress=private-ranges-only (Direct VPC egress) 또는 --vpc-connector=CONNECTOR",
        ),
        Text(
            en="With --vpc-egress=all-traffic the internet is reached only through Cloud NAT: "
            "add a NAT on the subnet's router, or switch to private-ranges-only",
            ko="--vpc-egress=all-traffic이면 인터넷은 Cloud NAT로만 나감: 서브넷 라우터에 NAT "
            "추가 또는 private-ranges-only로 변경",
        ),
        Text(
            en="Check the VPC firewall allows egress from the job's subnet to the target port",
            ko="VPC 방화벽이 Job 서브넷에서 대상 포트로의 egress를 허용하는지 확인",
        ),
    ),
    refute_hint=Text(
        en="no timeout to a private address or unreachable-network error in the log",
        ko="로그에 사설 IP로의 시간 초과나 네트워크 도달 불가 오류가 없음",
    ),
    docs=(
        "https://cloud.google.com/run/docs/configuring/vpc-direct-vpc",
        "https://cloud.google.com/run/docs/configuring/connecting-vpc",
    ),
)

_PRIVATE_TIMEOUT = Text(
    en="A connection to a private address timed out (no VPC path from the job?)",
    ko="사설 IP로의 연결이 시간 초과됨(Job에서 VPC로 가는 경로 없음?)",
)
_UNREACHABLE = Text(
    en="The network is unreachable from the job",
    ko="Job에서 네트워크에 도달할 수 없음",
)
_CONNECT_TIMEOUT = Text(
    en="A TCP connection was never answered (timed out): no network path from the job to the "
    "host (VPC egress, firewall, NAT)",
    ko="TCP 연결에 응답이 없어 시간 초과됨: Job에서 호스트로 가는 네트워크 경로 없음"
    "(VPC egress, 방화벽, NAT)",
)
_DNS = Text(
    en="DNS look-ups fail temporarily (egress without NAT or DNS?)",
    ko="DNS 조회가 일시적으로 실패함(NAT·DNS 없는 egress?)",
)

_PRIVATE = r"(?:\b10\.\d{1,3}|\b172\.(?:1[6-9]|2\d|3[01])|\b192\.168)\.\d{1,3}\.\d{1,3}"

_NOT_ALLOWED = Text(
    en="The server admits only listed client IPs, and the job's egress address is not listed "
    "(a Cloud Run job's address changes unless it leaves through Cloud NAT with a static IP)",
    ko="서버가 허용 목록의 클라이언트 IP만 받는데 Job의 egress 주소가 목록에 없음(Cloud Run "
    "Job의 주소는 고정 IP Cloud NAT를 거치지 않으면 바뀜)",
)

SIGNATURES: tuple[Signature, ...] = (
    # A database or API with an IP allow list: MongoDB Atlas's network access list, Azure SQL's
    # and Azure Database's server firewall, Cloud SQL's authorized networks
    sig("isn't whitelisted", "IP_NOT_ALLOWED", 0.86, _NOT_ALLOWED),
    sig(
        "is not allowed to access the server",
        "IP_NOT_ALLOWED",
        0.88,
        _NOT_ALLOWED,
        r"Client with IP address '[^']+' is not allowed to access the server",
    ),
    sig(
        "access list",
        "IP_NOT_ALLOWED",
        0.8,
        _NOT_ALLOWED,
        r"IP (?:address )?(?:is )?not (?:on|in) (?:the|your) (?:IP |network )?access list",
    ),
    sig(
        "timeout",
        "PRIVATE_IP_TIMEOUT",
        0.88,
        _PRIVATE_TIMEOUT,
        _PRIVATE + r".*(i/o timeout|timed? ?out)|(timed? ?out|ETIMEDOUT).*" + _PRIVATE,
    ),
    sig(
        "timed out",
        "PRIVATE_IP_TIMEOUT",
        0.88,
        _PRIVATE_TIMEOUT,
        _PRIVATE + r".*timed out|timed out.*" + _PRIVATE,
    ),
    sig("Network is unreachable", "NETWORK_UNREACHABLE", 0.9, _UNREACHABLE),
    # Go's HTTP client through an HTTP(S)_PROXY it cannot reach
    sig("proxyconnect tcp", "PROXY_UNREACHABLE", 0.84, _UNREACHABLE),
    sig("ENETUNREACH", "NETWORK_UNREACHABLE", 0.9, _UNREACHABLE),
    sig("No route to host", "NO_ROUTE", 0.88, _UNREACHABLE),
    sig("EHOSTUNREACH", "NO_ROUTE", 0.88, _UNREACHABLE),
    # (a "host" that is a socket path, e.g. /cloudsql/…, was never a network look-up)
    sig("EAI_AGAIN", "DNS_TEMPORARY", 0.78, _DNS, r"EAI_AGAIN(?! /| (?:undefined|null)(?![\w.-]))"),
    sig("Temporary failure in name resolution", "DNS_TEMPORARY", 0.78, _DNS),
    # Go's resolver when the DNS server answers SERVFAIL or garbage (net.DNSError)
    sig("server misbehaving", "DNS_TEMPORARY", 0.78, _DNS, r"\blookup \S+.*: server misbehaving"),
    sig(
        "vpc",
        "VPC_CONNECTOR",
        0.8,
        _UNREACHABLE,
        r"VPC connector .*(not found|not ready|failed|does not exist)|vpc-access",
    ),
    sig("i/o timeout", "DIAL_TIMEOUT", 0.8, _UNREACHABLE, r"dial tcp .*i/o timeout"),
    sig(
        "port 443",
        "HTTPS_TIMEOUT",
        0.84,
        _UNREACHABLE,
        r"Failed to connect to \S+ port 443.*timed out",
    ),
    sig("UnknownHostException", "DNS_FAILURE", 0.75, _DNS),
    sig("Unable to find the server at", "DNS_FAILURE", 0.82, _DNS),
    sig("insufficient free IP addresses", "SUBNET_FULL", 0.9, _UNREACHABLE),
    sig("does not have enough available IP addresses", "SUBNET_FULL", 0.9, _UNREACHABLE),
    sig("waiting for initial communication packet", "PRIVATE_IP_TIMEOUT", 0.75, _UNREACHABLE),
    sig("VPC Service Controls", "VPC_SC", 0.88, _UNREACHABLE),
    sig("vpcServiceControls", "VPC_SC", 0.88, _UNREACHABLE),
    sig(
        "connection timed out",
        "HTTP_TIMEOUT",
        0.8,
        _UNREACHABLE,
        r":(80|443)\b.{0,40}(connection )?timed out|Could not connect to .*:(80|443)",
    ),
    sig("Cannot assign requested address", "NO_ROUTE", 0.8, _UNREACHABLE),
    # A TCP connect that was never answered (the SYN went nowhere: no route out of the job,
    # a firewall dropping it, egress without NAT), as each runtime words the kernel's ETIMEDOUT.
    # A refused connection was answered and stays `db_connection`; a read or query timeout after
    # connecting is not this either, so each pattern names the connect step.
    # Go net.Dial: "dial tcp 10.0.0.3:5432: connect: connection timed out"
    sig("connect: connection timed out", "CONNECT_TIMEOUT", 0.84, _CONNECT_TIMEOUT),
    # Java java.net: "ConnectException: Connection timed out" / "SocketTimeoutException: connect
    # timed out" / HttpClient's "HttpConnectTimeoutException"
    sig(
        "timed out",
        "CONNECT_TIMEOUT",
        0.84,
        _CONNECT_TIMEOUT,
        r"ConnectException: Connection timed out|SocketTimeoutException: connect timed out",
    ),
    sig("HttpConnectTimeoutException", "CONNECT_TIMEOUT", 0.84, _CONNECT_TIMEOUT),
    sig("ConnectTimeoutException", "CONNECT_TIMEOUT", 0.82, _CONNECT_TIMEOUT),
    # Node net: "connect ETIMEDOUT 203.0.113.5:443" (syscall 'connect')
    sig("connect ETIMEDOUT", "CONNECT_TIMEOUT", 0.82, _CONNECT_TIMEOUT),
    # urllib3 / requests: "ConnectTimeoutError(..., 'Connection to host timed out. (connect
    # timeout=10)')", "requests.exceptions.ConnectTimeout", "[Errno 110] Connection timed out"
    sig("connect timeout=", "CONNECT_TIMEOUT", 0.84, _CONNECT_TIMEOUT),
    sig("ConnectTimeoutError", "CONNECT_TIMEOUT", 0.84, _CONNECT_TIMEOUT),
    sig(
        "ConnectTimeout",
        "CONNECT_TIMEOUT",
        0.82,
        _CONNECT_TIMEOUT,
        r"(?:exceptions|httpx|httpcore)\.ConnectTimeout",
    ),
    # Rust's io::Error of a connect that timed out (ETIMEDOUT), e.g. in a panic's `Err` value
    sig("kind: TimedOut", "CONNECT_TIMEOUT", 0.82, _CONNECT_TIMEOUT, r"code: 110, kind: TimedOut"),
    # aiohttp; Node's fetch (undici)
    sig("Connection timeout to host", "CONNECT_TIMEOUT", 0.82, _CONNECT_TIMEOUT),
    sig("UND_ERR_CONNECT_TIMEOUT", "CONNECT_TIMEOUT", 0.84, _CONNECT_TIMEOUT),
    sig(
        "Connection timed out",
        "CONNECT_TIMEOUT",
        0.82,
        _CONNECT_TIMEOUT,
        r"Failed to establish a new connection: \[Errno 110\] Connection timed out",
    ),
    # Node's TLS socket closed before the handshake finished (a proxy or firewall on the way out)
    sig(
        "Client network socket disconnected before secure TLS connection was established",
        "TLS_INTERRUPTED",
        0.74,
        _UNREACHABLE,
    ),
    # OpenSSL reading a plain-text answer where a TLS record belongs: an HTTP proxy or a
    # middlebox on the way out (Node's "write EPROTO …:SSL23_GET_SERVER_HELLO:unknown protocol",
    # "…:ssl3_get_record:wrong version number")
    sig(
        "EPROTO",
        "TLS_INTERRUPTED",
        0.74,
        _UNREACHABLE,
        r"\bEPROTO\b.*(?:unknown protocol|wrong version number)",
    ),
    # .NET SocketException 10060 (WSAETIMEDOUT)
    sig(
        "did not properly respond after a period of time",
        "CONNECT_TIMEOUT",
        0.84,
        _CONNECT_TIMEOUT,
    ),
    # curl (error 7 / 28 on the connect phase)
    sig(
        "Failed to connect to",
        "CONNECT_TIMEOUT",
        0.82,
        _CONNECT_TIMEOUT,
        r"Failed to connect to \S+ port \d+.*(?:Connection timed out|Timeout was reached)",
    ),
    # curl 7.83+: "Failed to connect to H port P after N ms: Couldn't connect to server" for any
    # connect failure; curl then turns an ETIMEDOUT into error 28 (CURLE_OPERATION_TIMEDOUT), as
    # the CLI ("curl: (28) …") and PHP's cURL wrappers ("cURL error 28: …") say. A refusal is
    # answered within milliseconds, so ten seconds or more is a SYN nobody answered.
    sig(
        "Failed to connect to",
        "CONNECT_TIMEOUT",
        0.84,
        _CONNECT_TIMEOUT,
        r"(?:curl: \(28\)|cURL error 28:?) .*Failed to connect to"
        r"|Failed to connect to \S+ port \d+ after \d{5,} ms",
    ),
    sig(
        "Connection timed out after",
        "CONNECT_TIMEOUT",
        0.8,
        _CONNECT_TIMEOUT,
        r"Connection timed out after \d+ milli",
    ),
    # libpq ("could not connect to server: Connection timed out", 14+: 'connection to server
    # at "10.0.0.3", port 5432 failed: Connection timed out'), MySQL's client (errno 110 /
    # WSAETIMEDOUT 10060), PDO ("SQLSTATE[HY000] [2002] Connection timed out")
    sig(
        "timed out",
        "CONNECT_TIMEOUT",
        0.84,
        _CONNECT_TIMEOUT,
        r"could not connect to server: (?:Connection|Operation) timed out"
        r'|connection to server at "[^"]+"(?: \([^)]*\))?,? port \d+ failed: '
        r"(?:Connection|Operation) timed out"
        r"|\[2002\] (?:Connection|Operation) timed out",
    ),
    sig(
        "Can't connect to MySQL server on",
        "CONNECT_TIMEOUT",
        0.84,
        _CONNECT_TIMEOUT,
        r"Can't connect to MySQL server on \S+ \((?:110|10060|\[Errno 110\]|timed out)",
    ),
    # Rust (hyper / reqwest / std): "tcp connect error: Connection timed out (os error 110)"
    sig("os error 110", "CONNECT_TIMEOUT", 0.84, _CONNECT_TIMEOUT),
    sig("tcp connect error: Connection timed out", "CONNECT_TIMEOUT", 0.84, _CONNECT_TIMEOUT),
    # Go's net/http: no connection was ever made within the client's timeout
    sig("request canceled while waiting for connection", "CONNECT_TIMEOUT", 0.8, _CONNECT_TIMEOUT),
    # .NET on Linux: a DNS look-up that failed for now (EAI_AGAIN)
    sig(
        "Resource temporarily unavailable",
        "DNS_TEMPORARY",
        0.75,
        _DNS,
        r"(?:HttpRequestException|SocketException)[^\n]*Resource temporarily unavailable",
    ),
    # Ruby: "Errno::ETIMEDOUT: Connection timed out - connect(2)"
    sig("connect(2)", "CONNECT_TIMEOUT", 0.82, _CONNECT_TIMEOUT, r"ETIMEDOUT.*connect\(2\)"),
)


def _config_fact(evidence: Evidence) -> Fact | None:
    cfg = evidence.config
    if not cfg.containers or cfg.vpc_connector or cfg.vpc_egress:
        return None
    return Fact.config(
        Text(
            en="The job has no VPC connector and no Direct VPC egress: private addresses are "
            "not reachable from it",
            ko="Job에 VPC 커넥터도 Direct VPC egress도 없어 사설 IP에 도달할 수 없음",
        )
    )


def analyze(evidence: Evidence) -> Finding | None:
    """A private address timed out, or the network / route / DNS was unreachable."""
    fact = _config_fact(evidence)
    return signature_finding(
        CAUSE,
        SIGNATURES,
        evidence,
        extra_facts=(fact,) if fact else (),
        bonus=0.04 if fact else 0.0,
    )


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
