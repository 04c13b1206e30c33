"""Artifact Registry: an image's OCI annotations, when no Cloud Build build is found for it.

`versions.get` (the real `google-cloud-artifact-registry` client over REST, view FULL) of the
image's digest; its `annotations` carry the OCI keys `org.opencontainers.image.revision` (the
commit) and `.source` (the repository URL) when the image was built with them (docker buildx
`--annotation`, ko, jib, GitHub's docker/metadata-action). Needs `roles/artifactregistry.reader`.
Only images in Artifact Registry (`LOCATION-docker.pkg.dev/PROJECT/REPO/IMAGE`) can be asked.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from jobtriage.evidence.endpoint import ClientSource, gapic_kwargs, time_of
from jobtriage.evidence.related import ImageBuild

REVISION = "org.opencontainers.image.revision"
SOURCE = "org.opencontainers.image.source"
_AR_IMAGE = re.compile(
    r"^(?P<loc>[a-z0-9-]+)-docker\.pkg\.dev/(?P<project>[^/]+)/(?P<repo>[^/]+)/(?P<image>[^@:]+)"
)


def version_name(image: str, digest: str) -> str | None:
    """The Version resource of `digest` for an Artifact Registry image URL; None for others."""
    m = _AR_IMAGE.match(image)
    if m is None:
        return None
    package = quote(m["image"], safe="")  # nested image paths are %2F-escaped package ids
    return (
        f"projects/{m['project']}/locations/{m['loc']}/repositories/{m['repo']}"
        f"/packages/{package}/versions/{digest}"
    )


class ArtifactRegistry(ClientSource):
    @classmethod
    def from_settings(cls, emulator_host: str | None, *, timeout: float) -> ArtifactRegistry:
        def build() -> Any:
            from google.cloud import artifactregistry_v1  # lazily: cold start

            return artifactregistry_v1.ArtifactRegistryClient(**gapic_kwargs(emulator_host))

        return cls(build, timeout=timeout)

    def labels_for(self, image: str, digest: str) -> ImageBuild | None:
        """The image's OCI revision/source annotations; None when it has neither."""
        name = version_name(image, digest)
        if name is None:
            return None
        from google.cloud import artifactregistry_v1

        version = self.client.get_version(
            request={"name": name, "view": artifactregistry_v1.VersionView.FULL},
            timeout=self.timeout,
        )
        notes = dict(version.annotations)
        commit, source = notes.get(REVISION), notes.get(SOURCE)
        if not commit and not source:
            return None
        return ImageBuild(
            digest=digest,
            commit=commit or None,
            repo=source or None,
            create_time=time_of(version.create_time),
            via="oci_labels",
        )
