"""Fixtures for the incident store tests: the Firestore emulators and one store per backend."""

from __future__ import annotations

import uuid

import pytest

from jobtriage.incident.store import FirestoreStore, IncidentStore, MemoryStore
from tests.emulators.fixtures import (  # noqa: F401 (fixtures)
    RunningEmulator,
    firestore_emulator,
    gcloud_firestore_emulator,
)

BACKENDS = ("memory", "firestore-npm", "firestore-gcloud")
NPM_GAP = "FIRESTORE_EMULATOR.md"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs_conditional_writes(why): the test relies on update_time preconditions, which the "
        "npm emulator ignores; it runs on memory and Google's emulator only",
    )


def firestore_store(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> FirestoreStore:
    """A FirestoreStore on its own empty project of `emulator` (tests never see each other)."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)
    return FirestoreStore(project=f"jobtriage-test-{uuid.uuid4().hex[:12]}", timeout=5.0)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name = str(request.param)
    marker = request.node.get_closest_marker("needs_conditional_writes")
    if name == "firestore-npm" and marker is not None:
        pytest.skip(
            "npm emulator gap: update_time preconditions are ignored, so "
            f"{marker.args[0] if marker.args else 'this race'} cannot be decided there "
            f"(see standins/{NPM_GAP}); covered by memory and Google's emulator"
        )
    return name


@pytest.fixture
def store(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> IncidentStore:
    if backend == "memory":
        return MemoryStore()
    fixture = "firestore_emulator" if backend == "firestore-npm" else "gcloud_firestore_emulator"
    emulator: RunningEmulator = request.getfixturevalue(fixture)
    return firestore_store(emulator, monkeypatch)
