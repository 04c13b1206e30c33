"""analyzers.symptoms: the one table that caps what another finding explains."""

from __future__ import annotations

import pytest

from analyzers import CAUSES
from analyzers.base import Finding
from analyzers.symptoms import ANY_OTHER, EXPLAINER_MIN, SYMPTOMS, Symptom, apply_symptoms
from jobtriage.text import Text

T = Text(en="t", ko="티")


def finding(cause: str, signature: str, strength: float) -> Finding:
    return Finding(cause=cause, strength=strength, title=T, signature=signature)


def test_every_row_names_real_causes() -> None:
    for rule in SYMPTOMS:
        assert rule.cause in CAUSES
        assert rule.explained_by is ANY_OTHER or rule.explained_by <= set(CAUSES)
        assert rule.cause not in rule.explained_by
        assert 0 < rule.cap < rule.explainer_min <= EXPLAINER_MIN
        assert rule.title.en
        assert rule.title.ko


@pytest.mark.parametrize(
    ("symptom", "cause", "capped_at"),
    [
        (
            finding("db_connection", "ECONNREFUSED", 0.9),
            finding("cloudsql_permission", "X", 0.95),
            0.25,
        ),
        (
            finding("entrypoint_runtime", "UNHANDLED_REJECTION", 0.45),
            finding("db_connection", "ECONNREFUSED", 0.9),
            0.1,
        ),
        (
            finding("entrypoint_runtime", "GO_PANIC", 0.6),
            finding("data_error", "CSV_PARSE", 0.85),
            0.1,
        ),
        (
            finding("migration_sql", "QUERY_FAILED", 0.65),
            finding("db_privilege", "PERMISSION_DENIED", 0.95),
            0.15,
        ),
        (
            finding("db_connection", "ETIMEDOUT", 0.85),
            finding("network_egress", "PRIVATE_IP_TIMEOUT", 0.88),
            0.25,
        ),
        (  # a bare npm lifecycle failure after the OOM killer's SIGKILL
            finding("entrypoint_runtime", "SCRIPT_FAILED", 0.25),
            finding("resource_limit", "SIGKILL", 0.62),
            0.1,
        ),
        (  # rake's "aborted!" after a connect timeout
            finding("entrypoint_runtime", "RUBY_EXCEPTION", 0.3),
            finding("upstream_service", "READ_TIMEOUT", 0.62),
            0.1,
        ),
        (
            finding("upstream_service", "SERVER_ERROR_5XX", 0.82),
            finding("quota_exceeded", "RATE_LIMIT", 0.93),
            0.3,
        ),
        (  # the resolver was asked for a host made of the password's tail
            finding("db_connection", "ENOTFOUND", 0.9),
            finding("secret_config", "URL_CREDENTIALS_UNESCAPED", 0.94),
            0.3,
        ),
    ],
)
def test_a_symptom_is_capped_by_the_cause_that_explains_it(
    symptom: Finding, cause: Finding, capped_at: float
) -> None:
    for order in ((symptom, cause), (cause, symptom)):  # the order of findings does not matter
        out = {f.cause: f for f in apply_symptoms(order)}
        assert out[symptom.cause].strength == pytest.approx(capped_at)
        assert out[symptom.cause].signature == symptom.signature  # the incident key is kept
        assert out[cause.cause] == cause


def test_a_named_error_of_the_same_cause_is_not_a_symptom() -> None:
    named = finding("entrypoint_runtime", "ERR_REQUIRE_ESM", 0.93)
    other = finding("db_connection", "ECONNREFUSED", 0.9)
    assert apply_symptoms([named, other])[0] == named


def test_a_weak_finding_explains_nothing() -> None:
    crash = finding("entrypoint_runtime", "UNHANDLED_REJECTION", 0.45)
    weakest = min(r.explainer_min for r in SYMPTOMS if "UNHANDLED_REJECTION" in r.signatures)
    weak = finding("migration_sql", "QUERY_FAILED", weakest - 0.05)
    out = {f.cause: f for f in apply_symptoms([crash, weak])}
    assert out["entrypoint_runtime"] == crash


@pytest.mark.parametrize("rule", SYMPTOMS, ids=lambda r: f"{r.cause}<-{sorted(r.explained_by)}")
def test_below_its_row_minimum_an_explainer_explains_nothing(rule: Symptom) -> None:
    symptom_sig = min(rule.signatures, default="ANY")
    explainer_cause = next(
        c
        for c in CAUSES
        if c not in (rule.cause, "unknown")
        and (rule.explained_by is ANY_OTHER or c in rule.explained_by)
    )
    explainer_sig = min(rule.explaining_signatures, default="ANY")
    symptom = finding(rule.cause, symptom_sig, min(0.99, rule.cap + 0.2))
    below = finding(explainer_cause, explainer_sig, rule.explainer_min - 0.01)
    at = finding(explainer_cause, explainer_sig, rule.explainer_min)
    assert apply_symptoms([symptom, below])[0] == symptom
    assert apply_symptoms([symptom, at])[0].strength <= rule.cap


def test_explaining_signatures_narrow_a_row() -> None:
    login = finding("db_connection", "MYSQL_ACCESS_DENIED", 0.93)
    unset = finding("secret_config", "PASSWORD_NOT_SET", 0.96)
    unrelated = finding("secret_config", "SECRET_ACCESS_DENIED", 0.95)
    assert {f.cause: f for f in apply_symptoms([login, unset])}["db_connection"].strength <= 0.3
    assert {f.cause: f for f in apply_symptoms([login, unrelated])}["db_connection"] == login
