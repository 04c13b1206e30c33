"""Firestore emulators for the tests, started from the project's own files.

The default is the npm package `@firestore-emulator/server` (a Node.js implementation of the
Firestore gRPC API): it needs only Node.js >= 20 and npm, which every machine of ours and CI have.
Its version is pinned by `firestore-npm/package.json` + `package-lock.json`; the first test session
on a machine runs `npm ci` into `build/firestore-emulator/` (a few seconds), later ones reuse it.
It is started by `firestore-npm/server.cjs` on 127.0.0.1 and an OS-chosen port.

Google's own emulator (Java, shipped with the Google Cloud CLI as the component
`cloud-firestore-emulator`) is used as well *when it is already installed* on the machine: it
isolates transactions the way Firestore does, where the npm one does not (see
FIRESTORE_EMULATOR.md; `server.cjs` makes the npm one enforce update_time preconditions and
commit atomically). Nothing here installs it; without it those runs are skipped.

`counted_client(host, project)`: a real Firestore client on an emulator that counts its RPCs by
kind (BatchGetDocuments, Commit, RunQuery…): what the benchmarks and the RPC tests read.

Fixtures (session scope; import them in a conftest.py):
    firestore_emulator         the npm emulator (always; a failure to install or start fails)
    gcloud_firestore_emulator  Google's emulator, or a skip saying why it is not there
The client finds an emulator through FIRESTORE_EMULATOR_HOST; tests/conftest.py clears that
variable around every test, so set it per test (`monkeypatch.setenv(..., emulator.host)`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

ROOT = Path(__file__).resolve().parents[1]
NPM_SPEC_DIR = Path(__file__).resolve().parent / "firestore-npm"
NPM_PREFIX = ROOT / "build" / "firestore-emulator"
SERVER_SCRIPT = NPM_SPEC_DIR / "server.cjs"
MIN_NODE_MAJOR = 20
INSTALL_TIMEOUT_S = 300.0
START_TIMEOUT_S = 60.0


@dataclass
class RunningEmulator:
    kind: str  # "npm" or "gcloud"
    host: str  # "127.0.0.1:PORT", the value for FIRESTORE_EMULATOR_HOST
    process: subprocess.Popen[bytes]
    log: Path
    started_in_s: float
    installed_in_s: float = 0.0
    _stdin_open: bool = field(default=True, repr=False)

    @property
    def port(self) -> int:
        return int(self.host.rsplit(":", 1)[1])

    def stop(self) -> None:
        """Stop this emulator process (and only it); safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


# --- the npm emulator -------------------------------------------------------------------------


def _node_major() -> int:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("Node.js is not installed; the Firestore emulator needs Node.js >= 20")
    out = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True, timeout=30
    )
    return int(out.stdout.strip().lstrip("v").split(".")[0])


def _lock_digest() -> str:
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        h.update((NPM_SPEC_DIR / name).read_bytes())
    return h.hexdigest()


def ensure_npm_emulator_installed() -> float:
    """`npm ci` the pinned emulator into build/firestore-emulator/ unless it is there already.

    Returns the seconds spent installing (0.0 when it was already installed).
    """
    if _node_major() < MIN_NODE_MAJOR:
        raise RuntimeError(f"the Firestore emulator needs Node.js >= {MIN_NODE_MAJOR}")
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed; it installs the Firestore emulator")
    NPM_PREFIX.mkdir(parents=True, exist_ok=True)
    marker = NPM_PREFIX / ".installed"
    digest = _lock_digest()
    with (NPM_PREFIX / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test sessions at once install once
        installed = NPM_PREFIX / "node_modules" / "@firestore-emulator" / "server" / "package.json"
        if marker.exists() and marker.read_text() == digest and installed.exists():
            return 0.0
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(NPM_SPEC_DIR / name, NPM_PREFIX / name)
        started = time.monotonic()
        # --ignore-scripts: the only install script in the tree is protobufjs's version notice.
        cmd = [
            npm,
            "ci",
            "--prefix",
            str(NPM_PREFIX),
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
        ]
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"installing the Firestore emulator failed ({' '.join(cmd)}):\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
            )
        marker.write_text(digest)
        return time.monotonic() - started


def _wait_answering(host: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    """Until a gRPC connection to `host` is up (the emulator answers), or fail."""
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with code {process.returncode}")
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"the emulator did not answer on {host} in time")
        channel = grpc.insecure_channel(host)
        try:
            grpc.channel_ready_future(channel).result(timeout=min(1.0, left))
            return
        except grpc.FutureTimeoutError:
            continue
        finally:
            channel.close()


