"""Delivery with the real slack_sdk WebClient against a fake Slack Web API on 127.0.0.1:
retries as Slack asks (Retry-After), bounded; failures classified once, with what to fix."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from jobtriage.errors import PermanentError, TransientError
from jobtriage.notify import deliver as D
from jobtriage.notify.alert import render_alert
from jobtriage.notify.deliver import SlackNotifier
from jobtriage.notify.parts import Message
from jobtriage.notify.state import render_state_update
from jobtriage.settings import Settings
from standins.server import Reply
from standins.slack import TOKEN, FakeSlack
from tests.notify import reports as R
from tests.notify.test_limits import huge_report

CHANNEL = "C0123ALERTS"
# No waiting between retries in tests: we count requests, never time.
FAST = D.RetryPolicy(timeout_seconds=5, backoff_seconds=0.0, jitter=False)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def notifier(slack: FakeSlack, policy: D.RetryPolicy = FAST, token: str = TOKEN) -> SlackNotifier:
    settings = Settings(slack_bot_token=token, slack_channel=CHANNEL, slack_api_url=slack.base_url)
    return SlackNotifier(settings, policy=policy)


def alert() -> Message:
    return render_alert(R.esm_report(), R.STATES["open"], lang="en")


# ---- success -----------------------------------------------------------------------------------


def test_post_alert_returns_ts_and_sends_what_slack_needs(slack: FakeSlack) -> None:
    message = alert()
    ts = notifier(slack).post_alert(CHANNEL, message)
    assert ts == "1764234000.000001"
    [call] = slack.calls("chat.postMessage")
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.args["channel"] == CHANNEL
    assert call.args["text"] == message.text
    assert call.args["blocks"] == message.payload()["blocks"]
    assert call.args["unfurl_links"] is False
    assert call.args["unfurl_media"] is False
    # nothing that makes Slack parse text as if a person typed it
    assert "parse" not in call.args
    assert "link_names" not in call.args


def test_reply_goes_to_the_thread(slack: FakeSlack) -> None:
    ts = notifier(slack).reply(CHANNEL, "1764234000.000001", alert(), broadcast=True)
    assert ts
    [call] = slack.calls("chat.postMessage")
    assert call.args["thread_ts"] == "1764234000.000001"
    assert call.args["reply_broadcast"] is True


def test_update_replaces_blocks_and_text(slack: FakeSlack) -> None:
    update = render_state_update(alert().blocks, R.STATES["acknowledged"], lang="en")
    notifier(slack).update(CHANNEL, "1764234000.000001", update)
    [call] = slack.calls("chat.update")
    assert call.args["ts"] == "1764234000.000001"
    assert call.args["blocks"] == update.payload()["blocks"]
    assert call.args["text"] == update.text


def test_post_ephemeral(slack: FakeSlack) -> None:
    notifier(slack).post_ephemeral(CHANNEL, "U024BE7LH", "Only on-call may resolve this.")
    [call] = slack.calls("chat.postEphemeral")
    assert call.args["user"] == "U024BE7LH"
    assert call.args["text"]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_message_at_the_size_limits_is_accepted(slack: FakeSlack, lang: str) -> None:
    # the fake refuses what Slack refuses (50 blocks, 3000-char sections, ~12k of text)
    message = render_alert(huge_report(line="<"), R.STATES["open"], lang=lang)  # type: ignore[arg-type]
    assert notifier(slack).post_alert(CHANNEL, message)


def test_injected_client_is_used(slack: FakeSlack) -> None:
    client = WebClient(token=TOKEN, base_url=slack.base_url)
    settings = Settings(slack_bot_token=None, slack_api_url="http://127.0.0.1:9/api/")
    assert SlackNotifier(settings, client=client).post_alert(CHANNEL, alert())
    assert len(slack.calls()) == 1


def test_client_is_built_lazily_and_needs_a_token(slack: FakeSlack) -> None:
    sender = SlackNotifier(Settings(slack_api_url=slack.base_url))  # no token: no error yet
    with pytest.raises(PermanentError) as info:
        sender.post_alert(CHANNEL, alert())
    assert "SLACK_BOT_TOKEN" in info.value.fix
    assert slack.calls() == []


# ---- retries -----------------------------------------------------------------------------------


def test_rate_limit_is_retried_after_retry_after(slack: FakeSlack) -> None:
    slack.rate_limited("chat.postMessage", retry_after="0", times=2)
    assert notifier(slack).post_alert(CHANNEL, alert())
    assert len(slack.calls("chat.postMessage")) == 3


def test_rate_limit_that_persists_becomes_transient(slack: FakeSlack) -> None:
    slack.rate_limited("chat.postMessage", retry_after="0", times=10)
    with pytest.raises(TransientError, match="ratelimited"):
        notifier(slack).post_alert(CHANNEL, alert())
    assert len(slack.calls("chat.postMessage")) == 1 + FAST.rate_limit_retries


def test_retry_after_beyond_the_budget_is_not_waited_for(slack: FakeSlack) -> None:
    slack.rate_limited("chat.postMessage", retry_after="120")
    with pytest.raises(TransientError, match="Retry-After 120"):
        notifier(slack).post_alert(CHANNEL, alert())
    assert len(slack.calls("chat.postMessage")) == 1


def test_malformed_retry_after_is_not_retried(slack: FakeSlack) -> None:
    slack.rate_limited("chat.postMessage", retry_after="Wed, 21 Oct 2026 07:28:00 GMT")
    with pytest.raises(TransientError):
        notifier(slack).post_alert(CHANNEL, alert())
    assert len(slack.calls("chat.postMessage")) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_then_transient(slack: FakeSlack, status: int) -> None:
    slack.server_error("chat.postMessage", status=status, times=10)
    with pytest.raises(TransientError, match=f"HTTP {status}"):
        notifier(slack).post_alert(CHANNEL, alert())
    assert len(slack.calls("chat.postMessage")) == 1 + FAST.server_error_retries


def test_one_server_error_then_success(slack: FakeSlack) -> None:
    slack.server_error("chat.postMessage", status=503)
    assert notifier(slack).post_alert(CHANNEL, alert()) == "1764234000.000001"
    assert len(slack.calls("chat.postMessage")) == 2


@pytest.mark.parametrize(
    "code", ["internal_error", "fatal_error", "service_unavailable", "request_timeout"]
)
def test_slack_side_error_codes_are_transient(slack: FakeSlack, code: str) -> None:
    slack.error("chat.postMessage", code)
    with pytest.raises(TransientError, match=code):
        notifier(slack).post_alert(CHANNEL, alert())


def test_click_policy_does_not_retry(slack: FakeSlack) -> None:
    slack.rate_limited("chat.update", retry_after="0", times=3)
    with pytest.raises(TransientError):
        notifier(slack, D.CLICK_POLICY).update(CHANNEL, "1.2", alert())
    assert len(slack.calls("chat.update")) == 1


def test_read_timeout_is_transient_and_not_retried(slack: FakeSlack) -> None:
    # the message may have been posted: a second attempt could show the alert twice
    slack.slow("chat.postMessage", seconds=3)
    policy = D.RetryPolicy(timeout_seconds=1, backoff_seconds=0.0, jitter=False)
    with pytest.raises(TransientError, match="timed out"):
        notifier(slack, policy).post_alert(CHANNEL, alert())
    assert len(slack.calls("chat.postMessage")) == 1


def test_connection_refused_is_retried_then_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(slack_bot_token=TOKEN, slack_api_url=f"http://127.0.0.1:{port}/api/")
    with pytest.raises(TransientError, match="could not connect"):
        SlackNotifier(settings, policy=FAST).post_alert(CHANNEL, alert())


def test_policies_fit_their_budgets() -> None:
    assert D.ALERT_POLICY.worst_case_seconds <= D.ALERT_BUDGET_SECONDS
    assert D.CLICK_POLICY.worst_case_seconds <= D.CLICK_BUDGET_SECONDS
    # and the bound is a real bound: more retries or longer timeouts grow it
    assert D.RetryPolicy(timeout_seconds=30).worst_case_seconds > D.ALERT_BUDGET_SECONDS


# ---- permanent failures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        ("channel_not_found", "SLACK_CHANNEL"),
        ("not_in_channel", f"/invite @{D.BOT_NAME}"),
        ("is_archived", "archived"),
        ("invalid_auth", "Bot User OAuth Token"),
        ("not_authed", "SLACK_BOT_TOKEN"),
        ("account_inactive", "reinstall"),
        ("token_revoked", "reinstall"),
        ("no_permission", "admin"),
        ("invalid_blocks", "bug in jobtriage.notify (the message renderers)"),
        ("msg_too_long", "bug in jobtriage.notify (the message renderers)"),
        ("msg_blocks_too_long", "bug in jobtriage.notify (the message renderers)"),
        ("some_future_error", "some_future_error"),
    ],
)
def test_permanent_errors_say_what_to_fix(slack: FakeSlack, code: str, fix: str) -> None:
    slack.error("chat.postMessage", code)
    with pytest.raises(PermanentError) as info:
        notifier(slack).post_alert(CHANNEL, alert())
    assert code in str(info.value)
    assert fix in info.value.fix
    assert len(slack.calls("chat.postMessage")) == 1  # never retried


def test_not_in_channel_names_the_channel(slack: FakeSlack) -> None:
    slack.error("chat.postMessage", "not_in_channel")
    with pytest.raises(PermanentError) as info:
        notifier(slack).post_alert(CHANNEL, alert())
    assert info.value.fix == f"invite the bot to {CHANNEL}: /invite @{D.BOT_NAME}"


def test_missing_scope_names_the_scope(slack: FakeSlack) -> None:
    slack.error("chat.postMessage", "missing_scope", needed="chat:write", provided="users:read")
    with pytest.raises(PermanentError) as info:
        notifier(slack).post_alert(CHANNEL, alert())
    assert "chat:write" in info.value.fix
    assert "slack-app-manifest.yaml" in info.value.fix


def test_invalid_blocks_details_are_kept(slack: FakeSlack) -> None:
    slack.error(
        "chat.postMessage",
        "invalid_blocks",
        errors=["must be less than 3001 characters [json-pointer:/blocks/2/text/text]"],
    )
    with pytest.raises(PermanentError, match="json-pointer:/blocks/2/text/text"):
        notifier(slack).post_alert(CHANNEL, alert())


def test_wrong_token_against_the_fake_is_permanent(slack: FakeSlack) -> None:
    with pytest.raises(PermanentError, match="invalid_auth"):
        notifier(slack, token="xoxb-wrong-token-0000").post_alert(CHANNEL, alert())


def test_update_of_a_deleted_message_is_permanent(slack: FakeSlack) -> None:
    slack.error("chat.update", "message_not_found")
    with pytest.raises(PermanentError, match="message_not_found"):
        notifier(slack).update(CHANNEL, "1.2", alert())


def test_ok_without_ts_is_permanent_not_reposted(slack: FakeSlack) -> None:
    slack.script("chat.postMessage", Reply(200, {"ok": True}))
    with pytest.raises(PermanentError, match="without a message ts"):
        notifier(slack).post_alert(CHANNEL, alert())
    assert len(slack.calls("chat.postMessage")) == 1


def test_token_never_appears_in_errors_or_logs(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slack.error("chat.postMessage", "channel_not_found")
    slack.server_error("chat.update", times=10)
    sender = notifier(slack)
    with pytest.raises(PermanentError) as permanent:
        sender.post_alert(CHANNEL, alert())
    with pytest.raises(TransientError) as transient:
        sender.update(CHANNEL, "1.2", alert())
    for error in (permanent.value, transient.value):
        assert TOKEN not in str(error)
        assert TOKEN not in getattr(error, "fix", "")
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def test_classify_unexpected_exceptions() -> None:
    assert isinstance(D.classify(TimeoutError(), method="chat.update"), TransientError)
    assert isinstance(D.classify(ConnectionResetError(), method="chat.update"), TransientError)
    assert isinstance(D.classify(RuntimeError("?"), method="chat.update"), TransientError)
