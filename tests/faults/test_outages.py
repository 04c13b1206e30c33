"""Outages while failures keep arriving, with Pub/Sub-style redelivery (standins/load/harness.py).

- Slack down (5xx, then timeouts) for minutes: once it is back, every execution is posted once.
- Firestore down: nothing is posted while the store cannot say what was already posted; every
  event stays in Pub/Sub (redelivered with backoff) and is posted exactly once when it returns.
  That is the chosen behaviour (see bench/RESULTS.md, "Firestore unavailable").
- Firestore failing right after a post: the claim keeps the recorded post, so the redelivery
  finishes the bookkeeping without posting again.
"""

from __future__ import annotations

import threading

from standins.load.harness import Harness, HarnessConfig, RunReport, storm_plan
from standins.server import Reply

SCALE = 0.01  # 100 × real time: a five-minute outage takes three seconds


def _after(h: Harness, virtual_seconds: float, action: object) -> threading.Timer:
    timer = threading.Timer(virtual_seconds * h.vt.scale, action)  # type: ignore[arg-type]
    timer.daemon = True
    timer.start()
    return timer


def _assert_exactly_once(report: RunReport) -> None:
    account = report.account()
    assert account["duplicated"] == []
    assert account["lost"] == []
    assert report.dead_letters == []
    assert report.unhandled == []


def test_slack_5xx_for_five_minutes_then_every_incident_once() -> None:
    plan = storm_plan(jobs=4, per_job=4, within=300.0, duplicates=0.25)
    with Harness(HarnessConfig(workers=3, scale=SCALE), plan) as h:
        h.slack.go_down(Reply(503, "<html>upstream connect error</html>"))
        _after(h, 300.0, h.slack.come_back)
        h.publish_plan()
        report = h.run(timeout=120)
    _assert_exactly_once(report)
    assert len(report.account()["posted"]) == 16
    assert report.slack_refused.get("chat.postMessage 503", 0) > 0
    # nothing reached the channel during the outage
    assert min(p.at for p in report.posted) >= 300.0
    # redelivered, not dropped: some events needed several deliveries
    assert max(m.attempts for m in report.messages) > 1


def test_slack_timing_out_then_every_incident_once() -> None:
    plan = storm_plan(jobs=2, per_job=2, within=60.0, duplicates=0.0)
    config = HarnessConfig(workers=2, scale=SCALE, slack_timeout=1)
    with Harness(config, plan) as h:
        # no answer within the client's timeout, and nothing posted (unreachable)
        h.slack.go_down(Reply(503, "", delay=1.5))
        _after(h, 120.0, h.slack.come_back)
        h.publish_plan()
        report = h.run(timeout=120)
    _assert_exactly_once(report)
    assert len(report.account()["posted"]) == 4
    assert any("retry:TransientError" in m.outcomes for m in report.messages)


def test_firestore_down_holds_events_then_posts_each_once() -> None:
    plan = storm_plan(jobs=3, per_job=3, within=200.0, duplicates=0.3)
    with Harness(HarnessConfig(workers=3, scale=SCALE), plan) as h:
        h.store.down = True
        _after(h, 300.0, lambda: setattr(h.store, "down", False))
        h.publish_plan()
        report = h.run(timeout=120)
    _assert_exactly_once(report)
    assert len(report.account()["posted"]) == 9
    assert min(p.at for p in report.posted) >= 300.0
    # grouped as usual once the store is back: one alert per job, the rest in threads
    assert len([m for m in report.messages if m.result and m.result.action == "new_alert"]) == 3


def test_firestore_failing_right_after_a_post_does_not_post_twice() -> None:
    plan = storm_plan(jobs=1, per_job=2, within=1.0, duplicates=0.0)
    with Harness(HarnessConfig(workers=1, scale=SCALE), plan) as h:
        # the alert is posted and recorded; storing the incident fails
        h.store.fail_next["create"] = 1
        h.publish_plan()
        report = h.run(timeout=120)
    _assert_exactly_once(report)
    assert len(report.posted) == 2  # one alert, one reply
    assert report.store_calls["release"] <= 2  # only the opening claims were released
