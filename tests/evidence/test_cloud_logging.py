"""Reading logs: two-request budget, explicit time bounds, sampling, late logs, untrusted text."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from jobtriage.evidence.cloud_logging import (
    MAX_REQUESTS,
    PAGE_SIZE,
    clean_text,
    payload_text,
    stream_of,
)
from jobtriage.evidence.gather import gather
from jobtriage.evidence.model import CUT_MARKER, MAX_LINE_CHARS, Source, Stream
from standins.replay.google import Api, GoogleReplay, Scenario

from .conftest import FakeTime, event_of, scenario, sources_for

COMPLETED = datetime(2026, 1, 12, 6, 12, 55, 931842, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry(
    sc: Scenario, when: datetime, text: str, *, stream: str = "stdout", **extra: Any
) -> dict[str, Any]:
    ref = sc.ref
    item: dict[str, Any] = {
        "insertId": f"{int(when.timestamp() * 1e6):016x}{len(sc.logs):08x}",
        "logName": f"projects/{ref.project}/logs/run.googleapis.com%2F{stream}",
        "resource": {
            "type": "cloud_run_job",
            "labels": {"job_name": ref.job, "location": ref.region, "project_id": ref.project},
        },
        "labels": {
            "run.googleapis.com/execution_name": ref.execution,
            "run.googleapis.com/task_index": "0",
            "run.googleapis.com/task_attempt": "0",
        },
        "timestamp": iso(when),
        "receiveTimestamp": iso(when + timedelta(milliseconds=30)),
        "textPayload": text,
    }
    item.update(extra)
    return item


def test_filter_has_explicit_bounds_and_the_execution_label(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    sc = scenario("seed")
    replay = start_replay(sc)
    gather(event_of(sc), sources=sources_for(replay, late_time))
    (request,) = replay.requests(Api.LIST_ENTRIES)
    assert request.path == "/v2/entries:list"
    body = request.json()
    assert body == {
        "resourceNames": ["projects/netureyoutube"],
        "filter": (
            'resource.type="cloud_run_job"\n'
            'AND resource.labels.job_name="o4o-api-migrations"\n'
            'AND resource.labels.location="asia-northeast3"\n'
            'AND labels."run.googleapis.com/execution_name"="o4o-api-migrations-h5x5h"\n'
            # execution start 06:12:01.872404 - 1 min .. completion 06:12:55.931842 + 2 min
            'AND timestamp>="2026-01-12T06:11:01.872404Z"\n'
            'AND timestamp<="2026-01-12T06:14:55.931842Z"'
        ),
        "orderBy": "timestamp desc",
        "pageSize": PAGE_SIZE,
    }


def chatty(lines: int) -> Scenario:
    """The seed's first attempt crashes early, then 50k lines of chatter bury it."""
    sc = scenario("seed")
    first = [
        e for e in sc.logs if e.get("labels", {}).get("run.googleapis.com/task_attempt") == "0"
    ]
    sc.logs = list(first)
    t0 = datetime(2026, 1, 12, 6, 12, 6, tzinfo=UTC)
    step = timedelta(seconds=49) / lines
    sc.logs.extend(
        entry(sc, t0 + i * step, f"worker: processed batch {i} (rows={i * 7 % 1000})")
        for i in range(lines)
    )
    sc.logs.append(
        entry(
            sc,
            COMPLETED - timedelta(seconds=0.1),
            "Container called exit(1).",
            stream="varlog%2Fsystem",
            severity="WARNING",
        )
    )
    return sc


