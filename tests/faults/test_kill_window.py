"""The function killed between posting to Slack and recording the post.

The pipeline records the post as the very next store write after Slack answers: `record_post`,
or (an alert, a repeat) the incident write that also ends the delivery and carries the post
(`Finish.posted`); the journal proves no other store write happens in between. An instance
that dies in exactly that gap leaves a claim whose post was started (`begin_post`) but never
recorded: Pub/Sub redelivers after the ack deadline, the lease (renewed when the post started)
has run out by then, and the redelivery takes over. It looks in Slack first
(conversations.history, by the message's metadata), finds the first post and records it instead
of posting again. Only if that lookup fails (here: the token lacks channels:history) is the post
repeated: once, never lost. Dying one step later (after the record) repeats nothing and looks
nothing up.
"""

from __future__ import annotations

from standins.load.harness import Harness, HarnessConfig, RunReport, storm_plan

SCALE = 0.005  # the 180 s ack deadline passes in about a second


def _run(kill: str, *, history_error: str | None = None) -> tuple[RunReport, str, list[int], int]:
    plan = storm_plan(jobs=2, per_job=3, within=30.0, duplicates=0.0)
    victim = plan.events[0].execution
    with Harness(HarnessConfig(workers=2, scale=SCALE), plan) as h:
        getattr(h.store, kill).add(victim)
        if history_error:  # the victim's post is an alert (history) or, if another execution
            # of its job opened the incident first, a thread reply (replies)
            for method in ("conversations.history", "conversations.replies"):
                h.slack.error(method, history_error, needed="channels:history")
        h.publish_plan()
        report = h.run(timeout=120)
        assert h.store.killed == [victim]
        gaps = h.journal.writes_between_post_and_record()
        lookups = len(h.slack.calls("conversations.history")) + len(
            h.slack.calls("conversations.replies")
        )
    return report, victim, gaps, lookups


def test_no_write_between_slack_answering_and_recording() -> None:
    _, _, gaps, _ = _run("kill_after_record")
    assert gaps
    assert set(gaps) == {0}


def test_killed_before_recording_posts_once_found_by_the_lookup() -> None:
    report, victim, _, lookups = _run("kill_on_record")
    assert report.mentions()[victim] == 1  # the first post, found again: not posted twice
    account = report.account()
    assert account["duplicated"] == []
    assert account["lost"] == []
    assert lookups == 1  # the one delivery whose answer was lost looked; nobody else did
    victim_msg = next(m for m in report.messages if m.event.execution == victim)
    # killed in one of its deliveries (an earlier one may have been told to retry: another
    # execution of its job was opening the incident at that moment)
    assert "killed" in victim_msg.outcomes
    assert victim_msg.result is not None  # the redelivery finished the bookkeeping
    assert report.dead_letters == []


def test_killed_before_recording_and_the_lookup_refused_posts_again_at_most_once() -> None:
    report, victim, _, lookups = _run("kill_on_record", history_error="missing_scope")
    mentions = report.mentions()
    assert lookups == 1
    assert mentions[victim] == 2  # the first post, and the takeover's: shown twice, not lost
    assert all(count == 1 for name, count in mentions.items() if name != victim)
    assert report.dead_letters == []


def test_killed_after_recording_posts_nothing_again() -> None:
    report, victim, _, lookups = _run("kill_after_record")
    account = report.account()
    assert account["duplicated"] == []
    assert account["lost"] == []
    assert lookups == 0  # the post was recorded: nothing to look for
    victim_msg = next(m for m in report.messages if m.event.execution == victim)
    # killed in one of its deliveries (an earlier one may have been told to retry: another
    # execution of its job was opening the incident at that moment)
    assert "killed" in victim_msg.outcomes
    assert victim_msg.result is not None
