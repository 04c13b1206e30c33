"""An incident: one failure mode of one job, with its Slack thread and who is handling it.

Keyed by job and failure fingerprint (cause id + normalised error, see `Report.fingerprint`),
never by free text that changes from run to run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class State(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"
    RECOVERED = "recovered"

    @property
    def closed(self) -> bool:
        return self in (State.RESOLVED, State.RECOVERED)


# The fingerprint (and cause id) of an incident a tick opened because a job has not succeeded
# within its expected interval (jobtriage/ticks.py) — not a diagnosis of a failed execution.
MISSED_RUN = "missed_run"


def incident_id(job_path: str, fingerprint: str, opened_at: datetime) -> str:
    """Stable, URL- and Firestore-safe id for one incident."""
    raw = f"{job_path}|{fingerprint}|{opened_at.isoformat()}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    job_path: str  # projects/P/locations/R/jobs/J
    fingerprint: str  # e.g. "entrypoint_runtime:ERR_REQUIRE_ESM"
    state: State
    opened_at: datetime
    updated_at: datetime
    failures: int = 1  # failures that belong to this incident, the first included
    first_execution: str = ""
    last_execution: str = ""
    last_failure_at: datetime | None = None
    channel: str | None = None  # Slack channel id of the parent message
    ts: str | None = None  # Slack ts of the parent message (thread root)
    acked_by: str | None = None
    acked_at: datetime | None = None
    snoozed_until: datetime | None = None
    snooze_until_success: bool = False
    held_back: int = 0  # failures not posted while snoozed
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    recovered_execution: str | None = None
    recovered_at: datetime | None = None
    lang: str = "en"
    # The parent message's blocks as last posted; state changes re-render only the state parts.
    parent_blocks_json: str = ""
    version: int = 0  # optimistic-concurrency counter, bumped on every write
    # Who clicked Snooze (shown on the parent message). Last, so positional construction of the
    # fields above keeps working.
    snoozed_by: str | None = None
    # The thread the incident's replies go to when its alert was posted inside a digest thread
    # (many jobs failing at once); None: the incident's own message (`ts`) is the thread root.
    thread_ts: str | None = None
    # --- the incident memory (jobtriage/incident/memory.py) ---
    # The ranked cause ids of the diagnosis that opened the incident, most likely first: what the
    # Resolve modal offers ("what was it?").
    causes: tuple[str, ...] = ()
    # What on-call confirmed it was (a cause id, or `memory.SOMETHING_ELSE`), who and when, and
    # their optional note (scrubbed by the store like every other string).
    confirmed_cause: str | None = None
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    resolution_note: str | None = None
    # When the one "still not acknowledged" reminder was posted in the thread (jobtriage/ticks.py).
    reminded_at: datetime | None = None
    # Slack's `action_ts` of the newest click applied: a click older than it (a captured click
    # replayed, or two people clicking at once and Slack delivering out of order) changes nothing.
    last_click_at: datetime | None = None
    # --- repeats posted together (jobtriage/incident/coalesce.py) ---
    # When the last "failed again" reply was posted in the thread.
    last_reply_at: datetime | None = None
    # Executions counted in the incident whose reply waits for the next one (within the window).
    pending: tuple[str, ...] = ()
    # Executions one delivery (`flushing_by`, its claim key) is posting in one reply right now.
    flushing: tuple[str, ...] = ()
    flushing_by: str | None = None
    flushing_since: datetime | None = None
    # Executions already named in a reply (the newest, bounded): their redeliveries post nothing.
    coalesced: tuple[str, ...] = ()

    @property
    def project(self) -> str:
        """The project id of the job (`projects/P/locations/R/jobs/J`)."""
        parts = self.job_path.split("/")
        return parts[1] if len(parts) > 1 and parts[0] == "projects" else ""

    @property
    def missed_run(self) -> bool:
        """Opened by a tick: the job has not succeeded within its expected interval."""
        return self.fingerprint.split(":", 1)[0] == MISSED_RUN

    @property
    def awaiting_ack_since(self) -> datetime | None:
        """Since when the incident has been waiting for someone, while its one reminder is still
        to come: its opening while open and never acknowledged, the end of a timed snooze nobody
        acknowledged before; None otherwise (acknowledged, snoozed until a success, closed, or
        already reminded). The stores query it (`IncidentStore.awaiting_ack`)."""
        if self.reminded_at is not None or self.acked_by is not None:
            return None
        if self.state is State.OPEN:
            return self.opened_at
        if self.state is State.SNOOZED and not self.snooze_until_success:
            return self.snoozed_until
        return None

    @property
    def closed_at(self) -> datetime | None:
        """When the incident ended: resolved by hand or recovered by a success."""
        if self.state is State.RESOLVED:
            return self.resolved_at or self.updated_at
        if self.state is State.RECOVERED:
            return self.recovered_at or self.updated_at
        return None

    @property
    def thread_root(self) -> str | None:
        """Where replies about this incident go."""
        return self.thread_ts or self.ts
