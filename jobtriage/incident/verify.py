"""Verify before acting: an event's word is not enough to close an incident.

Publishing to the topic needs rights on it, but a mistaken or forged success event must not close
the open incident and post "recovered". Before recovering anything, the Run API is asked about the
execution the event names (one read, made only when the job has open incidents):

- it does not exist (404)                 → nothing recovered, one log line;
- it did not succeed                      → nothing recovered;
- it ended before an incident's last failure (an old success replayed, or delivered late)
                                          → that incident stays open;
- it succeeded after the failure          → the incident recovers.

A failure is checked the same way, by the evidence itself: `Evidence.execution_missing` (the
pipeline posts nothing for an execution the Run API has never heard of).

Errors: the API refusing us (403) is a setup problem — `PermanentError` with the role to grant;
anything else (a timeout, 5xx, 429) is `TransientError`, so Pub/Sub redelivers the event and the
incident is closed a little later instead of never.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from google.api_core.exceptions import GoogleAPIError, NotFound, PermissionDenied

from jobtriage.errors import PermanentError, TransientError
from jobtriage.evidence.cloud_run import CloudRun, succeeded
from jobtriage.evidence.model import ExecutionRef
from jobtriage.incident.model import Incident


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The Run API's word on a success: which open incidents it really ends."""

    incidents: tuple[Incident, ...]
    finished_at: datetime | None
    # Incidents left open, each with why (the success is older than the incident's last failure).
    kept: tuple[tuple[Incident, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Refused:
    """The success could not be confirmed: nothing is closed."""

    reason: str


def confirm_success(
    run: CloudRun | None, ref: ExecutionRef, incidents: Sequence[Incident]
) -> Confirmed | Refused:
    """Which of `incidents` the successful execution `ref` ends, by the Run API's account."""
    if run is None:
        return Refused("the Cloud Run Admin API is not configured; a success cannot be confirmed")
    try:
        info = run.execution(ref)
    except NotFound:
        return Refused(f"the Run API has no execution {ref.execution}")
    except PermissionDenied as exc:
        raise PermanentError(
            f"the Run API refused to describe {ref.execution}: {exc.message}",
            fix="grant the function's service account roles/run.viewer on the project",
        ) from exc
    except GoogleAPIError as exc:
        raise TransientError(
            f"could not confirm {ref.execution} with the Run API: {type(exc).__name__}"
        ) from exc
    if not succeeded(info):
        state = info.completed_state or "not completed"
        return Refused(f"the Run API says {ref.execution} did not succeed ({state})")
    finished_at = info.completion_time or info.start_time or info.create_time
    ending: list[Incident] = []
    kept: list[tuple[Incident, str]] = []
    for incident in incidents:
        last = incident.last_failure_at
        if finished_at is None:
            kept.append((incident, f"the Run API gives no completion time for {ref.execution}"))
        elif last is not None and finished_at < last:
            kept.append((incident, f"{ref.execution} ended before the incident's last failure"))
        else:
            ending.append(incident)
    return Confirmed(tuple(ending), finished_at, tuple(kept))
