"""Repeats posted together: in a storm, a job failing every few seconds gets one "failed again"
reply per window, naming every execution it covers — not one reply per failure at Slack's one
message a second.

Pure decisions over the stored incident; the pipeline does the posting. A repeat either

- posts now (`POST_NOW`): the first repeat of an incident, or the window since its last reply
  has passed; the reply also names the executions waiting (`Incident.pending`). A reply's window
  starts when it was decided — for a reply naming one execution, when its incident was read —
  so a repeat counted after that read is never pushed back by a reply that could not see it;
- waits (`DEFER`): it is counted in the incident at once (the parent message's counter is right)
  and added to `pending`; the delivery is handed back to Pub/Sub (`errors.Deferred`), whose
  redelivery (10 s, then 20 s …) is the timer. The first redelivery after the window posts one
  reply for all of them.

Exactly once, with several instances and crashes: the delivery that posts first marks the
executions it names as `flushing` (one store transaction; a second poster sees the mark and
waits), posts (the post recorded on its own execution claim, so a takeover reuses it), then moves
them to `coalesced`. A redelivery of an execution in `coalesced` posts nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

from jobtriage.incident.model import Incident

# How long after an incident's last reply further repeats wait to be posted together. Pub/Sub
# redelivers a deferred repeat after 10 s, then 20 s more (deploy/pubsub.tf), so a repeat waits
# at most about this long. Measured on the 200-failure storm (bench/storm.py, real time): 20 s
# gave 77 posts and the channel caught up 66 s after the last failure; 30 s gave 68 posts, 30 s.
COALESCE_WINDOW = timedelta(seconds=30)
# At most this many executions in one reply (the rest go into the next one).
MAX_PER_REPLY = 30
# How many names `coalesced` keeps (the newest): enough for every redelivery of a storm.
KEEP_COALESCED = 200
# A `flushing` mark older than this belongs to a delivery that died and was not redelivered
# (dead-lettered): another may post those executions.
STALE_FLUSH = timedelta(minutes=15)


class Step(StrEnum):
    POST_NOW = "post_now"  # post one reply for this execution (and the waiting ones)
    DEFER = "defer"  # count it, add it to `pending`, redeliver later
    WAIT = "wait"  # already counted and waiting: redeliver later, change nothing
    FLUSH = "flush"  # already counted, the window is over: post the waiting ones now
    RESUME = "resume"  # this delivery was posting them when it stopped: finish that
    DONE = "done"  # already named in a reply: nothing to post


def next_reply_at(incident: Incident) -> datetime | None:
    """From when the next reply may be posted; None: at once (no reply yet — the first repeat
    after an alert is always posted straight away)."""
    if incident.last_reply_at is None:
        return None
    return incident.last_reply_at + COALESCE_WINDOW


def _in_window(incident: Incident, now: datetime) -> bool:
    until = next_reply_at(incident)
    return until is not None and now < until


def _flush_stale(incident: Incident, now: datetime) -> bool:
    since = incident.flushing_since
    return since is not None and now - since > STALE_FLUSH


def step_for_known(incident: Incident, execution: str, key: str, now: datetime) -> Step | None:
    """A redelivery of an execution this incident already counts; None when it does not."""
    if execution in incident.coalesced:
        return Step.DONE
    if execution in incident.flushing:
        if incident.flushing_by == key or _flush_stale(incident, now):
            return Step.RESUME
        return Step.WAIT
    if execution in incident.pending:
        if incident.flushing and not _flush_stale(incident, now):
            return Step.WAIT
        return Step.WAIT if _in_window(incident, now) else Step.FLUSH
    return None


def step_for_new(incident: Incident, now: datetime) -> Step:
    """A repeat not yet counted in the incident."""
    if incident.flushing and not _flush_stale(incident, now):
        return Step.DEFER
    return Step.DEFER if _in_window(incident, now) else Step.POST_NOW


def add_pending(incident: Incident, execution: str) -> Incident:
    if execution in (*incident.pending, *incident.flushing, *incident.coalesced):
        return incident  # waiting already, being posted, or posted
    return replace(incident, pending=(*incident.pending, execution))


def start_flush(
    incident: Incident, *, key: str, now: datetime, also: str | None = None
) -> tuple[Incident, tuple[str, ...]] | None:
    """Mark what this delivery is about to post: the waiting executions (and `also`, the new
    one). None when another live delivery is posting already (the caller waits)."""
    if incident.flushing and incident.flushing_by != key and not _flush_stale(incident, now):
        return None
    if incident.flushing and incident.flushing_by == key:
        return incident, incident.flushing  # a retry of the same transaction, or a takeover
    if incident.flushing:  # stale: take it over as it was
        return replace(incident, flushing_by=key, flushing_since=now), incident.flushing
    waiting = [e for e in incident.pending if e != also and e not in incident.coalesced]
    extra = [also] if also and also not in incident.coalesced else []
    covered = tuple([*extra, *waiting][:MAX_PER_REPLY])
    rest = tuple(e for e in incident.pending if e not in covered)
    marked = replace(incident, pending=rest, flushing=covered, flushing_by=key, flushing_since=now)
    return marked, covered


def finish_flush(incident: Incident, covered: tuple[str, ...], *, now: datetime) -> Incident:
    """The reply naming `covered` is in Slack: they are done. The next window runs from `now`
    (when the reply was decided), or from a later reply already recorded."""
    named = set(covered)
    last = incident.last_reply_at
    replied = now if last is None else max(last, now)
    keep = (*[e for e in incident.coalesced if e not in named], *covered)[-KEEP_COALESCED:]
    return replace(
        incident,
        pending=tuple(e for e in incident.pending if e not in named),
        flushing=tuple(e for e in incident.flushing if e not in named),
        flushing_by=None if named >= set(incident.flushing) else incident.flushing_by,
        flushing_since=None if named >= set(incident.flushing) else incident.flushing_since,
        coalesced=keep,
        last_reply_at=replied,
    )
