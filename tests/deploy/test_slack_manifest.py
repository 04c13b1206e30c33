"""The Slack app manifest (deploy/slack-app-manifest.yaml) is valid and asks for what the code uses.

The scopes the code calls for are those of the Web API methods it calls,
`jobtriage.notify.deliver.METHOD_SCOPES`.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.deploy import terraform_model as tf

MANIFEST = tf.DEPLOY / "slack-app-manifest.yaml"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    if not MANIFEST.exists():
        pytest.skip("deploy/slack-app-manifest.yaml not yet present")
    # YAML is a superset of JSON, so either form of the manifest loads.
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "the manifest must be a mapping"
    return data


def test_manifest_names_the_app_and_its_bot(manifest: dict[str, Any]) -> None:
    assert manifest["display_information"]["name"]
    assert manifest["features"]["bot_user"]["display_name"]


def test_manifest_requests_the_scopes_the_code_calls_for(manifest: dict[str, Any]) -> None:
    # Imported here so that a problem in the Slack delivery module fails this test only.
    from jobtriage.notify.deliver import METHOD_SCOPES

    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    needed = set().union(*METHOD_SCOPES.values())
    assert needed <= scopes, f"the manifest lacks {sorted(needed - scopes)}"


def test_manifest_lets_the_bot_post_and_update_messages(manifest: dict[str, Any]) -> None:
    assert "chat:write" in manifest["oauth_config"]["scopes"]["bot"]


def test_manifest_enables_interactivity_over_http(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    # Socket Mode would send clicks over a websocket instead of to the interactivity function.
    assert settings.get("socket_mode_enabled", False) is False
    url = settings["interactivity"].get("request_url")
    assert url is None or str(url).startswith("https://")
