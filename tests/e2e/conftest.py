"""The end-to-end tests share the session's Firestore emulator."""

from tests.emulators.fixtures import firestore_emulator

__all__ = ["firestore_emulator"]
