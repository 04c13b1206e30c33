"""Facts beyond the logs strengthen only the finding they explain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analyzers.base import Finding
from jobtriage.diagnosis.corroborate import BOOST, corroborate
from jobtriage.evidence import Evidence, ExecutionInfo, ExecutionRef, TaskTemplateConfig
from jobtriage.evidence.related import IamChange, Related, SecretVersion, SqlInstance
from jobtriage.text import Text

REF = ExecutionRef("p", "r", "j", "j-abc")
RUN = datetime(2026, 1, 12, 6, 12, tzinfo=UTC)
T = Text(en="t", ko="t")


def evidence(related: Related) -> Evidence:
    return Evidence(
        ref=REF,
        execution=ExecutionInfo(name="j-abc", config=TaskTemplateConfig(), create_time=RUN),
        last_success=ExecutionInfo(
            name="j-old", config=TaskTemplateConfig(), create_time=RUN - timedelta(days=1)
        ),
        related=related,
    )


FRESH = Related(
    secrets=(
        SecretVersion("DB_PASSWORD", "db", "latest", "7", "ENABLED", RUN - timedelta(minutes=11)),
    )
)
AUTH = Finding("db_connection", 0.8, T, signature="PG_AUTH_FAILED")
REFUSED = Finding("db_connection", 0.8, T, signature="ECONNREFUSED")
ESM = Finding("entrypoint_runtime", 0.8, T, signature="ERR_REQUIRE_ESM")


def test_a_fresh_secret_strengthens_a_login_failure_only() -> None:
    auth, refused, esm = corroborate((AUTH, REFUSED, ESM), evidence(FRESH))
    assert auth.strength == AUTH.strength + BOOST
    assert "version 7" in auth.facts[-1].note.en  # type: ignore[union-attr]
    assert refused == REFUSED
    assert esm == ESM


def test_maintenance_explains_a_refused_connection() -> None:
    rel = Related(sql=(SqlInstance("p:r:db", "MAINTENANCE"),))
    auth, refused = corroborate((AUTH, REFUSED), evidence(rel))
    assert refused.strength > REFUSED.strength
    assert auth == AUTH


def test_a_grant_explains_no_denial_a_removal_does() -> None:
    denial = Finding("cloudsql_permission", 0.8, T, signature="NOT_AUTHORIZED")
    grant = Related(iam_changes=(IamChange(RUN, "a", "project p", ("+roles/viewer user:x",)),))
    removal = Related(iam_changes=(IamChange(RUN, "a", "sa", ("-roles/cloudsql.client sa",)),))
    assert corroborate((denial,), evidence(grant)) == (denial,)
    (found,) = corroborate((denial,), evidence(removal))
    assert found.strength > denial.strength


def test_nothing_related_changes_nothing() -> None:
    assert corroborate((AUTH, ESM), evidence(Related())) == (AUTH, ESM)
