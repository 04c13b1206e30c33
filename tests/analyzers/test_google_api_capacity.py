"""quota_exceeded vs upstream_service: a Google API's RESOURCE_EXHAUSTED is a quota only when
the project's quota is what ran out; "temporarily out of capacity" is the service's own."""

from __future__ import annotations

import pytest

from analyzers import quota_exceeded, upstream_service
from tests.analyzers._build import HEALTHY, Case, check_case, evidence, winner

_CAPACITY = (
    "com.google.api.gax.rpc.ResourceExhaustedException: io.grpc.StatusRuntimeException: "
    "RESOURCE_EXHAUSTED: Unable to submit request because the service is temporarily out of "
    "capacity. Try again later."
)

UPSTREAM = [
    Case("vertex out of capacity", (_CAPACITY,), "OUT_OF_CAPACITY", min_strength=0.85),
    Case(
        "gax unavailable",
        (
            "com.google.api.gax.rpc.UnavailableException: io.grpc.StatusRuntimeException: "
            "UNAVAILABLE: io exception",
        ),
        "UNAVAILABLE_503",
    ),
    Case(
        "grpc-js internal",
        ("Error: 13 INTERNAL: Received RST_STREAM with code 2",),
        "SERVER_ERROR_500",
    ),
    Case(
        "go client 500",
        ("googleapi: Error 500: Internal error encountered.",),
        "SERVER_ERROR_5XX",
    ),
    Case("go client 404", ("googleapi: Error 404: Not found",), None),
    Case("a variable named internalErrors", ("internalErrors=0",), None),
    Case("capacity planning note", ("capacity planning: 40 % used",), None),
    Case("a log that counts 13 INTERNAL users", ("found 13 INTERNALS",), None),
    Case("healthy run", HEALTHY, None),
]

QUOTA = [
    Case(
        "quota resource exhausted",
        (
            "google.api_core.exceptions.ResourceExhausted: 429 RESOURCE_EXHAUSTED: Quota exceeded "
            "for aiplatform.googleapis.com/generate_content_requests_per_minute",
        ),
        "QUOTA_EXCEEDED",
    ),
    Case(
        "bare resource exhausted",
        ("io.grpc.StatusRuntimeException: RESOURCE_EXHAUSTED: Bandwidth exhausted",),
        "RESOURCE_EXHAUSTED",
    ),
    Case("out of capacity is not a quota", (_CAPACITY,), None),
]


@pytest.mark.parametrize("case", UPSTREAM, ids=lambda c: c.name)
def test_upstream_service(case: Case) -> None:
    check_case(case, upstream_service.analyze)


@pytest.mark.parametrize("case", QUOTA, ids=lambda c: c.name)
def test_quota_exceeded(case: Case) -> None:
    check_case(case, quota_exceeded.analyze)


def test_capacity_ranks_upstream_first() -> None:
    assert winner(evidence((_CAPACITY,))) == "upstream_service"
