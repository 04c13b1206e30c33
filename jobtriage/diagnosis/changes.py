"""What changed between the last successful execution and the failed one.

The seed report's "related commits" section, taken from the cloud's own records: both executions
carry the configuration they ran with, so the diff is exact. Plain env values and args are never
compared verbatim (they are redacted in the evidence); env var *names* and secret *versions* are.
A change that lines up with the top cause is marked so the report can say it.
"""

from __future__ import annotations

from collections.abc import Callable

from jobtriage.diagnosis.model import Change
from jobtriage.evidence import ExecutionInfo, JobInfo, TaskTemplateConfig

# Which causes a change of each field can explain.
RELATED: dict[str, frozenset[str]] = {
    "image": frozenset({"entrypoint_runtime", "missing_artifact", "image_pull", "migration_sql"}),
    "command": frozenset({"entrypoint_runtime", "missing_artifact"}),
    "args": frozenset({"entrypoint_runtime", "missing_artifact"}),
    # A new or missing variable explains a configuration or login failure, not a crash in code
    # (an ES-module error does not line up with +DATABASE_URL).
    "env_names": frozenset({"secret_config", "db_connection"}),
    "secret_versions": frozenset({"secret_config", "db_connection"}),
    "service_account": frozenset({"cloudsql_permission", "secret_config", "image_pull"}),
    "cloudsql_instances": frozenset({"db_connection", "cloudsql_permission"}),
    "memory": frozenset({"resource_limit"}),
    "cpu": frozenset({"resource_limit"}),
    "timeout": frozenset({"resource_limit"}),
    "max_retries": frozenset({"resource_limit"}),
    "vpc": frozenset({"db_connection"}),
    "job_generation": frozenset(),
}


NONE = "(none)"


def _fmt(values: tuple[str, ...]) -> str:
    return " ".join(values) if values else "-"


def _image(info: ExecutionInfo) -> str:
    main = info.config.main
    image = main.image if main else ""
    return info.image_digest or image or "-"


def _secrets(cfg: TaskTemplateConfig) -> str:
    # env←secret@version: no "name=value" or "name:value" shape, which redaction would mask.
    pairs = sorted(f"{s.env}←{s.secret}@{s.version}" for c in cfg.containers for s in c.secret_env)
    return ", ".join(pairs) or "-"


def _env_names(cfg: TaskTemplateConfig) -> frozenset[str]:
    return frozenset(n for c in cfg.containers for n in c.env_names) | frozenset(
        s.env for c in cfg.containers for s in c.secret_env
    )


_FIELDS: tuple[tuple[str, Callable[[ExecutionInfo], str]], ...] = (
    ("image", _image),
    ("command", lambda i: _fmt(i.config.main.command) if i.config.main else "-"),
    ("args", lambda i: _fmt(i.config.main.args) if i.config.main else "-"),
    ("secret_versions", lambda i: _secrets(i.config)),
    ("service_account", lambda i: i.config.service_account or "(default compute)"),
    ("cloudsql_instances", lambda i: ", ".join(sorted(i.config.cloudsql_instances)) or "-"),
    ("memory", lambda i: (i.config.main.memory_limit or "-") if i.config.main else "-"),
    ("cpu", lambda i: (i.config.main.cpu_limit or "-") if i.config.main else "-"),
    ("timeout", lambda i: str(i.config.timeout) if i.config.timeout else "-"),
    (
        "max_retries",
        lambda i: str(i.config.max_retries) if i.config.max_retries is not None else "-",
    ),
    ("vpc", lambda i: f"{i.config.vpc_connector or '-'} {i.config.vpc_egress or ''}".strip()),
    ("job_generation", lambda i: i.job_generation or "-"),
)


def diff_executions(
    *,
    last_success: ExecutionInfo | None,
    failed: ExecutionInfo | None,
    job: JobInfo | None = None,
    top_cause: str | None = None,
) -> tuple[Change, ...]:
    """The differences, most relevant first: those that line up with the top cause lead."""
    if last_success is None or failed is None:
        return ()
    changes: list[Change] = []
    for name, get in _FIELDS:
        before, after = get(last_success), get(failed)
        if name == "job_generation" and "-" in (before, after):
            continue  # the v2 Execution does not always say; an unknown side is no change
        if before != after:
            related = top_cause if top_cause in RELATED.get(name, frozenset()) else None
            changes.append(Change(field=name, before=before, after=after, related_cause=related))
    old_env, new_env = _env_names(last_success.config), _env_names(failed.config)
    if old_env != new_env:
        added = sorted(new_env - old_env)
        removed = sorted(old_env - new_env)
        related = top_cause if top_cause in RELATED["env_names"] else None
        changes.append(
            Change(
                field="env_names",
                before=("-" + " -".join(removed)) if removed else NONE,
                after=("+" + " +".join(added)) if added else NONE,
                related_cause=related,
            )
        )
    if job is not None and job.last_modifier and any(c.field == "job_generation" for c in changes):
        changes.append(Change(field="last_modifier", before=NONE, after=job.last_modifier))
    changes.sort(key=lambda c: c.related_cause is None)
    return tuple(changes)
