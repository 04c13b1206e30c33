"""Message metadata through the real slack_sdk client: what we send with every post, and the fake
Slack's conversations.history / conversations.replies answering as Slack does (metadata only on
request, oldest/latest, limit, cursors the SDK itself can follow)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from jobtriage.errors import PermanentError
from jobtriage.notify import deliver as D
from jobtriage.notify.deliver import SlackNotifier
from jobtriage.notify.metadata import EVENT_TYPE, PostKind, PostTag, tagged_ts
from jobtriage.notify.parts import Message
from jobtriage.settings import Settings
from standins.clock import SteppingClock
from standins.slack import TOKEN, FakeSlack

CHANNEL = "C0123ALERTS"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FAST = D.RetryPolicy(timeout_seconds=5, backoff_seconds=0.0, jitter=False)
KEY = "namespaces/p/jobs/j/executions/j-abc12"


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(START)


@pytest.fixture
def slack(clock: SteppingClock) -> Iterator[FakeSlack]:
    with FakeSlack(wall=lambda: clock.now().timestamp()) as fake:
        yield fake


@pytest.fixture
def notifier(slack: FakeSlack) -> SlackNotifier:
    settings = Settings(slack_bot_token=TOKEN, slack_channel=CHANNEL, slack_api_url=slack.base_url)
    return SlackNotifier(settings, policy=FAST)


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.base_url)


def text(n: int) -> Message:
    return Message(text=f"message {n}", blocks=())


def test_every_post_carries_its_tag_as_metadata(slack: FakeSlack, notifier: SlackNotifier) -> None:
    tag = PostTag(KEY, PostKind.ALERT, incident="inc1", execution="j-abc12")
    root = notifier.post_alert(CHANNEL, text(1), tag=tag)
    notifier.reply(CHANNEL, root, text(2), tag=PostTag(KEY, PostKind.REPLY), broadcast=True)
    notifier.post_alert(CHANNEL, text(3))  # untagged: no metadata sent at all
    [call, reply, plain] = slack.calls("chat.postMessage")
    assert call.args["metadata"] == {
        "event_type": EVENT_TYPE,
        "event_payload": {
            "delivery": KEY,
            "incident": "inc1",
            "execution": "j-abc12",
            "kind": "alert",
        },
    }
    assert reply.args["metadata"]["event_payload"]["kind"] == "reply"
    assert "metadata" not in plain.args


def test_a_malformed_metadata_is_refused_like_slack_does(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel=CHANNEL, text="x", metadata={"event_type": "t"})
    assert refused.value.response["error"] == "invalid_metadata_format"
    error = D.classify(refused.value, method="chat.postMessage", channel=CHANNEL)
    assert isinstance(error, PermanentError)  # our bug, not worth a redelivery


def test_history_shows_metadata_only_when_asked(client: WebClient, notifier: SlackNotifier) -> None:
    ts = notifier.post_alert(CHANNEL, text(1), tag=PostTag(KEY, PostKind.ALERT))
    bare = client.conversations_history(channel=CHANNEL)["messages"]
    assert [m["ts"] for m in bare] == [ts]
    assert "metadata" not in bare[0]
    full = client.conversations_history(channel=CHANNEL, include_all_metadata=True)["messages"]
    assert full[0]["metadata"]["event_payload"]["delivery"] == KEY
    assert tagged_ts(full, KEY) == ts
    assert tagged_ts(full, KEY + "-other") is None
    assert tagged_ts(bare, KEY) is None


def test_history_is_the_channel_newest_first_and_replies_the_thread_oldest_first(
    client: WebClient, notifier: SlackNotifier, clock: SteppingClock
) -> None:
    root = notifier.post_alert(CHANNEL, text(1))
    clock.advance(1)
    quiet = notifier.reply(CHANNEL, root, text(2))
    clock.advance(1)
    loud = notifier.reply(CHANNEL, root, text(3), broadcast=True)
    clock.advance(1)
    later = notifier.post_alert(CHANNEL, text(4))
    notifier.post_alert("C0OTHER", text(5))
    history = client.conversations_history(channel=CHANNEL)
    # a thread reply is in the channel only when broadcast
    assert [m["ts"] for m in history["messages"]] == [later, loud, root]
    assert history["messages"][1]["subtype"] == "thread_broadcast"
    replies = client.conversations_replies(channel=CHANNEL, ts=root)
    assert [m["ts"] for m in replies["messages"]] == [root, quiet, loud]
    assert replies["messages"][0]["reply_count"] == 2
    with pytest.raises(SlackApiError, match="thread_not_found"):
        client.conversations_replies(channel=CHANNEL, ts="1.000001")


def test_oldest_and_latest_bound_the_window(
    client: WebClient, notifier: SlackNotifier, clock: SteppingClock
) -> None:
    stamps = []
    for n in range(5):
        stamps.append(notifier.post_alert(CHANNEL, text(n)))
        clock.advance(10)

    def window(**kw: Any) -> list[str]:
        return [m["ts"] for m in client.conversations_history(channel=CHANNEL, **kw)["messages"]]

    assert window(oldest=stamps[1], latest=stamps[3]) == [stamps[2]]  # exclusive
    assert window(oldest=stamps[1], latest=stamps[3], inclusive=True) == stamps[3:0:-1]
    assert window(oldest=stamps[3]) == [stamps[4]]
    with pytest.raises(SlackApiError, match="invalid_ts_oldest"):
        window(oldest="yesterday")


def test_pages_follow_the_cursor_as_the_sdk_does(
    client: WebClient, notifier: SlackNotifier, clock: SteppingClock
) -> None:
    stamps = []
    for n in range(7):
        stamps.append(notifier.post_alert(CHANNEL, text(n)))
        clock.advance(1)
    pages = [  # the SDK's own iterator, which follows response_metadata.next_cursor
        ([m["ts"] for m in page["messages"]], page["has_more"])
        for page in client.conversations_history(channel=CHANNEL, limit=3)
    ]
    assert [len(seen) for seen, _ in pages] == [3, 3, 1]
    assert [more for _, more in pages] == [True, True, False]
    assert [ts for seen, _ in pages for ts in seen] == stamps[::-1]
    with pytest.raises(SlackApiError, match="invalid_cursor"):
        client.conversations_history(channel=CHANNEL, cursor="bm9wZQ==")


def test_an_edit_keeps_the_metadata(client: WebClient, notifier: SlackNotifier) -> None:
    ts = notifier.post_alert(CHANNEL, text(1), tag=PostTag(KEY, PostKind.ALERT))
    notifier.update(CHANNEL, ts, text(2))
    [shown] = client.conversations_history(channel=CHANNEL, include_all_metadata=True)["messages"]
    assert shown["text"] == "message 2"
    assert shown["metadata"]["event_payload"]["delivery"] == KEY


def test_find_post_finds_ours_in_its_window(
    notifier: SlackNotifier, clock: SteppingClock, slack: FakeSlack
) -> None:
    started = clock.now()
    ts = notifier.post_alert(CHANNEL, text(1), tag=PostTag(KEY, PostKind.ALERT))
    clock.advance(5)
    notifier.post_alert(CHANNEL, text(2), tag=PostTag(KEY + "x", PostKind.ALERT))
    around = {"oldest": started - timedelta(seconds=10), "latest": started + timedelta(minutes=1)}
    assert notifier.find_post(CHANNEL, KEY, thread_ts=None, **around) == ts
    assert notifier.find_post(CHANNEL, "someone-else", thread_ts=None, **around) is None
    before = {"oldest": started - timedelta(minutes=2), "latest": started - timedelta(minutes=1)}
    assert notifier.find_post(CHANNEL, KEY, thread_ts=None, **before) is None
    slack.error("conversations.history", "not_in_channel")
    with pytest.raises(PermanentError, match="not_in_channel"):
        notifier.find_post(CHANNEL, KEY, thread_ts=None, **around)
