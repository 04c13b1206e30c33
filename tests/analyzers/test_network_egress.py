"""network_egress: the job has no network path to the host (a connect that is never answered)."""

from __future__ import annotations

import pytest

from analyzers import network_egress
from tests.analyzers._build import HEALTHY, Case, check_case, config, evidence, rank, winner

CASES = [
    Case(
        "go through an unreachable proxy",
        (
            'Get "https://api.example.com/v1": proxyconnect tcp: dial tcp 10.0.0.9:3128: '
            "connect: connection refused",
        ),
        "PROXY_UNREACHABLE",
    ),
    Case(
        "go dial timed out",
        ("dial tcp 34.120.1.7:443: connect: connection timed out",),
        "CONNECT_TIMEOUT",
        min_strength=0.8,
    ),
    Case(
        "java connect exception",
        (
            "java.net.ConnectException: Connection timed out (Connection timed out)",
            "\tat java.base/java.net.PlainSocketImpl.socketConnect(Native Method)",
        ),
        "CONNECT_TIMEOUT",
    ),
    Case(
        "java socket connect timeout",
        ("Caused by: java.net.SocketTimeoutException: connect timed out",),
        "CONNECT_TIMEOUT",
    ),
    Case(
        "node connect ETIMEDOUT",
        ("Error: connect ETIMEDOUT 203.0.113.5:443",),
        "CONNECT_TIMEOUT",
    ),
    Case(
        "urllib3 connect timeout",
        (
            "requests.exceptions.ConnectTimeout: HTTPSConnectionPool(host='api.example.com', "
            "port=443): Max retries exceeded with url: /v1 (Caused by ConnectTimeoutError("
            "<urllib3.connection.HTTPSConnection object at 0x7f>, 'Connection to api.example.com "
            "timed out. (connect timeout=10)'))",
        ),
        "CONNECT_TIMEOUT",
    ),
    Case(
        ".net socket 10060",
        (
            "System.Net.Sockets.SocketException (10060): A connection attempt failed because the "
            "connected party did not properly respond after a period of time, or established "
            "connection failed because connected host has failed to respond.",
        ),
        "CONNECT_TIMEOUT",
    ),
    Case(
        "curl connect timeout",
        (
            "curl: (28) Failed to connect to api.example.com port 443 after 129 ms: "
            "Timeout was reached",
        ),
        "CONNECT_TIMEOUT",
    ),
    Case(
        "ruby connect(2) timeout",
        ("Errno::ETIMEDOUT: Connection timed out - connect(2) for 203.0.113.5:443",),
        "CONNECT_TIMEOUT",
    ),
    Case(
        "libpq before 14",
        (
            "psycopg2.OperationalError: could not connect to server: Connection timed out",
            '\tIs the server running on host "db.internal" and accepting TCP/IP connections on '
            "port 5432?",
        ),
        "CONNECT_TIMEOUT",
    ),
    Case(
        "libpq 14+",
        (
            'connection to server at "db.example.com" (34.1.2.3), port 5432 failed: Connection '
            "timed out",
        ),
        "CONNECT_TIMEOUT",
    ),
    Case(
        "mysql client errno 110",
        ("ERROR 2003 (HY000): Can't connect to MySQL server on 'db.internal' (110)",),
        "CONNECT_TIMEOUT",
    ),
    Case(
        "pdo connect timeout",
        ("SQLSTATE[HY000] [2002] Connection timed out",),
        "CONNECT_TIMEOUT",
    ),
    Case(
        "rust hyper connect timeout",
        (
            "Error: reqwest::Error { kind: Request, source: hyper::Error(Connect, "
            'ConnectError("tcp connect error", Os { code: 110, kind: TimedOut }))',
            "error trying to connect: tcp connect error: Connection timed out (os error 110)",
        ),
        "CONNECT_TIMEOUT",
    ),
    Case(
        ".net dns look-up failed for now",
        (
            "System.Net.Http.HttpRequestException: Resource temporarily unavailable "
            "(api.example.com:443)",
        ),
        "DNS_TEMPORARY",
    ),
    Case(
        "rust panic on a connect that timed out",
        (
            "thread 'main' panicked at 'called `Result::unwrap()` on an `Err` value: Io(Os { "
            'code: 110, kind: TimedOut, message: "Connection timed out" })\', src/main.rs:20:6',
        ),
        "CONNECT_TIMEOUT",
    ),
    Case(
        "httpx connect timeout",
        ("httpx.ConnectTimeout: timed out",),
        "CONNECT_TIMEOUT",
    ),
    Case(
        "aiohttp connect timeout",
        (
            "aiohttp.client_exceptions.ServerTimeoutError: Connection timeout to host "
            "https://api.example.com/v1",
        ),
        "CONNECT_TIMEOUT",
    ),
    # Near misses: the host answered, or the timeout came after connecting.
    Case(
        "a socket path is not a dns name",
        ("Error: getaddrinfo EAI_AGAIN /cloudsql/proj:region:db",),
        None,
    ),
    Case(
        "mysql refused is not a timeout",
        ("ERROR 2003 (HY000): Can't connect to MySQL server on 'db.internal' (111)",),
        None,
    ),
    Case(
        "a pool wait is not the network",
        ("HikariPool-1 - Connection is not available, request timed out after 30000ms.",),
        None,
    ),
    Case(
        "a read timeout is not a connect timeout",
        (
            "urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='api.example.com', "
            "port=443): Read timed out. (read timeout=30)",
        ),
        None,
    ),
    Case("a refused connection was answered", ("Error: connect ECONNREFUSED 10.0.0.3:5432",), None),
    Case(
        "a query timeout is not the network",
        (
            "ERROR: canceling statement due to statement timeout",
            "java.net.SocketTimeoutException: Read timed out",
        ),
        None,
    ),
    Case("healthy run", HEALTHY, None, cfg=config()),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_network_egress(case: Case) -> None:
    check_case(case, network_egress.analyze)


def test_connect_timeout_to_the_database_is_the_network() -> None:
    ev = evidence(
        [
            '2024/05/01 10:00:00 couldn\'t connect to "proj:region:db": dial tcp 10.20.0.3:3307: '
            "connect: connection timed out",
        ]
    )
    assert winner(ev) == "network_egress", [(f.cause, f.signature, f.strength) for f in rank(ev)]


def test_node_fetch_that_never_connected_is_the_network() -> None:
    ev = evidence(
        [
            "TypeError: fetch failed",
            "    at node:internal/deps/undici/undici:12345:11",
            "  [cause]: ConnectTimeoutError: Connect Timeout Error (attempted address: "
            "api.example.com:443, timeout: 10000ms)",
            "    code: 'UND_ERR_CONNECT_TIMEOUT'",
            "Node.js v20.11.1",
        ]
    )
    assert winner(ev) == "network_egress", [(f.cause, f.signature, f.strength) for f in rank(ev)]


DB_TIMEOUTS = [
    ("pdo", ("SQLSTATE[HY000] [2002] Connection timed out",)),
    (
        "libpq",
        (
            "psycopg2.OperationalError: could not connect to server: Connection timed out",
            '\tIs the server running on host "db" and accepting TCP/IP connections on port 5432?',
        ),
    ),
    ("mysql client", ("ERROR 2003 (HY000): Can't connect to MySQL server on 'db.internal' (110)",)),
    (
        "pgjdbc",
        (
            "org.postgresql.util.PSQLException: The connection attempt failed.",
            "Caused by: java.net.SocketTimeoutException: connect timed out",
        ),
    ),
]


@pytest.mark.parametrize(("name", "lines"), DB_TIMEOUTS, ids=[d[0] for d in DB_TIMEOUTS])
def test_a_database_connect_that_timed_out_is_the_network(
    name: str, lines: tuple[str, ...]
) -> None:
    ev = evidence(lines)
    assert winner(ev) == "network_egress", [(f.cause, f.signature, f.strength) for f in rank(ev)]
