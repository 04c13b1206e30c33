"""Slack accepted the alert but its answer never arrived: reconcile instead of guessing.

Two ways to lose the answer, each with one failing execution, so the channel must end up with
exactly one alert — the one Slack accepted first:
- Slack answers after the client's timeout (`FakeSlack.answer_late`): the delivery fails with a
  timeout and releases its claim, keeping the record that a post started; the redelivery looks
  in the channel's history for a message carrying this delivery's key in its metadata and records
  it instead of posting again.
- the instance dies right after Slack answered, before recording it: the redelivery takes over
  once the lease (one post's worth) has run out, and looks the same way.
"""

from __future__ import annotations

from standins.load.harness import Harness, HarnessConfig, base_scenario, single_plan
from standins.server import Reply
from standins.slack import Posted

SCALE = 0.01  # Pub/Sub's 10 s backoff and 180 s ack deadline pass in 0.1 s and 1.8 s


def _alone(posted: list[Posted], execution: str) -> Posted:
    """The one message in the channel that names `execution` (asserting there is one)."""
    naming = [p for p in posted if execution in p.body()]
    assert len(naming) == 1, [p.ts for p in naming]
    return naming[0]


def test_slack_answering_after_the_timeout_shows_the_alert_once() -> None:
    plan = single_plan(base_scenario("seed"))
    execution = plan.events[0].execution
    with Harness(HarnessConfig(workers=1, scale=SCALE, slack_timeout=1), plan) as h:
        h.slack.answer_late("chat.postMessage", seconds=1.5)
        h.publish_plan()
        report = h.run(timeout=120)
        posted = h.slack.messages()
        lookups = h.slack.calls("conversations.history")
        incident = next(iter(h.store.inner._incidents.values()))
    alert = _alone(posted, execution)
    assert posted == [alert]  # the alert, once, in the channel
    assert alert.top_level
    assert alert.metadata is not None
    assert alert.metadata["event_type"] == "jobtriage_post"
    assert alert.metadata["event_payload"]["execution"] == execution
    assert alert.metadata["event_payload"]["kind"] == "alert"
    # the first delivery timed out; the redelivery looked, found it and posted nothing
    msg = report.messages[0]
    assert msg.outcomes == ["retry:TransientError", "new_alert"]
    assert len(lookups) == 1
    assert lookups[0].args["include_all_metadata"] in ("1", "true")
    # the incident points at the message Slack accepted, so its buttons and thread work
    assert (incident.channel, incident.ts) == (alert.channel, alert.ts)


def test_killed_between_slack_answering_and_the_record_shows_the_alert_once() -> None:
    plan = single_plan(base_scenario("seed"))
    execution = plan.events[0].execution
    with Harness(HarnessConfig(workers=1, scale=SCALE), plan) as h:
        h.store.kill_on_record.add(execution)
        h.publish_plan()
        report = h.run(timeout=120)
        assert h.store.killed == [execution]
        posted = h.slack.messages()
        incident = next(iter(h.store.inner._incidents.values()))
    alert = _alone(posted, execution)
    assert posted == [alert]
    assert alert.top_level
    msg = report.messages[0]
    assert msg.outcomes[0] == "killed"
    assert msg.outcomes[-1] == "new_alert"
    assert (incident.channel, incident.ts) == (alert.channel, alert.ts)
    assert report.dead_letters == []


def test_a_post_that_never_reached_slack_is_posted_by_the_redelivery() -> None:
    # The other side of the lookup: the first attempt timed out WITHOUT Slack posting anything
    # (unreachable for a while); the redelivery looks, finds nothing and posts — once.
    plan = single_plan(base_scenario("seed"))
    execution = plan.events[0].execution
    with Harness(HarnessConfig(workers=1, scale=SCALE, slack_timeout=1), plan) as h:
        h.slack.script("chat.postMessage", Reply(503, "", delay=1.5))
        h.publish_plan()
        report = h.run(timeout=120)
        posted = h.slack.messages()
        lookups = h.slack.calls("conversations.history")
    alert = _alone(posted, execution)
    assert posted == [alert]
    assert len(lookups) >= 1
    assert report.messages[0].outcomes[-1] == "new_alert"
