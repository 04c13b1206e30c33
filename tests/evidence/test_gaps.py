"""evidence.gaps: a failed call says what failed and what to do — network faults as network."""

from __future__ import annotations

import socket

import pytest
from google.auth.exceptions import TransportError

from jobtriage.evidence.gaps import LOGGING_API, RUN_API, gap_for
from jobtriage.evidence.model import ExecutionRef, Source

REF = ExecutionRef("p-1", "us-central1", "j", "j-abc12")


def _chained(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as caught:
            raise outer from caught
    except Exception as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            _chained(
                TransportError("Failed to retrieve token"),
                socket.gaierror(-3, "Temporary failure in name resolution"),
            ),
            "its host name did not resolve (no network or no DNS)",
        ),
        (
            _chained(RuntimeError("wrapped"), ConnectionRefusedError(111, "Connection refused")),
            "the connection failed (ConnectionRefusedError)",
        ),
    ],
)
def test_network_faults_are_gaps_that_say_so(exc: Exception, expected: str) -> None:
    for api in (RUN_API, LOGGING_API):
        gap = gap_for(Source.EXECUTION, exc, api=api, ref=REF, timeout=5)
        assert f"could not reach the {api.title}: " in gap.reason
        assert expected in gap.reason
        assert "bug in jobtriage" not in gap.fix
        assert "network" in gap.fix


def test_only_the_unexplained_is_called_a_bug() -> None:
    gap = gap_for(Source.JOB, KeyError("spec"), api=RUN_API, ref=REF, timeout=5)
    assert "bug in jobtriage" in gap.fix


def _every_branch() -> list[tuple[Source, BaseException, object]]:
    from google.api_core import exceptions as gx
    from google.auth.exceptions import DefaultCredentialsError

    return [
        (Source.LOGS, DefaultCredentialsError("none"), LOGGING_API),
        (Source.JOB, gx.Forbidden("API has not been used in project p-1"), RUN_API),
        (Source.EXECUTION, gx.Forbidden("denied"), RUN_API),
        (Source.EXECUTION, gx.NotFound("gone"), RUN_API),
        (Source.JOB, gx.NotFound("gone"), RUN_API),
        (Source.LOGS, gx.NotFound("gone"), LOGGING_API),
        (Source.LOGS, gx.TooManyRequests("slow down"), LOGGING_API),
        (Source.JOB, gx.TooManyRequests("slow down"), RUN_API),
        (Source.JOB, gx.DeadlineExceeded("late"), RUN_API),
        (Source.JOB, gx.InternalServerError("oops"), RUN_API),
        (
            Source.JOB,
            _chained(TransportError("x"), socket.gaierror(-2, "Name or service not known")),
            RUN_API,
        ),
        (Source.JOB, _chained(RuntimeError("x"), ConnectionResetError(104, "reset")), RUN_API),
        (Source.JOB, gx.BadRequest("no"), RUN_API),
        (Source.JOB, KeyError("spec"), RUN_API),
    ]


@pytest.mark.parametrize("case", range(14))
def test_every_gap_speaks_korean_too(case: int) -> None:
    import re

    source, exc, api = _every_branch()[case]
    gap = gap_for(source, exc, api=api, ref=REF, timeout=5)  # type: ignore[arg-type]
    reason, fix = gap.says("ko")
    assert re.search(r"[가-힣]", reason), gap
    assert not fix or re.search(r"[가-힣]|gcloud ", fix), gap
    assert gap.says("en") == (gap.reason, gap.fix)
