"""Diagnosis time and peak memory for 1k / 10k / 100k log lines.

Builds evidence the way `gather` leaves it (lines already clipped) from a realistic mix: startup
chatter, per-row migration output, a few warnings, and the real error near the end — then times
building the `Evidence` (which indexes the log lines) plus `build_report` (all analyzers + ranking
+ report), and measures the peak allocation of the same two steps with tracemalloc in a separate
pass (tracemalloc slows Python down, so it never runs during the timing). The lines themselves
are allocated before the measurement: they are what Logging returned, not diagnosis memory.

    .venv/bin/python bench/diagnosis.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobtriage.diagnosis import build_report
from jobtriage.evidence import Evidence, ExecutionRef, LogLine, Stream, clip_line

REF = ExecutionRef(
    "netureyoutube", "asia-northeast3", "o4o-api-migrations", "o4o-api-migrations-h5x5h"
)
T0 = datetime(2026, 1, 12, 3, 0, tzinfo=UTC)

CHATTER = [
    'query: SELECT * FROM "migrations" "migrations" ORDER BY "id" DESC',
    "info: processed batch {i} of users (1000 rows) in 212ms",
    "debug: cache miss for key tenant:{i}:settings, loading from database",
    "GET /internal/health 200 3ms",
    "warn: slow query took 1532ms: UPDATE orders SET status = $1 WHERE id = $2",
]
ERROR = [
    "Error [ERR_REQUIRE_ESM]: require() of ES Module /app/dist/database/data-source.js from "
    "/app/dist/migrate.js not supported.",
    "    at Object.<anonymous> (/app/dist/migrate.js:5:20)",
    "    at Module._compile (node:internal/modules/cjs/loader:1364:14)",
]


def make_lines(n: int) -> tuple[LogLine, ...]:
    lines = []
    for i in range(n - len(ERROR)):
        text = CHATTER[i % len(CHATTER)].format(i=i)
        stream = Stream.STDOUT if i % 7 else Stream.STDERR
        lines.append(LogLine(T0 + timedelta(milliseconds=i), stream, "DEFAULT", clip_line(text)))
    for j, text in enumerate(ERROR):
        lines.append(
            LogLine(T0 + timedelta(seconds=n, milliseconds=j), Stream.STDERR, "DEFAULT", text)
        )
    return tuple(lines)


def measure(n: int, repeat: int) -> dict[str, float]:
    lines = make_lines(n)
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        evidence = Evidence(ref=REF, logs=lines)
        report = build_report(evidence)
        times.append(time.perf_counter() - t)
    assert report.top.id == "entrypoint_runtime", report.top.id
    gc.collect()
    tracemalloc.start()
    evidence = Evidence(ref=REF, logs=lines)  # the log index is built here
    build_report(evidence)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "lines": n,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "peak_mib": peak / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| log lines | median | best | peak memory (evidence + diagnosis) | per 1k lines |")
    print("|---:|---:|---:|---:|---:|")
    for n in (1_000, 10_000, 100_000):
        r = measure(n, args.repeat)
        print(
            f"| {n:,} | {r['median_s'] * 1000:.1f} ms | {r['min_s'] * 1000:.1f} ms "
            f"| {r['peak_mib']:.1f} MiB | {r['median_s'] * 1e6 / n:.1f} µs |"
        )


if __name__ == "__main__":
    main()
