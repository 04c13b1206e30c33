"""Retry versus drop, decided in one place.

An exception escaping the CloudEvent handler makes Pub/Sub redeliver the event (deploy/ pushes
through its own subscription: backoff 10 s .. 600 s, then after `max_delivery_attempts` the
dead-letter topic). So:

- `TransientError` — worth redelivering: Slack 5xx / rate limit after our own retries, a timeout,
  Firestore unavailable, another delivery of the same execution holding the claim. `main.py` lets
  it escape.
- `PermanentError` — redelivery cannot help: a malformed event, `channel_not_found`,
  `invalid_auth`, a missing setting. `main.py` logs it with what to fix and acknowledges.

Evidence sources never raise either: a Run API or Logging failure becomes a `Gap` in the report.
"""

from __future__ import annotations

from jobtriage.redact import scrub


class TriageError(Exception):
    """Base of the errors the pipeline raises on purpose.

    Its message is scrubbed when it is made: an exception's text ends up in our logs, in the
    incident store and, for the command line, on a terminal (issue 9)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(scrub(a) if isinstance(a, str) else a for a in args))


class TransientError(TriageError):
    """Redeliver: the same event may well succeed later."""


class Deferred(TransientError):
    """Not a failure: this repeat is counted and waits to be posted with the next ones
    (`incident.coalesce`); Pub/Sub's redelivery is the timer."""


class PermanentError(TriageError):
    """Acknowledge and log: the same event will fail the same way again."""

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        self.fix = scrub(fix)


class BadEvent(PermanentError):
    """The event is not a Cloud Run Job execution outcome we can read."""
