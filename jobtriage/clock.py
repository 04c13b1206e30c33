"""The one seam for time: everything that reads the time or waits takes a `Clock`.

The product runs on `SYSTEM_CLOCK`; tests, the demo and the load harness pass a virtual one (any
object with these three methods), so that claim leases, digest windows, Slack's signature window,
the Logging read budget and the wait for late logs never depend on the real time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds that only move forward (budgets, caches)."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()
