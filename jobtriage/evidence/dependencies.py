"""Gather what the job depends on and who changed it: the sources beyond the execution.

Builds behind both images (Cloud Build, else the image's OCI annotations in Artifact Registry),
the job's Admin Activity edits and IAM changes (one Logging read), the version of each referenced
secret (Secret Manager) and the attached Cloud SQL instances' state and operations (Cloud SQL
Admin). Never raises: each failed call becomes a `Gap` with its fix (`gaps.gap_for`).

Cost: at most `MAX_CALLS` (6) API calls per event, made concurrently in one small thread pool —
1 builds.list for both digests, 1 entries.list, 2 per Cloud SQL instance, 1 per secret. What does
not fit is named in a gap, never silently dropped. Off the common path, an image that no build
produced costs one more call (`FALLBACK_CALLS`): its OCI annotations in Artifact Registry, asked
after the builds answer.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from jobtriage.evidence.artifact_registry import ArtifactRegistry
from jobtriage.evidence.audit import read_activity, shape_of_config
from jobtriage.evidence.cloud_build import CloudBuild
from jobtriage.evidence.cloud_logging import CloudLogging, OverBudget
from jobtriage.evidence.cloud_sql import CALLS as SQL_CALLS
from jobtriage.evidence.cloud_sql import CloudSqlAdmin
from jobtriage.evidence.gaps import (
    ARTIFACT_API,
    BUILD_API,
    LOGGING_API,
    SECRET_API,
    SQL_API,
    GoogleApi,
    gap_for,
)
from jobtriage.evidence.model import (
    ExecutionInfo,
    ExecutionRef,
    Gap,
    JobEvent,
    SecretEnv,
    Source,
)
from jobtriage.evidence.related import ImageBuild, Related, SecretVersion, SqlInstance
from jobtriage.evidence.secret_manager import SecretManager
from jobtriage.settings import Settings

MAX_CALLS = 6
# Off the common path — an image no Cloud Build build produced — one more call per image.
FALLBACK_CALLS = 2
# With no successful execution to start from, edits are looked for this far back.
NO_BASELINE_LOOKBACK = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class RelatedSources:
    """The clients of the sources beyond the execution; one set to None is not read."""

    builds: CloudBuild | None = None
    artifacts: ArtifactRegistry | None = None
    secrets: SecretManager | None = None
    sql: CloudSqlAdmin | None = None
    audit: bool = True  # read Admin Activity entries through the evidence's Logging client

    @classmethod
    def from_settings(cls, settings: Settings) -> RelatedSources:
        """Real clients, built on first use. In a local replay (a Run emulator host set), only
        the sources whose own emulator host is set are read — the others would reach Google —
        and the Admin Activity entries only when at least one of them is (a replay that records
        no dependencies records no audit entries either)."""
        local = settings.cloud_run_emulator_host is not None
        any_dependency = any(
            (
                settings.cloud_build_emulator_host,
                settings.artifact_registry_emulator_host,
                settings.secret_manager_emulator_host,
                settings.cloud_sql_admin_emulator_host,
            )
        )
        timeout = settings.api_timeout_seconds

        def wanted(host: str | None) -> bool:
            return host is not None or not local

        s = settings
        return cls(
            builds=CloudBuild.from_settings(s.cloud_build_emulator_host, timeout=timeout)
            if wanted(s.cloud_build_emulator_host)
            else None,
            artifacts=ArtifactRegistry.from_settings(
                s.artifact_registry_emulator_host, timeout=timeout
            )
            if wanted(s.artifact_registry_emulator_host)
            else None,
            secrets=SecretManager.from_settings(s.secret_manager_emulator_host, timeout=timeout)
            if wanted(s.secret_manager_emulator_host)
            else None,
            sql=CloudSqlAdmin.from_settings(s.cloud_sql_admin_emulator_host, timeout=timeout)
            if wanted(s.cloud_sql_admin_emulator_host)
            else None,
            audit=not local or (any_dependency and s.cloud_logging_emulator_host is not None),
        )


def digest_of(info: ExecutionInfo | None) -> str | None:
    if info is None:
        return None
    if info.image_digest:
        return info.image_digest
    main = info.config.main
    if main is not None and "@sha256:" in main.image:
        return "sha256:" + main.image.split("@sha256:", 1)[1]
    return None


def _image_of(info: ExecutionInfo | None) -> str:
    main = info.config.main if info is not None else None
    return main.image if main is not None else ""


_BUDGET_GAP_KO = "호출 예산(이벤트당 {n}회)을 넘어 확인하지 않음: {what}"


def _over_budget(source: Source, what: str) -> Gap:
    return Gap(
        source,
        f"not checked within the {MAX_CALLS} extra calls an event may make: {what}",
        "see the console for the rest",
        reason_ko=_BUDGET_GAP_KO.format(n=MAX_CALLS, what=what),
        fix_ko="나머지는 콘솔에서 확인",
    )


@dataclass
class _Plan:
    digests: list[str]
    audit: bool
    sql: list[str]
    secrets: list[SecretEnv]
    skipped: list[Gap]

    @property
    def calls(self) -> int:
        return (
            (1 if self.digests else 0)
            + (1 if self.audit else 0)
            + SQL_CALLS * len(self.sql)
            + len(self.secrets)
        )


def _plan(
    sources: RelatedSources,
    logs: CloudLogging | None,
    failed: ExecutionInfo | None,
    good: ExecutionInfo | None,
) -> _Plan:
    config = failed.config if failed is not None else None
    digests = [d for d in (digest_of(failed), digest_of(good)) if d]
    instances = list(config.cloudsql_instances) if config is not None else []
    secrets = [s for c in config.containers for s in c.secret_env] if config is not None else []
    plan = _Plan(
        digests=list(dict.fromkeys(digests)) if sources.builds is not None else [],
        audit=sources.audit and logs is not None,
        sql=[],
        secrets=[],
        skipped=[],
    )
    # builds and audit first, then one instance, then the secrets, then further instances.
    order: list[tuple[str, Any]] = []
    if sources.sql is not None and instances:
        order.append(("sql", instances[0]))
    if sources.secrets is not None:
        order.extend(("secret", s) for s in secrets)
    if sources.sql is not None:
        order.extend(("sql", i) for i in instances[1:])
    for kind, item in order:
        cost = SQL_CALLS if kind == "sql" else 1
        if plan.calls + cost > MAX_CALLS:
            if kind == "sql":
                plan.skipped.append(_over_budget(Source.CLOUD_SQL, f"instance {item}"))
            else:
                plan.skipped.append(_over_budget(Source.SECRETS, f"secret {item.secret}"))
            continue
        if kind == "sql":
            plan.sql.append(item)
        else:
            plan.secrets.append(item)
    return plan


def gather_related(
    sources: RelatedSources,
    *,
    ref: ExecutionRef,
    logs: CloudLogging | None,
    event: JobEvent | None,
    failed: ExecutionInfo | None,
    last_success: ExecutionInfo | None,
    now: Callable[[], datetime],
) -> tuple[Related, tuple[Gap, ...]]:
    """The related facts and the gaps of what could not be read. Never raises."""
    plan = _plan(sources, logs, failed, last_success)
    gaps: list[Gap] = list(plan.skipped)
    until = (
        (failed.create_time if failed else None) or (event.timestamp if event else None) or now()
    )
    since = (last_success.create_time if last_success else None) or (until - NO_BASELINE_LOOKBACK)
    window_end = (failed.completion_time if failed else None) or until

    def guarded(source: Source, api: GoogleApi, timeout: float, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except OverBudget:
            gaps.append(
                Gap(
                    source,
                    "job edits and IAM changes skipped: this instance's Logging read budget is "
                    "used up",
                    "raise LOGGING_READS_PER_MINUTE if the project's Logging read quota has room",
                    reason_ko="Job 변경·IAM 변경 생략: 이 인스턴스의 Logging 읽기 예산 소진",
                    fix_ko="프로젝트의 Logging 읽기 할당량에 여유가 있으면 "
                    "LOGGING_READS_PER_MINUTE를 늘리기",
                )
            )
        except Exception as exc:
            gaps.append(gap_for(source, exc, api=api, ref=ref, timeout=timeout))
        return None

    tasks: dict[str, Callable[[], Any]] = {}
    if plan.digests and sources.builds is not None:
        b = sources.builds
        tasks["builds"] = lambda: guarded(
            Source.BUILDS, BUILD_API, b.timeout, lambda: b.builds_for(ref.project, plan.digests)
        )
    if plan.audit and logs is not None:
        lg = logs
        baseline = (
            shape_of_config(last_success.config, _image_of(last_success))
            if (last_success is not None)
            else {}
        )
        sa = failed.config.service_account if failed is not None else None
        tasks["audit"] = lambda: guarded(
            Source.AUDIT,
            LOGGING_API,
            lg.timeout,
            lambda: read_activity(
                lg, ref, since=since, until=until, service_account=sa, baseline=baseline
            ),
        )
    if sources.sql is not None:
        q = sources.sql
        for name in plan.sql:
            tasks[f"sql:{name}"] = lambda n=name: guarded(  # type: ignore[misc]
                Source.CLOUD_SQL,
                SQL_API,
                q.timeout,
                lambda: q.instance(n, since=since, until=window_end),
            )
    if sources.secrets is not None:
        sm = sources.secrets
        for i, secret in enumerate(plan.secrets):
            tasks[f"secret:{i}"] = lambda s=secret: guarded(  # type: ignore[misc]
                Source.SECRETS, SECRET_API, sm.timeout, lambda: sm.version(ref.project, s)
            )

    results: dict[str, Any] = {}
    if tasks:
        with ThreadPoolExecutor(max_workers=MAX_CALLS, thread_name_prefix="related") as pool:
            futures = {key: pool.submit(task) for key, task in tasks.items()}
            results = {key: f.result() for key, f in futures.items()}
    calls = plan.calls

    builds: dict[str, ImageBuild] = results.get("builds") or {}
    failed_digest, good_digest = digest_of(failed), digest_of(last_success)
    # Off the common path: images without a build, from their OCI annotations, with calls left.
    if sources.artifacts is not None and "builds" in tasks and results.get("builds") is not None:
        ar = sources.artifacts
        for info, digest in ((failed, failed_digest), (last_success, good_digest)):
            if not digest or digest in builds or calls >= MAX_CALLS + FALLBACK_CALLS:
                continue
            calls += 1
            labelled = guarded(
                Source.IMAGE_LABELS,
                ARTIFACT_API,
                ar.timeout,
                lambda i=info, d=digest: ar.labels_for(_image_of(i), d),  # type: ignore[misc]
            )
            if labelled is not None:
                builds[digest] = labelled

    edits, iam = results.get("audit") or ((), ())
    secrets: list[SecretVersion] = [
        results[k] for k in sorted(k for k in results if k.startswith("secret:")) if results[k]
    ]
    sql: list[SqlInstance] = [
        results[k] for k in results if k.startswith("sql:") and results[k] is not None
    ]
    related = Related(
        failed_image=builds.get(failed_digest) if failed_digest else None,
        good_image=builds.get(good_digest) if good_digest else None,
        job_edits=edits,
        iam_changes=iam,
        secrets=tuple(secrets),
        sql=tuple(sql),
        calls=calls,
    )
    if related.good_image is not None and failed_digest == good_digest:
        related = replace(related, good_image=None)
    return related, tuple(gaps)
