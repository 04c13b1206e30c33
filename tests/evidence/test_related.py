"""The sources beyond the execution — Cloud Build, Artifact Registry, Admin Activity entries,
Secret Manager, Cloud SQL Admin — read by the real clients from the replay, and their faults."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from jobtriage.evidence.dependencies import MAX_CALLS
from jobtriage.evidence.gather import Sources, gather
from jobtriage.evidence.model import Evidence, Source
from standins.replay.dependencies import DepApi, DependencyReplay, DependencyScenario
from standins.replay.google import Api, GoogleReplay, Scenario
from tests.evidence.conftest import FakeTime, event_of, scenario, settings_for

ROOT = Path(__file__).resolve().parents[2]
FAILED_DIGEST = "sha256:7c1f4e9a2b6d83c05f1e7a9d4b2c6e8f0a3d5b7c9e1f2a4b6c8d0e2f4a6b8c0d"
GOOD_DIGEST = "sha256:e3a95c07d1b2f4861a9c3e5d7f9b1d3e5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b"


@pytest.fixture
def deps() -> Iterator[Callable[..., DependencyReplay]]:
    started: list[DependencyReplay] = []

    def start(sc: DependencyScenario | None = None, **kwargs: Any) -> DependencyReplay:
        replay = DependencyReplay(sc or DependencyScenario.embedded("seed"), **kwargs)
        replay.__enter__()
        started.append(replay)
        return replay

    yield start
    for replay in started:
        replay.__exit__(None, None, None)


def read(
    google: GoogleReplay, dep: DependencyReplay, time: FakeTime, sc: Scenario, **overrides: Any
) -> Evidence:
    settings = settings_for(
        google,
        cloud_build_emulator_host=dep.host,
        artifact_registry_emulator_host=dep.host,
        secret_manager_emulator_host=dep.host,
        cloud_sql_admin_emulator_host=dep.host,
        **overrides,
    )
    sources = Sources.from_settings(settings, clock=time)
    return gather(event_of(sc), sources=sources)


def test_the_seed_reads_every_source_within_six_calls(
    start_replay: Callable[..., GoogleReplay],
    deps: Callable[..., DependencyReplay],
    late_time: FakeTime,
) -> None:
    sc = scenario("seed")
    google, dep = start_replay(sc), deps()
    ev = read(google, dep, late_time, sc)
    rel = ev.related
    assert rel.failed_image is not None
    assert rel.good_image is not None
    assert rel.failed_image.commit is not None
    assert rel.failed_image.commit.startswith("f6d12b51f")
    assert rel.failed_image.subject == "separate migration entry point for Cloud Run Job"
    assert rel.failed_image.ref == "main"
    assert rel.failed_image.trigger == "api-server-main"
    assert rel.good_image.commit != rel.failed_image.commit
    (edit,) = rel.job_edits
    assert edit.method == "UpdateJob"
    assert edit.who == "github-actions-deployer@netureyoutube.iam.gserviceaccount.com"
    assert "env_names" in edit.fields
    by_env = {s.env: s for s in rel.secrets}
    assert by_env["DB_PASSWORD"].requested == "latest"
    assert by_env["DB_PASSWORD"].version == "7"
    assert by_env["DB_PASSWORD"].state == "ENABLED"
    assert by_env["JWT_SECRET"].version == "3"
    (instance,) = rel.sql
    assert instance.state == "RUNNABLE"
    assert instance.operations == ()
    assert ev.gaps == ()
    # one builds.list for both digests, two secrets, instance + operations, one audit read
    assert dep.count(DepApi.LIST_BUILDS) == 1
    audit_reads = google.count(Api.LIST_ENTRIES) - ev.log_stats.requests
    assert audit_reads == 1
    assert dep.count() + audit_reads == rel.calls <= MAX_CALLS
    # the plain env values the audit request carries never reach the evidence
    assert "Vq7tM2xK9pLr4WzB" not in repr(rel)


@pytest.mark.parametrize(
    ("api", "source", "words"),
    [
        (DepApi.LIST_BUILDS, Source.BUILDS, "roles/cloudbuild.builds.viewer"),
        (DepApi.GET_SECRET_VERSION, Source.SECRETS, "roles/secretmanager.viewer"),
        (DepApi.GET_SQL_INSTANCE, Source.CLOUD_SQL, "roles/cloudsql.viewer"),
    ],
)
def test_a_403_is_a_gap_naming_the_role_and_the_rest_is_read(
    start_replay: Callable[..., GoogleReplay],
    deps: Callable[..., DependencyReplay],
    late_time: FakeTime,
    api: DepApi,
    source: Source,
    words: str,
) -> None:
    sc = scenario("seed")
    google, dep = start_replay(sc), deps()
    dep.inject(api, status=403)
    ev = read(google, dep, late_time, sc)
    gaps = [g for g in ev.gaps if g.source is source]
    assert gaps
    assert all(words in g.fix for g in gaps)
    assert all(g.reason_ko for g in gaps)
    assert ev.related.job_edits  # the others still answered


@pytest.mark.parametrize(
    ("api", "source"),
    [
        (DepApi.LIST_BUILDS, Source.BUILDS),
        (DepApi.GET_SECRET_VERSION, Source.SECRETS),
        (DepApi.GET_SQL_INSTANCE, Source.CLOUD_SQL),
        (DepApi.LIST_SQL_OPERATIONS, Source.CLOUD_SQL),
    ],
)
def test_a_404_is_a_gap_that_says_what_was_not_found(
    start_replay: Callable[..., GoogleReplay],
    deps: Callable[..., DependencyReplay],
    late_time: FakeTime,
    api: DepApi,
    source: Source,
) -> None:
    sc = scenario("seed")
    google, dep = start_replay(sc), deps()
    dep.inject(api, status=404)
    ev = read(google, dep, late_time, sc)
    gaps = [g for g in ev.gaps if g.source is source]
    assert gaps
    assert all(g.fix for g in gaps), gaps


@pytest.mark.parametrize(
    ("api", "source"),
    [
        (DepApi.LIST_BUILDS, Source.BUILDS),
        (DepApi.GET_SECRET_VERSION, Source.SECRETS),
        (DepApi.GET_SQL_INSTANCE, Source.CLOUD_SQL),
    ],
)
def test_a_slow_api_is_a_timeout_gap_not_a_hang(
    start_replay: Callable[..., GoogleReplay],
    deps: Callable[..., DependencyReplay],
    late_time: FakeTime,
    api: DepApi,
    source: Source,
) -> None:
    sc = scenario("seed")
    google, dep = start_replay(sc), deps()
    dep.inject(api, delay=3.0)
    ev = read(google, dep, late_time, sc, api_timeout_seconds=0.3)
    gaps = [g for g in ev.gaps if g.source is source]
    assert gaps
    assert all("0.3 s" in g.reason for g in gaps), gaps
    assert ev.related.job_edits


def test_an_audit_read_refused_is_a_gap_and_the_builds_still_come(
    start_replay: Callable[..., GoogleReplay],
    deps: Callable[..., DependencyReplay],
    late_time: FakeTime,
) -> None:
    sc = scenario("seed")
    google, dep = start_replay(sc), deps()
    google.inject(Api.LIST_ENTRIES, status=403)
    ev = read(google, dep, late_time, sc)
    assert any(g.source is Source.AUDIT and "roles/logging.viewer" in g.fix for g in ev.gaps)
    assert ev.related.failed_image is not None


def test_the_logging_budget_covers_the_audit_read(
    start_replay: Callable[..., GoogleReplay],
    deps: Callable[..., DependencyReplay],
    late_time: FakeTime,
) -> None:
    sc = scenario("seed")
    google, dep = start_replay(sc), deps()
    ev = read(google, dep, late_time, sc, logging_reads_per_minute=1)
    # one read a minute: the logs or the audit entries, never both
    assert google.count(Api.LIST_ENTRIES) == 1
    assert any(g.source in (Source.AUDIT, Source.LOGS) for g in ev.gaps)


def test_no_build_falls_back_to_the_images_oci_annotations(
    start_replay: Callable[..., GoogleReplay],
    deps: Callable[..., DependencyReplay],
    late_time: FakeTime,
) -> None:
    sc = scenario("seed")
    dsc = DependencyScenario.embedded("seed")
    dsc.builds = [b for b in dsc.builds if b["results"]["images"][0]["digest"] != FAILED_DIGEST]
    name = (
        "projects/netureyoutube/locations/asia-northeast3/repositories/o4o-api/packages/"
        f"api-server/versions/{FAILED_DIGEST}"
    )
    dsc.images = {
        name: {
            "name": name,
            "createTime": "2026-01-12T06:09:40Z",
            "annotations": {
                "org.opencontainers.image.revision": "f6d12b51f8c03a7e4b9d2f61a05c8e3b7d4f9a26",
                "org.opencontainers.image.source": "https://github.com/o4o-dev/o4o-platform",
            },
        }
    }
    google, dep = start_replay(sc), deps(dsc)
    ev = read(google, dep, late_time, sc)
    img = ev.related.failed_image
    assert img is not None
    assert img.via == "oci_labels"
    assert img.commit == "f6d12b51f8c03a7e4b9d2f61a05c8e3b7d4f9a26"
    assert img.repo == "https://github.com/o4o-dev/o4o-platform"
    assert dep.count(DepApi.GET_IMAGE_VERSION) == 1
    assert ev.related.calls == MAX_CALLS + 1  # the fallback is off the common path


def test_more_secrets_than_calls_left_are_named_in_a_gap(
    start_replay: Callable[..., GoogleReplay],
    deps: Callable[..., DependencyReplay],
    late_time: FakeTime,
) -> None:
    sc = copy.deepcopy(scenario("seed"))
    assert sc.execution is not None
    env = sc.execution["template"]["containers"][0]["env"]
    for i in range(5):
        env.append(
            {
                "name": f"EXTRA_{i}",
                "valueSource": {"secretKeyRef": {"secret": f"s{i}", "version": "1"}},
            }
        )
    google, dep = start_replay(sc), deps()
    ev = read(google, dep, late_time, sc)
    assert ev.related.calls <= MAX_CALLS
    skipped = [g for g in ev.gaps if g.source is Source.SECRETS and "extra calls" in g.reason]
    assert len(skipped) == 5


def test_a_replay_without_dependency_hosts_reads_none_of_them(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    sc = scenario("seed")
    google = start_replay(sc)
    sources = Sources.from_settings(settings_for(google), clock=late_time)
    ev = gather(event_of(sc), sources=sources)
    assert ev.related == replace(ev.related, calls=0)
    assert ev.related.failed_image is None
    assert google.count(Api.LIST_ENTRIES) == ev.log_stats.requests


def test_importing_the_functions_loads_none_of_the_new_clients() -> None:
    # Cold start: the clients are imported on first use, never with main.py.
    import subprocess
    import sys

    code = (
        "import sys, main; "
        "print([m for m in sys.modules if m.startswith(('google.cloud.devtools', "
        "'google.cloud.secretmanager', 'google.cloud.artifactregistry'))])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


def test_iam_removals_and_instance_events_are_read_from_the_recordings(
    start_replay: Callable[..., GoogleReplay],
    deps: Callable[..., DependencyReplay],
    late_time: FakeTime,
) -> None:
    sc = copy.deepcopy(scenario("seed"))
    sa = "o4o-api-migrator@netureyoutube.iam.gserviceaccount.com"
    sc.audit.append(
        {
            "logName": "projects/netureyoutube/logs/cloudaudit.googleapis.com%2Factivity",
            "timestamp": "2026-01-12T05:58:00Z",
            "resource": {
                "type": "service_account",
                "labels": {"email_id": sa, "project_id": "netureyoutube"},
            },
            "protoPayload": {
                "methodName": "google.iam.admin.v1.SetIAMPolicy",
                "authenticationInfo": {"principalEmail": "admin@example.com"},
                "serviceData": {
                    "policyDelta": {
                        "bindingDeltas": [
                            {
                                "action": "REMOVE",
                                "role": "roles/iam.serviceAccountUser",
                                "member": "user:dev@example.com",
                            }
                        ]
                    }
                },
            },
        }
    )
    # outside the window (before the last success): not read
    stale = copy.deepcopy(sc.audit[-1])
    stale["timestamp"] = "2026-01-01T00:00:00Z"
    sc.audit.append(stale)
    dsc = DependencyScenario.embedded("seed")
    record = dsc.sql["o4o-platform-db"]
    record["instance"]["state"] = "MAINTENANCE"
    record["operations"].append(
        {
            "operationType": "RESTART",
            "status": "DONE",
            "user": "cloud-sql-service",
            "startTime": "2026-01-12T06:05:00Z",
            "endTime": "2026-01-12T06:06:10Z",
        }
    )
    google, dep = start_replay(sc), deps(dsc)
    ev = read(google, dep, late_time, sc)
    (change,) = ev.related.iam_changes
    assert change.target == sa
    assert change.who == "admin@example.com"
    assert change.removed == ("-roles/iam.serviceAccountUser user:dev@example.com",)
    (instance,) = ev.related.sql
    assert instance.state == "MAINTENANCE"
    assert [op.kind for op in instance.operations] == ["RESTART"]
