"""Reconcile instead of guessing: the ledger, the real slack_sdk client and the fake Slack.

A post whose answer was lost (Slack accepted it and the answer never came back, or the instance
died before recording it) leaves an unsettled post on the claim. The next holder looks in Slack
for a message with this delivery's key in its metadata: found → recorded, nothing posted;
not found → posted; the lookup failing → one log line, posted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from jobtriage.errors import TransientError
from jobtriage.incident.ledger import (
    CLAIM_LEASE,
    LOOKUP_MARGIN,
    ClaimKind,
    Delivery,
    Ledger,
    claim_key,
)
from jobtriage.incident.store import ClaimOutcome, IncidentStore, PostedMessage
from jobtriage.notify import deliver as D
from jobtriage.notify.deliver import SlackNotifier
from jobtriage.notify.metadata import EVENT_TYPE, PostKind, PostTag
from jobtriage.notify.parts import Message
from jobtriage.settings import Settings
from standins.clock import SteppingClock
from standins.slack import TOKEN, FakeSlack

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CHANNEL = "C0123ALERTS"
EXECUTION = "namespaces/p/jobs/j/executions/j-abc12"
OTHER = "namespaces/p/jobs/j/executions/j-zzz99"
MESSAGE = Message(text="j failed: ESM/CJS mismatch", blocks=())
FAST = D.RetryPolicy(timeout_seconds=5, backoff_seconds=0.0, jitter=False)


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(START)


@pytest.fixture
def slack(clock: SteppingClock) -> Iterator[FakeSlack]:
    # message ts in the test's own time, as Slack stamps them in real time
    with FakeSlack(wall=lambda: clock.now().timestamp()) as fake:
        yield fake


@pytest.fixture
def notifier(slack: FakeSlack) -> SlackNotifier:
    settings = Settings(slack_bot_token=TOKEN, slack_channel=CHANNEL, slack_api_url=slack.base_url)
    return SlackNotifier(settings, policy=FAST)


@pytest.fixture
def ledger(store: IncidentStore, clock: SteppingClock, notifier: SlackNotifier) -> Ledger:
    return Ledger(store, clock, notifier)


def answer_lost(
    notifier: SlackNotifier, *, thread_ts: str | None = None
) -> Callable[[PostTag], str]:
    """A post Slack accepts, whose answer never reaches us (as after the client's timeout)."""

    def post(tag: PostTag) -> str:
        if thread_ts is None:
            notifier.post_alert(CHANNEL, MESSAGE, tag=tag)
        else:
            notifier.reply(CHANNEL, thread_ts, MESSAGE, tag=tag)
        raise TransientError("Slack chat.postMessage timed out")

    return post


def never_sent(tag: PostTag) -> str:
    raise TransientError("Slack chat.postMessage could not connect: ConnectionRefusedError")


def posting(notifier: SlackNotifier, *, thread_ts: str | None = None) -> Callable[[PostTag], str]:
    def post(tag: PostTag) -> str:
        if thread_ts is None:
            return notifier.post_alert(CHANNEL, MESSAGE, tag=tag)
        return notifier.reply(CHANNEL, thread_ts, MESSAGE, tag=tag)

    return post


def first_attempt(ledger: Ledger, post: Callable[[PostTag], str], **where: str) -> None:
    """A delivery whose post fails with a TransientError; it releases its claim, as the
    pipeline does, and Pub/Sub redelivers ten seconds later."""
    delivery = Delivery(ledger.claim_execution(EXECUTION))
    assert delivery.claim.outcome is ClaimOutcome.NEW
    with pytest.raises(TransientError):
        ledger.post_once(delivery, CHANNEL, post, kind=PostKind.ALERT, incident="inc1", **where)
    ledger.release(delivery)
    ledger.clock.advance(10)


def product_log(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_found_in_slack_it_is_recorded_and_not_posted_again(
    ledger: Ledger, slack: FakeSlack, notifier: SlackNotifier, store: IncidentStore
) -> None:
    first_attempt(ledger, answer_lost(notifier), execution="j-abc12")
    [accepted] = slack.messages()
    assert accepted.metadata == {
        "event_type": EVENT_TYPE,
        "event_payload": {
            "delivery": EXECUTION,
            "incident": "inc1",
            "execution": "j-abc12",
            "kind": "alert",
        },
    }

    claim = ledger.claim_execution(EXECUTION)
    assert claim.outcome is ClaimOutcome.TAKEOVER
    assert claim.unsettled is None
    assert claim.posted == PostedMessage(CHANNEL, accepted.ts)

    def must_not_post(tag: PostTag) -> str:
        raise AssertionError("posted again")

    delivery = Delivery(claim)
    assert ledger.post_once(delivery, CHANNEL, must_not_post, kind=PostKind.ALERT) == accepted.ts
    assert slack.messages() == [accepted]
    # recorded in the store: a later holder needs no lookup
    ledger.release(delivery)
    assert store.claim(EXECUTION, now=START + CLAIM_LEASE * 3, lease=CLAIM_LEASE).posted == (
        PostedMessage(CHANNEL, accepted.ts)
    )
    [lookup] = slack.calls("conversations.history")
    assert lookup.args["channel"] == CHANNEL
    assert lookup.args["include_all_metadata"] in ("1", "true")
    assert Decimal(lookup.args["oldest"]) == Decimal(f"{(START - LOOKUP_MARGIN).timestamp():.6f}")
    assert Decimal(lookup.args["latest"]) == Decimal(
        f"{(START + CLAIM_LEASE + LOOKUP_MARGIN).timestamp():.6f}"
    )


def test_not_in_slack_it_is_posted_once(
    ledger: Ledger, slack: FakeSlack, notifier: SlackNotifier
) -> None:
    # another delivery's message in the same minute must not be taken for ours
    other = Delivery(ledger.claim_execution(OTHER))
    ledger.post_once(other, CHANNEL, posting(notifier), kind=PostKind.ALERT)
    first_attempt(ledger, never_sent)

    claim = ledger.claim_execution(EXECUTION)
    assert claim.outcome is ClaimOutcome.TAKEOVER
    assert claim.posted is None
    delivery = Delivery(claim)
    ts = ledger.post_once(delivery, CHANNEL, posting(notifier), kind=PostKind.ALERT)
    mine = [m for m in slack.messages() if m.metadata["event_payload"]["delivery"] == EXECUTION]
    assert [m.ts for m in mine] == [ts]
    assert len(slack.messages()) == 2
    assert len(slack.calls("conversations.history")) == 1


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("missing_scope", "channels:history"),  # the app was not reinstalled with the scope
        ("ratelimited", "ratelimited"),  # Tier 3 used up, Retry-After too long to wait
    ],
)
def test_a_failed_lookup_says_so_in_one_line_and_posts(
    ledger: Ledger,
    slack: FakeSlack,
    notifier: SlackNotifier,
    capsys: pytest.CaptureFixture[str],
    fault: str,
    said: str,
) -> None:
    first_attempt(ledger, answer_lost(notifier))
    if fault == "missing_scope":
        slack.error("conversations.history", "missing_scope", needed="channels:history")
    else:
        slack.rate_limited("conversations.history", retry_after="30")
    capsys.readouterr()

    claim = ledger.claim_execution(EXECUTION)
    assert claim.outcome is ClaimOutcome.TAKEOVER
    assert claim.posted is None
    ledger.post_once(Delivery(claim), CHANNEL, posting(notifier), kind=PostKind.ALERT)
    assert len(slack.messages()) == 2  # shown twice rather than lost

    lines = product_log(capsys)
    about = [line for line in lines if "look in Slack" in str(line["message"])]
    assert len(about) == 1, lines
    assert about[0]["severity"] == "WARNING"
    assert said in str(about[0]["message"])
    assert about[0]["claim"] == EXECUTION
    # and no second line for the same failure from the Slack client wrapper
    assert [line for line in lines if line["severity"] != "INFO"] == about


