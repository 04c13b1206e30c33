"""Cloud Functions entry points. Thin on purpose: adapt the request, call the pipeline.

- `on_job_event`: a Cloud Run Job execution ended (CloudEvent from Pub/Sub through Eventarc, or a
  Pub/Sub push that functions-framework converts), or a scheduled tick arrived the same way
  (jobtriage/ticks.py). Returns normally to acknowledge; a
  `TransientError` becomes a plain 503 (Pub/Sub redelivers) after `app` has logged its reason on
  one line: a traceback in the logs means a bug, never Slack or Firestore being slow.
- `on_slack_action`: a click on one of our Slack messages (HTTP, signed by Slack).

Nothing is built at import time: clients are created on first use and cached per instance
(`jobtriage.app.runtime`), which keeps cold starts short (see README, "Speed").
"""

from __future__ import annotations

from typing import Any

import flask
import functions_framework
from cloudevents.http import CloudEvent

from jobtriage import app
from jobtriage.errors import TransientError


@functions_framework.cloud_event
def on_job_event(cloud_event: CloudEvent) -> None:
    try:
        app.handle_cloud_event(
            cloud_event["type"], cloud_event.data, event_id=str(cloud_event["id"] or "")
        )
    except TransientError:
        # Already logged with its reason. An HTTP error is not an exception to Flask: no traceback.
        flask.abort(503, description="redeliver later")


@functions_framework.http
def on_slack_action(request: Any) -> tuple[str, int, dict[str, str]]:
    # The signature covers the raw bytes: read them before anything parses the form.
    raw = request.get_data(cache=True, as_text=False)
    answer = app.handle_slack_request(raw, dict(request.headers))
    return answer.body, answer.status, dict(answer.headers)