def start_npm_emulator(log_dir: Path) -> RunningEmulator:
    """Install if needed, start on 127.0.0.1 and a free port, wait until it answers."""
    installed_in = ensure_npm_emulator_installed()
    node = shutil.which("node")
    assert node is not None
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"firestore-npm-{os.getpid()}-{time.monotonic_ns()}.log"
    started = time.monotonic()
    with log.open("wb") as log_file:
        # stdin stays open: the script exits when it closes, so it never outlives the tests.
        process = subprocess.Popen(
            [node, str(SERVER_SCRIPT), str(NPM_PREFIX), "127.0.0.1", "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            cwd=NPM_PREFIX,
        )
    lines: queue.Queue[bytes] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True, name="firestore-npm-stdout").start()
    deadline = started + START_TIMEOUT_S
    emulator: RunningEmulator | None = None
    try:
        host = ""
        while not host:
            if process.poll() is not None and lines.empty():
                raise RuntimeError(f"the emulator exited with code {process.returncode}")
            try:
                line = lines.get(timeout=max(0.05, min(0.5, deadline - time.monotonic())))
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise RuntimeError("the emulator did not report its port in time") from None
                continue
            text = line.decode(errors="replace").strip()
            if text.startswith("READY "):
                host = text.split(" ", 1)[1]
        emulator = RunningEmulator("npm", host, process, log, 0.0, installed_in)
        _wait_answering(host, process, deadline)
        emulator.started_in_s = time.monotonic() - started
        return emulator
    except BaseException as exc:
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        if isinstance(exc, RuntimeError):
            raise RuntimeError(f"{exc}\n--- emulator log ---\n{tail}") from exc
        raise


# --- Google's emulator, when the machine has it -----------------------------------------------


def find_gcloud_emulator_jar() -> Path | None:
    """The Cloud Firestore emulator jar of an installed Google Cloud CLI, if there is one."""
    roots: list[Path] = []
    gcloud = shutil.which("gcloud")
    if gcloud:
        roots.append(Path(gcloud).resolve().parents[1])
    roots.append(Path("/usr/lib/google-cloud-sdk"))
    for root in roots:
        jar = root / "platform" / "cloud-firestore-emulator" / "cloud-firestore-emulator.jar"
        if jar.is_file():
            return jar
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gcloud_emulator(jar: Path, log_dir: Path) -> RunningEmulator:
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("java is not installed")
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"firestore-gcloud-{os.getpid()}-{time.monotonic_ns()}.log"
    port = _free_port()
    host = f"127.0.0.1:{port}"
    started = time.monotonic()
    with log.open("wb") as log_file:
        # java directly, not the SDK's wrapper script: terminating the wrapper leaves java behind.
        process = subprocess.Popen(
            [
                java,
                "-Duser.language=en",
                "-cp",
                str(jar),
                "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
                "start",
                "--host=127.0.0.1",
                f"--port={port}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    emulator = RunningEmulator("gcloud", host, process, log, 0.0)
    try:
        _wait_answering(host, process, started + START_TIMEOUT_S)
    except BaseException:
        emulator.stop()
        raise
    emulator.started_in_s = time.monotonic() - started
    return emulator


def counted_client(host: str, project: str) -> tuple[Any, Counter[str]]:
    """A google-cloud-firestore client on the emulator at `host`, and the count of the RPCs it
    makes by method (a gRPC interceptor on its channel; the client itself is the real one)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore
    from google.cloud.firestore_v1.services.firestore import client as fs_client
    from google.cloud.firestore_v1.services.firestore.transports import grpc as fs_grpc

    rpcs: Counter[str] = Counter()

    class Count(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):  # type: ignore[misc]
        def intercept_unary_unary(self, cont: Any, details: Any, request: Any) -> Any:
            rpcs[details.method.rsplit("/", 1)[-1]] += 1
            return cont(details, request)

        def intercept_unary_stream(self, cont: Any, details: Any, request: Any) -> Any:
            rpcs[details.method.rsplit("/", 1)[-1]] += 1
            return cont(details, request)

    client = firestore.Client(project=project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    channel = grpc.intercept_channel(grpc.insecure_channel(host), Count())
    transport = fs_grpc.FirestoreGrpcTransport(channel=channel)
    client._firestore_api_internal = fs_client.FirestoreClient(transport=transport)
    return client, rpcs
