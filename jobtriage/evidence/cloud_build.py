"""Cloud Build: the build that produced an image digest, and the commit behind it.

One `builds.list` call (the real `google-cloud-build` client over REST) answers for both images at
once: its filter asks for builds whose `results.images.digest` is either digest. From the build
record: the commit (`sourceProvenance.resolvedRepoSource.commitSha`, else the trigger's
substitutions `COMMIT_SHA`), repository (`REPO_FULL_NAME` / `REPO_NAME`, a git source URL),
branch or tag (`BRANCH_NAME` / `TAG_NAME`), trigger (`TRIGGER_NAME`), the build log link, and a
commit subject when the trigger passed one (`_COMMIT_MESSAGE` / `_COMMIT_SUBJECT`). Needs
`roles/cloudbuild.builds.viewer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobtriage.evidence.endpoint import ClientSource, gapic_kwargs, time_of
from jobtriage.evidence.related import ImageBuild
from jobtriage.redact import redact

# One page is plenty: two digests match at most a handful of builds (rebuilds, retries).
PAGE_SIZE = 10
_SUBJECT_KEYS = ("_COMMIT_MESSAGE", "_COMMIT_SUBJECT", "_HEAD_COMMIT_MESSAGE", "COMMIT_MESSAGE")
MAX_SUBJECT = 120


def digest_filter(digests: Sequence[str]) -> str:
    """The builds.list filter for builds that produced any of `digests`."""
    return " OR ".join(f'results.images.digest="{d}"' for d in digests)


class CloudBuild(ClientSource):
    """Finds the builds behind image digests. Raises the API's own errors."""

    @classmethod
    def from_settings(cls, emulator_host: str | None, *, timeout: float) -> CloudBuild:
        def build() -> Any:
            from google.cloud.devtools import cloudbuild_v1  # lazily: cold start

            return cloudbuild_v1.CloudBuildClient(**gapic_kwargs(emulator_host))

        return cls(build, timeout=timeout)

    def builds_for(self, project: str, digests: Sequence[str]) -> dict[str, ImageBuild]:
        """digest → the newest successful build that pushed it (one call, one page)."""
        wanted = [d for d in dict.fromkeys(digests) if d]
        if not wanted:
            return {}
        pager = self.client.list_builds(
            request={
                "project_id": project,
                "filter": digest_filter(wanted),
                "page_size": PAGE_SIZE,
            },
            timeout=self.timeout,
        )
        found: dict[str, ImageBuild] = {}
        page = next(iter(pager.pages), None)  # no second page: bounded
        for build in page.builds if page is not None else ():
            for image in build.results.images:
                if image.digest in wanted and image.digest not in found:
                    found[image.digest] = image_build(build, image.digest)
        return found


def _subject(subs: Any) -> str | None:
    for key in _SUBJECT_KEYS:
        text = str(subs.get(key) or "").strip()
        if text:
            line = text.splitlines()[0].strip()
            if len(line) > MAX_SUBJECT:
                line = line[: MAX_SUBJECT - 1] + "…"
            return redact(line)
    return None


def image_build(build: Any, digest: str) -> ImageBuild:
    """One Build record → where the image came from."""
    subs = dict(build.substitutions)
    prov = build.source_provenance
    resolved = prov.resolved_repo_source
    git = prov.resolved_git_source
    commit = (
        resolved.commit_sha
        or git.revision
        or subs.get("COMMIT_SHA")
        or build.source.repo_source.commit_sha
        or None
    )
    repo = (
        git.url
        or build.source.git_source.url
        or subs.get("_HEAD_REPO_URL")
        or subs.get("REPO_FULL_NAME")
        or resolved.repo_name
        or subs.get("REPO_NAME")
        or None
    )
    ref = (
        subs.get("BRANCH_NAME")
        or subs.get("TAG_NAME")
        or resolved.branch_name
        or resolved.tag_name
        or None
    )
    return ImageBuild(
        digest=digest,
        commit=commit,
        repo=repo,
        ref=ref,
        trigger=subs.get("TRIGGER_NAME") or build.build_trigger_id or None,
        build_id=build.id or None,
        log_url=build.log_url or None,
        create_time=time_of(build.create_time),
        finish_time=time_of(build.finish_time),
        subject=_subject(subs),
        via="cloud_build",
    )
