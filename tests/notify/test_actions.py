"""Clicks: values decoded strictly, requests proven to come from Slack, payloads parsed into a typed
ClickRequest — and every refusal is a typed error with the HTTP status the endpoint answers."""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier

from jobtriage.notify import actions as A
from jobtriage.notify.actions import (
    BadRequest,
    BadSignature,
    BadValue,
    ButtonAction,
    ButtonValue,
    MalformedPayload,
    MissingSignature,
    Snooze,
    StaleRequest,
    Unauthorized,
    UnknownAction,
    UnsupportedVersion,
    decode_value,
    encode_value,
    parse_block_actions,
    verify_request,
)
from jobtriage.notify.alert import render_alert
from jobtriage.settings import ConfigError
from standins.clock import SteppingClock
from tests.notify import reports as R

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_764_234_000


def FixedClock(now: float) -> SteppingClock:
    return SteppingClock(datetime.fromtimestamp(now, UTC))


def sign(body: bytes, *, secret: str = SECRET, timestamp: int = NOW) -> dict[str, str]:
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


# ---- values -------------------------------------------------------------------------------------

incident_ids = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)


@st.composite
def button_values(draw: st.DrawFn) -> ButtonValue:
    action = draw(st.sampled_from(list(ButtonAction)))
    snooze = draw(st.sampled_from(list(Snooze))) if action is ButtonAction.SNOOZE else None
    return ButtonValue(action=action, incident_id=draw(incident_ids), snooze=snooze)


@given(button_values())
def test_value_round_trip(value: ButtonValue) -> None:
    raw = encode_value(value)
    assert len(raw) <= A.MAX_VALUE_CHARS
    assert decode_value(raw) == value


def test_value_format_is_stable() -> None:
    # Messages already in Slack carry these; changing the format needs a new version.
    assert encode_value(ButtonValue(ButtonAction.ACKNOWLEDGE, "abc")) == "v1|ack|abc"
    assert encode_value(ButtonValue(ButtonAction.SNOOZE, "abc", Snooze.DAY)) == "v1|snooze|abc|24h"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", BadValue),
        ("v2|ack|abc", UnsupportedVersion),
        ("v0|ack|abc", UnsupportedVersion),
        ("ack|abc", BadValue),
        ("V1|ack|abc", BadValue),
        ("v1|ack", BadValue),
        ("v1|ack|abc|1h", BadValue),
        ("v1|resolve|abc|", BadValue),
        ("v1|snooze|abc", BadValue),
        ("v1|snooze|abc|2h", BadValue),
        ("v1|nuke|abc", BadValue),
        ("v1|jobtriage_ack|abc", BadValue),
        ("v1|ack|ab c", BadValue),
        ("v1|ack|../../etc", BadValue),
        ("v1|ack|" + "a" * 65, BadValue),
        ("v1|ack|" + "a" * 200, BadValue),
        ('{"v":1,"a":"ack"}', BadValue),
    ],
)
def test_value_rejected_strictly(raw: str, error: type[BadValue]) -> None:
    with pytest.raises(error):
        decode_value(raw)


@given(st.text(max_size=300))
def test_arbitrary_values_raise_only_bad_value(raw: str) -> None:
    # anything that decodes must be exactly what encode_value writes; the rest is BadValue (400)
    try:
        value = decode_value(raw)
    except BadValue:
        return
    assert encode_value(value) == raw


def test_value_dataclass_refuses_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="snooze"):
        ButtonValue(ButtonAction.SNOOZE, "abc")
    with pytest.raises(ValueError, match="snooze"):
        ButtonValue(ButtonAction.ACKNOWLEDGE, "abc", Snooze.HOUR)
    with pytest.raises(ValueError, match="incident id"):
        ButtonValue(ButtonAction.ACKNOWLEDGE, "a|b")


def test_snooze_durations() -> None:
    assert Snooze.HOUR.duration is not None
    assert Snooze.HOUR.duration.total_seconds() == 3600
    assert Snooze.DAY.duration is not None
    assert Snooze.DAY.duration.total_seconds() == 86400
    assert Snooze.UNTIL_SUCCESS.duration is None


# ---- signatures ---------------------------------------------------------------------------------

BODY = b"payload=%7B%22type%22%3A%22block_actions%22%7D"


def test_valid_signature_passes() -> None:
    verify_request(BODY, sign(BODY), signing_secret=SECRET, clock=FixedClock(NOW + 10))


def test_header_names_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in sign(BODY).items()}
    verify_request(BODY, headers, signing_secret=SECRET, clock=FixedClock(NOW))


def test_tampered_body_is_refused() -> None:
    with pytest.raises(BadSignature) as info:
        verify_request(BODY + b"x", sign(BODY), signing_secret=SECRET, clock=FixedClock(NOW))
    assert info.value.http_status == 401


def test_wrong_secret_is_refused() -> None:
    headers = sign(BODY, secret="another-secret-entirely")
    with pytest.raises(BadSignature):
        verify_request(BODY, headers, signing_secret=SECRET, clock=FixedClock(NOW))


