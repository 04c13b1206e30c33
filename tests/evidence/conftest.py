"""Fixtures for evidence tests: the recorded-answer replay and real clients aimed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobtriage.event import parse_log_entry
from jobtriage.evidence.gather import Sources
from jobtriage.evidence.model import JobEvent
from jobtriage.settings import Settings
from standins.clock import SteppingClock
from standins.replay.google import GoogleReplay, Scenario

FIXTURES = Path(__file__).resolve().parents[2] / "standins" / "replay" / "scenarios"


# A clock that only moves when the code under test sleeps.
FakeTime = SteppingClock


def scenario(name: str) -> Scenario:
    if name == "seed":
        return Scenario.embedded("seed")
    return Scenario.load(FIXTURES / name)


def event_of(sc: Scenario) -> JobEvent:
    assert sc.event is not None
    return parse_log_entry(sc.event)


def settings_for(replay: GoogleReplay, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "cloud_run_emulator_host": replay.host,
        "cloud_logging_emulator_host": replay.host,
        "api_timeout_seconds": 5.0,
        "log_wait_seconds": 8.0,
    }
    values.update(overrides)
    return Settings(**values)


def sources_for(replay: GoogleReplay, time: FakeTime, **overrides: Any) -> Sources:
    return Sources.from_settings(settings_for(replay, **overrides), clock=time)


@pytest.fixture
def start_replay() -> Iterator[Callable[..., GoogleReplay]]:
    started: list[GoogleReplay] = []

    def start(sc: Scenario, **kwargs: Any) -> GoogleReplay:
        replay = GoogleReplay(sc, **kwargs).start()
        started.append(replay)
        return replay

    yield start
    for replay in started:
        replay.stop()


@pytest.fixture
def late_time() -> FakeTime:
    """A clock long after every recorded incident: no waiting for late logs."""
    return FakeTime(datetime(2026, 6, 1, tzinfo=UTC))
