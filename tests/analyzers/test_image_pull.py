"""image_pull: image missing, unreadable, or built for the wrong CPU."""

from __future__ import annotations

import pytest

from analyzers import image_pull
from jobtriage.evidence import LogLine
from tests.analyzers._build import (
    HEALTHY,
    IMAGE,
    Case,
    check_case,
    config,
    evidence,
    out,
    rank,
    system,
    task,
    winner,
)

CASES = [
    Case(
        "image not found (status)",
        (),
        "IMAGE_NOT_FOUND",
        completed_message=f"Image '{IMAGE}' not found.",
        cfg=config(),
        min_strength=0.9,
        fact_contains=(f"Image '{IMAGE}' not found.", "referenced by tag"),
    ),
    Case(
        "container missing reason",
        (),
        "IMAGE_NOT_FOUND",
        tasks=(task(exit_code=None, status_message="CONTAINER_MISSING"),),
    ),
    Case(
        "service agent may not read a cross-project image",
        (),
        "IMAGE_ACCESS_DENIED",
        completed_message="Google Cloud Run Service Agent service-123@serverless-robot-prod.iam."
        f"gserviceaccount.com must have permission to read the image, {IMAGE}.",
    ),
    Case(
        "artifact registry denied",
        (
            'denied: Permission "artifactregistry.repositories.downloadArtifacts" denied on'
            " resource"
            ' "projects/netureyoutube/locations/asia-northeast3/repositories/o4o-api"',
        ),
        "IMAGE_ACCESS_DENIED",
    ),
    Case(
        "arm64 image on cloud run",
        (
            system(
                "terminated: Application failed to start: failed to load /usr/local/bin/"
                "docker-entrypoint.sh: exec format error"
            ),
        ),
        "EXEC_FORMAT_ERROR",
        min_strength=0.9,
    ),
    Case("manifest unknown", ('manifest unknown: Failed to fetch "v1.4.2"',), "IMAGE_NOT_FOUND"),
    Case(
        "missing entry script is not an image problem",
        (
            system(
                "terminated: Application failed to start: failed to load /app/entrypoint.sh: "
                "no such file or directory"
            ),
        ),
        None,
    ),
    Case(
        "cloud run refuses an index without amd64",
        (),
        "EXEC_FORMAT_ERROR",
        completed_message=f"Cloud Run does not support image '{IMAGE}': Container manifest type "
        "'application/vnd.oci.image.index.v1+json' must support amd64/linux.",
    ),
    Case(
        "docker hub pull without login",
        (
            "Error response from daemon: pull access denied for acme/migrate, repository does "
            "not exist or may require 'docker login': denied: requested access to the resource "
            "is denied",
        ),
        "IMAGE_ACCESS_DENIED",
    ),
    Case(
        "registry lost a layer",
        ("failed to copy: httpReadSeeker: failed open: blob unknown to registry",),
        "IMAGE_NOT_FOUND",
    ),
    Case(
        "a successful login is not a denial",
        (out("Login Succeeded"), out("Status: Downloaded newer image for acme/migrate:1.4")),
        None,
    ),
    Case("healthy run", HEALTHY, None, cfg=config()),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_image_pull(case: Case) -> None:
    check_case(case, image_pull.analyze)


def test_digest_pinned_image_has_no_tag_fact() -> None:
    pinned = IMAGE.rsplit(":", 1)[0] + "@sha256:" + "cd" * 32
    ev = evidence(["exec /app/migrate: exec format error"], cfg=config(image=pinned))
    finding = image_pull.analyze(ev)
    assert finding is not None
    assert not any(f.note is not None and "tag" in f.note.en for f in finding.facts)
    assert any("imagetools inspect" in c.command and pinned in c.command for c in finding.checks)


COMPETING = [
    (
        "wrong architecture beats the exit it causes",
        (
            system(
                "terminated: Application failed to start: failed to load /usr/local/bin/node:"
                " exec format error"
            ),
            system("Container called exit(1).", "WARNING"),
        ),
        "image_pull",
    ),
    (
        "missing entry script goes to missing_artifact",
        (
            system(
                "terminated: Application failed to start: failed to load /app/entrypoint.sh: "
                "no such file or directory"
            ),
        ),
        "missing_artifact",
    ),
]


@pytest.mark.parametrize(("name", "lines", "expected"), COMPETING, ids=[c[0] for c in COMPETING])
def test_competing_causes(name: str, lines: tuple[str | LogLine, ...], expected: str) -> None:
    ev = evidence(lines, cfg=config())
    assert winner(ev) == expected, [(f.cause, f.signature, f.strength) for f in rank(ev)]
