"""The end-to-end tests share the session's Firestore emulator."""

from tests.emulators.firestore import firestore_emulator

__all__ = ["firestore_emulator"]
