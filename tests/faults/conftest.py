"""Fault runs log warnings on purpose; keep them out of the test output."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from jobtriage.ownlog import LOGGER_NAME


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    logger = logging.getLogger(LOGGER_NAME)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)
