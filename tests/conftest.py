"""Shared test fixtures. Every test runs with an isolated copy of os.environ."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def isolated_env() -> Iterator[None]:
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(
            (
                "SLACK_",
                "CLOUD_RUN_",
                "CLOUD_LOGGING_",
                "FIRESTORE_",
                "REPORT_",
                "INCIDENT_",
                "LOG_WAIT",
                "API_TIMEOUT",
                "GOOGLE_",
                "REMIND_",
                "EXPECTED_INTERVALS",
            )
        ):
            del os.environ[name]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
