"""Contract tests over the whole analyzer registry (every analyzer, present and future)."""

from __future__ import annotations

import importlib
import random
import re
from pathlib import Path
from types import ModuleType

import pytest

from analyzers import ANALYZERS, CAUSES, UNKNOWN
from analyzers.base import Analyzer, Cause, Finding, Signature
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.text import Text
from tests.analyzers._build import (
    HEALTHY,
    config,
    err,
    evidence,
    out,
    system,
    task,
)

# The cause ids of DESIGN.md's table: a public contract (CLI JSON, store, docs).
CAUSE_IDS = {
    "entrypoint_runtime",
    "db_connection",
    "missing_artifact",
    "cloudsql_permission",
    "migration_sql",
    "resource_limit",
    "secret_config",
    "image_pull",
    "unknown",
}
# DESIGN.md's "Batch-job cause ids": as public as the others once the product knows them.
BATCH_CAUSE_IDS = {
    "gcp_permission",
    "quota_exceeded",
    "upstream_service",
    "db_privilege",
    "network_egress",
    "data_error",
}
ALL_CAUSE_IDS = CAUSE_IDS | BATCH_CAUSE_IDS
SEED_PRIORS = {
    "entrypoint_runtime": 0.50,
    "db_connection": 0.30,
    "missing_artifact": 0.20,
    "cloudsql_permission": 0.10,
}
# Names no real project or job has, so that a hard-coded name in a command cannot pass.
REF = ExecutionRef(
    project="contract-proj-7",
    region="europe-west9",
    job="contract-job",
    execution="contract-job-q9z",
)


def _design_md() -> Path | None:
    here = Path(__file__).resolve()
    for base in (here.parents[2], here.parents[1], here.parents[1].parent / "shared"):
        for candidate in (base / "shared" / "DESIGN.md", base / "DESIGN.md"):
            if candidate.is_file():
                return candidate
    return None


def _module(analyzer: Analyzer) -> ModuleType:
    return importlib.import_module(analyzer.analyze.__module__)


def _signatures(analyzer: Analyzer) -> tuple[Signature, ...]:
    sigs = getattr(_module(analyzer), "SIGNATURES", ())
    assert isinstance(sigs, tuple)
    return sigs


ids = [a.id for a in ANALYZERS]


def test_design_table_matches_the_contract_list() -> None:
    path = _design_md()
    if path is None:
        pytest.skip("shared/DESIGN.md is not beside this checkout")
    text = path.read_text(encoding="utf-8")
    table = text.split("## Cause ids", 1)[1].split("\n## ", 1)[0]
    found = set(re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.M))
    assert found == CAUSE_IDS
    batch = text.split("## Batch-job cause ids", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"^\| `([a-z_]+)` \|", batch, flags=re.M)) == BATCH_CAUSE_IDS


def test_ids_are_unique() -> None:
    assert len(ids) == len(set(ids))


def test_every_design_cause_is_registered() -> None:
    assert set(ids) == ALL_CAUSE_IDS - {"unknown"}
    assert set(CAUSES) == ALL_CAUSE_IDS
    assert CAUSES["unknown"] is UNKNOWN


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=ids)
def test_id_equals_module_name(analyzer: Analyzer) -> None:
    module = _module(analyzer)
    assert module.__name__ == f"analyzers.{analyzer.id}"
    assert module.CAUSE is analyzer.cause
    assert module.ANALYZER is analyzer


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=ids)
def test_every_analyzer_is_documented(analyzer: Analyzer) -> None:
    module = _module(analyzer)
    assert module.__doc__
    assert len(module.__doc__.split()) >= 20
    assert analyzer.doc == module.__doc__
    assert analyzer.analyze.__doc__


@pytest.mark.parametrize(("cause", "prior"), sorted(SEED_PRIORS.items()))
def test_seed_priors(cause: str, prior: float) -> None:
    assert CAUSES[cause].prior == pytest.approx(prior)


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=ids)
def test_non_seed_priors_are_small(analyzer: Analyzer) -> None:
    if analyzer.id not in SEED_PRIORS:
        assert 0.0 < analyzer.cause.prior <= 0.1


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=ids)
def test_empty_evidence_finds_nothing(analyzer: Analyzer) -> None:
    assert analyzer.analyze(Evidence(ref=REF)) is None


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=ids)
def test_healthy_run_finds_nothing(analyzer: Analyzer) -> None:
    assert analyzer.analyze(evidence(HEALTHY, cfg=config())) is None


_NOISE = (
    "query: SELECT * FROM orders WHERE id = $1 -- PARAMETERS: [{n}]",
    "INFO  request {n} handled in 12ms",
    "processing batch {n} of 90000",
    "cache miss for key user:{n}, value not found, refreshing",
    "GET /healthz 200 {n}",
    "warning: optional field 'x' is missing, skipping row {n}",
    "user {n} does not exist in the cache",
    "loaded {n} rows (23505 total)",
    "LOG_LEVEL not set, using info ({n})",
    "permission check ok for {n}",
    "Killed 0 zombie processes ({n})",
    "retrying request {n} after 503",
)


