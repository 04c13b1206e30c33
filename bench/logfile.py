"""Reading a huge log file: time and peak memory of `evidence.logfile`, against `grep -F`.

    .venv/bin/python bench/logfile.py [--size-mb 1024]

Writes a log of realistic chatter with a real error on line 1 (the case the old reader lost), then
(1) reads it with `read_log_file` in a fresh process (wall time, peak RSS), (2) runs
`grep -F -i -c -f needles` with the same needles the reader streams for, and (3) checks the error
on line 1 was kept. The file is deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHATTER = [
    'query: SELECT * FROM "migrations" "migrations" ORDER BY "id" DESC',
    "info: processed batch {i} of users (1000 rows) in 212ms",
    "debug: cache miss for key tenant:{i}:settings, loading from database",
    "GET /internal/health 200 3ms",
    "warn: slow query took 1532ms: UPDATE orders SET status = $1 WHERE id = $2",
]
FIRST = 'FATAL:  password authentication failed for user "migrator"'

CHILD = """
import resource, sys, time
sys.path.insert(0, {root!r})
import analyzers  # declares the needles
from jobtriage.evidence.logfile import read_log_file
t = time.perf_counter()
read = read_log_file({path!r})
took = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(took, rss, read.total, len(read.lines), read.lines[0].text == {first!r})
"""


def write_log(path: Path, size_mb: int) -> int:
    target = size_mb * 1024 * 1024
    lines = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write(FIRST + "\n")
        block = "".join(CHATTER[i % len(CHATTER)].format(i=i) + "\n" for i in range(10_000))
        written = len(FIRST) + 1
        while written < target:
            handle.write(block)
            written += len(block)
            lines += 10_000
    return lines + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=256)
    args = parser.parse_args()
    import analyzers  # noqa: F401
    from jobtriage.evidence.logfile import STREAM_NEEDLE_MIN
    from jobtriage.evidence.model import LogIndex

    needles = sorted(n for n in LogIndex.known() if len(n) >= STREAM_NEEDLE_MIN)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "huge.log"
        pattern_file = Path(tmp) / "needles.txt"
        pattern_file.write_text("\n".join(needles) + "\n", encoding="utf-8")
        lines = write_log(log, args.size_mb)
        size = log.stat().st_size
        child = CHILD.format(root=str(ROOT), path=str(log), first=FIRST)
        out = subprocess.run(
            [sys.executable, "-c", child], capture_output=True, text=True, check=True
        ).stdout.split()
        took, rss, total, kept, found = (
            float(out[0]),
            float(out[1]),
            int(out[2]),
            int(out[3]),
            out[4],
        )
        t = time.perf_counter()
        grep = subprocess.run(
            ["grep", "-F", "-i", "-c", "-f", str(pattern_file), str(log)],
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C"},
            check=False,
        )
        grep_took = time.perf_counter() - t
    print(
        "| file | lines | read_log_file | peak RSS | "
        f"grep -F -i ({len(needles)} needles) | ratio | line-1 error kept |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|")
    print(
        f"| {size / 2**20:,.0f} MiB | {lines:,} | {took:.2f} s | {rss:,.0f} MiB | "
        f"{grep_took:.2f} s ({grep.stdout.strip()} matching lines) | {took / grep_took:.1f}× | "
        f"{'yes' if found == 'True' else 'NO'} (kept {kept:,} of {total:,}) |"
    )


if __name__ == "__main__":
    main()
