"""Suspect changes: what changed around the job before it failed, in time order.

From the evidence beyond the execution (`evidence.related`): the commit behind the failing image
(against the last good one, with a compare link), the job's edits, fresh or disabled secret
versions, Cloud SQL instance events and IAM changes. Each is marked as lining up with the top
cause only when its kind can explain that cause — a new commit lines up with a crash in code, a
fresh secret version with a database login failure, a removed role with a denial — never
because it merely happened.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from jobtriage.diagnosis.changes import RELATED
from jobtriage.diagnosis.model import Suspect
from jobtriage.evidence import Evidence
from jobtriage.evidence.related import ImageBuild
from jobtriage.text import Text

COMMIT = "commit"
JOB_EDIT = "job_edit"
SECRET_VERSION = "secret_version"  # noqa: S105 (a kind, not a secret)
INSTANCE_EVENT = "instance_event"
IAM_CHANGE = "iam_change"

# Which causes a change of each kind can explain (job edits: by the fields they changed).
EXPLAINS: dict[str, frozenset[str]] = {
    COMMIT: frozenset({"entrypoint_runtime", "missing_artifact", "migration_sql", "data_error"}),
    SECRET_VERSION: frozenset({"secret_config", "db_connection", "db_privilege"}),
    INSTANCE_EVENT: frozenset({"db_connection", "cloudsql_permission", "network_egress"}),
    IAM_CHANGE: frozenset({"cloudsql_permission", "gcp_permission", "secret_config", "image_pull"}),
}
NO_BASELINE_LOOKBACK = timedelta(hours=24)


_SCP = re.compile(r"^[\w.-]+@(?P<host>[\w.-]+):(?P<path>.+)$")


def compare_link(repo: str | None, old: str | None, new: str | None) -> str | None:
    """A compare page between two commits for GitHub, GitLab, Bitbucket and Cloud Source
    Repositories; `owner/name` alone is taken as GitHub (Cloud Build's REPO_FULL_NAME)."""
    if not repo or not old or not new or old == new:
        return None
    text = repo.strip()
    if m := _SCP.match(text):
        host, path = m["host"], m["path"]
    elif "://" in text:
        rest = text.split("://", 1)[1]
        host, _, path = rest.partition("/")
        host = host.rsplit("@", 1)[-1]
    elif re.fullmatch(r"[\w.-]+/[\w.-]+", text):
        host, path = "github.com", text
    else:
        return None
    path = path.strip("/").removesuffix(".git")
    if not re.fullmatch(r"[\w.~/-]+", path):
        return None
    if host == "github.com":
        return f"https://github.com/{path}/compare/{old}...{new}"
    if host.startswith("gitlab."):
        return f"https://{host}/{path}/-/compare/{old}...{new}"
    if host == "bitbucket.org":
        return f"https://bitbucket.org/{path}/branches/compare/{new}%0D{old}"
    if host == "source.developers.google.com":  # p/PROJECT/r/REPO
        parts = path.split("/")
        if len(parts) == 4 and parts[0] == "p" and parts[2] == "r":
            return f"https://source.cloud.google.com/{parts[1]}/{parts[3]}/+log/{old}..{new}"
        return None
    if host == "source.cloud.google.com":
        return f"https://source.cloud.google.com/{path}/+log/{old}..{new}"
    return None


def _built(b: ImageBuild) -> str:
    text = b.short_commit or "?"
    if b.subject:
        text += f' "{b.subject}"'
    return text


def _commit(ev: Evidence, top: str | None) -> Suspect | None:
    new, old = ev.related.failed_image, ev.related.good_image
    if new is None or not new.commit:
        return None
    if old is not None and old.commit == new.commit:
        return None
    where = ", ".join(x for x in (new.ref, new.trigger) if x)
    en = f"image built from {_built(new)}" + (f" ({where})" if where else "")
    ko = f"이미지 빌드 커밋 {_built(new)}" + (f" ({where})" if where else "")
    if old is not None and old.commit:
        en += f"; last good image from {_built(old)}"
        ko += f"; 마지막 정상 이미지 커밋 {_built(old)}"
    link = (
        compare_link(
            new.repo or (old.repo if old else None), old.commit if old else None, new.commit
        )
        or new.log_url
    )
    return Suspect(
        COMMIT,
        new.finish_time or new.create_time,
        None,
        Text(en=en, ko=ko),
        lines_up=top in EXPLAINS[COMMIT],
        link=link,
    )


def _ago(when: datetime | None, ref: datetime | None) -> tuple[str, str]:
    if when is None or ref is None or when > ref:
        return "", ""
    minutes = int((ref - when).total_seconds() // 60)
    if minutes < 1:
        return ", under a minute before this run", ", 이번 실행 1분 이내 전"
    if minutes < 120:
        return f", {minutes} min before this run", f", 이번 실행 {minutes}분 전"
    hours = minutes // 60
    return f", {hours} h before this run", f", 이번 실행 {hours}시간 전"


def suspect_changes(evidence: Evidence, *, top_cause: str | None) -> tuple[Suspect, ...]:
    """The suspects, oldest first."""
    rel = evidence.related
    run_at = (evidence.execution.create_time if evidence.execution else None) or (
        evidence.event.timestamp if evidence.event else None
    )
    base = evidence.last_success
    since = (base.create_time if base else None) or (
        run_at - NO_BASELINE_LOOKBACK if run_at else None
    )
    out: list[Suspect] = []
    commit = _commit(evidence, top_cause)
    if commit is not None:
        out.append(commit)
    for edit in rel.job_edits:
        explains = frozenset().union(*(RELATED.get(f, frozenset()) for f in edit.fields))
        fields = ", ".join(edit.fields)
        ago_en, ago_ko = _ago(edit.when, run_at)
        out.append(
            Suspect(
                JOB_EDIT,
                edit.when,
                edit.who,
                Text(
                    en=f"job {edit.method}" + (f": {fields}" if fields else "") + ago_en,
                    ko=f"Job {edit.method}" + (f": {fields}" if fields else "") + ago_ko,
                ),
                lines_up=top_cause in explains,
            )
        )
    for sv in rel.secrets:
        fresh = sv.create_time is not None and since is not None and sv.create_time > since
        unusable = sv.state not in (None, "ENABLED")
        if not fresh and not unusable:
            continue
        ago_en, ago_ko = _ago(sv.create_time, run_at)
        pinned = "latest" if sv.requested == "latest" else "pinned"
        state = (sv.state or "?").lower()
        out.append(
            Suspect(
                SECRET_VERSION,
                sv.create_time,
                None,
                Text(
                    en=f"{sv.env} ← {sv.secret} version {sv.version} ({pinned}, {state})" + ago_en,
                    ko=f"{sv.env} ← {sv.secret} 버전 {sv.version}({pinned}, {state})" + ago_ko,
                ),
                lines_up=top_cause in EXPLAINS[SECRET_VERSION],
            )
        )
    for inst in rel.sql:
        name = inst.connection_name.rsplit(":", 1)[-1]
        for op in inst.operations:
            status = f" ({op.status.lower()})" if op.status else ""
            out.append(
                Suspect(
                    INSTANCE_EVENT,
                    op.start or op.end,
                    op.who,
                    Text(
                        en=f"Cloud SQL {name}: {op.kind}{status}",
                        ko=f"Cloud SQL {name}: {op.kind}{status}",
                    ),
                    lines_up=top_cause in EXPLAINS[INSTANCE_EVENT],
                )
            )
        if inst.state not in (None, "RUNNABLE"):
            out.append(
                Suspect(
                    INSTANCE_EVENT,
                    run_at,
                    None,
                    Text(
                        en=f"Cloud SQL {name} is {inst.state}",
                        ko=f"Cloud SQL {name} 상태 {inst.state}",
                    ),
                    lines_up=top_cause in EXPLAINS[INSTANCE_EVENT],
                )
            )
    for change in rel.iam_changes:
        deltas = ", ".join(change.deltas) or "policy replaced"
        out.append(
            Suspect(
                IAM_CHANGE,
                change.when,
                change.who,
                Text(
                    en=f"IAM on {change.target}: {deltas}",
                    ko=f"{change.target}의 IAM 변경: {deltas}",
                ),
                # a grant cannot explain a denial; a removal (or an unknown delta) can
                lines_up=top_cause in EXPLAINS[IAM_CHANGE]
                and (bool(change.removed) or not change.deltas),
            )
        )
    out.sort(key=lambda s: (s.when is None, s.when or _EPOCH))
    return tuple(out)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
