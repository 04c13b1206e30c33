"""Facts from beyond the execution that corroborate what an analyzer found in the logs.

Applied after every analyzer has run (like `analyzers.symptoms`), over `Evidence.related`. Each
rule adds the fact to the finding it explains and strengthens it a little — never creates a
finding, never weakens one, never touches another cause:

- a secret version created since the last success, or one not ENABLED → a login or
  configuration failure (`db_connection` with a credentials signature, `secret_config`);
- an attached Cloud SQL instance not RUNNABLE, or restarted / in maintenance / failed over in the
  window → a refused or unreachable database (`db_connection`);
- a role removed on the project or the job's service account → a denial
  (`cloudsql_permission`, `gcp_permission`, `secret_config`, `image_pull`);
- a failing image built from another commit than the last good one → a crash in code or a file
  missing from the image (`entrypoint_runtime`, `missing_artifact`, `migration_sql`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from analyzers.base import Fact, Finding
from jobtriage.evidence import Evidence
from jobtriage.text import Text

# How much a corroborating fact adds to a finding's strength, and the ceiling it cannot pass.
BOOST = 0.05
CEILING = 0.97
NO_BASELINE_LOOKBACK = timedelta(hours=24)
_AUTH_WORDS = ("AUTH", "ACCESS_DENIED", "PASSWORD", "P1000", "CREDENTIAL")
_DB_EVENTS = frozenset({"RESTART", "MAINTENANCE", "FAILOVER", "STOP", "SWITCHOVER"})


def _since(evidence: Evidence) -> datetime | None:
    base = evidence.last_success
    if base is not None and base.create_time is not None:
        return base.create_time
    run = evidence.execution.create_time if evidence.execution else None
    return run - NO_BASELINE_LOOKBACK if run else None


def _secret_facts(evidence: Evidence) -> tuple[Fact, ...]:
    since = _since(evidence)
    out: list[Fact] = []
    for sv in evidence.related.secrets:
        if sv.state not in (None, "ENABLED"):
            out.append(
                Fact.config(
                    Text(
                        en=f"{sv.env} resolves {sv.secret} version {sv.version}, which is "
                        f"{sv.state}",
                        ko=f"{sv.env}이(가) {sv.secret} 버전 {sv.version}을(를) 사용하며 상태가 "
                        f"{sv.state}임",
                    )
                )
            )
        elif sv.create_time and since and sv.create_time > since:
            out.append(
                Fact.config(
                    Text(
                        en=f"{sv.env} resolves {sv.secret} version {sv.version}, created "
                        f"{sv.create_time:%Y-%m-%d %H:%M} UTC, after the last success",
                        ko=f"{sv.env}이(가) 사용하는 {sv.secret} 버전 {sv.version}은(는) "
                        f"{sv.create_time:%Y-%m-%d %H:%M} UTC, 마지막 성공 이후에 생성됨",
                    )
                )
            )
    return tuple(out)


def _sql_facts(evidence: Evidence) -> tuple[Fact, ...]:
    out: list[Fact] = []
    for inst in evidence.related.sql:
        name = inst.connection_name
        if inst.state not in (None, "RUNNABLE"):
            out.append(
                Fact.status(
                    Text(
                        en=f"Cloud SQL instance {name} is {inst.state}",
                        ko=f"Cloud SQL 인스턴스 {name} 상태: {inst.state}",
                    )
                )
            )
        for op in inst.operations:
            if op.kind in _DB_EVENTS:
                when = f"{op.start:%H:%M} UTC" if op.start else "?"
                out.append(
                    Fact.status(
                        Text(
                            en=f"Cloud SQL instance {name}: {op.kind} at {when}",
                            ko=f"Cloud SQL 인스턴스 {name}: {when}에 {op.kind}",
                        )
                    )
                )
    return tuple(out)


def _iam_facts(evidence: Evidence) -> tuple[Fact, ...]:
    return tuple(
        Fact.config(
            Text(
                en=f"IAM on {c.target} changed: {', '.join(c.removed)}",
                ko=f"{c.target}의 IAM 변경: {', '.join(c.removed)}",
            )
        )
        for c in evidence.related.iam_changes
        if c.removed
    )


def _commit_facts(evidence: Evidence) -> tuple[Fact, ...]:
    new, old = evidence.related.failed_image, evidence.related.good_image
    if new is None or old is None or not new.commit or not old.commit or new.commit == old.commit:
        return ()
    subject = f' "{new.subject}"' if new.subject else ""
    return (
        Fact.config(
            Text(
                en=f"The failing image was built from {new.short_commit}{subject}; the last good "
                f"one from {old.short_commit}",
                ko=f"실패한 이미지는 {new.short_commit}{subject}에서, 마지막 정상 이미지는 "
                f"{old.short_commit}에서 빌드됨",
            )
        ),
    )


def _is_auth(finding: Finding) -> bool:
    return any(word in finding.signature for word in _AUTH_WORDS)


def corroborate(findings: Sequence[Finding], evidence: Evidence) -> tuple[Finding, ...]:
    """The findings, with the related facts that explain them added."""
    rel = evidence.related
    if rel == type(rel)():
        return tuple(findings)
    secrets, sql, iam, commit = (
        _secret_facts(evidence),
        _sql_facts(evidence),
        _iam_facts(evidence),
        _commit_facts(evidence),
    )
    out: list[Finding] = []
    for f in findings:
        facts: tuple[Fact, ...] = ()
        if (f.cause == "db_connection" and _is_auth(f)) or f.cause == "secret_config":
            facts += secrets
        if f.cause == "db_connection" and not _is_auth(f):
            facts += sql
        if f.cause in ("cloudsql_permission", "gcp_permission", "secret_config", "image_pull"):
            facts += iam
        if f.cause in ("entrypoint_runtime", "missing_artifact", "migration_sql"):
            facts += commit
        if facts and f.calibrated is None:
            strength = max(f.strength, min(CEILING, f.strength + BOOST))
            f = replace(f, facts=f.facts + facts, strength=strength)
        elif facts:
            f = replace(f, facts=f.facts + facts)
        out.append(f)
    return tuple(out)
