"""What a scheduled tick does: act although no execution ended.

Cloud Scheduler publishes a tick to the events topic every few minutes (deploy/scheduler.tf);
`event.parse_message` turns it into a `Tick` and `app` hands it here. A tick does two things, each
at most once however often it is delivered and however many instances receive it at once:

- **Reminder** — an incident nobody acknowledged within `REMIND_AFTER_MINUTES` (its opening, or
  the end of a timed snooze, `Incident.awaiting_ack_since`) gets exactly one reply in its thread
  mentioning `REMIND_USERGROUP`. None while snoozed, acknowledged or closed. One bounded store
  query (`IncidentStore.awaiting_ack`), then per incident the claim `reminder:<incident id>`:
  post, record the post on the claim, mark the incident `reminded_at`, finish.
- **Missed run** — each job of `EXPECTED_INTERVALS` whose newest executions (one page, the Cloud
  Run Admin API) hold no success within its interval, and that has no open incident already (a
  failing job's incident says it all), gets one incident of its own, posted as a new alert with
  the usual buttons. The claim `missed-run:<job>:<last success>` makes it one per stretch without
  a success: a later success recovers it as usual (pipeline's success path), and resolving it by
  hand silences that stretch.

A failure in one of these (Slack or the Run API slow, a claim busy elsewhere) is one log line and
is left for the next tick; only the store failing as a whole asks for redelivery. A tick older than
`MAX_TICK_AGE` (a backlog after an outage) is acknowledged without doing anything: the newest tick
does the same work.

Cost per tick: one Firestore query, plus one Cloud Run `executions.list` page per job with an
expected interval (read concurrently); only what is due adds writes (a claim, the post recorded,
the incident, the claim finished) and one Slack call. Measured: bench/ticks.py.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from jobtriage.errors import PermanentError, TransientError
from jobtriage.event import Tick
from jobtriage.evidence.cloud_run import succeeded_at
from jobtriage.evidence.gaps import RUN_API, gap_for
from jobtriage.evidence.model import ExecutionRef, Source
from jobtriage.incident.decide import new_incident
from jobtriage.incident.ledger import CLAIM_LEASE, ClaimKind, Delivery
from jobtriage.incident.ledger import claim_key as _claim_key
from jobtriage.incident.model import MISSED_RUN, Incident
from jobtriage.incident.store import ClaimOutcome, UnknownIncident
from jobtriage.notify.metadata import PostKind
from jobtriage.notify.missed import MissedRun, render_missed_run
from jobtriage.notify.notifier import blocks_json
from jobtriage.notify.reminder import render_reminder
from jobtriage.ownlog import get_logger
from jobtriage.runtime import Runtime

log = get_logger()

# Ticks come every few minutes; one this old waited in Pub/Sub through an outage, and the newest
# one does the same work.
MAX_TICK_AGE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class TickResult:
    action: str  # "tick", or "stale" when it was too old to act on
    reminded: tuple[str, ...] = ()  # incidents reminded of by this tick
    opened: tuple[str, ...] = ()  # missed-run incidents opened by this tick
    left: int = 0  # things that failed for now and are left to the next tick


def reminder_key(incident_id: str) -> str:
    return _claim_key(ClaimKind.REMINDER, incident_id)


def missed_run_key(job_path: str, last_success: str | None) -> str:
    return _claim_key(ClaimKind.MISSED_RUN, job_path, last_success or "none")


def process_tick(tick: Tick, rt: Runtime) -> TickResult:
    now = rt.clock.now()
    ctx = {"project": tick.project, "region": tick.region, "kind": "tick"}
    if tick.published_at is not None and now - tick.published_at > MAX_TICK_AGE:
        log.info("tick ignored: published %s, too old to act on", tick.published_at, extra=ctx)
        return TickResult("stale")
    reminded, left_r = _remind(rt, now)
    opened, left_m = _missed_runs(tick, rt, now)
    log.info(
        "tick: %d reminder(s), %d missed run(s)",
        len(reminded),
        len(opened),
        extra=ctx | {"reminded": reminded, "opened": opened, "left": left_r + left_m},
    )
    return TickResult("tick", tuple(reminded), tuple(opened), left_r + left_m)


# --- reminders ---------------------------------------------------------------------------------


def reminder_due(incident: Incident, cutoff: datetime) -> bool:
    """True while the incident has waited for someone since `cutoff` or earlier, and has a thread
    to remind in."""
    since = incident.awaiting_ack_since
    return since is not None and since <= cutoff and bool(incident.channel and incident.thread_root)


def _mark_reminded(now: datetime) -> Callable[[Incident], Incident]:
    def mark(current: Incident) -> Incident:
        return current if current.reminded_at is not None else replace(current, reminded_at=now)

    return mark


def _remind(rt: Runtime, now: datetime) -> tuple[list[str], int]:
    minutes = rt.settings.remind_after_minutes
    if minutes <= 0:
        return [], 0
    cutoff = now - timedelta(minutes=minutes)
    reminded: list[str] = []
    left = 0
    for incident in rt.store.awaiting_ack(cutoff):
        try:
            if _remind_one(incident, cutoff, now, rt):
                reminded.append(incident.id)
        except TransientError as exc:
            left += 1
            log.warning("reminder left for the next tick: %s", exc, extra={"incident": incident.id})
        except PermanentError as exc:
            log.error(
                "reminder not posted: %s%s",
                exc,
                f" — fix: {exc.fix}" if exc.fix else "",
                extra={"incident": incident.id},
            )
    return reminded, left


def _remind_one(incident: Incident, cutoff: datetime, now: datetime, rt: Runtime) -> bool:
    """Post the incident's one reminder, unless it was posted already or is no longer due."""
    claim = rt.store.claim(reminder_key(incident.id), now=now, lease=CLAIM_LEASE)
    if claim.outcome is ClaimOutcome.DONE:
        # Reminded (or refused for good) before; make sure the query stops returning it.
        rt.store.update(incident.id, _mark_reminded(now))
        return False
    if claim.outcome is ClaimOutcome.BUSY:
        return False  # another tick is reminding of it right now
    delivery = Delivery(claim)
    ledger = rt.ledger
    try:
        current = rt.store.get(incident.id)
        if delivery.posted is None and (current is None or not reminder_due(current, cutoff)):
            ledger.release(delivery)  # acknowledged or snoozed since the query: maybe later
            return False
        if current is not None and delivery.posted is None:
            channel, root = current.channel, current.thread_root
            assert channel
            assert root
            since = current.awaiting_ack_since or current.opened_at
            message = render_reminder(
                current,
                waiting=now - since,
                usergroup=rt.settings.remind_usergroup,
                lang=rt.lang,
            )
            ledger.post_once(
                delivery,
                channel,
                lambda tag: rt.notifier.reply(channel, root, message, tag=tag),
                kind=PostKind.REMINDER,
                incident=current.id,
                thread_ts=root,
            )
        rt.store.update(incident.id, _mark_reminded(now))
    except TransientError:
        if delivery.posted is None:
            ledger.release(delivery)
        raise
    except PermanentError as exc:
        # Refused for good (channel gone, token revoked): not asked again, and out of the query.
        ledger.finish(delivery, {"action": "error", "error": str(exc)[:300]})
        with suppress(UnknownIncident):
            rt.store.update(incident.id, _mark_reminded(now))
        raise
    ts = delivery.posted.ts if delivery.posted else None
    ledger.finish(delivery, {"action": "reminded", "incident": incident.id, "ts": ts})
    return True


