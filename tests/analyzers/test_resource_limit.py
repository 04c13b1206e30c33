"""resource_limit: out of memory, signal 9, task timeout — with the numbers side by side."""

from __future__ import annotations

from datetime import timedelta

import pytest

from analyzers import resource_limit
from jobtriage.evidence import Outcome
from tests.analyzers._build import (
    HEALTHY,
    Case,
    check_case,
    config,
    evidence,
    out,
    rank,
    system,
    task,
    winner,
)

OOM = (
    "Memory limit of 512 MiB exceeded with 530 MiB used. Consider increasing the memory limit,"
    " see https://cloud.google.com/run/docs/configuring/memory-limits"
)

CASES = [
    Case(
        "kubernetes job deadline",
        (
            "Warning  DeadlineExceeded  job-controller  Job was active longer than specified "
            "deadline",
        ),
        "TASK_TIMEOUT",
    ),
    Case(
        "memory limit with signal 9",
        (system(OOM), system("Container terminated on signal 9.", "WARNING")),
        "MEMORY_LIMIT_EXCEEDED",
        cfg=config(memory="512Mi"),
        tasks=(task(exit_code=None, term_signal=9),),
        min_strength=0.93,
        fact_contains=("530 MiB used", "512 MiB limit", "--memory=1Gi"),
    ),
    Case(
        "older memory wording",
        (
            system(
                "Memory limit of 512M exceeded with 526M used. Consider increasing the memory"
                " limit, see https://cloud.google.com/run/docs/configuring/memory-limits"
            ),
        ),
        "MEMORY_LIMIT_EXCEEDED",
    ),
    Case(
        "node heap",
        (
            "<--- Last few GCs --->",
            "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
        ),
        "JS_HEAP_OOM",
        cfg=config(memory="2Gi"),
        fact_contains=("--max-old-space-size=1536",),
    ),
    Case(
        "python MemoryError",
        ("Traceback (most recent call last):", "MemoryError"),
        "PY_MEMORY_ERROR",
    ),
    Case(
        "signal 9 alone",
        (system("Container terminated on signal 9.", "WARNING"),),
        "SIGKILL",
        max_strength=0.7,
    ),
    Case(
        "killed task without any line",
        (),
        "SIGKILL",
        tasks=(task(exit_code=137),),
        max_strength=0.65,
        fact_contains=("137",),
    ),
    Case("shell reports Killed", ("sh: line 1:    23 Killed    node dist/migrate.js",), "SIGKILL"),
    Case(
        "task timeout line",
        (system("Terminating task because it has reached the maximum timeout of 600 seconds."),),
        "TASK_TIMEOUT",
        cfg=config(timeout=timedelta(minutes=10)),
        tasks=(task(exit_code=None, ran=timedelta(minutes=10, seconds=2)),),
        min_strength=0.9,
        fact_contains=("10m00s", "10m02s"),
    ),
    Case(
        "timed out by status only",
        (),
        "TASK_TIMEOUT",
        outcome=Outcome.TIMED_OUT,
        completed_message="Task o4o-api-migrations-h5x5h-task0 failed with message: The"
        " configured timeout was reached.",
        fact_contains=("status code 4",),
    ),
    Case(
        "kill at the deadline is the timeout",
        (system("Container terminated on signal 9.", "WARNING"),),
        "TASK_TIMEOUT",
        outcome=Outcome.TIMED_OUT,
    ),
    Case(
        "every retry used",
        (system(OOM),),
        "MEMORY_LIMIT_EXCEEDED",
        cfg=config(max_retries=3),
        tasks=(task(exit_code=137, retried=3),),
        fact_contains=("3 of 3",),
    ),
    Case("unrelated 'Killed' word", (out("Killed 0 zombie processes"),), None),
    Case(
        "beam heap allocation failed",
        ('eheap_alloc: Cannot allocate 1573200 bytes of memory (of type "heap").',),
        "OOM_KILLED",
    ),
    Case(
        "ruby NoMemoryError",
        ("/app/lib/import.rb:12:in `read': failed to allocate memory (NoMemoryError)",),
        "OOM_KILLED",
    ),
    Case(
        "jvm native allocation failed",
        (
            "# There is insufficient memory for the Java Runtime Environment to continue.",
            "# Native memory allocation (mmap) failed to map 262144 bytes",
        ),
        "JVM_NATIVE_OOM",
    ),
    Case(
        "c++ bad_alloc",
        ("terminate called after throwing an instance of 'std::bad_alloc'",),
        "OOM_KILLED",
    ),
    Case("kernel ENOMEM", ("OSError: [Errno 12] Cannot allocate memory",), "OOM_KILLED"),
    Case("go child killed", ("migrate: exit status: signal: killed",), "SIGKILL", max_strength=0.7),
    Case(
        "a memory figure in a healthy log is not a failure",
        (out("heap: allocated 512 MiB, memory limit 2 GiB"), out("Processed 10000 rows")),
        None,
    ),
    Case("healthy run", HEALTHY, None, cfg=config()),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_resource_limit(case: Case) -> None:
    check_case(case, resource_limit.analyze)


@pytest.mark.parametrize(
    ("limit", "mib"),
    [("512Mi", 512), ("1Gi", 1024), ("2G", 1907), ("4096Mi", 4096), ("lots", None), (None, None)],
)
def test_memory_limit_parsing(limit: str | None, mib: int | None) -> None:
    assert resource_limit._mib(limit) == mib


@pytest.mark.parametrize(("used", "suggested"), [(530, "1Gi"), (300, "512Mi"), (1900, "4Gi")])
def test_memory_suggestion_leaves_headroom(used: int, suggested: str) -> None:
    assert resource_limit._suggest(used) == suggested


def test_oom_beats_a_generic_exit_code_error() -> None:
    ev = evidence(
        [
            out("> o4o-api@1.4.2 migrate"),
            system(OOM),
            system("Container terminated on signal 9.", "WARNING"),
            "npm ERR! code ELIFECYCLE",
            "npm ERR! errno 137",
            "npm ERR! Failed at the o4o-api@1.4.2 migrate script.",
            "Node.js v20.11.1",
        ],
        cfg=config(),
        tasks=[task(exit_code=137)],
    )
    ranked = rank(ev)
    assert winner(ev) == "resource_limit", [(f.cause, f.signature, f.strength) for f in ranked]
    others = [f for f in ranked if f.cause != "resource_limit"]
    assert all(f.strength <= 0.3 for f in others), others
