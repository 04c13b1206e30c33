"""Secret Manager: which version of each referenced secret an execution resolved, and its state.

`versions.get` (the real `google-cloud-secret-manager` client over REST) of the version the job
names — a number, or the `latest` alias, which the API answers with the numbered version it
resolves to. Metadata only: state (ENABLED / DISABLED / DESTROYED) and create time, never the
payload (`roles/secretmanager.viewer` cannot read payloads). A secret in another project is named
`projects/P/secrets/S` in the job and asked there.
"""

from __future__ import annotations

from typing import Any

from jobtriage.evidence.endpoint import ClientSource, gapic_kwargs, time_of
from jobtriage.evidence.model import SecretEnv
from jobtriage.evidence.related import SecretVersion

_STATES = {0: None, 1: "ENABLED", 2: "DISABLED", 3: "DESTROYED"}


def version_path(project: str, ref: SecretEnv) -> str:
    secret = ref.secret
    base = secret if secret.startswith("projects/") else f"projects/{project}/secrets/{secret}"
    return f"{base}/versions/{ref.version or 'latest'}"


class SecretManager(ClientSource):
    @classmethod
    def from_settings(cls, emulator_host: str | None, *, timeout: float) -> SecretManager:
        def build() -> Any:
            from google.cloud import secretmanager_v1  # lazily: cold start

            return secretmanager_v1.SecretManagerServiceClient(**gapic_kwargs(emulator_host))

        return cls(build, timeout=timeout)

    def version(self, project: str, ref: SecretEnv) -> SecretVersion:
        pb = self.client.get_secret_version(
            request={"name": version_path(project, ref)}, timeout=self.timeout
        )
        state = pb.state
        return SecretVersion(
            env=ref.env,
            secret=ref.secret.rsplit("/", 1)[-1],
            requested=ref.version or "latest",
            version=pb.name.rsplit("/", 1)[-1] or None,
            state=getattr(state, "name", None) or _STATES.get(int(state)),
            create_time=time_of(pb.create_time),
        )
