"""Suspect changes: time order, and 'lines up' only when the kind can explain the top cause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobtriage.diagnosis.suspects import compare_link, suspect_changes
from jobtriage.evidence import Evidence, ExecutionInfo, ExecutionRef, TaskTemplateConfig
from jobtriage.evidence.related import (
    IamChange,
    ImageBuild,
    JobEdit,
    Related,
    SecretVersion,
    SqlInstance,
    SqlOperation,
)

REF = ExecutionRef("p", "r", "j", "j-abc")
RUN = datetime(2026, 1, 12, 6, 12, tzinfo=UTC)
BASE = RUN - timedelta(days=1)


def evidence(related: Related) -> Evidence:
    failed = ExecutionInfo(name="j-abc", config=TaskTemplateConfig(), create_time=RUN)
    good = ExecutionInfo(name="j-old", config=TaskTemplateConfig(), create_time=BASE)
    return Evidence(ref=REF, execution=failed, last_success=good, related=related)


RELATED = Related(
    failed_image=ImageBuild(
        "sha256:b", commit="b" * 40, repo="o/r", create_time=RUN - timedelta(minutes=9)
    ),
    good_image=ImageBuild("sha256:a", commit="a" * 40, repo="o/r"),
    job_edits=(JobEdit(RUN - timedelta(minutes=1), "deployer@p.iam", "UpdateJob", ("env_names",)),),
    secrets=(
        SecretVersion("DB_PASSWORD", "db", "latest", "7", "ENABLED", RUN - timedelta(minutes=11)),
        SecretVersion("OLD", "old", "3", "3", "ENABLED", BASE - timedelta(days=30)),
    ),
    sql=(
        SqlInstance(
            "p:r:db", "MAINTENANCE", (SqlOperation("RESTART", "DONE", RUN - timedelta(minutes=5)),)
        ),
    ),
    iam_changes=(
        IamChange(RUN - timedelta(minutes=3), "admin@p", "project p", ("+roles/viewer user:x",)),
        IamChange(
            RUN - timedelta(minutes=2),
            "admin@p",
            "sa@p",
            ("-roles/cloudsql.client serviceAccount:sa@p",),
        ),
    ),
)


def kinds_lining_up(top: str) -> set[str]:
    return {s.kind for s in suspect_changes(evidence(RELATED), top_cause=top) if s.lines_up}


def test_in_time_order_and_old_secret_versions_are_not_suspects() -> None:
    suspects = suspect_changes(evidence(RELATED), top_cause=None)
    times = [s.when for s in suspects]
    assert times == sorted(t for t in times if t is not None) + [t for t in times if t is None]
    assert not any("OLD" in s.what.en for s in suspects)
    assert not any(s.lines_up for s in suspects)


def test_a_crash_in_code_lines_up_with_the_commit_only() -> None:
    assert kinds_lining_up("entrypoint_runtime") == {"commit"}


def test_a_login_failure_lines_up_with_the_fresh_secret_the_env_edit_and_the_instance() -> None:
    assert kinds_lining_up("db_connection") == {"secret_version", "job_edit", "instance_event"}


def test_a_denial_lines_up_with_the_removed_role_not_the_grant() -> None:
    lined = [
        s for s in suspect_changes(evidence(RELATED), top_cause="cloudsql_permission") if s.lines_up
    ]
    iam = [s for s in lined if s.kind == "iam_change"]
    assert len(iam) == 1
    assert "-roles/cloudsql.client" in iam[0].what.en


def test_the_same_commit_on_both_images_is_no_suspect() -> None:
    same = Related(
        failed_image=ImageBuild("sha256:b", commit="a" * 40),
        good_image=ImageBuild("sha256:a", commit="a" * 40),
    )
    assert suspect_changes(evidence(same), top_cause="entrypoint_runtime") == ()


@pytest.mark.parametrize(
    ("repo", "link"),
    [
        ("o/r", "https://github.com/o/r/compare/OLD...NEW"),
        ("https://github.com/o/r.git", "https://github.com/o/r/compare/OLD...NEW"),
        ("git@github.com:o/r.git", "https://github.com/o/r/compare/OLD...NEW"),
        ("https://gitlab.com/g/sub/r", "https://gitlab.com/g/sub/r/-/compare/OLD...NEW"),
        ("https://bitbucket.org/o/r", "https://bitbucket.org/o/r/branches/compare/NEW%0DOLD"),
        (
            "https://source.developers.google.com/p/proj/r/repo",
            "https://source.cloud.google.com/proj/repo/+log/OLD..NEW",
        ),
        ("https://example.com/o/r", None),
        ('https://github.com/o/r"><script>', None),
        ("o4o-platform", None),
    ],
)
def test_compare_links(repo: str, link: str | None) -> None:
    assert compare_link(repo, "OLD", "NEW") == link