def test_a_thread_reply_is_looked_for_in_its_thread(
    ledger: Ledger, slack: FakeSlack, notifier: SlackNotifier
) -> None:
    root = notifier.post_alert(CHANNEL, MESSAGE)
    ledger.clock.advance(5)
    first_attempt(ledger, answer_lost(notifier, thread_ts=root), thread_ts=root)
    reply = slack.messages()[-1]
    assert reply.thread_ts == root

    claim = ledger.claim_execution(EXECUTION)
    assert claim.posted == PostedMessage(CHANNEL, reply.ts, root)
    assert len(slack.messages()) == 2
    [lookup] = slack.calls("conversations.replies")
    assert lookup.args["ts"] == root
    assert slack.calls("conversations.history") == []


def test_the_lookup_reads_a_bounded_number_of_pages(
    ledger: Ledger,
    slack: FakeSlack,
    notifier: SlackNotifier,
    clock: SteppingClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(D, "LOOKUP_PAGE_SIZE", 2)
    first_attempt(ledger, answer_lost(notifier))  # ours: the oldest in the window
    for n in range(2 * D.LOOKUP_PAGES + 1):  # a busy channel after it
        clock.advance(1)
        notifier.post_alert(CHANNEL, Message(text=f"someone else {n}", blocks=()))

    claim = ledger.claim_execution(EXECUTION)
    assert claim.posted is None  # beyond the pages read: posted again, as before this lookup
    assert len(slack.calls("conversations.history")) == D.LOOKUP_PAGES
    cursors = [c.args.get("cursor") for c in slack.calls("conversations.history")]
    assert cursors[0] is None
    assert all(cursors[1:])


def test_a_digest_whose_answer_was_lost_is_found_too(
    ledger: Ledger, slack: FakeSlack, notifier: SlackNotifier, clock: SteppingClock
) -> None:
    from jobtriage.incident.ledger import DIGEST_AFTER, OPENING_LEASE

    window_start = datetime.fromtimestamp((START.timestamp() // 600) * 600 + 600, UTC)
    clock.at = window_start
    deliveries = (Delivery(ledger.claim_execution(f"{EXECUTION}-{n}")) for n in range(9))
    for _ in range(DIGEST_AFTER):
        assert ledger.digest_thread(CHANNEL, posting(notifier), delivery=next(deliveries)) is None
    with pytest.raises(TransientError):
        ledger.digest_thread(CHANNEL, answer_lost(notifier), delivery=next(deliveries))
    [digest] = slack.messages()
    assert digest.metadata["event_payload"]["kind"] == "digest"
    assert "incident" not in digest.metadata["event_payload"]  # none yet: left out, not empty

    def must_not_post(tag: PostTag) -> str:
        raise AssertionError("digest posted twice")

    # the failed digest's claim was released at once; the next new incident finds its message
    assert ledger.digest_thread(CHANNEL, must_not_post, delivery=next(deliveries)) == digest.ts
    clock.advance(max(OPENING_LEASE, CLAIM_LEASE).total_seconds() + 1)
    assert ledger.digest_thread(CHANNEL, must_not_post, delivery=next(deliveries)) == digest.ts
    window = int(window_start.timestamp() // 600)
    assert (
        claim_key(ClaimKind.DIGEST, CHANNEL, window)
        == (digest.metadata["event_payload"]["delivery"])
    )


def test_without_a_finder_an_unsettled_post_is_posted_again(
    store: IncidentStore, clock: SteppingClock, slack: FakeSlack, notifier: SlackNotifier
) -> None:
    plain = Ledger(store, clock)  # e.g. a caller that cannot read Slack
    first_attempt(plain, answer_lost(notifier))
    claim = plain.claim_execution(EXECUTION)
    assert claim.unsettled is not None
    assert claim.unsettled.started_at == START
    plain.post_once(Delivery(claim), CHANNEL, posting(notifier), kind=PostKind.ALERT)
    assert len(slack.messages()) == 2


def test_a_taken_over_delivery_does_not_post(
    ledger: Ledger, slack: FakeSlack, notifier: SlackNotifier, clock: SteppingClock
) -> None:
    slow = Delivery(ledger.claim_execution(EXECUTION))
    clock.advance(CLAIM_LEASE.total_seconds() + timedelta(seconds=1).total_seconds())
    fast = Delivery(ledger.claim_execution(EXECUTION))  # a redelivery took over meanwhile
    assert fast.claim.outcome is ClaimOutcome.TAKEOVER
    ts = ledger.post_once(fast, CHANNEL, posting(notifier), kind=PostKind.ALERT)
    with pytest.raises(TransientError, match="taken over"):
        ledger.post_once(slow, CHANNEL, posting(notifier), kind=PostKind.ALERT)
    assert [m.ts for m in slack.messages()] == [ts]
