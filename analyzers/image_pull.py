"""The container image could not be pulled or started.

Recognises Cloud Run's status reasons and messages (`Image '…' not found`, CONTAINER_MISSING,
CONTAINER_PERMISSION_DENIED, CONTAINER_IMAGE_UNAUTHORIZED, "must have permission to read the
image", "Container import failed"), registry errors (`manifest unknown`, `denied: Permission
"artifactregistry.repositories.downloadArtifacts" denied`, `no matching manifest for linux/amd64`),
Docker's `may require 'docker login'`, a registry blob that is gone, Cloud Run's refusal of an
image index without linux/amd64, and an image built for the wrong CPU architecture (`exec format
error`: Cloud Run runs linux/amd64 only — an image built on an arm64 laptop fails this way). An
image referenced by a tag rather than a digest is reported alongside, since the tag may no longer
point at what ran.
"""

from __future__ import annotations

import re

from analyzers import commands
from analyzers.base import (
    Analyzer,
    Cause,
    Check,
    Finding,
    Signature,
    build_finding,
    image_tag_fact,
    image_that_ran,
    match_signatures,
    match_status,
    sig,
)
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.text import Text


def _checks(ref: ExecutionRef) -> tuple[Check, ...]:
    return (
        Check(
            Text(
                en="See the image the job is configured with",
                ko="Job에 설정된 이미지 확인",
            ),
            commands.describe_job(
                ref, fmt="value(spec.template.spec.template.spec.containers[0].image)"
            ),
        ),
        Check(
            Text(
                en="Read the execution's conditions (image / permission reasons)",
                ko="실행의 condition(이미지·권한 관련 사유) 확인",
            ),
            commands.describe_execution(ref),
        ),
    )


CAUSE = Cause(
    id="image_pull",
    # Not in the seed. A missing or unreadable image usually fails the deploy (`jobs update`)
    # before any execution starts, so it rarely explains a failed execution: the smallest prior.
    prior=0.05,
    name=Text(
        en="The container image could not be pulled or started",
        ko="컨테이너 이미지를 가져오거나 시작하지 못함",
    ),
    checks=_checks,
    workarounds=(
        Text(
            en="Deploy the job with an image digest that exists (the last one that succeeded)",
            ko="존재하는 이미지 digest(마지막 성공 버전)로 Job 배포",
        ),
        Text(
            en="Build for linux/amd64 (docker buildx build --platform linux/amd64, or Cloud "
            "Build) when building on an arm64 machine",
            ko="arm64 장비에서 빌드한다면 linux/amd64로 빌드"
            "(docker buildx build --platform linux/amd64 또는 Cloud Build)",
        ),
        Text(
            en="For an image in another project, grant the Cloud Run service agent "
            "roles/artifactregistry.reader on that repository",
            ko="다른 프로젝트의 이미지라면 Cloud Run 서비스 에이전트에 해당 저장소의 "
            "roles/artifactregistry.reader 부여",
        ),
    ),
    refute_hint=Text(
        en="No image-not-found, permission or architecture error",
        ko="이미지 없음·권한·아키텍처 오류 없음",
    ),
)

_NOT_FOUND = Text(
    en="The image (or its tag/digest) does not exist in the registry",
    ko="레지스트리에 해당 이미지(또는 태그·digest)가 없음",
)
_DENIED = Text(
    en="Cloud Run may not read the image (registry permission)",
    ko="Cloud Run이 이미지를 읽을 권한이 없음(레지스트리 권한)",
)
_ARCH = Text(
    en="The image was built for another CPU architecture (Cloud Run needs linux/amd64)",
    ko="이미지가 다른 CPU 아키텍처용으로 빌드됨(Cloud Run은 linux/amd64 필요)",
)
_IMPORT = Text(
    en="Cloud Run could not import the container image",
    ko="Cloud Run이 컨테이너 이미지를 가져오지 못함",
)