# --- missed runs -------------------------------------------------------------------------------


def missed_run(
    tick: Tick, job: str, interval: timedelta, now: datetime, rt: Runtime
) -> MissedRun | None:
    """What the job's newest executions say: a `MissedRun` when none succeeded within
    `interval`, None when one did. Raises what the Run API raises."""
    run = rt.sources.run
    assert run is not None
    found = MissedRun(tick.project, tick.region, job, interval, now, None, None, 0)
    recent = run.newest_executions(found.job_path)
    last = recent.newest_success()
    if last is not None and succeeded_at(last) >= now - interval:
        return None
    return replace(found, last_success=last, newest=recent.newest, looked_at=len(recent.executions))


# The jobs' executions are read concurrently: one round trip for all of them, not one each.
READ_WORKERS = 8


def _missed_runs(tick: Tick, rt: Runtime, now: datetime) -> tuple[list[str], int]:
    intervals = rt.settings.expected_intervals
    run = rt.sources.run
    if not intervals or run is None:
        return [], 0
    opened: list[str] = []
    left = 0

    def check(job: str, interval: timedelta) -> MissedRun | Exception | None:
        try:
            return missed_run(tick, job, interval, now, rt)
        except Exception as exc:  # the API's own errors, read as a report's gap would be
            return exc

    workers = min(READ_WORKERS, len(intervals))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tick") as pool:
        found_all = list(pool.map(lambda pair: check(*pair), intervals))
    for (job, _), found in zip(intervals, found_all, strict=True):
        ctx = {"job": job, "project": tick.project, "region": tick.region}
        if isinstance(found, Exception):
            ref = ExecutionRef(tick.project, tick.region, job, "")
            gap = gap_for(Source.LAST_SUCCESS, found, api=RUN_API, ref=ref, timeout=run.timeout)
            left += 1
            log.warning("missed-run check skipped: %s — fix: %s", gap.reason, gap.fix, extra=ctx)
            continue
        if found is None:
            continue
        try:
            incident_id = _open_missed_run(found, rt)
        except TransientError as exc:
            left += 1
            log.warning("missed run left for the next tick: %s", exc, extra=ctx)
            continue
        except PermanentError as exc:
            fix = f" — fix: {exc.fix}" if exc.fix else ""
            log.error("missed run not posted: %s%s", exc, fix, extra=ctx)
            continue
        if incident_id is not None:
            opened.append(incident_id)
    return opened, left


