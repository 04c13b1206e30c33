"""A failed non-Completed condition (image missing, secret check) reaches the analyzers."""

from __future__ import annotations

import json

from google.cloud import run_v2

from jobtriage.diagnosis import build_report
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.evidence.cloud_run import execution_info

EXECUTION = {
    "name": "projects/p-123456/locations/us-central1/jobs/migrate/executions/migrate-abcde",
    "taskCount": 1,
    "failedCount": 1,
    "template": {"containers": [{"image": "us-docker.pkg.dev/p-123456/app/migrate:v2"}]},
    "conditions": [
        {
            "type": "ResourcesAvailable",
            "state": "CONDITION_FAILED",
            "reason": "CONTAINER_MISSING",
            "message": "Image 'us-docker.pkg.dev/p-123456/app/migrate:v2' not found.",
        },
        {"type": "Started", "state": "CONDITION_SUCCEEDED", "message": "Started."},
        {"type": "Completed", "state": "CONDITION_FAILED", "message": "Execution failed."},
    ],
}


def test_other_failed_conditions_are_kept_with_their_reason() -> None:
    pb = run_v2.Execution.from_json(json.dumps(EXECUTION), ignore_unknown_fields=True)
    info = execution_info(pb)
    assert info.other_conditions == (
        "ResourcesAvailable (CONTAINER_MISSING): Image "
        "'us-docker.pkg.dev/p-123456/app/migrate:v2' not found.",
    )


def test_a_missing_image_named_only_by_a_condition_is_diagnosed() -> None:
    pb = run_v2.Execution.from_json(json.dumps(EXECUTION), ignore_unknown_fields=True)
    ref = ExecutionRef("p-123456", "us-central1", "migrate", "migrate-abcde")
    report = build_report(Evidence(ref=ref, execution=execution_info(pb)))
    assert report.top.id == "image_pull"
