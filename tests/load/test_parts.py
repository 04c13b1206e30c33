"""The pieces the load runs stand on: the Logging read budget, the replay serving many
scenarios, and the fake Slack's per-channel rate limit."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from jobtriage.event import parse_log_entry
from jobtriage.evidence.cloud_logging import ReadBudget
from jobtriage.evidence.gather import gather
from standins.load.harness import Harness, HarnessConfig, VirtualTime, storm_plan
from standins.replay.google import Api, GoogleReplay
from standins.slack import TOKEN, FakeSlack


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_read_budget_is_a_sliding_minute_with_a_reserve() -> None:
    clock = Clock()
    budget = ReadBudget(10, clock=clock)
    assert [budget.take(urgent=False) for _ in range(6)] == [True] * 5 + [False]
    assert [budget.take(urgent=True) for _ in range(6)] == [True] * 5 + [False]
    clock.t = 59.9
    assert not budget.take(urgent=True)
    clock.t = 60.0  # the first reads leave the window
    assert budget.take(urgent=False)
    assert budget.refused == 3


def test_replay_serves_many_scenarios_by_name() -> None:
    plan = storm_plan(jobs=3, per_job=2, duplicates=0.0)
    with Harness(HarnessConfig(logging_budget_per_minute=0), plan) as h:
        rt = h.runtime()
        for event in plan.events:
            evidence = gather(parse_log_entry(event.entry), sources=rt.sources)
            assert evidence.execution is not None
            assert evidence.execution.name.endswith(event.execution)
            assert evidence.job is not None
            assert evidence.job.name.rsplit("/", 1)[-1] == event.job
            assert {g.source.value for g in evidence.gaps} <= {"last_success", "logs"}
        assert h.replay.count(Api.GET_EXECUTION) == len(plan.events)


def test_one_scenario_replay_is_unchanged() -> None:
    plan = storm_plan(jobs=1, per_job=1, duplicates=0.0)
    with GoogleReplay(plan.scenarios[0]) as one, GoogleReplay(plan.scenarios) as many:
        assert one.scenario is plan.scenarios[0]
        assert many.scenario is plan.scenarios[0]


def test_fake_slack_limits_posts_per_channel() -> None:
    vt = VirtualTime(1.0)
    clock = Clock()
    with FakeSlack(posts_per_second=1.0, post_burst=2, clock=clock) as slack:
        client = WebClient(token=TOKEN, base_url=slack.base_url)
        client.chat_postMessage(channel="C1", text="a")
        client.chat_postMessage(channel="C1", text="b")
        with pytest.raises(SlackApiError) as refused:
            client.chat_postMessage(channel="C1", text="c")
        assert refused.value.response.status_code == 429
        assert refused.value.response.headers["Retry-After"] == "1"
        client.chat_postMessage(channel="C2", text="other channel")
        clock.t = 1.0
        client.chat_postMessage(channel="C1", text="d")
        assert [m.text for m in slack.messages()] == ["a", "b", "other channel", "d"]
        assert slack.refused == {("chat.postMessage", "ratelimited"): 1}
    assert vt.scale == 1.0


def test_the_story_of_the_last_post_names_its_executions_and_their_deliveries() -> None:
    """What bench/storm.py prints when the channel caught up late: the last message, every
    execution it names and no other, and each delivery of them with when it was taken and what
    it came to."""
    plan = storm_plan(jobs=1, per_job=12, within=20.0, duplicates=0.0, seed=5)
    with Harness(HarnessConfig(workers=2, scale=0.02), plan) as h:
        h.publish_plan()
        report = h.run(timeout=120)
    last = max(report.posted, key=lambda p: p.at)
    story = report.last_post_story()
    kind = "alert" if last.thread_ts is None else "reply"
    assert story[0] == f"last message: a {kind} at {last.at:.1f} s"
    named = report.named_in(last.body())
    assert named
    told = {line.split()[0]: line for line in story[1:]}
    assert set(told) == named
    for m in report.messages:
        if m.event.execution in named:
            line = told[m.event.execution]
            assert line.count(", ") == m.attempts - 1 == len(m.outcomes) - 1
            assert f"arrived {m.event.at:.1f}" in line
    assert sum("(posted it)" in line for line in story) == 1