def test_a_chatty_execution_is_sampled_in_two_requests(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    sc = chatty(50_000)
    replay = start_replay(sc)
    started = time.monotonic()
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))
    elapsed = time.monotonic() - started

    assert replay.count(Api.LIST_ENTRIES) == MAX_REQUESTS == 2
    tail, important = (r.json() for r in replay.requests(Api.LIST_ENTRIES))
    assert tail["orderBy"] == "timestamp desc"
    assert important["orderBy"] == "timestamp asc"
    assert important["filter"].startswith(tail["filter"])
    assert "severity>=WARNING" in important["filter"]
    assert 'logName:"varlog%2Fsystem"' in important["filter"]
    assert important["pageSize"] == tail["pageSize"] == 1000

    stats = ev.log_stats
    assert stats.sampled is True
    assert stats.requests == 2
    assert stats.fetched <= 2 * PAGE_SIZE
    assert stats.kept <= stats.fetched
    assert 1000 <= stats.kept <= 2000
    # the early crash survived the sampling, and so did Cloud Run's exit lines
    assert ev.grep("Error [ERR_REQUIRE_ESM]")
    assert len(ev.grep("Container called exit(1).")) == 2
    assert ev.logs[-1].text == "Container called exit(1)."
    assert "processed batch 49999" in ev.logs[-2].text  # the very end of the tail
    assert [line.timestamp for line in ev.logs] == sorted(line.timestamp for line in ev.logs)  # type: ignore[type-var]
    assert len({(line.timestamp, line.text) for line in ev.logs}) == len(ev.logs)  # deduplicated
    assert elapsed < 30  # generous: the replay filters 50k entries twice in Python


def test_a_short_page_with_more_behind_it_does_not_fetch_a_second_page(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    """The library's pager follows nextPageToken by itself; the budget stops it."""
    sc = chatty(3000)
    replay = start_replay(sc)
    original = replay._entries

    def short_pages(req: Any) -> Any:  # Logging may return fewer than pageSize with a token
        body = req.json()
        body["pageSize"] = 100
        req.body = __import__("json").dumps(body).encode()
        return original(req)

    replay._entries = short_pages  # type: ignore[method-assign]
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))
    assert replay.count(Api.LIST_ENTRIES) == 2
    # one short page of the tail (100), then the important lines (the ESM error, two exits)
    assert ev.log_stats.fetched == 100 + 3
    assert ev.log_stats.sampled


def late(sc: Scenario, *, delay: timedelta, only_attempt: str | None = None) -> Scenario:
    sc = copy.deepcopy(sc)
    for item in sc.logs:
        if (
            only_attempt is not None
            and item["labels"].get("run.googleapis.com/task_attempt") != only_attempt
        ):
            continue
        when = datetime.fromisoformat(item["timestamp"].replace("Z", "+00:00"))
        item["receiveTimestamp"] = iso(max(when, COMPLETED) + delay)
    return sc


def test_late_logs_are_waited_for_once(
    start_replay: Callable[..., GoogleReplay],
) -> None:
    clock = FakeTime(COMPLETED + timedelta(seconds=1.5))
    sc = late(scenario("seed"), delay=timedelta(seconds=6))
    replay = start_replay(sc, log_clock=clock.now)
    ev = gather(event_of(sc), sources=sources_for(replay, clock, log_wait_seconds=8.0))

    assert clock.slept == [8.0]
    assert replay.count(Api.LIST_ENTRIES) == 2
    first, second = (r.json() for r in replay.requests(Api.LIST_ENTRIES))
    assert first == second  # the same tail, read again
    assert ev.log_stats.requests == 2
    assert ev.log_stats.kept == 53
    assert ev.gaps == ()


def test_a_tail_without_the_exit_line_is_read_again(
    start_replay: Callable[..., GoogleReplay],
) -> None:
    clock = FakeTime(COMPLETED + timedelta(seconds=1.0))
    sc = late(scenario("seed"), delay=timedelta(seconds=4), only_attempt="3")
    replay = start_replay(sc, log_clock=clock.now)
    ev = gather(event_of(sc), sources=sources_for(replay, clock, log_wait_seconds=5.0))
    assert clock.slept == [5.0]
    assert len(ev.grep("Container called exit(1).")) == 4
    assert ev.log_stats.requests == 2


def test_old_executions_are_not_waited_for(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    sc = scenario("no_logs")
    replay = start_replay(sc)
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))
    assert late_time.slept == []
    assert ev.logs == ()
    assert ev.log_stats.requests == 1
    # no logs is a fact about the job, not a gap in our reading
    assert [g.source for g in ev.gaps] == [Source.LAST_SUCCESS]  # a new job: never succeeded