@pytest.mark.parametrize("skew", [301, -301, 86_400])
def test_stale_or_future_timestamp_is_refused(skew: int) -> None:
    # signed correctly, but outside Slack's five-minute window: a replay
    with pytest.raises(StaleRequest) as info:
        verify_request(BODY, sign(BODY), signing_secret=SECRET, clock=FixedClock(NOW + skew))
    assert info.value.http_status == 401


@pytest.mark.parametrize("skew", [300, -300, 0])
def test_edge_of_the_window_is_accepted(skew: int) -> None:
    verify_request(BODY, sign(BODY), signing_secret=SECRET, clock=FixedClock(NOW + skew))


@pytest.mark.parametrize("missing", ["X-Slack-Request-Timestamp", "X-Slack-Signature"])
def test_missing_headers_are_refused(missing: str) -> None:
    headers = sign(BODY)
    del headers[missing]
    with pytest.raises(MissingSignature) as info:
        verify_request(BODY, headers, signing_secret=SECRET, clock=FixedClock(NOW))
    assert info.value.http_status == 401


@pytest.mark.parametrize("timestamp", ["abc", "1.5", "-1", " 1764234000", "9" * 40])
def test_malformed_timestamp_is_refused(timestamp: str) -> None:
    headers = sign(BODY) | {"X-Slack-Request-Timestamp": timestamp}
    with pytest.raises(Unauthorized):
        verify_request(BODY, headers, signing_secret=SECRET, clock=FixedClock(NOW))


def test_non_utf8_body_is_refused_not_crashed() -> None:
    with pytest.raises(BadSignature):
        verify_request(b"\xff\xfe", sign(b"x"), signing_secret=SECRET, clock=FixedClock(NOW))


def test_missing_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        verify_request(BODY, sign(BODY), signing_secret="  ", clock=FixedClock(NOW))


def test_real_clock_is_the_default() -> None:
    with pytest.raises(StaleRequest):  # a 1970 timestamp is stale for the real clock
        verify_request(BODY, sign(BODY, timestamp=1), signing_secret=SECRET)


def test_refusals_are_logged_without_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for headers, clock in (
        (sign(BODY, secret="nope"), FixedClock(NOW)),
        (sign(BODY), FixedClock(NOW + 999)),
        ({}, FixedClock(NOW)),
    ):
        with pytest.raises(Unauthorized) as info:
            verify_request(BODY, headers, signing_secret=SECRET, clock=clock)
        assert SECRET not in str(info.value)
    assert caplog.records
    assert all(SECRET not in r.getMessage() for r in caplog.records)


# ---- payloads -----------------------------------------------------------------------------------


def click_payload(element: dict[str, object], **overrides: object) -> dict[str, object]:
    """A block_actions payload shaped like the one Slack sends when `element` is used."""
    action: dict[str, object] = {
        "type": element["type"],
        "action_id": element["action_id"],
        "block_id": "jt:actions:1",
        "action_ts": "1764234100.123456",
    }
    if element["type"] == "button":
        action |= {"value": element["value"], "text": element["text"]}
    else:
        action["selected_option"] = element["options"][0]  # type: ignore[index]
    payload: dict[str, object] = {
        "type": "block_actions",
        "user": {"id": "U024BE7LH", "username": "ana", "name": "ana", "team_id": "T0001"},
        "api_app_id": "A0001",
        "team": {"id": "T0001", "domain": "o4o"},
        "container": {
            "type": "message",
            "message_ts": "1764234000.000001",
            "channel_id": "C0123ALERTS",
        },
        "channel": {"id": "C0123ALERTS", "name": "alerts"},
        "message": {"ts": "1764234000.000001", "text": "…", "blocks": []},
        "trigger_id": "1.2.3",
        "response_url": "https://hooks.slack.com/actions/T0001/1/abc",
        "actions": [action],
    }
    payload.update(overrides)
    return payload


def form(payload: object) -> bytes:
    return ("payload=" + quote(json.dumps(payload))).encode()


def rendered_elements() -> dict[str, dict[str, object]]:
    alert = render_alert(R.esm_report(), R.STATES["open"], lang="en")
    actions = next(b for b in alert.blocks if b["type"] == "actions")
    return {e["action_id"]: e for e in actions["elements"]}


@pytest.mark.parametrize(
    ("action", "snooze"),
    [
        (ButtonAction.ACKNOWLEDGE, None),
        (ButtonAction.RESOLVE, None),
        (ButtonAction.SNOOZE, Snooze.HOUR),
    ],
)
def test_click_on_our_message_round_trips(action: ButtonAction, snooze: Snooze | None) -> None:
    element = rendered_elements()[action.value]
    body = form(click_payload(element))
    verify_request(body, sign(body), signing_secret=SECRET, clock=FixedClock(NOW))
    click = parse_block_actions(body)
    assert click.action is action
    assert click.snooze is snooze
    assert click.incident_id == R.INCIDENT_ID
    assert (click.user_id, click.user_name) == ("U024BE7LH", "ana")
    assert (click.channel_id, click.message_ts) == ("C0123ALERTS", "1764234000.000001")
    assert (click.team_id, click.api_app_id) == ("T0001", "A0001")
    assert click.response_url == "https://hooks.slack.com/actions/T0001/1/abc"


