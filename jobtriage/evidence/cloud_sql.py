"""Cloud SQL Admin API v1: the attached instances' state and their operations in the window.

Cloud SQL Admin has no GAPIC Python library (its Google-made client is the discovery-based
`google-api-python-client`, ~80 MB of JSON documents for two GETs), so this module calls the REST
API directly through google-auth's `AuthorizedSession` — the transport the other clients already
bring — with a timeout on every call:

    GET /v1/projects/P/instances/I                       → state (RUNNABLE, MAINTENANCE, …)
    GET /v1/projects/P/operations?instance=I&maxResults=N → items[] (operationType, status, times)

Needs `roles/cloudsql.viewer`. With `CLOUD_SQL_ADMIN_EMULATOR_HOST` it talks plain HTTP to that
host, anonymously. Errors are raised as `google.api_core` exceptions (code, message, reason), so
`gaps.gap_for` explains them like any other API's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from jobtriage.evidence.endpoint import Lazy
from jobtriage.evidence.related import SqlInstance, SqlOperation
from jobtriage.redact import redact

ENDPOINT = "https://sqladmin.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/sqlservice.admin"
OPERATIONS_PAGE = 20
CALLS = 2  # instances.get + operations.list, per instance
# Operations worth naming next to a failed connection; routine ones (backups, exports) are not.
NOTABLE = frozenset(
    {
        "RESTART",
        "MAINTENANCE",
        "FAILOVER",
        "UPDATE",
        "STOP",
        "START",
        "RECREATE_REPLICA",
        "PROMOTE_REPLICA",
        "SWITCHOVER",
        "DEFER_MAINTENANCE",
        "RESCHEDULE_MAINTENANCE",
        "RESTORE_VOLUME",
        "CREATE_USER",
        "UPDATE_USER",
        "DELETE_USER",
        "REENCRYPT",
    }
)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _session(emulator_host: str | None) -> tuple[Any, str]:
    from google.auth.transport.requests import AuthorizedSession

    if emulator_host:
        from google.auth.credentials import AnonymousCredentials

        credentials: Any = AnonymousCredentials()  # type: ignore[no-untyped-call]
        return AuthorizedSession(credentials), f"http://{emulator_host}"  # type: ignore[no-untyped-call]
    import google.auth

    credentials, _ = google.auth.default(scopes=[SCOPE])
    return AuthorizedSession(credentials), ENDPOINT  # type: ignore[no-untyped-call]


def _parse_time(value: Any) -> datetime | None:
    from jobtriage.evidence.cloud_logging import parse_timestamp

    return parse_timestamp(value)


class CloudSqlAdmin:
    def __init__(self, session: Callable[[], tuple[Any, str]], *, timeout: float) -> None:
        """`session` builds (AuthorizedSession, base URL) on first use."""
        self._session = Lazy(session)
        self.timeout = timeout

    @classmethod
    def from_settings(cls, emulator_host: str | None, *, timeout: float) -> CloudSqlAdmin:
        return cls(lambda: _session(emulator_host), timeout=timeout)

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        from google.api_core import exceptions

        session, base = self._session.get()
        response = session.get(f"{base}{path}", params=params, timeout=self.timeout)
        if response.status_code >= 400:
            raise exceptions.from_http_response(response)  # type: ignore[no-untyped-call]
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError(f"{path}: the answer is not a JSON object")
        return body

    def instance(
        self, connection_name: str, *, since: datetime | None, until: datetime | None
    ) -> SqlInstance:
        """The instance's state and its notable operations that overlap [since, until]: two
        calls (`CALLS`)."""
        parts = connection_name.split(":")
        if len(parts) != 3 or not all(parts):
            raise ValueError(
                f"not a Cloud SQL connection name (project:region:instance): {connection_name!r}"
            )
        project, _, name = parts
        base = f"/v1/projects/{quote(project, safe='')}"
        info = self._get(f"{base}/instances/{quote(name, safe='')}")
        state = str(info.get("state") or "") or None
        ops_body = self._get(
            f"{base}/operations", {"instance": name, "maxResults": OPERATIONS_PAGE}
        )
        operations: list[SqlOperation] = []
        for item in ops_body.get("items") or []:
            if not isinstance(item, dict):
                continue
            kind = str(item.get("operationType") or "")
            if kind not in NOTABLE:
                continue
            start = _parse_time(item.get("startTime") or item.get("insertTime"))
            end = _parse_time(item.get("endTime"))
            if since is not None and end is not None and end < since:
                continue
            if until is not None and start is not None and start > until:
                continue
            who = item.get("user")
            operations.append(
                SqlOperation(
                    kind=kind,
                    status=str(item.get("status") or "") or None,
                    start=start,
                    end=end,
                    who=redact(str(who)) if who else None,
                )
            )
        operations.sort(key=lambda o: o.start or o.end or _EPOCH)
        return SqlInstance(connection_name, state, tuple(operations))
