"""An instance's memory of the repeats it deferred (`incident.waiting`): answered until their
time, forgotten after it, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobtriage.incident.waiting import Waiting

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EXEC = "projects/p/locations/r/jobs/j/executions/j-1"


def test_a_deferred_repeat_waits_until_its_time_then_is_forgotten() -> None:
    waiting = Waiting()
    waiting.note(EXEC, T0 + timedelta(seconds=30), now=T0)
    assert waiting.until(EXEC, T0 + timedelta(seconds=29)) == T0 + timedelta(seconds=30)
    assert waiting.until(EXEC, T0 + timedelta(seconds=30)) is None
    assert waiting.until(EXEC, T0) is None  # forgotten, not answered again


def test_nothing_is_noted_without_a_time_ahead() -> None:
    waiting = Waiting()
    waiting.note(EXEC, None, now=T0)
    waiting.note(f"{EXEC}x", T0, now=T0)
    assert waiting.until(EXEC, T0) is None
    assert waiting.until(f"{EXEC}x", T0 - timedelta(seconds=1)) is None


def test_the_memory_is_bounded_and_keeps_the_newest() -> None:
    waiting = Waiting(size=3)
    for i in range(5):
        waiting.note(f"{EXEC}-{i}", T0 + timedelta(minutes=1), now=T0)
    assert [waiting.until(f"{EXEC}-{i}", T0) is not None for i in range(5)] == [
        False,
        False,
        True,
        True,
        True,
    ]
