"""How the real Google clients of the evidence sources are pointed: Google, or a local stand-in.

With an emulator host (`CLOUD_BUILD_EMULATOR_HOST` and its siblings, like `CLOUD_RUN_EMULATOR_HOST`)
a client talks plain HTTP to it with anonymous credentials; otherwise it uses Application Default
Credentials and Google's endpoint.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def gapic_kwargs(emulator_host: str | None) -> dict[str, Any]:
    """Keyword arguments for a GAPIC client over REST (`transport="rest"`)."""
    credentials: Any = None
    options: dict[str, str] | None = None
    if emulator_host:
        from google.auth.credentials import AnonymousCredentials

        credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
        options = {"api_endpoint": f"http://{emulator_host}"}
    return {"credentials": credentials, "transport": "rest", "client_options": options}


def time_of(value: Any) -> Any:
    """A proto timestamp (DatetimeWithNanoseconds) as a plain aware datetime, or None when unset."""
    from datetime import UTC, datetime

    if not value:
        return None
    dt: datetime = value
    if dt.year <= 1970:
        return None
    return datetime(
        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, tzinfo=UTC
    )


class Lazy:
    """A client built on first use (thread-safe), then kept for the life of the instance."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._value: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._factory()
        return self._value


class ClientSource:
    """An evidence source over one Google client, built on first use; every call has `timeout`."""

    def __init__(self, client: Callable[[], Any], *, timeout: float) -> None:
        """`client` builds the real client on first use."""
        self._client = Lazy(client)
        self.timeout = timeout

    @property
    def client(self) -> Any:
        return self._client.get()
