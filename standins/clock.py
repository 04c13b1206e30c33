"""A virtual clock for tests: it only moves when the code under test sleeps (or `advance`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class SteppingClock:
    at: datetime
    slept: list[float] = field(default_factory=list)

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.at.timestamp()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class ShiftedClock:
    """The system's time moved forward by the number of seconds in a file, read on every call.

    For end-to-end runs through real function processes: the test writes the file to let half an
    hour pass in an instant, and the process under test sees it at once (tests/e2e/clocked.py).
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def _offset(self) -> float:
        try:
            with open(self.path, encoding="utf-8") as f:
                return float(f.read().strip() or 0)
        except FileNotFoundError:
            return 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._offset())

    def monotonic(self) -> float:
        return time.monotonic() + self._offset()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