_RATE = Text(
    en="The registry refused to serve the image: pull rate limit reached",
    ko="레지스트리가 이미지 제공을 거부함: pull 속도 제한 도달",
)
_START = Text(
    en="The container did not start (image, entrypoint or port)",
    ko="컨테이너가 시작되지 않음(이미지·엔트리포인트·포트)",
)
SIGNATURES: tuple[Signature, ...] = (
    Signature("CONTAINER_MISSING", "IMAGE_NOT_FOUND", 0.95, _NOT_FOUND),
    Signature(
        "Image '", "IMAGE_NOT_FOUND", 0.95, _NOT_FOUND, re.compile(r"Image '[^']+' not found")
    ),
    Signature("manifest unknown", "IMAGE_NOT_FOUND", 0.92, _NOT_FOUND),
    Signature("CONTAINER_PERMISSION_DENIED", "IMAGE_ACCESS_DENIED", 0.95, _DENIED),
    # the registry's token endpoint refusing the pull credentials (Docker distribution's
    # "unauthorized: authentication failed", as containerd and the Docker daemon relay it)
    sig(
        "unauthorized: authentication failed",
        "IMAGE_ACCESS_DENIED",
        0.9,
        _DENIED,
        r"(?:auth token|pull|registry|manifest|docker).*unauthorized: authentication failed",
    ),
    Signature("CONTAINER_IMAGE_UNAUTHORIZED", "IMAGE_ACCESS_DENIED", 0.93, _DENIED),
    Signature("CONTAINER_IMAGE_AUTHORIZATION_CHECK_FAILED", "IMAGE_ACCESS_DENIED", 0.9, _DENIED),
    Signature("must have permission to read the image", "IMAGE_ACCESS_DENIED", 0.95, _DENIED),
    Signature(
        "artifactregistry.repositories.downloadArtifacts", "IMAGE_ACCESS_DENIED", 0.93, _DENIED
    ),
    Signature("pull access denied", "IMAGE_ACCESS_DENIED", 0.9, _DENIED),
    Signature("exec format error", "EXEC_FORMAT_ERROR", 0.92, _ARCH),
    Signature("no matching manifest for linux/amd64", "EXEC_FORMAT_ERROR", 0.92, _ARCH),
    Signature("Container import failed", "IMAGE_IMPORT_FAILED", 0.85, _IMPORT),
    # Other registries and runtimes (signatures reviewed against the failure corpus's dev part)
    sig("Back-off pulling image", "IMAGE_PULL_BACKOFF", 0.9, _NOT_FOUND),
    sig("ImagePullBackOff", "IMAGE_PULL_BACKOFF", 0.88, _NOT_FOUND),
    sig("ErrImagePull", "IMAGE_PULL_BACKOFF", 0.88, _NOT_FOUND),
    # skaffold's diagnosis of the same ("container x is waiting to start: IMAGE can't be pulled")
    sig(
        "can't be pulled",
        "IMAGE_PULL_BACKOFF",
        0.86,
        _NOT_FOUND,
        r"waiting to start: \S+ can't be pulled",
    ),
    sig("Failed to pull image", "IMAGE_PULL_BACKOFF", 0.86, _NOT_FOUND),
    sig("name unknown", "IMAGE_NOT_FOUND", 0.88, _NOT_FOUND, r"name unknown: "),
    sig("failed to resolve reference", "IMAGE_NOT_FOUND", 0.86, _NOT_FOUND),
    sig("no matching manifest for", "EXEC_FORMAT_ERROR", 0.9, _ARCH),
    # the registry's error code, as the Docker client prints it and in the JSON body (not the
    # Google clients' TooManyRequests exception, which is a quota)
    sig(
        "toomanyrequests",
        "REGISTRY_RATE_LIMIT",
        0.9,
        _RATE,
        r"(?-i:\btoomanyrequests\b|\bTOOMANYREQUESTS\b)",
    ),
    sig("pull rate limit", "REGISTRY_RATE_LIMIT", 0.9, _RATE),
    sig("Expected an image path", "IMAGE_NOT_FOUND", 0.85, _NOT_FOUND),
    sig("unauthorized: authentication required", "IMAGE_ACCESS_DENIED", 0.85, _DENIED),
    sig("artifactregistry.repositories.downloadArtifacts", "IMAGE_ACCESS_DENIED", 0.93, _DENIED),
    sig("Container failed to start", "CONTAINER_START_FAILED", 0.5, _START),
    # Cloud Run's gVisor sandbox could not start the image's entrypoint (not executable, not
    # there, wrong format): the image as built cannot start, whatever the job's code does
    sig("Failed to create init process", "CONTAINER_START_FAILED", 0.8, _START),
    # Cloud Run's wording for a multi-platform index without linux/amd64
    sig("Cloud Run does not support image", "EXEC_FORMAT_ERROR", 0.92, _ARCH),
    sig("must support amd64/linux", "EXEC_FORMAT_ERROR", 0.92, _ARCH),
    # Docker / the distribution registry
    sig("may require 'docker login'", "IMAGE_ACCESS_DENIED", 0.9, _DENIED),
    sig("blob unknown to registry", "IMAGE_NOT_FOUND", 0.85, _NOT_FOUND),
)


def analyze(evidence: Evidence) -> Finding | None:
    """The image is missing, unreadable, or built for the wrong CPU architecture."""
    matches = match_signatures(evidence, SIGNATURES)
    status = match_status(evidence, SIGNATURES)
    if not matches and not status:
        return None
    extra = [f for f in (image_tag_fact(evidence),) if f is not None]
    checks: list[Check] = []
    image = image_that_ran(evidence)
    if image is not None:
        checks.append(
            Check(
                Text(
                    en="Does the image exist, and which platforms was it built for?",
                    ko="이미지가 존재하는지, 어떤 플랫폼용으로 빌드됐는지 확인",
                ),
                commands.image_platforms(image),
            )
        )
        if "docker.pkg.dev" in image:
            checks.append(
                Check(
                    Text(
                        en="Describe the image in Artifact Registry",
                        ko="Artifact Registry에서 이미지 확인",
                    ),
                    commands.image_of(image),
                )
            )
    return build_finding(
        CAUSE,
        matches=matches,
        status=status,
        extra_facts=extra,
        checks=(*checks, *CAUSE.checks(evidence.ref)),
    )


ANALYZER = Analyzer(cause=CAUSE, analyze=analyze, doc=__doc__ or "")
