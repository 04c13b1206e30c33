"""Ticks on a virtual clock: the one reminder, the missed run, and both at most once however the
tick is delivered. Real `slack_sdk` against the fake Slack, real `google-cloud-run` against the
replay, the in-memory store (the Firestore one is in tests/e2e)."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobtriage import app
from jobtriage.event import PUBSUB_EVENT_TYPE, Tick
from jobtriage.evidence.cloud_run import CloudRun
from jobtriage.evidence.gather import Sources
from jobtriage.incident.decide import acknowledge, resolve, snooze
from jobtriage.incident.model import MISSED_RUN, Incident, State
from jobtriage.incident.store import ClaimOutcome, MemoryStore
from jobtriage.notify.deliver import CLICK_POLICY, SlackNotifier
from jobtriage.ownlog import LOGGER_NAME
from jobtriage.runtime import Runtime
from jobtriage.settings import Settings
from jobtriage.ticks import (
    CLAIM_LEASE,
    MAX_TICK_AGE,
    TickResult,
    missed_run_key,
    process_tick,
    reminder_key,
)
from standins.clock import SteppingClock
from standins.replay.google import Api, GoogleReplay, Scenario
from standins.replay.history import Run, job_history
from standins.slack import TOKEN, FakeSlack

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHANNEL = "C0TICKS"
PROJECT = "netureyoutube"
REGION = "asia-northeast3"
JOB = f"projects/{PROJECT}/locations/{REGION}/jobs/o4o-api-migrations"
NIGHTLY = "nightly-export"
NIGHTLY_PATH = f"projects/{PROJECT}/locations/{REGION}/jobs/{NIGHTLY}"
TICK = Tick(project=PROJECT, region=REGION)
GROUP = "S0ONCALL"


def parent(n: int = 1, **changes: Any) -> Incident:
    """An incident as the pipeline stores it after posting its alert at T0."""
    base = Incident(
        id=f"inc{n:04d}",
        job_path=JOB,
        fingerprint="entrypoint_runtime:ERR_REQUIRE_ESM",
        state=State.OPEN,
        opened_at=T0,
        updated_at=T0,
        first_execution="o4o-api-migrations-h5x5h",
        last_execution="o4o-api-migrations-h5x5h",
        last_failure_at=T0,
        channel=CHANNEL,
        ts=f"1772442000.00000{n}",
    )
    return replace(base, **changes)


class Product:
    """A Runtime on the fake Slack, the replay and one in-memory store, on a virtual clock."""

    def __init__(self, slack: FakeSlack, google: GoogleReplay, **settings: Any) -> None:
        self.slack = slack
        self.google = google
        self.clock = SteppingClock(T0)
        self.store = MemoryStore()
        base = Settings(
            slack_bot_token=TOKEN,
            slack_channel=CHANNEL,
            slack_api_url=slack.base_url,
            incident_store="memory",
            cloud_run_emulator_host=google.host,
            api_timeout_seconds=5.0,
            remind_usergroup=GROUP,
        )
        self.settings = replace(base, **settings)
        self.rt = Runtime(
            settings=self.settings,
            sources=Sources(run=CloudRun.from_settings(self.settings), logs=None),
            store=self.store,
            notifier=SlackNotifier(self.settings, policy=CLICK_POLICY),
            clock=self.clock,
        )

    def at(self, minutes: float) -> Product:
        self.clock.at = T0 + timedelta(minutes=minutes)
        return self

    def tick(self) -> TickResult:
        return process_tick(TICK, self.rt)

    def replies(self) -> list[Any]:
        return [m for m in self.slack.messages() if m.thread_ts is not None]

    def alerts(self) -> list[Any]:
        return [m for m in self.slack.messages() if m.thread_ts is None]


@pytest.fixture
def product() -> Iterator[Product]:
    with GoogleReplay(Scenario.embedded("seed")) as google, FakeSlack() as slack:
        yield Product(slack, google)


# --- the reminder ------------------------------------------------------------------------------


def test_an_unacknowledged_incident_gets_exactly_one_reminder_after_the_delay(
    product: Product,
) -> None:
    product.store.create(parent())
    assert product.at(29).tick().reminded == ()
    assert product.replies() == []

    result = product.at(31).tick()
    assert result.reminded == ("inc0001",)
    [reminder] = product.replies()
    assert reminder.thread_ts == "1772442000.000001"
    assert reminder.channel == CHANNEL
    assert not reminder.broadcast
    assert f"<!subteam^{GROUP}>" in reminder.body()
    assert f"<!subteam^{GROUP}>" in reminder.text  # the notification pages people too
    assert "31 min" in reminder.body()
    stored = product.store.get("inc0001")
    assert stored is not None
    assert stored.reminded_at == T0 + timedelta(minutes=31)

    # Later ticks, and the same tick again: nothing new.
    for minutes in (31, 36, 120, 60 * 24):
        assert product.at(minutes).tick().reminded == ()
    assert len(product.replies()) == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda i: acknowledge(i, user="U1", now=T0).incident, id="acknowledged"),
        pytest.param(lambda i: resolve(i, user="U1", now=T0).incident, id="resolved"),
        pytest.param(
            lambda i: snooze(i, user="U1", now=T0, until_success=True).incident,
            id="snoozed-until-success",
        ),
        pytest.param(
            lambda i: snooze(i, user="U1", now=T0, until=T0 + timedelta(hours=24)).incident,
            id="snoozed-24h",
        ),
    ],
)
def test_no_reminder_while_acknowledged_resolved_or_snoozed(product: Product, change: Any) -> None:
    product.store.create(change(parent()))
    for minutes in (31, 60, 600):
        assert product.at(minutes).tick().reminded == ()
    assert product.replies() == []


def test_a_timed_snooze_nobody_acknowledged_is_reminded_of_after_it_ends(product: Product) -> None:
    snoozed = snooze(parent(), user="U1", now=T0, until=T0 + timedelta(hours=1)).incident
    product.store.create(snoozed)
    assert product.at(60 + 29).tick().reminded == ()
    assert product.at(60 + 30).tick().reminded == ("inc0001",)
    assert len(product.replies()) == 1


def test_acknowledged_between_the_query_and_the_post_is_not_reminded(product: Product) -> None:
    product.store.create(parent())
    original = product.store.awaiting_ack

    def stale_read(before: datetime, **kw: Any) -> list[Incident]:
        found = original(before, **kw)
        # a click lands right after the tick read the incidents
        product.store.update("inc0001", lambda i: acknowledge(i, user="U1", now=T0).incident)
        return found

    product.store.awaiting_ack = stale_read  # type: ignore[method-assign]
    assert product.at(40).tick().reminded == ()
    assert product.replies() == []
    # The claim was given back, not spent: nothing holds it.
    again = product.store.claim(reminder_key("inc0001"), now=product.clock.now(), lease=CLAIM_LEASE)
    assert again.outcome is ClaimOutcome.NEW


def test_duplicated_ticks_at_once_post_one_reminder(product: Product) -> None:
    for n in range(1, 4):
        product.store.create(parent(n, opened_at=T0 + timedelta(seconds=n)))
    product.at(45)
    barrier = threading.Barrier(6)
    results: list[TickResult] = []

    def deliver() -> None:
        barrier.wait(timeout=30)
        results.append(process_tick(TICK, product.rt))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 6
    assert sorted(i for r in results for i in r.reminded) == ["inc0001", "inc0002", "inc0003"]
    assert sorted(m.thread_ts for m in product.replies()) == [
        "1772442000.000001",
        "1772442000.000002",
        "1772442000.000003",
    ]


def test_a_tick_that_died_after_posting_is_finished_without_posting_again(
    product: Product,
) -> None:
    product.store.create(parent())
    now = T0 + timedelta(minutes=35)
    # The dead tick: claimed, posted, recorded the post — and nothing more.
    claim = product.store.claim(reminder_key("inc0001"), now=now, lease=CLAIM_LEASE)
    assert claim.outcome is ClaimOutcome.NEW
    product.store.record_post(reminder_key("inc0001"), CHANNEL, "1772444100.000900")

    half_lease = CLAIM_LEASE.total_seconds() / 60 / 2
    assert product.at(35 + half_lease).tick().reminded == ()  # its lease still runs
    result = product.at(35 + CLAIM_LEASE.total_seconds() / 60 + 1).tick()
    assert result.reminded == ("inc0001",)
    assert product.replies() == []  # the post it made is the one reminder
    stored = product.store.get("inc0001")
    assert stored is not None
    assert stored.reminded_at is not None
    done = product.store.claim(reminder_key("inc0001"), now=product.clock.now(), lease=CLAIM_LEASE)
    assert done.outcome is ClaimOutcome.DONE


def test_slack_down_leaves_the_reminder_for_the_next_tick(product: Product) -> None:
    product.store.create(parent())
    product.slack.server_error("chat.postMessage")
    result = product.at(31).tick()
    assert result.reminded == ()
    assert result.left == 1
    assert product.replies() == []
    assert product.at(36).tick().reminded == ("inc0001",)
    assert len(product.replies()) == 1


def test_a_channel_slack_refuses_for_good_is_not_asked_again(product: Product) -> None:
    product.store.create(parent())
    product.slack.error("chat.postMessage", "channel_not_found")
    assert product.at(31).tick().reminded == ()
    assert product.at(36).tick().reminded == ()
    assert product.store.awaiting_ack(product.clock.now()) == []  # out of the query for good
    assert len(product.slack.calls("chat.postMessage")) == 1


def test_without_a_user_group_the_reminder_mentions_nobody(product: Product) -> None:
    product.rt.settings = replace(product.settings, remind_usergroup=None)
    product.store.create(parent())
    product.at(31).tick()
    [reminder] = product.replies()
    assert "<!" not in reminder.body()


def test_reminders_can_be_turned_off(product: Product) -> None:
    product.rt.settings = replace(product.settings, remind_after_minutes=0)
    product.store.create(parent())
    assert product.at(600).tick().reminded == ()
    assert product.replies() == []


def test_a_stale_tick_does_nothing(product: Product) -> None:
    product.store.create(parent())
    product.at(120)
    old = replace(TICK, published_at=product.clock.now() - MAX_TICK_AGE - timedelta(seconds=1))
    assert process_tick(old, product.rt).action == "stale"
    fresh = replace(TICK, published_at=product.clock.now() - timedelta(seconds=5))
    assert process_tick(fresh, product.rt).reminded == ("inc0001",)


# --- the missed run ----------------------------------------------------------------------------


@pytest.fixture
def nightly() -> Iterator[Product]:
    """nightly-export succeeded at T0 - 30 h and failed once since; expected every 26 h."""
    history = job_history(
        NIGHTLY,
        [
            Run("k2m9q", T0 - timedelta(hours=30), ok=True),
            Run("p4x7w", T0 - timedelta(hours=54), ok=True),
            Run("z8c1d", T0 - timedelta(hours=6), ok=False),
        ],
    )
    with GoogleReplay([Scenario.embedded("seed"), history]) as google, FakeSlack() as slack:
        yield Product(slack, google, expected_intervals=((NIGHTLY, timedelta(hours=26)),))


def test_a_job_without_a_success_in_its_interval_opens_one_incident(nightly: Product) -> None:
    result = nightly.tick()
    [incident_id] = result.opened
    [alert] = nightly.alerts()
    assert alert.channel == CHANNEL
    body = alert.body()
    assert "nightly-export has not succeeded for 30 h" in body
    assert "nightly-export-k2m9q" in body  # the last success
    assert "nightly-export-z8c1d" in body  # the newest execution, which failed
    assert "jobtriage_ack" in body  # acknowledged, snoozed, resolved like any incident
    stored = nightly.store.get(incident_id)
    assert stored is not None
    assert stored.fingerprint == MISSED_RUN
    assert stored.job_path == NIGHTLY_PATH
    assert stored.ts == alert.ts
    assert nightly.google.count(Api.LIST_EXECUTIONS) == 1
    [call] = nightly.google.requests(Api.LIST_EXECUTIONS)
    assert call.query.get("pageSize") == ["20"]  # one bounded page

    # Every later tick: nothing new (the incident is open; and the stretch had its incident).
    for minutes in (5, 10, 15):
        assert nightly.at(minutes).tick().opened == ()
    assert len(nightly.alerts()) == 1


def test_a_resolved_missed_run_is_not_opened_again_for_the_same_stretch(nightly: Product) -> None:
    [incident_id] = nightly.tick().opened
    nightly.store.update(incident_id, lambda i: resolve(i, user="U1", now=T0).incident)
    assert nightly.at(5).tick().opened == ()
    assert len(nightly.alerts()) == 1


def test_a_later_success_recovers_the_missed_run(nightly: Product) -> None:
    [incident_id] = nightly.tick().opened
    seed = Scenario.embedded("seed").event
    assert seed is not None
    entry = json.loads(json.dumps(seed).replace("o4o-api-migrations-h5x5h", "nightly-export-q5r6s"))
    entry = json.loads(json.dumps(entry).replace("o4o-api-migrations", NIGHTLY))
    entry["severity"] = "INFO"
    entry["timestamp"] = (T0 + timedelta(minutes=20)).isoformat().replace("+00:00", "Z")
    entry["protoPayload"]["status"] = {"message": "Execution completed successfully."}
    data = {"message": {"data": base64.b64encode(json.dumps(entry).encode()).decode()}}
    # The Run API knows the execution, succeeded after the tick (what a success is checked by).
    ran = job_history(NIGHTLY, [Run("q5r6s", T0 + timedelta(minutes=20), ok=True)])
    nightly.google.scenario.executions.insert(0, ran.executions[0])
    result = app.handle_cloud_event(PUBSUB_EVENT_TYPE, data, rt=nightly.at(21).rt)
    assert result is not None
    assert result.action == "recovered"
    stored = nightly.store.get(incident_id)
    assert stored is not None
    assert stored.state is State.RECOVERED
    [recovered] = nightly.replies()
    assert recovered.thread_ts == nightly.alerts()[0].ts


def test_duplicated_ticks_at_once_open_one_missed_run(nightly: Product) -> None:
    barrier = threading.Barrier(5)
    results: list[TickResult] = []

    def deliver() -> None:
        barrier.wait(timeout=30)
        results.append(process_tick(TICK, nightly.rt))

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 5
    assert len([i for r in results for i in r.opened]) == 1
    assert len(nightly.alerts()) == 1


def test_a_success_within_the_interval_opens_nothing(nightly: Product) -> None:
    nightly.rt.settings = replace(
        nightly.settings, expected_intervals=((NIGHTLY, timedelta(hours=31)),)
    )
    assert nightly.tick().opened == ()
    assert nightly.slack.messages() == []


def test_a_failing_job_with_an_open_incident_gets_no_second_one(nightly: Product) -> None:
    nightly.store.create(parent(job_path=NIGHTLY_PATH))
    assert nightly.tick().opened == ()
    assert nightly.alerts() == []
    # nor did it spend the stretch's claim: once that incident is resolved, the miss is news
    key = missed_run_key(NIGHTLY_PATH, "nightly-export-k2m9q")
    claim = nightly.store.claim(key, now=nightly.clock.now(), lease=CLAIM_LEASE)
    assert claim.outcome is ClaimOutcome.NEW


def test_a_job_that_never_ran_says_so() -> None:
    history = job_history("billing", [])
    with GoogleReplay(history) as google, FakeSlack() as slack:
        p = Product(slack, google, expected_intervals=(("billing", timedelta(hours=1)),))
        assert len(p.tick().opened) == 1
        [alert] = p.alerts()
        assert "billing has not succeeded for at least 1 h" in alert.body()
        assert "no executions at all" in alert.body()


def test_none_of_the_newest_succeeded() -> None:
    history = job_history(
        "billing", [Run(f"f{n:04d}", T0 - timedelta(hours=n), ok=False) for n in range(1, 4)]
    )
    with GoogleReplay(history) as google, FakeSlack() as slack:
        p = Product(slack, google, expected_intervals=(("billing", timedelta(hours=2)),))
        assert len(p.tick().opened) == 1
        assert "None of its newest 3 executions succeeded" in p.alerts()[0].body()


def test_the_run_api_refusing_is_one_log_line_and_the_rest_still_happens(
    nightly: Product, caplog: pytest.LogCaptureFixture
) -> None:
    nightly.store.create(parent())
    nightly.google.inject(Api.LIST_EXECUTIONS, status=403)
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        result = nightly.at(31).tick()
    assert result.opened == ()
    assert result.reminded == ("inc0001",)
    assert result.left == 1
    skipped = [r for r in caplog.records if "missed-run check skipped" in r.getMessage()]
    assert len(skipped) == 1
    assert "roles/run.viewer" in skipped[0].getMessage()
    assert skipped[0].exc_info is None  # no traceback: it is not a bug


# --- the way in --------------------------------------------------------------------------------


def _tick_data(body: object, *, attribute: bool = True) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    message: dict[str, Any] = {"data": base64.b64encode(raw).decode(), "messageId": "9"}
    if attribute:
        message["attributes"] = {"jobtriage": "tick"}
    return {"message": message}


TICK_BODY = {"kind": "tick", "version": 1, "project": PROJECT, "region": REGION}


def test_a_tick_through_the_event_entry_reminds(product: Product) -> None:
    product.store.create(parent())
    result = app.handle_cloud_event(PUBSUB_EVENT_TYPE, _tick_data(TICK_BODY), rt=product.at(31).rt)
    assert isinstance(result, TickResult)
    assert result.reminded == ("inc0001",)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "malformed tick: Pub/Sub message data is not JSON"),
        ({**TICK_BODY, "version": 2}, "malformed tick: version"),
        ({**TICK_BODY, "version": True}, "malformed tick: version"),
        ({**TICK_BODY, "project": "Bad Project"}, "malformed tick: project"),
        ({**TICK_BODY, "region": "<!channel>"}, "malformed tick: region"),
        ({"kind": "tock", "version": 1}, "malformed tick: kind"),
    ],
)
def test_a_malformed_tick_is_one_log_line_and_acknowledged(
    product: Product, body: object, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    product.store.create(parent())
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        result = app.handle_cloud_event(PUBSUB_EVENT_TYPE, _tick_data(body), rt=product.at(31).rt)
    assert result is None  # acknowledged
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    assert reason in lines[0]
    assert product.slack.calls() == []


def test_a_tick_body_without_the_attribute_is_still_a_tick(product: Product) -> None:
    result = app.handle_cloud_event(
        PUBSUB_EVENT_TYPE, _tick_data(TICK_BODY, attribute=False), rt=product.rt
    )
    assert isinstance(result, TickResult)
