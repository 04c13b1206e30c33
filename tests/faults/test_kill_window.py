"""The function killed between posting to Slack and recording the post.

The pipeline records the post (`record_post`) as the very next thing after Slack answers; the
journal proves no other store write happens in between. An instance that dies in exactly that
gap leaves a claim without a recorded post: Pub/Sub redelivers after the ack deadline, the claim
is busy until its lease (300 s) ends, then the redelivery takes over and — not knowing about the
first post — posts once more. That is the one duplicate this design can produce, and only then.
Dying one step later (after the record) repeats nothing.
"""

from __future__ import annotations

from standins.load.harness import Harness, HarnessConfig, RunReport, storm_plan

SCALE = 0.005  # the 300 s lease and the 180 s ack deadline pass in about two seconds


def _run(kill: str) -> tuple[RunReport, str, list[int]]:
    plan = storm_plan(jobs=2, per_job=3, within=30.0, duplicates=0.0)
    victim = plan.events[0].execution
    with Harness(HarnessConfig(workers=2, scale=SCALE), plan) as h:
        getattr(h.store, kill).add(victim)
        h.publish_plan()
        report = h.run(timeout=120)
        assert h.store.killed == [victim]
        gaps = h.journal.writes_between_post_and_record()
    return report, victim, gaps


def test_no_write_between_slack_answering_and_recording() -> None:
    _, _, gaps = _run("kill_after_record")
    assert gaps
    assert set(gaps) == {0}


def test_killed_before_recording_posts_again_at_most_once() -> None:
    report, victim, _ = _run("kill_on_record")
    mentions = report.mentions()
    assert mentions[victim] == 2  # the first post, and the takeover's
    assert all(count == 1 for name, count in mentions.items() if name != victim)
    victim_msg = next(m for m in report.messages if m.event.execution == victim)
    assert victim_msg.outcomes[0] == "killed"
    assert report.dead_letters == []


def test_killed_after_recording_posts_nothing_again() -> None:
    report, victim, _ = _run("kill_after_record")
    account = report.account()
    assert account["duplicated"] == []
    assert account["lost"] == []
    victim_msg = next(m for m in report.messages if m.event.execution == victim)
    assert victim_msg.outcomes[0] == "killed"
    assert victim_msg.result is not None
