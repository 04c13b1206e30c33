"""The Firestore emulator fixtures, for the emulator's own tests."""

from tests.emulators.fixtures import (  # noqa: F401 (fixtures)
    firestore_emulator,
    gcloud_firestore_emulator,
)
