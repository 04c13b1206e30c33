"""Analyzers: one module per cause id, each a pure function of the evidence.

The registry is explicit on purpose: `grep ANALYZERS` shows every cause the product knows, and the
order here is only the tie-break order (the seed's causes first, then the others by prior).
Adding a cause = a module named for its id (with a `CAUSE` and an `analyze`), a line below, and a
test file beside the others.
"""

from __future__ import annotations

from analyzers import (
    cloudsql_permission,
    data_error,
    db_connection,
    db_privilege,
    entrypoint_runtime,
    gcp_permission,
    image_pull,
    migration_sql,
    missing_artifact,
    network_egress,
    quota_exceeded,
    resource_limit,
    secret_config,
    upstream_service,
)
from analyzers.base import Analyzer, Cause, Check, Fact, FactKind, Finding
from jobtriage.evidence import ExecutionRef
from jobtriage.evidence.model import LogIndex
from jobtriage.text import Text

ANALYZERS: tuple[Analyzer, ...] = (
    entrypoint_runtime.ANALYZER,
    db_connection.ANALYZER,
    missing_artifact.ANALYZER,
    cloudsql_permission.ANALYZER,
    migration_sql.ANALYZER,
    resource_limit.ANALYZER,
    secret_config.ANALYZER,
    image_pull.ANALYZER,
    # Batch-job causes (README, "Causes")
    gcp_permission.ANALYZER,
    db_privilege.ANALYZER,
    upstream_service.ANALYZER,
    data_error.ANALYZER,
    quota_exceeded.ANALYZER,
    network_egress.ANALYZER,
)


def _unknown_checks(ref: ExecutionRef) -> tuple[Check, ...]:
    from analyzers import commands

    return (
        Check(
            Text(en="Read the last lines of this execution", ko="이 실행의 마지막 로그 확인"),
            commands.read_logs(ref),
        ),
        Check(
            Text(en="Describe the execution", ko="실행 상세 확인"), commands.describe_execution(ref)
        ),
    )


UNKNOWN = Cause(
    id="unknown",
    prior=0.0,
    name=Text(en="No known cause recognised", ko="알려진 원인을 찾지 못함"),
    checks=_unknown_checks,
    workarounds=(
        Text(
            en="Re-run the execution once to tell a flake from a persistent failure",
            ko="일시적 오류인지 확인하기 위해 한 번 재실행",
        ),
    ),
)


def _needles() -> list[str]:
    """Every literal needle the analyzers' signature tables search the log for (`SIGNATURES`,
    and `CONDITIONAL_SIGNATURES`: the tables an analyzer reads only in some contexts)."""
    import importlib

    from analyzers import module_resolution

    found: list[str] = list(module_resolution.NEEDLES)
    for analyzer in ANALYZERS:
        module = importlib.import_module(analyzer.analyze.__module__)
        for table in ("SIGNATURES", "CONDITIONAL_SIGNATURES"):
            found.extend(s.needle for s in getattr(module, table, ()) if s.needle)
    return found


# One pass over a log answers every needle at once (see LogIndex).
LogIndex.know(_needles())

CAUSES: dict[str, Cause] = {a.cause.id: a.cause for a in ANALYZERS} | {UNKNOWN.id: UNKNOWN}

__all__ = [
    "ANALYZERS",
    "CAUSES",
    "UNKNOWN",
    "Analyzer",
    "Cause",
    "Check",
    "Fact",
    "FactKind",
    "Finding",
]