def test_container_is_used_when_channel_and_message_are_absent() -> None:
    element = rendered_elements()[ButtonAction.RESOLVE.value]
    payload = click_payload(element)
    del payload["channel"], payload["message"]
    click = parse_block_actions(form(payload))
    assert (click.channel_id, click.message_ts) == ("C0123ALERTS", "1764234000.000001")


def test_every_snooze_choice_parses() -> None:
    element = rendered_elements()[ButtonAction.SNOOZE.value]
    for option in element["options"]:  # type: ignore[attr-defined]
        payload = click_payload(element)
        payload["actions"][0]["selected_option"] = option  # type: ignore[index]
        assert parse_block_actions(form(payload)).snooze in set(Snooze)


def test_unknown_action_is_400() -> None:
    element = rendered_elements()[ButtonAction.RESOLVE.value] | {
        "action_id": "someone_elses_button"
    }
    with pytest.raises(UnknownAction) as info:
        parse_block_actions(form(click_payload(element)))
    assert info.value.http_status == 400


def test_value_of_another_action_is_refused() -> None:
    element = rendered_elements()[ButtonAction.RESOLVE.value] | {
        "action_id": ButtonAction.ACKNOWLEDGE.value
    }
    with pytest.raises(BadValue, match="does not match"):
        parse_block_actions(form(click_payload(element)))


MALFORMED = {
    "empty": b"",
    "no payload": b"foo=bar",
    "two payloads": b"payload=%7B%7D&payload=%7B%7D",
    "not json": b"payload=%7Bnope",
    "json list": form([1, 2]),
    "not block_actions": form({"type": "view_submission"}),
    "non utf8": b"payload=\xff",
    "bad percent escape": b"payload=%ff%fe",
    "deep json": ("payload=" + "[" * 100_000).encode(),
    "huge number": ("payload=" + "9" * 10_000).encode(),
    "too many fields": "&".join(f"f{i}=1" for i in range(100)).encode(),
    "too large": b"payload=" + b"x" * 2_000_000,
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_bodies_are_400(name: str) -> None:
    with pytest.raises(MalformedPayload) as info:
        parse_block_actions(MALFORMED[name])
    assert info.value.http_status == 400


@pytest.mark.parametrize(
    "change",
    [
        {"user": None},
        {"user": {"id": "not a slack id"}},
        {"user": {"name": "ana"}},
        {"channel": {"id": ""}, "container": {}},
        {"message": {"ts": "yesterday"}, "container": {}},
        {"actions": []},
        {"actions": "ack"},
        {"actions": [None]},
        {"actions": [{"type": "button", "value": "v1|ack|x"}]},
    ],
)
def test_payloads_missing_what_we_need_are_400(change: dict[str, object]) -> None:
    payload = click_payload(rendered_elements()[ButtonAction.ACKNOWLEDGE.value], **change)
    with pytest.raises(MalformedPayload):
        parse_block_actions(form(payload))


def test_select_without_selected_option_is_400() -> None:
    payload = click_payload(rendered_elements()[ButtonAction.SNOOZE.value])
    del payload["actions"][0]["selected_option"]  # type: ignore[index]
    with pytest.raises(MalformedPayload):
        parse_block_actions(form(payload))


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_block_actions(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@given(
    st.fixed_dictionaries(
        {"type": st.just("block_actions")},
        optional={
            "user": json_values
            | st.fixed_dictionaries({"id": st.text(max_size=12) | st.just("U1")}),
            "channel": json_values | st.fixed_dictionaries({"id": st.just("C1")}),
            "message": json_values | st.fixed_dictionaries({"ts": st.just("1.2")}),
            "container": json_values,
            "actions": json_values
            | st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "type": st.sampled_from(["button", "static_select"]) | st.text(max_size=5),
                        "action_id": st.sampled_from([a.value for a in ButtonAction])
                        | st.text(max_size=5),
                        "value": st.text(max_size=40) | st.just("v1|ack|abc"),
                        "selected_option": json_values,
                    },
                ),
                max_size=2,
            ),
        },
    )
)
def test_arbitrary_payloads_raise_only_bad_request(payload: dict[str, object]) -> None:
    # BadRequest (400) is the only exception; hypothesis fails the test on any other
    try:
        click = parse_block_actions(form(payload))
    except BadRequest:
        return
    assert click.action in set(ButtonAction)


@given(st.text(max_size=500))
def test_arbitrary_form_text_raises_only_bad_request(text: str) -> None:
    with contextlib.suppress(BadRequest):
        parse_block_actions(urlencode({"payload": text}).encode())
