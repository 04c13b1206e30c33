"""Cloud Functions entry points. Thin on purpose: adapt the request, call the pipeline.

- `on_job_event`: a Cloud Run Job execution ended (CloudEvent from Pub/Sub through Eventarc, or a
  Pub/Sub push that functions-framework converts). Returns normally to acknowledge; an exception
  (only `TransientError`) makes Pub/Sub redeliver.
- `on_slack_action`: a click on one of our Slack messages (HTTP, signed by Slack).

Nothing is built at import time: clients are created on first use and cached per instance
(`jobtriage.app.runtime`), which keeps cold starts short (see README, "Speed").
"""

from __future__ import annotations

from typing import Any

import functions_framework
from cloudevents.http import CloudEvent

from jobtriage import app


@functions_framework.cloud_event
def on_job_event(cloud_event: CloudEvent) -> None:
    app.handle_cloud_event(
        cloud_event["type"], cloud_event.data, event_id=str(cloud_event["id"] or "")
    )


@functions_framework.http
def on_slack_action(request: Any) -> tuple[str, int, dict[str, str]]:
    # The signature covers the raw bytes: read them before anything parses the form.
    raw = request.get_data(cache=True, as_text=False)
    answer = app.handle_slack_request(raw, dict(request.headers))
    return answer.body, answer.status, dict(answer.headers)
