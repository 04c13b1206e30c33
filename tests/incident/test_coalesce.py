"""Repeats posted together (`incident.coalesce`): the pure decisions, on explicit times."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from jobtriage.incident.coalesce import (
    COALESCE_WINDOW,
    KEEP_COALESCED,
    MAX_PER_REPLY,
    STALE_FLUSH,
    Step,
    add_pending,
    finish_flush,
    start_flush,
    step_for_known,
    step_for_new,
)
from jobtriage.incident.decide import new_incident
from jobtriage.incident.model import Incident

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ME = "projects/p/locations/r/jobs/j/executions/j-me"
OTHER = "projects/p/locations/r/jobs/j/executions/j-other"


def _incident(**changes: object) -> Incident:
    base = new_incident(
        job_path="projects/p/locations/r/jobs/j",
        fingerprint="db_connection:x",
        execution="j-1",
        now=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_first_repeat_is_posted_at_once() -> None:
    assert step_for_new(_incident(), T0 + timedelta(seconds=1)) is Step.POST_NOW


def test_repeats_within_the_window_of_the_last_reply_wait() -> None:
    replied = _incident(last_reply_at=T0)
    assert step_for_new(replied, T0 + COALESCE_WINDOW / 2) is Step.DEFER
    assert step_for_new(replied, T0 + COALESCE_WINDOW) is Step.POST_NOW


def test_while_someone_posts_a_new_repeat_waits_unless_that_poster_is_long_gone() -> None:
    busy = _incident(flushing=("j-2",), flushing_by=OTHER, flushing_since=T0)
    assert step_for_new(busy, T0 + timedelta(minutes=1)) is Step.DEFER
    assert step_for_new(busy, T0 + STALE_FLUSH + timedelta(seconds=1)) is Step.POST_NOW


def test_a_redelivery_of_a_known_execution() -> None:
    inc = _incident(
        last_reply_at=T0,
        pending=("j-3",),
        flushing=("j-2",),
        flushing_by=ME,
        flushing_since=T0,
        coalesced=("j-1b",),
    )
    later = T0 + COALESCE_WINDOW + timedelta(seconds=1)
    assert step_for_known(inc, "j-1b", ME, later) is Step.DONE
    assert step_for_known(inc, "j-2", ME, later) is Step.RESUME
    assert step_for_known(inc, "j-2", OTHER, later) is Step.WAIT
    assert step_for_known(inc, "j-3", OTHER, later) is Step.WAIT  # someone is posting
    idle = replace(inc, flushing=(), flushing_by=None, flushing_since=None)
    assert step_for_known(idle, "j-3", OTHER, T0 + timedelta(seconds=1)) is Step.WAIT
    assert step_for_known(idle, "j-3", OTHER, later) is Step.FLUSH
    assert step_for_known(idle, "j-9", OTHER, later) is None


def test_a_flush_names_the_new_one_and_the_waiting_ones_once() -> None:
    inc = add_pending(add_pending(_incident(), "j-2"), "j-3")
    assert add_pending(inc, "j-2") is inc  # counted once
    started = start_flush(inc, key=ME, now=T0, also="j-4")
    assert started is not None
    marked, names = started
    assert names == ("j-4", "j-2", "j-3")
    assert marked.pending == ()
    assert marked.flushing == names
    # a second poster sees the mark and waits
    assert start_flush(marked, key=OTHER, now=T0) is None
    # the same poster again (its transaction retried, or it was redelivered) gets the same names
    again = start_flush(marked, key=ME, now=T0 + timedelta(seconds=5))
    assert again is not None
    assert again[1] == names
    done = finish_flush(marked, names, now=T0 + timedelta(seconds=1))
    assert done.flushing == ()
    assert done.flushing_by is None
    assert done.coalesced == names
    assert done.last_reply_at == T0 + timedelta(seconds=1)


def test_one_reply_names_at_most_a_page_the_rest_wait_for_the_next() -> None:
    inc = _incident()
    for n in range(MAX_PER_REPLY + 5):
        inc = add_pending(inc, f"j-{n:03d}")
    started = start_flush(inc, key=ME, now=T0)
    assert started is not None
    marked, names = started
    assert len(names) == MAX_PER_REPLY
    assert len(marked.pending) == 5
    assert not set(names) & set(marked.pending)


def test_the_posted_names_kept_are_bounded() -> None:
    inc = _incident(coalesced=tuple(f"old-{n}" for n in range(KEEP_COALESCED)))
    done = finish_flush(inc, ("new-1", "new-2"), now=T0)
    assert len(done.coalesced) == KEEP_COALESCED
    assert done.coalesced[-2:] == ("new-1", "new-2")
