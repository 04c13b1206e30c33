"""Where incidents and delivery claims live: Firestore when deployed, memory for local runs.

Two jobs, one store:

- **Delivery claims** make "no alert lost, none posted twice for one execution" hold even though
  Pub/Sub delivers at least once and a function instance can die at any point. The pipeline:

      claim = store.claim(key, now=now, lease=LEASE)     # LEASE: one delivery's Slack post
      DONE      -> post nothing, acknowledge the event
      BUSY      -> raise TransientError: another delivery is on it; Pub/Sub redelivers later
      NEW       -> store.begin_post(key, holder=…, at=now, …) right before the Slack call (it
                   renews the lease; ClaimLost if another delivery took over meanwhile: don't
                   post); store.record_post(key, channel, ts) at once — or, one write
                   fewer, recorded by the incident write that ends the delivery
                   (`create`/`update(..., finish=Finish(key, result, posted))`); bookkeeping;
                   store.finish(key, result={...}) unless that write finished it
      TAKEOVER  -> a previous delivery died holding the claim, or released it. If `claim.posted`
                   is set the Slack post already happened: skip it and finish the bookkeeping.
                   If `claim.unsettled` is set, a post was started and its answer never recorded
                   (a timeout, a crash): look in Slack for it (jobtriage.incident.ledger) before
                   posting again.
      on a failure before posting: store.release(key, holder=claim.holder), then re-raise.
                   Nothing sent: the claim is deleted (the next claim is NEW). A post started or
                   recorded: the claim is kept, free to take over at once, with that record.

  Who wins a race is decided by Firestore, never by timing: `create()` of the claim document
  (exactly one creator, the rest get AlreadyExists), and a write conditioned on the
  `update_time` that was read (exactly one of several takeovers lands).

- **Incidents** (see `model.Incident`): create-if-absent, read, and `update(id, fn)` — an
  optimistic read-modify-write that re-reads and re-applies `fn` when another writer got there
  first, so a click and a new failure arriving together both count. `fn` must therefore be pure.

Fewer round trips (`FirestoreStore`): the documents an instance just read or wrote are
remembered, and a conditional write starts from that version instead of a read; a version
someone changed since is refused by Firestore and read again. A marker claim is created already
finished (`claim(..., done=result)`). Writes that belong together are one commit: a claim and
the post it announces, or the incident change it makes first (`claim(announce=, change=)`); a
new failure's execution and opening claims (`claim_both`); a waiting repeat's count with the
check that no claim of it exists (`update(unclaimed=)`). A lone repeat is then 3 RPCs (history
query, claim with its reply announced, one commit for incident + claim's end), a new alert 6
(bench/rpcs.py).

Both stores validate the same way (tz-aware datetimes, safe incident ids, Firestore-storable
results) so that what works against `MemoryStore` works against Firestore. The contract test in
tests/incident/test_store_contract.py runs the same functions against both.

Firestore layout (Native mode):

    deliveries/{sha256(key)}   key, state (pending|released|done), holder, claimed_at,
                               lease_until, attempt, posted_channel, posted_ts, result,
                               expire_at, attempt_at, attempt_channel, attempt_thread_ts
    incidents/{incident_id}    every `Incident` field, plus `open_job` (the job path while the
                               incident is not closed, else "") and `message` ("channel/ts" of
                               the parent message, or "") so that every lookup is a single
                               equality filter; `confirmed_project` (the project id once a
                               cause is confirmed, else ""). The incident memory's two bounded
                               reads are an equality and a descending order: `job_path` +
                               `opened_at` and `confirmed_project` + `confirmed_at`, the two
                               composite indexes in deploy/firestore.tf.

`incidents.awaiting_ack_since` is `Incident.awaiting_ack_since` (9999-12-31 when nothing is
awaited), for the tick's reminder query (`awaiting_ack`): one range filter ordered by the same
field, which the automatic single-field index serves.

`deliveries.expire_at` is meant for a Firestore TTL policy (claims are only needed for as long as
Pub/Sub may redeliver — hours, until the dead-letter topic takes the event — kept 30 days for
forensics).

Errors: Firestore unreachable, overloaded or timing out -> `TransientError` (redeliver);
permission denied, database missing or in Datastore mode -> `PermanentError` with the fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jobtriage.incident.store.contract import (
    DATABASE_FIX,
    DELIVERIES,
    DELIVERY_RETENTION,
    INCIDENTS,
    MAX_OPEN_PER_JOB,
    PERMISSION_FIX,
    Begin,
    Change,
    Claim,
    ClaimHeld,
    ClaimLost,
    ClaimOutcome,
    Finish,
    IncidentStore,
    PostAttempt,
    PostedMessage,
    Release,
    UnknownClaim,
    UnknownIncident,
)
from jobtriage.incident.store.firestore import FirestoreStore, _incident_to_doc
from jobtriage.incident.store.memory import MemoryStore

if TYPE_CHECKING:
    from jobtriage.settings import Settings


def make_store(settings: Settings) -> IncidentStore:
    """The store `settings.incident_store` names; a Firestore client is built on first use."""
    if settings.incident_store == "memory":
        return MemoryStore()
    return FirestoreStore.from_settings(settings)


__all__ = [
    "DATABASE_FIX",
    "DELIVERIES",
    "DELIVERY_RETENTION",
    "INCIDENTS",
    "MAX_OPEN_PER_JOB",
    "PERMISSION_FIX",
    "Begin",
    "Change",
    "Claim",
    "ClaimHeld",
    "ClaimLost",
    "ClaimOutcome",
    "Finish",
    "FirestoreStore",
    "IncidentStore",
    "MemoryStore",
    "PostAttempt",
    "PostedMessage",
    "Release",
    "UnknownClaim",
    "UnknownIncident",
    "_incident_to_doc",
    "make_store",
]