def _noise(count: int) -> Evidence:
    rng = random.Random(7)
    lines = [out(rng.choice(_NOISE).format(n=i)) for i in range(count)]
    return evidence(lines, cfg=config())


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=ids)
def test_noise_of_20k_lines_finds_nothing(analyzer: Analyzer) -> None:
    # Bounded work: every analyzer goes through the shared index. Not timed here (see the bench);
    # it must simply finish and not mistake busy logs for a failure.
    assert analyzer.analyze(_noise(20_000)) is None


def _texts_of_cause(cause: Cause) -> list[Text]:
    texts = [cause.name, *cause.workarounds, *(c.purpose for c in cause.checks(REF))]
    if cause.refute_hint is not None:
        texts.append(cause.refute_hint)
    return texts


# One failure per analyzer, to see the findings' own texts and checks.
SAMPLES = {
    "entrypoint_runtime": [err("SyntaxError: Cannot use import statement outside a module")],
    "db_connection": [err("Error: connect ECONNREFUSED 10.0.0.3:5432")],
    "missing_artifact": [
        err("Error: Cannot find module '/app/dist/migrate.js'"),
        err("  requireStack: []"),
    ],
    "cloudsql_permission": [err("googleapi: Error 403: boss::NOT_AUTHORIZED: Not authorized")],
    "migration_sql": [err('error: relation "users" already exists')],
    "resource_limit": [system("Memory limit of 512 MiB exceeded with 600 MiB used.")],
    "secret_config": [err("Error: DATABASE_URL is not defined")],
    "image_pull": [system("failed to load /usr/bin/node: exec format error")],
    "gcp_permission": [
        err(
            "google.api_core.exceptions.Forbidden: 403 POST https://bigquery.googleapis.com/"
            "bigquery/v2/projects/p/jobs: Access Denied: Project p: User does not have "
            "bigquery.jobs.create permission in project p."
        )
    ],
    "quota_exceeded": [
        err("Exceeded rate limits: too many table update operations for this table")
    ],
    "upstream_service": [
        err("requests.exceptions.HTTPError: 503 Server Error: Service Unavailable")
    ],
    "db_privilege": [err("ERROR: permission denied for schema public")],
    "network_egress": [err("dial tcp 10.8.0.5:5432: i/o timeout")],
    "data_error": [
        err("Error while reading data, error message: CSV table encountered too many errors")
    ],
}


def _sample_finding(analyzer: Analyzer) -> Finding:
    ev = Evidence(
        ref=REF,
        logs=tuple(SAMPLES[analyzer.id]),
        execution=evidence((), cfg=config()).execution,
        tasks=(task(exit_code=1),),
    )
    finding = analyzer.analyze(ev)
    assert finding is not None, f"sample for {analyzer.id} not recognised"
    return finding


def test_every_analyzer_has_a_sample() -> None:
    assert set(SAMPLES) == set(ids)


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=ids)
def test_every_text_is_bilingual(analyzer: Analyzer) -> None:
    finding = _sample_finding(analyzer)
    texts = _texts_of_cause(analyzer.cause)
    texts += [s.title for s in _signatures(analyzer)]
    texts += [finding.title, *(c.purpose for c in finding.checks)]
    texts += [f.note for f in finding.facts if f.note is not None]
    for text in texts:
        assert text.en.strip(), text
        assert text.ko.strip(), text
        assert re.search(r"[가-힣]", text.ko), f"not Korean: {text.ko!r}"
        assert "{" not in text.en, f"unfilled placeholder: {text}"
        assert "{" not in text.ko, f"unfilled placeholder: {text}"


def test_unknown_texts_are_bilingual() -> None:
    for text in _texts_of_cause(UNKNOWN):
        assert text.en.strip()
        assert text.ko.strip()


@pytest.mark.parametrize("cause", list(CAUSES.values()), ids=list(CAUSES))
def test_cause_checks_name_this_execution(cause: Cause) -> None:
    checks = cause.checks(REF)
    assert checks, f"{cause.id} has no checks"
    first = checks[0].command  # the first step is about exactly this execution or job
    assert REF.job in first or REF.execution in first, first
    for check in checks:
        assert REF.project in check.command, check.command


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=ids)
def test_finding_checks_include_the_cause_checks(analyzer: Analyzer) -> None:
    finding = _sample_finding(analyzer)
    commands = [c.command for c in finding.checks]
    for check in analyzer.cause.checks(REF):
        assert check.command in commands


@pytest.mark.parametrize("analyzer", ANALYZERS, ids=ids)
def test_signatures_are_normalised_ids(analyzer: Analyzer) -> None:
    finding = _sample_finding(analyzer)
    for sig in (*(s.signature for s in _signatures(analyzer)), finding.signature):
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", sig), sig
    for s in _signatures(analyzer):
        assert 0.0 < s.strength <= 1.0
        assert s.needle, "every signature needs a needle for the shared index"
