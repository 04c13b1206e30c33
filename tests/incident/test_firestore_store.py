"""FirestoreStore beyond the shared contract: retry-or-drop when Firestore misbehaves, the lazy
client, the injected client and the store factory.

Failures come from real servers, never from patched client internals: the emulator stopped, a
closed port, and a small gRPC server that answers every Firestore call with a chosen status.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent import futures
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from jobtriage.errors import PermanentError, TransientError
from jobtriage.incident.model import Incident, State
from jobtriage.incident.store import (
    DATABASE_FIX,
    ClaimOutcome,
    FirestoreStore,
    IncidentStore,
    MemoryStore,
    make_store,
)
from jobtriage.settings import Settings
from standins.firestore import RunningEmulator, start_npm_emulator

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
JOB = "projects/acme/locations/asia-northeast3/jobs/o4o-api-migrations"
FAST = 0.5  # seconds: the store's timeout in these tests (the smallest API_TIMEOUT_SECONDS)

OPERATIONS: dict[str, Callable[[IncidentStore], object]] = {
    "claim": lambda s: s.claim("k", now=T0, lease=LEASE),
    "record_post": lambda s: s.record_post("k", "C1", "1.2"),
    "finish": lambda s: s.finish("k", result={"ts": "1.2"}),
    "release": lambda s: s.release("k"),
    "get": lambda s: s.get("inc0001"),
    "create": lambda s: s.create(
        Incident("inc0001", JOB, "unknown:x", State.OPEN, opened_at=T0, updated_at=T0)
    ),
    "update": lambda s: s.update("inc0001", lambda i: i),
    "open_incident": lambda s: s.open_incident(JOB, "unknown:x"),
    "open_incidents": lambda s: s.open_incidents(JOB),
    "find_by_message": lambda s: s.find_by_message("C1", "1.2"),
}


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket closes


def _store_at(host: str, monkeypatch: pytest.MonkeyPatch) -> FirestoreStore:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", host)
    return FirestoreStore(project=f"jobtriage-test-{uuid.uuid4().hex[:12]}", timeout=FAST)


class _Answer(grpc.GenericRpcHandler):
    """Answers every Firestore RPC with one status, optionally after a delay (a hung server)."""

    streaming = ("/BatchGetDocuments", "/RunQuery", "/RunAggregationQuery")

    def __init__(self, code: grpc.StatusCode, details: str, delay: float = 0.0) -> None:
        self.code, self.details, self.delay = code, details, delay
        self.calls: list[str] = []

    def service(self, handler_call_details: Any) -> grpc.RpcMethodHandler:
        method = str(handler_call_details.method)
        self.calls.append(method)

        def fail(_request: bytes, context: grpc.ServicerContext) -> Any:
            if self.delay:
                time.sleep(self.delay)
            context.abort(self.code, self.details)

        def fail_stream(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
            fail(request, context)
            yield b""

        if method.endswith(self.streaming):
            return grpc.unary_stream_rpc_method_handler(fail_stream)
        return grpc.unary_unary_rpc_method_handler(fail)


@pytest.fixture
def answering() -> Iterator[Callable[..., tuple[str, _Answer]]]:
    servers: list[grpc.Server] = []

    def start(code: grpc.StatusCode, details: str, delay: float = 0.0) -> tuple[str, _Answer]:
        handler = _Answer(code, details, delay)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=[handler])
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}", handler

    yield start
    for server in servers:
        server.stop(grace=0)


# --- Firestore not there -----------------------------------------------------------------------


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_closed_port_is_transient_and_fast(operation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store_at(f"127.0.0.1:{_closed_port()}", monkeypatch)
    started = time.monotonic()
    with pytest.raises(TransientError, match="Firestore"):
        OPERATIONS[operation](store)
    assert time.monotonic() - started < FAST + 3.0


@pytest.mark.slow
def test_emulator_stopped_under_a_working_store_is_transient(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator: RunningEmulator = start_npm_emulator(tmp_path)
    try:
        store = _store_at(emulator.host, monkeypatch)
        assert store.claim("k", now=T0, lease=LEASE).outcome is ClaimOutcome.NEW
    finally:
        emulator.stop()
    started = time.monotonic()
    with pytest.raises(TransientError):
        store.claim("k", now=T0, lease=LEASE)
    with pytest.raises(TransientError):
        store.open_incidents(JOB)
    assert time.monotonic() - started < 2 * (FAST + 3.0)


# --- Firestore answering with an error ---------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "details"),
    [
        (grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable."),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline exceeded."),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, "Quota exceeded."),
        (grpc.StatusCode.INTERNAL, "Internal error."),
        (grpc.StatusCode.ABORTED, "Too much contention on these documents."),
        (grpc.StatusCode.UNKNOWN, "Unknown error."),
    ],
)
@pytest.mark.parametrize("operation", ["claim", "update", "open_incidents"])
def test_server_side_faults_are_transient(
    code: grpc.StatusCode,
    details: str,
    operation: str,
    answering: Callable[..., tuple[str, _Answer]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, handler = answering(code, details)
    store = _store_at(host, monkeypatch)
    # On a busy machine the first call may spend its 0.5 s connecting and time out before the
    # server sees it (also a TransientError, but not the fault under test): every attempt must
    # be transient and fast, and the server's own answer must be among them.
    for _ in range(5):
        started = time.monotonic()
        with pytest.raises(TransientError, match="Firestore"):
            OPERATIONS[operation](store)
        assert time.monotonic() - started < FAST + 3.0
        if handler.calls:
            break
    assert handler.calls, "the store never reached the server"


def test_a_hung_server_times_out_as_transient(
    answering: Callable[..., tuple[str, _Answer]], monkeypatch: pytest.MonkeyPatch
) -> None:
    host, _ = answering(grpc.StatusCode.UNAVAILABLE, "late", delay=FAST + 2.0)
    store = _store_at(host, monkeypatch)
    started = time.monotonic()
    with pytest.raises(TransientError):
        store.get("inc0001")
    assert time.monotonic() - started < FAST + 2.0


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_permission_denied_is_permanent_with_the_fix(
    operation: str,
    answering: Callable[..., tuple[str, _Answer]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, _ = answering(grpc.StatusCode.PERMISSION_DENIED, "Missing or insufficient permissions.")
    store = _store_at(host, monkeypatch)
    with pytest.raises(PermanentError, match="permission denied") as caught:
        OPERATIONS[operation](store)
    assert not isinstance(caught.value, TransientError)
    assert "roles/datastore.user" in caught.value.fix


def test_missing_database_is_permanent_with_the_fix(
    answering: Callable[..., tuple[str, _Answer]], monkeypatch: pytest.MonkeyPatch
) -> None:
    host, _ = answering(
        grpc.StatusCode.NOT_FOUND, "The database (incidents) does not exist for project acme"
    )
    store = _store_at(host, monkeypatch)
    with pytest.raises(PermanentError, match="does not exist") as caught:
        store.claim("k", now=T0, lease=LEASE)
    assert caught.value.fix == DATABASE_FIX


def test_datastore_mode_database_is_permanent(
    answering: Callable[..., tuple[str, _Answer]], monkeypatch: pytest.MonkeyPatch
) -> None:
    host, _ = answering(
        grpc.StatusCode.FAILED_PRECONDITION,
        "The Cloud Firestore API is not available for Firestore in Datastore Mode database",
    )
    store = _store_at(host, monkeypatch)
    with pytest.raises(PermanentError, match="Datastore Mode"):
        store.get("inc0001")


# --- the client ---------------------------------------------------------------------------------


def test_the_client_is_built_on_first_use_not_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No emulator and credentials that cannot load: building the store must not touch them.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    store = FirestoreStore(project="acme", timeout=FAST)
    with pytest.raises(PermanentError) as caught:
        store.get("inc0001")
    assert "credentials" in str(caught.value).lower()
    assert "FIRESTORE_EMULATOR_HOST" in caught.value.fix


def test_an_injected_client_is_used(
    firestore_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
    client = firestore.Client(project="jobtriage-injected", credentials=AnonymousCredentials())
    store = FirestoreStore(client, timeout=FAST)
    assert store.claim("k", now=T0, lease=LEASE).outcome is ClaimOutcome.NEW
    stored = list(client.collection("deliveries").stream())
    assert len(stored) == 1
    assert stored[0].id != "k"  # a hash of the key, safe whatever the key holds
    assert stored[0].to_dict()["key"] == "k"
    assert stored[0].to_dict()["expire_at"] > T0  # for the TTL policy


def test_documents_are_laid_out_for_single_field_queries(
    firestore_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
    client = firestore.Client(project="jobtriage-layout", credentials=AnonymousCredentials())
    store = FirestoreStore(client, timeout=FAST)
    store.create(Incident("inc0001", JOB, "unknown:x", State.OPEN, T0, T0, channel="C1", ts="1.2"))
    doc = client.collection("incidents").document("inc0001").get().to_dict()
    assert doc["open_job"] == JOB
    assert doc["message"] == "C1/1.2"
    assert doc["state"] == "open"
    assert doc["opened_at"] == T0
    store.update("inc0001", lambda i: Incident(**{**_fields(i), "state": State.RESOLVED}))
    doc = client.collection("incidents").document("inc0001").get().to_dict()
    assert doc["open_job"] == ""


def _fields(incident: Incident) -> dict[str, Any]:
    return {name: getattr(incident, name) for name in Incident.__dataclass_fields__}


def test_make_store_follows_the_settings() -> None:
    assert isinstance(make_store(Settings(incident_store="memory")), MemoryStore)
    store = make_store(Settings(firestore_database="triage", api_timeout_seconds=3.0))
    assert isinstance(store, FirestoreStore)


def test_memory_store_is_thread_safe_under_load() -> None:
    store = MemoryStore()
    outcomes: list[ClaimOutcome] = []
    lock = threading.Lock()

    def claim_all() -> None:
        for n in range(200):
            outcome = store.claim(f"k{n}", now=T0, lease=LEASE).outcome
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=claim_all) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(ClaimOutcome.NEW) == 200
    assert outcomes.count(ClaimOutcome.BUSY) == 7 * 200
