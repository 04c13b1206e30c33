"""The shipped Slack app manifest grants exactly the scopes the notifier's Web API calls need."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from jobtriage.notify import deliver as D
from jobtriage.notify.alert import render_alert
from jobtriage.notify.deliver import SlackNotifier
from jobtriage.notify.resolve_modal import render_resolve_modal
from jobtriage.settings import Settings
from standins.slack import TOKEN, FakeSlack
from tests.notify import reports as R

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yaml"


def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_manifest_parses_and_has_the_required_parts() -> None:
    data = manifest()
    assert data["_metadata"]["major_version"] in (1, 2)
    assert data["display_information"]["name"]
    assert data["features"]["bot_user"]["display_name"] == D.BOT_NAME  # the /invite @… in our fixes
    interactivity = data["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].startswith("https://")
    assert data["settings"]["socket_mode_enabled"] is False
    assert (
        data["settings"]["token_rotation_enabled"] is False
    )  # a rotated token would expire in Secret Manager


def test_scopes_are_exactly_what_the_code_needs() -> None:
    granted = set(manifest()["oauth_config"]["scopes"]["bot"])
    needed = set().union(*D.METHOD_SCOPES.values())
    assert granted == needed, "grant what the notifier calls, and nothing more"
    assert "chat:write.public" not in granted  # the bot is invited to its channel instead


def test_every_method_the_notifier_calls_has_its_scope() -> None:
    # Record the methods really called, rather than trusting METHOD_SCOPES to be complete.
    incident = R.STATES["open"]
    message = render_alert(R.esm_report(), incident, lang="en")
    with FakeSlack() as slack:
        sender = SlackNotifier(Settings(slack_bot_token=TOKEN, slack_api_url=slack.base_url))
        ts = sender.post_alert("C1", message)
        sender.reply("C1", ts, message)
        sender.update("C1", ts, message)
        sender.post_ephemeral("C1", "U1", "hello")
        slack.usergroups["S0ONCALL"] = ["U1"]
        assert sender.usergroup_members("S0ONCALL") == frozenset({"U1"})
        sender.open_view("12345.98765.abcd2358fdea", render_resolve_modal(incident, lang="en"))
        # the lookup after a lost answer: the channel, and a thread
        window = {"oldest": datetime(2025, 1, 1, tzinfo=UTC), "latest": datetime.now(UTC)}
        assert sender.find_post("C1", "no-such-delivery", thread_ts=None, **window) is None
        assert sender.find_post("C1", "no-such-delivery", thread_ts=ts, **window) is None
        called = {call.method for call in slack.calls()}
    assert called == set(D.METHOD_SCOPES)
    granted = set(manifest()["oauth_config"]["scopes"]["bot"])
    for method in called:
        assert D.METHOD_SCOPES[method] <= granted, method
