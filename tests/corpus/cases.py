"""The failure corpus: real failures from public threads, one file per case (see failures/README).

`split_of(url)` puts each source in the development part or the held-out part by a hash of its URL,
so that a thread's cases always land on the same side and the split never depends on file order.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

FAILURES = Path(__file__).resolve().parent / "failures"

STACKS = (
    "node",
    "python",
    "go",
    "jvm",
    "ruby",
    "php",
    "dotnet",
    "elixir",
    "rust",
    "shell",
    "cloudrun",
    "cloudsql",
    "gcp_batch",
)
CAUSES = (
    "entrypoint_runtime",
    "db_connection",
    "missing_artifact",
    "cloudsql_permission",
    "migration_sql",
    "resource_limit",
    "secret_config",
    "image_pull",
    "gcp_permission",
    "quota_exceeded",
    "upstream_service",
    "db_privilege",
    "network_egress",
    "data_error",
)
HELD_OUT_PERCENT = 30
MAX_LOG_LINES = 40
_REQUIRED = ("source", "stack", "tool", "cause", "confirmed")
_OPTIONAL = ("exit_code", "status")
_URL = re.compile(r"^https?://[^\s]+$")


class CaseError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Case:
    path: Path
    source: str
    stack: str
    tool: str
    cause: str
    confirmed: str
    log: tuple[str, ...]
    exit_code: int | None = None
    status: str | None = None

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}"

    @property
    def split(self) -> str:
        return split_of(self.source)


def normalise_url(url: str) -> str:
    url = url.strip().rstrip("/")
    url = re.sub(r"^http://", "https://", url)
    url = re.sub(r"#.*$", "", url)
    return url.lower()


def split_of(url: str) -> str:
    digest = hashlib.sha256(normalise_url(url).encode()).hexdigest()
    return "heldout" if int(digest[:8], 16) % 100 < HELD_OUT_PERCENT else "dev"


def load_case(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n")
    if not sep:
        raise CaseError("no '---' line between the header and the log")
    fields: dict[str, str] = {}
    for raw in head.splitlines():
        if not raw.strip():
            continue
        key, colon, value = raw.partition(":")
        key = key.strip()
        if not colon or key not in _REQUIRED + _OPTIONAL:
            raise CaseError(f"unknown header line {raw[:60]!r}")
        if key in fields:
            raise CaseError(f"header {key!r} twice")
        fields[key] = value.strip()
    missing = [k for k in _REQUIRED if not fields.get(k)]
    if missing:
        raise CaseError(f"missing {', '.join(missing)}")
    if not _URL.match(fields["source"]):
        raise CaseError(f"source is not a URL: {fields['source'][:80]!r}")
    if fields["stack"] not in STACKS:
        raise CaseError(f"unknown stack {fields['stack']!r}")
    if fields["cause"] not in CAUSES:
        raise CaseError(f"unknown cause {fields['cause']!r}")
    if path.parent.name != fields["stack"]:
        raise CaseError(f"file is under {path.parent.name}/ but its stack is {fields['stack']}")
    lines = tuple(line for line in body.rstrip("\n").split("\n"))
    while lines and not lines[0].strip():
        lines = lines[1:]
    if not any(line.strip() for line in lines) and not fields.get("status"):
        raise CaseError("no log lines and no status")
    if len(lines) > MAX_LOG_LINES:
        raise CaseError(f"{len(lines)} log lines (at most {MAX_LOG_LINES})")
    exit_code: int | None = None
    if fields.get("exit_code"):
        try:
            exit_code = int(fields["exit_code"])
        except ValueError as exc:
            raise CaseError(f"exit_code is not a number: {fields['exit_code']!r}") from exc
    return Case(
        path=path,
        source=fields["source"],
        stack=fields["stack"],
        tool=fields["tool"],
        cause=fields["cause"],
        confirmed=fields["confirmed"],
        log=lines,
        exit_code=exit_code,
        status=fields.get("status") or None,
    )


def load_all(root: Path = FAILURES) -> list[Case]:
    return [load_case(p) for p in sorted(root.glob("*/*.txt"))]