def test_a_recent_execution_without_logs_costs_one_wait(
    start_replay: Callable[..., GoogleReplay],
) -> None:
    sc = scenario("no_logs")
    ended = datetime(2026, 2, 20, 23, 0, 9, 602114, tzinfo=UTC)
    clock = FakeTime(ended + timedelta(seconds=2))
    replay = start_replay(sc, log_clock=clock.now)
    ev = gather(event_of(sc), sources=sources_for(replay, clock, log_wait_seconds=3.0))
    assert clock.slept == [3.0]
    assert replay.count(Api.LIST_ENTRIES) == 2
    assert ev.logs == ()


def test_quota_per_minute_on_the_replay_exhausts_and_reports(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    sc = scenario("seed")
    replay = start_replay(sc, logging_reads_per_minute=3, clock=lambda: 100.0)
    kept = []
    for _ in range(3):
        ev = gather(event_of(sc), sources=sources_for(replay, late_time))
        kept.append((ev.log_stats.kept, [g.reason for g in ev.gaps]))
    assert kept == [
        (53, []),
        (53, []),
        (53, []),
    ]
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))
    assert ev.logs == ()
    assert [(g.source, g.reason) for g in ev.gaps] == [
        (Source.LOGS, "Logging read quota exhausted")
    ]
    assert "Read requests per minute" in ev.gaps[0].fix
    assert ev.log_stats.requests == 2
    assert ev.execution is not None


def junk(sc: Scenario) -> Scenario:
    at = COMPLETED - timedelta(seconds=30)
    sc.logs = [
        entry(
            sc, at, "bad bytes \udcff\udcfe and NUL\x00 and \x1b[31mred\x1b[0m\r", stream="stderr"
        ),
        entry(
            sc,
            at + timedelta(seconds=1),
            "",
            stream="stdout",
            textPayload=None,
            jsonPayload={"msg": "pino style", "level": 50},
        ),
        entry(
            sc,
            at + timedelta(seconds=2),
            "",
            stream="stdout",
            textPayload=None,
            jsonPayload={"event": "batch", "rows": 3},
        ),
        entry(sc, at + timedelta(seconds=3), "x" * 1_000_000, stream="stderr"),
        entry(sc, at + timedelta(seconds=4), "", stream="stdout", textPayload=None),
    ]
    for item in sc.logs:
        if item.get("textPayload") is None:
            item.pop("textPayload", None)
    return sc


def test_untrusted_text_is_cleaned_and_bounded(
    start_replay: Callable[..., GoogleReplay], late_time: FakeTime
) -> None:
    sc = junk(scenario("seed"))
    replay = start_replay(sc)
    ev = gather(event_of(sc), sources=sources_for(replay, late_time))
    texts = [line.text for line in ev.logs]
    assert texts[0] == "bad bytes ?? and NUL and red"
    assert texts[1] == "pino style"
    assert texts[2] == '{"event":"batch","rows":3}'
    assert len(texts[3]) == MAX_LINE_CHARS
    assert texts[3].endswith(CUT_MARKER)
    assert texts[4] == ""
    for text in texts:
        text.encode("utf-8")  # no lone surrogates left to crash a later encoder


def test_payloads_and_streams() -> None:
    assert payload_text({"message": "m", "msg": "x"}) == "m"
    assert payload_text({"textPayload": "t"}) == "t"
    assert payload_text({"a": [1, "ü"]}) == '{"a":[1,"ü"]}'
    audit = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "status": {"code": 10, "message": "Execution e failed"},
        "response": {"spec": {"env": [{"value": "hunter2hunter2"}]}},
    }
    assert payload_text(audit) == "Execution e failed"
    assert payload_text(None) == ""
    assert stream_of("projects/p/logs/run.googleapis.com%2Fstdout") is Stream.STDOUT
    assert stream_of("projects/p/logs/run.googleapis.com%2Fstderr") is Stream.STDERR
    assert stream_of("projects/p/logs/run.googleapis.com%2Fvarlog%2Fsystem") is Stream.SYSTEM
    assert stream_of("projects/p/logs/cloudaudit.googleapis.com%2Fsystem_event") is Stream.OTHER
    assert stream_of(None) is Stream.OTHER
    assert clean_text("\x07bell\ttab\nnewline") == "bell\ttab\nnewline"
