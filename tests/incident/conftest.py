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


def firestore_store(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> FirestoreStore:
    """A FirestoreStore on its own empty project of `emulator` (tests never see each other)."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)
    return FirestoreStore(project=f"jobtriage-test-{uuid.uuid4().hex[:12]}", timeout=5.0)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> IncidentStore:
    if backend == "memory":
        return MemoryStore()
    fixture = "firestore_emulator" if backend == "firestore-npm" else "gcloud_firestore_emulator"
    emulator: RunningEmulator = request.getfixturevalue(fixture)
    return firestore_store(emulator, monkeypatch)
