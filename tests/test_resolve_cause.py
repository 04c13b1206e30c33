"""Resolve asks "what was it?": the click resolves and opens the modal (views.open through the real
WebClient against the fake Slack); the signed submission stores the cause and note with the
incident and redraws the parent message."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from slack_sdk.signature import SignatureVerifier

from jobtriage.clicks import process_click
from jobtriage.evidence.gather import Sources
from jobtriage.incident.decide import new_incident
from jobtriage.incident.model import Incident, State
from jobtriage.incident.store import MemoryStore
from jobtriage.notify.actions import ButtonAction, ButtonValue, encode_value
from jobtriage.notify.deliver import CLICK_POLICY, SlackNotifier
from jobtriage.notify.resolve_modal import CALLBACK_ID
from jobtriage.runtime import Runtime
from jobtriage.settings import Settings
from standins.slack import TOKEN, FakeSlack

SECRET = "resolve-test-signing-secret"
CHANNEL = "C0CLICKS"
JOB = "projects/p-123456/locations/us-central1/jobs/migrate"
TRIGGER = "12345.98765.abcd2358fdea"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _runtime(
    slack: FakeSlack, store: MemoryStore, allowed: frozenset[str] = frozenset()
) -> Runtime:
    settings = Settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_channel=CHANNEL,
        slack_api_url=slack.base_url,
        slack_allowed_users=allowed,
        incident_store="memory",
    )
    return Runtime(
        settings=settings,
        sources=Sources(run=None, logs=None),
        store=store,
        notifier=SlackNotifier(settings, policy=CLICK_POLICY),
    )


def _store() -> tuple[MemoryStore, Incident]:
    store = MemoryStore()
    incident = replace(
        new_incident(
            job_path=JOB,
            fingerprint="secret_config:NOT_FOUND",
            execution="migrate-abcde",
            now=datetime.now(UTC) - timedelta(minutes=14),
        ),
        channel=CHANNEL,
        ts="1764234000.000001",
        causes=("secret_config", "db_connection", "unknown"),
        parent_blocks_json="[]",
    )
    assert store.create(incident)
    return store, incident


def _signed(payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = ("payload=" + quote(json.dumps(payload))).encode()
    ts = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return body, {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def _resolve_click(incident: Incident, *, trigger: str | None = TRIGGER) -> Any:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U0ALICE", "username": "alice"},
        "channel": {"id": CHANNEL},
        "message": {"ts": incident.ts},
        "actions": [
            {
                "type": "button",
                "action_id": str(ButtonAction.RESOLVE),
                "value": encode_value(ButtonValue(ButtonAction.RESOLVE, incident.id)),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if trigger is not None:
        payload["trigger_id"] = trigger
    return _signed(payload)


def _submission(view: dict[str, Any], cause: str | None, note: str | None, user: str) -> Any:
    values: dict[str, Any] = {"jt:note": {"note": {"type": "plain_text_input", "value": note}}}
    if cause is not None:
        values["jt:cause"] = {
            "cause": {"type": "radio_buttons", "selected_option": {"value": cause}}
        }
    payload = {
        "type": "view_submission",
        "user": {"id": user, "username": "alice"},
        "trigger_id": "22222.33333.abcdef",
        "view": view | {"id": "V0001", "state": {"values": values}},
    }
    return _signed(payload)


def test_resolve_opens_the_modal_and_the_answer_is_stored(slack: FakeSlack) -> None:
    store, incident = _store()
    rt = _runtime(slack, store)
    assert process_click(*_resolve_click(incident), rt).status == 200
    assert store.get(incident.id).state is State.RESOLVED  # type: ignore[union-attr]
    ((trigger, view),) = slack.views
    assert trigger == TRIGGER
    assert view["callback_id"] == CALLBACK_ID
    offered = [o["value"] for o in view["blocks"][1]["element"]["options"]]
    assert offered == ["secret_config", "db_connection", "unknown", "other"]

    note = "pinned secret version 6; old one was postgres://app:Sup3rS3cret@db/app"
    answer = process_click(*_submission(view, "secret_config", note, "U0ALICE"), rt)
    assert (answer.status, answer.body) == (200, "")  # an empty 200 closes the modal
    stored = store.get(incident.id)
    assert stored is not None
    assert (stored.confirmed_cause, stored.confirmed_by) == ("secret_config", "U0ALICE")
    assert stored.resolution_note is not None
    assert stored.resolution_note.startswith("pinned secret version 6")
    assert "Sup3rS3cret" not in stored.resolution_note  # the store scrubs what it writes
    shown = json.dumps(slack.calls("chat.update")[-1].args["blocks"])
    assert "confirmed: `secret_config`" in shown

    # The same submission again (Slack retries): nothing changes.
    process_click(*_submission(view, "secret_config", note, "U0ALICE"), rt)
    assert store.get(incident.id) == stored


def test_no_pick_keeps_the_modal_open(slack: FakeSlack) -> None:
    store, incident = _store()
    rt = _runtime(slack, store)
    process_click(*_resolve_click(incident), rt)
    ((_, view),) = slack.views
    answer = process_click(*_submission(view, None, "x", "U0ALICE"), rt)
    assert answer.status == 200
    assert json.loads(answer.body)["response_action"] == "errors"
    assert store.get(incident.id).confirmed_cause is None  # type: ignore[union-attr]


def test_a_click_without_trigger_still_resolves_and_an_outsider_cannot_answer(
    slack: FakeSlack,
) -> None:
    store, incident = _store()
    rt = _runtime(slack, store, allowed=frozenset({"U0ALICE"}))
    assert process_click(*_resolve_click(incident, trigger=None), rt).status == 200
    assert store.get(incident.id).state is State.RESOLVED  # type: ignore[union-attr]
    assert slack.views == []
    from jobtriage.notify.resolve_modal import render_resolve_modal

    view = render_resolve_modal(store.get(incident.id), lang="en")  # type: ignore[arg-type]
    answer = process_click(*_submission(view, "db_connection", None, "U0MALLORY"), rt)
    assert answer.status == 403
    assert store.get(incident.id).confirmed_cause is None  # type: ignore[union-attr]


def test_an_expired_trigger_leaves_the_incident_resolved(slack: FakeSlack) -> None:
    store, incident = _store()
    rt = _runtime(slack, store)
    slack.error("views.open", "expired_trigger_id")
    assert process_click(*_resolve_click(incident), rt).status == 200
    assert store.get(incident.id).state is State.RESOLVED  # type: ignore[union-attr]
