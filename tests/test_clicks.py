"""Clicks through `clicks.process_click`: replays change nothing, the allow-list is enforced,
and every decision leaves an audit line."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from slack_sdk.signature import SignatureVerifier

from jobtriage.app import LogNotifier
from jobtriage.clicks import process_click
from jobtriage.evidence.gather import Sources
from jobtriage.incident.decide import new_incident
from jobtriage.incident.model import State
from jobtriage.incident.store import MemoryStore
from jobtriage.notify.actions import ButtonAction, ButtonValue, Snooze, encode_value
from jobtriage.runtime import Runtime
from jobtriage.settings import Settings

SECRET = "click-test-signing-secret"
CHANNEL = "C0CLICKS"


def _runtime(store: MemoryStore, *, allowed: frozenset[str] = frozenset()) -> Runtime:
    settings = Settings(
        slack_signing_secret=SECRET,
        slack_channel=CHANNEL,
        slack_allowed_users=allowed,
        incident_store="memory",
    )
    return Runtime(
        settings=settings,
        sources=Sources(run=None, logs=None),
        store=store,
        notifier=LogNotifier(),
    )


def _request(value: str, action: ButtonAction, *, user: str = "U0ONCALL", action_ts: str) -> Any:
    element: dict[str, Any] = {"action_id": str(action), "action_ts": action_ts}
    if action is ButtonAction.SNOOZE:
        element |= {"type": "static_select", "selected_option": {"value": value}}
    else:
        element |= {"type": "button", "value": value}
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "minji", "name": "minji"},
        "container": {"type": "message", "message_ts": "1764234000.000001", "channel_id": CHANNEL},
        "channel": {"id": CHANNEL},
        "message": {"ts": "1764234000.000001"},
        "actions": [element],
    }
    body = ("payload=" + quote(json.dumps(payload))).encode()
    ts = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }
    return body, headers


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    incident = new_incident(
        job_path="projects/p-123456/locations/us-central1/jobs/migrate",
        fingerprint="db_connection:ECONNREFUSED",
        execution="migrate-abcde",
        now=datetime.now(UTC) - timedelta(minutes=3),
    )
    assert s.create(incident)
    return s


def _only(store: MemoryStore) -> Any:
    (incident,) = store.open_incidents("projects/p-123456/locations/us-central1/jobs/migrate")
    return incident


def test_a_replayed_snooze_changes_nothing(store: MemoryStore) -> None:
    rt = _runtime(store)
    incident = _only(store)
    value = encode_value(ButtonValue(ButtonAction.SNOOZE, incident.id, Snooze.HOUR))
    clicked = f"{time.time() - 20:.6f}"
    body, headers = _request(value, ButtonAction.SNOOZE, action_ts=clicked)
    assert process_click(body, headers, rt).status == 200
    first = store.get(incident.id)
    assert first is not None
    assert first.state is State.SNOOZED
    expected_end = datetime.fromtimestamp(float(clicked), UTC) + timedelta(hours=1)
    assert first.snoozed_until == expected_end  # the click's own time, not when it arrived

    body, headers = _request(value, ButtonAction.SNOOZE, action_ts=clicked)  # the same click again
    assert process_click(body, headers, rt).status == 200
    again = store.get(incident.id)
    assert again is not None
    assert again.version == first.version
    assert again.snoozed_until == first.snoozed_until


def test_someone_not_on_the_allow_list_is_told_and_nothing_changes(
    store: MemoryStore, capsys: pytest.CaptureFixture[str]
) -> None:
    rt = _runtime(store, allowed=frozenset({"U0LEAD"}))
    incident = _only(store)
    value = encode_value(ButtonValue(ButtonAction.ACKNOWLEDGE, incident.id))
    body, headers = _request(value, ButtonAction.ACKNOWLEDGE, user="U0INTRUDER", action_ts="1.0")
    assert process_click(body, headers, rt).status == 200
    assert _only(store).state is State.OPEN
    notifier = rt.notifier
    assert isinstance(notifier, LogNotifier)
    assert [kind for kind, _, _ in notifier.sent] == ["ephemeral"]
    audit = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"audit"' in x]
    assert audit[-1]["user"] == "U0INTRUDER"
    assert audit[-1]["result"] == "forbidden"


def test_acknowledge_is_audited_with_who_what_which(
    store: MemoryStore, capsys: pytest.CaptureFixture[str]
) -> None:
    rt = _runtime(store)
    incident = _only(store)
    value = encode_value(ButtonValue(ButtonAction.ACKNOWLEDGE, incident.id))
    body, headers = _request(value, ButtonAction.ACKNOWLEDGE, action_ts=f"{time.time():.6f}")
    assert process_click(body, headers, rt).status == 200
    assert _only(store).acked_by == "U0ONCALL"
    audit = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"audit"' in x]
    assert audit[-1]["user"] == "U0ONCALL"
    assert audit[-1]["action"] == str(ButtonAction.ACKNOWLEDGE)
    assert audit[-1]["incident"] == incident.id
    assert audit[-1]["result"].startswith("applied")


def _slack_runtime(store: MemoryStore, slack: Any, group: str) -> Runtime:
    from jobtriage.notify.deliver import CLICK_POLICY, SlackNotifier
    from standins.slack import TOKEN

    settings = Settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_channel=CHANNEL,
        slack_api_url=slack.base_url,
        slack_allowed_users=frozenset({"U0LEAD"}),
        slack_allowed_usergroup=group,
        incident_store="memory",
    )
    return Runtime(
        settings=settings,
        sources=Sources(run=None, logs=None),
        store=store,
        notifier=SlackNotifier(settings, policy=CLICK_POLICY),
    )


def test_members_of_the_allow_list_group_may_click_others_may_not(store: MemoryStore) -> None:
    from standins.slack import FakeSlack

    incident = _only(store)
    value = encode_value(ButtonValue(ButtonAction.ACKNOWLEDGE, incident.id))
    with FakeSlack() as slack:
        slack.usergroups["S0ONCALL"] = ["U0MEMBER"]
        rt = _slack_runtime(store, slack, "S0ONCALL")
        body, headers = _request(
            value, ButtonAction.ACKNOWLEDGE, user="U0STRANGER", action_ts="1.0"
        )
        assert process_click(body, headers, rt).status == 200
        assert _only(store).state is State.OPEN
        assert [c.method for c in slack.calls()][-1] == "chat.postEphemeral"

        body, headers = _request(value, ButtonAction.ACKNOWLEDGE, user="U0MEMBER", action_ts="1.0")
        assert process_click(body, headers, rt).status == 200
        assert _only(store).acked_by == "U0MEMBER"
        # the members were read once and then cached
        assert len(slack.calls("usergroups.users.list")) == 1


def test_an_unreadable_group_refuses_rather_than_lets_everyone_in(store: MemoryStore) -> None:
    from standins.slack import FakeSlack

    incident = _only(store)
    value = encode_value(ButtonValue(ButtonAction.RESOLVE, incident.id))
    with FakeSlack() as slack:  # no such group: Slack answers no_such_subteam
        rt = _slack_runtime(store, slack, "S0GONE")
        body, headers = _request(value, ButtonAction.RESOLVE, user="U0ANYONE", action_ts="1.0")
        assert process_click(body, headers, rt).status == 200
        assert _only(store).state is State.OPEN
        ephemeral = slack.calls("chat.postEphemeral")
        assert len(ephemeral) == 1
        assert "Could not check" in ephemeral[0].args["text"]


def test_a_click_older_than_the_last_one_applied_changes_nothing(store: MemoryStore) -> None:
    """Acknowledge (captured), then someone's Snooze, then the captured Acknowledge again within
    Slack's 5-minute window: the incident stays snoozed, and the clicker is told why."""
    rt = _runtime(store)
    incident = _only(store)
    ack = encode_value(ButtonValue(ButtonAction.ACKNOWLEDGE, incident.id))
    snooze = encode_value(ButtonValue(ButtonAction.SNOOZE, incident.id, Snooze.HOUR))
    t0 = time.time() - 60
    captured = _request(ack, ButtonAction.ACKNOWLEDGE, action_ts=f"{t0:.6f}")
    assert process_click(*captured, rt).status == 200
    later = _request(snooze, ButtonAction.SNOOZE, user="U0OTHER", action_ts=f"{t0 + 30:.6f}")
    assert process_click(*later, rt).status == 200
    snoozed = store.get(incident.id)
    assert snoozed is not None
    assert snoozed.state is State.SNOOZED

    replayed = _request(ack, ButtonAction.ACKNOWLEDGE, action_ts=f"{t0:.6f}")
    assert process_click(*replayed, rt).status == 200
    final = store.get(incident.id)
    assert final is not None
    assert final.state is State.SNOOZED
    assert final.version == snoozed.version
    notifier = rt.notifier
    assert isinstance(notifier, LogNotifier)
    kind, _, text = notifier.sent[-1]
    assert kind == "ephemeral"
    assert "Not applied" in str(text)


def test_clicks_in_order_all_apply(store: MemoryStore) -> None:
    rt = _runtime(store)
    incident = _only(store)
    t0 = time.time() - 60
    snooze = encode_value(ButtonValue(ButtonAction.SNOOZE, incident.id, Snooze.HOUR))
    ack = encode_value(ButtonValue(ButtonAction.ACKNOWLEDGE, incident.id))
    snoozed = process_click(*_request(snooze, ButtonAction.SNOOZE, action_ts=f"{t0:.6f}"), rt)
    assert snoozed.status == 200
    acked_ts = f"{t0 + 5:.6f}"
    acked = process_click(*_request(ack, ButtonAction.ACKNOWLEDGE, action_ts=acked_ts), rt)
    assert acked.status == 200
    final = store.get(incident.id)
    assert final is not None
    assert final.state is State.ACKNOWLEDGED
    assert final.last_click_at == datetime.fromtimestamp(float(acked_ts), UTC)