def _open_missed_run(found: MissedRun, rt: Runtime) -> str | None:
    """Open the missed run's incident and post its alert, once; None when there is nothing to
    open (an open incident of the job says it already, or this stretch had its incident)."""
    job_path = found.job_path
    if rt.store.open_incidents(job_path):
        return None  # failing (or already missed) and open: that incident is the news
    last = found.last_success.name if found.last_success else None
    claim = rt.store.claim(missed_run_key(job_path, last), now=found.now, lease=CLAIM_LEASE)
    if not claim.owned:
        return None  # done before, or another tick is opening it right now
    delivery = Delivery(claim)
    ledger = rt.ledger
    try:
        draft = new_incident(
            job_path=job_path, fingerprint=MISSED_RUN, execution="", now=found.now, lang=rt.lang
        )
        message = render_missed_run(found, draft, lang=rt.lang)
        # A message of its own, never inside a failure storm's digest thread: at most one per
        # configured job and stretch, and it is not one of the storm's failures.
        channel = delivery.posted.channel if delivery.posted else rt.channel
        ts = ledger.post_once(
            delivery,
            channel,
            lambda tag: rt.notifier.post_alert(channel, message, tag=tag),
            kind=PostKind.ALERT,
            incident=draft.id,
        )
        stored = replace(draft, channel=channel, ts=ts, parent_blocks_json=blocks_json(message))
        rt.store.create(stored)
    except TransientError:
        if delivery.posted is None:
            ledger.release(delivery)
        raise
    except PermanentError as exc:
        ledger.finish(delivery, {"action": "error", "error": str(exc)[:300]})
        raise
    ledger.finish(delivery, {"action": "missed_run", "incident": stored.id, "ts": ts})
    return stored.id
