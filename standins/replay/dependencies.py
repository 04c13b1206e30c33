"""Recorded answers of the APIs beyond Run and Logging, served on 127.0.0.1 for the real clients.

`DependencyReplay` answers like `cloudbuild.googleapis.com` v1 (builds.list, honouring a filter of
`results.images.digest="…"` terms joined by OR), `artifactregistry.googleapis.com` v1
(versions.get), `secretmanager.googleapis.com` v1 (versions.get, `latest` resolved to the newest
enabled version) and `sqladmin.googleapis.com` v1 (instances.get, operations.list), from one
scenario folder:

    builds.json      a list of Build resources (v1 REST JSON)
    images.json      {"<version resource name>": Version resource} (annotations carry OCI keys)
    secrets.json     {"<secret id>": [SecretVersion, …]}
    sql.json         {"<instance>": {"instance": DatabaseInstance, "operations": [Operation, …]}}

Audit entries live in `audit.json` and are served by `GoogleReplay` with the logs. A missing
file answers 404 (a list: empty). `latency` delays every answer (realistic-latency benchmarks);
`inject(api, status=…, delay=…, times=…)` makes one API answer an error or slowly, as Google
does (a JSON error body with `error.code/message/status`).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from standins.server import FakeServer, Reply, Request

FILES = ("builds", "images", "secrets", "sql")


class DepApi(StrEnum):
    LIST_BUILDS = "cloudbuild.builds.list"
    GET_IMAGE_VERSION = "artifactregistry.versions.get"
    GET_SECRET_VERSION = "secretmanager.versions.get"
    GET_SQL_INSTANCE = "sqladmin.instances.get"
    LIST_SQL_OPERATIONS = "sqladmin.operations.list"


_STATUS = {403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}
_STATUS.update({503: "UNAVAILABLE", 400: "INVALID_ARGUMENT"})
_PERMISSION = {
    DepApi.LIST_BUILDS: "cloudbuild.builds.list",
    DepApi.GET_IMAGE_VERSION: "artifactregistry.versions.get",
    DepApi.GET_SECRET_VERSION: "secretmanager.versions.get",
    DepApi.GET_SQL_INSTANCE: "cloudsql.instances.get",
    DepApi.LIST_SQL_OPERATIONS: "cloudsql.instances.get",
}
_DIGEST_TERM = re.compile(r'^results\.images\.digest="(sha256:[0-9a-f]+)"$')


def _load(source: Traversable, name: str) -> Any:
    item = source / f"{name}.json"
    if not item.is_file():
        return None
    return json.loads(item.read_text(encoding="utf-8"))


@dataclass
class DependencyScenario:
    builds: list[dict[str, Any]] = field(default_factory=list)
    images: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sql: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path | Traversable) -> DependencyScenario:
        data = {name: _load(folder, name) for name in FILES}
        return cls(
            builds=list(data["builds"] or []),
            images=dict(data["images"] or {}),
            secrets=dict(data["secrets"] or {}),
            sql=dict(data["sql"] or {}),
        )

    @classmethod
    def embedded(cls, name: str = "seed") -> DependencyScenario:
        return cls.load(resources.files("standins.replay") / "scenarios" / name)


@dataclass
class _Fault:
    status: int
    times: int | None
    delay: float


def _error(status: int, message: str) -> Reply:
    return Reply(
        status,
        {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}},
    )


class DependencyReplay:
    """`with DependencyReplay(DependencyScenario.embedded()) as dep:` → `dep.host`."""

    def __init__(self, scenario: DependencyScenario, *, latency: float = 0.0) -> None:
        self.scenario = scenario
        self.latency = latency
        self._faults: dict[DepApi, _Fault] = {}
        self._counts: dict[DepApi, int] = {}
        self._lock = threading.Lock()
        self._server = FakeServer(self._respond)

    @property
    def host(self) -> str:
        return self._server.host

    def __enter__(self) -> DependencyReplay:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    def inject(
        self, api: DepApi, *, status: int = 0, delay: float = 0.0, times: int | None = None
    ) -> None:
        """From now on `api` answers `status` (0: normally) after `delay` seconds."""
        with self._lock:
            self._faults[api] = _Fault(status, times, delay)

    def count(self, api: DepApi | None = None) -> int:
        with self._lock:
            if api is None:
                return sum(self._counts.values())
            return self._counts.get(api, 0)

    def _route(self, req: Request) -> tuple[DepApi, dict[str, str]] | None:
        path = unquote(req.path)
        if m := re.fullmatch(r"/v1/projects/([^/]+)/(?:locations/[^/]+/)?builds", path):
            return DepApi.LIST_BUILDS, {"project": m[1]}
        if m := re.fullmatch(
            r"/v1/(projects/[^/]+/locations/[^/]+/repositories/.+/versions/.+)", path
        ):
            return DepApi.GET_IMAGE_VERSION, {"name": m[1]}
        if m := re.fullmatch(r"/v1/projects/([^/]+)/secrets/([^/]+)/versions/([^/]+)", path):
            return DepApi.GET_SECRET_VERSION, {"secret": m[2], "version": m[3]}
        if m := re.fullmatch(r"/v1/projects/([^/]+)/instances/([^/]+)", path):
            return DepApi.GET_SQL_INSTANCE, {"instance": m[2]}
        if m := re.fullmatch(r"/v1/projects/([^/]+)/operations", path):
            return DepApi.LIST_SQL_OPERATIONS, {"instance": req.query.get("instance", [""])[0]}
        return None

    def _respond(self, req: Request) -> Reply:
        route = self._route(req)
        if route is None:
            return _error(404, f"no such method: {req.method} {req.path}")
        api, args = route
        with self._lock:
            self._counts[api] = self._counts.get(api, 0) + 1
            fault = self._faults.get(api)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times < 0:
                    del self._faults[api]
                    fault = None
        delay = self.latency + (fault.delay if fault else 0.0)
        if fault is not None and fault.status:
            reply = _error(
                fault.status,
                f"Permission '{_PERMISSION[api]}' denied on resource (or it may not exist)."
                if fault.status == 403
                else f"{api.value} failed",
            )
        else:
            reply = self._answer(api, args, req)
        reply.delay = delay
        return reply

    def _answer(self, api: DepApi, args: dict[str, str], req: Request) -> Reply:
        sc = self.scenario
        if api is DepApi.LIST_BUILDS:
            text = req.query.get("filter", [""])[0].strip()
            wanted: set[str] = set()
            for term in (t.strip() for t in text.split(" OR ")) if text else ():
                m = _DIGEST_TERM.match(term)
                if m is None:
                    return _error(400, f"unsupported filter term: {term}")
                wanted.add(m[1])
            builds = [
                b
                for b in sc.builds
                if not wanted
                or any(
                    i.get("digest") in wanted for i in (b.get("results") or {}).get("images", [])
                )
            ]
            builds.sort(key=lambda b: str(b.get("createTime", "")), reverse=True)
            size = int(req.query.get("pageSize", ["25"])[0] or 25)
            return Reply(200, {"builds": builds[:size]})
        if api is DepApi.GET_IMAGE_VERSION:
            version = sc.images.get(args["name"])
            if version is None:
                return _error(404, f"Requested entity was not found: {args['name']}")
            return Reply(200, version)
        if api is DepApi.GET_SECRET_VERSION:
            versions = sc.secrets.get(args["secret"])
            if versions is None:
                return _error(404, f"Secret [{args['secret']}] not found or has no versions.")
            if args["version"] == "latest":
                enabled = [v for v in versions if v.get("state") == "ENABLED"]
                found = max(enabled, key=lambda v: int(v["name"].rsplit("/", 1)[-1]), default=None)
            else:
                found = next(
                    (v for v in versions if v["name"].endswith(f"/versions/{args['version']}")),
                    None,
                )
            if found is None:
                return _error(
                    404, f"Secret Version [{args['secret']}/{args['version']}] not found."
                )
            return Reply(200, found)
        record = sc.sql.get(args["instance"])
        if record is None:
            return _error(404, "The Cloud SQL instance does not exist.")
        if api is DepApi.GET_SQL_INSTANCE:
            return Reply(200, record.get("instance", {}))
        return Reply(200, {"items": record.get("operations", [])})
