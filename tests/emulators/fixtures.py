"""The Firestore emulator as pytest fixtures (the launcher itself is `standins/firestore.py`)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator

import pytest

from standins.firestore import (
    RunningEmulator,
    find_gcloud_emulator_jar,
    start_gcloud_emulator,
    start_npm_emulator,
)

# --- fixtures ---------------------------------------------------------------------------------


# One process per kind for the whole session, however many conftest.py files import the
# fixtures below (each import is a fixture of its own to pytest).
_RUNNING: dict[str, RunningEmulator] = {}
_RUNNING_LOCK = threading.Lock()


def _shared(kind: str, start: Callable[[], RunningEmulator]) -> RunningEmulator:
    with _RUNNING_LOCK:
        running = _RUNNING.get(kind)
        if running is None or running.process.poll() is not None:
            running = _RUNNING[kind] = start()
        return running


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """The npm Firestore emulator for the whole session. Fails (never skips) if it cannot run."""
    try:
        emulator = _shared("npm", lambda: start_npm_emulator(tmp_path_factory.mktemp("npm")))
    except RuntimeError as exc:
        pytest.fail(f"Firestore emulator (npm) unavailable: {exc}", pytrace=False)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def gcloud_firestore_emulator(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningEmulator]:
    """Google's Firestore emulator when the machine has it installed, else a skip."""
    jar = find_gcloud_emulator_jar()
    if jar is None:
        pytest.skip("Google's Firestore emulator is not installed (gcloud component)")
    if shutil.which("java") is None:
        pytest.skip("Google's Firestore emulator needs Java, which is not installed")
    try:
        emulator = _shared(
            "gcloud", lambda: start_gcloud_emulator(jar, tmp_path_factory.mktemp("gcloud"))
        )
    except RuntimeError as exc:
        # Optional: the npm emulator still runs every test; say loudly why this one did not.
        pytest.skip(f"Google's Firestore emulator is installed but did not start: {exc}")
    try:
        yield emulator
    finally:
        emulator.stop()
