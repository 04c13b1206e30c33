"""`confirm_success`: which open incidents a success event really ends, by the Run API's word.

The Run API is our `CloudRun` reader with its one read (`execution`) answering as the API would;
the whole path through the real client and the replay is in tests/faults/test_forged_events.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.api_core import exceptions

from jobtriage.errors import PermanentError, TransientError
from jobtriage.evidence.cloud_run import CloudRun
from jobtriage.evidence.model import ExecutionInfo, ExecutionRef, TaskTemplateConfig
from jobtriage.incident.model import Incident, State
from jobtriage.incident.verify import Confirmed, Refused, confirm_success

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
REF = ExecutionRef("p", "r", "nightly", "nightly-ok123")


class _Run(CloudRun):
    def __init__(self, answer: ExecutionInfo | Exception) -> None:
        super().__init__(lambda: None, timeout=1.0)  # type: ignore[arg-type,return-value]
        self.answer = answer
        self.asked: list[str] = []

    def execution(self, ref: ExecutionRef) -> ExecutionInfo:
        self.asked.append(ref.execution)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _info(state: str | None, completed: datetime | None) -> ExecutionInfo:
    return ExecutionInfo(
        name=REF.execution,
        config=TaskTemplateConfig(),
        completion_time=completed,
        task_count=1,
        succeeded_count=1 if state == "CONDITION_SUCCEEDED" else 0,
        completed_state=state,
    )


def _incident(last_failure: datetime, name: str = "a") -> Incident:
    return Incident(
        id=name,
        job_path="projects/p/locations/r/jobs/nightly",
        fingerprint="db_connection:x",
        state=State.OPEN,
        opened_at=last_failure,
        updated_at=last_failure,
        last_failure_at=last_failure,
    )


def test_a_later_success_ends_the_incident() -> None:
    run = _Run(_info("CONDITION_SUCCEEDED", T0 + timedelta(minutes=5)))
    got = confirm_success(run, REF, [_incident(T0)])
    assert isinstance(got, Confirmed)
    assert [i.id for i in got.incidents] == ["a"]
    assert got.finished_at == T0 + timedelta(minutes=5)
    assert run.asked == ["nightly-ok123"]


def test_a_success_older_than_the_last_failure_keeps_that_incident_open() -> None:
    run = _Run(_info("CONDITION_SUCCEEDED", T0 + timedelta(minutes=5)))
    got = confirm_success(
        run, REF, [_incident(T0, "old"), _incident(T0 + timedelta(hours=1), "new")]
    )
    assert isinstance(got, Confirmed)
    assert [i.id for i in got.incidents] == ["old"]
    assert [(i.id, "ended before" in why) for i, why in got.kept] == [("new", True)]


def test_a_success_without_a_completion_time_ends_nothing() -> None:
    got = confirm_success(_Run(_info("CONDITION_SUCCEEDED", None)), REF, [_incident(T0)])
    assert isinstance(got, Confirmed)
    assert got.incidents == ()
    assert len(got.kept) == 1


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (exceptions.NotFound("no such execution"), "has no execution nightly-ok123"),
        (_info("CONDITION_FAILED", T0), "did not succeed (CONDITION_FAILED)"),
        (_info(None, None), "did not succeed"),
    ],
)
def test_refused(answer: ExecutionInfo | Exception, says: str) -> None:
    got = confirm_success(_Run(answer), REF, [_incident(T0)])
    assert isinstance(got, Refused)
    assert says in got.reason


def test_no_run_api_refuses() -> None:
    got = confirm_success(None, REF, [_incident(T0)])
    assert isinstance(got, Refused)
    assert "not configured" in got.reason


def test_permission_denied_says_which_role() -> None:
    with pytest.raises(PermanentError) as err:
        confirm_success(_Run(exceptions.PermissionDenied("run.executions.get")), REF, [])
    assert "roles/run.viewer" in err.value.fix


@pytest.mark.parametrize(
    "exc",
    [
        exceptions.ServiceUnavailable("503"),
        exceptions.DeadlineExceeded("slow"),
        exceptions.TooManyRequests("429"),
    ],
)
def test_outages_are_retried(exc: Exception) -> None:
    with pytest.raises(TransientError):
        confirm_success(_Run(exc), REF, [_incident(T0)])
