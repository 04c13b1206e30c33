"""Every benchmark, one after the other; prints the tables that go into bench/RESULTS.md.

make bench                                  # real time: about six minutes
.venv/bin/python bench/run.py --quick       # the storm 20 times faster, fewer repeats
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    scale = "0.05" if args.quick else "1.0"
    runs = [
        (
            "End to end, one process, zero-latency stand-ins",
            ["e2e.py", "--events", "200", "--firestore"],
        ),
        ("Firestore RPCs of one event at a time", ["rpcs.py"]),
        ("What a tick costs", ["ticks.py"]),
        (
            "Diagnosis time and peak memory",
            ["diagnosis.py", "--repeat", "3" if args.quick else "5"],
        ),
        ("Redaction: hostile lines, the entry pass, detection", ["redaction.py"]),
        ("Suspect changes: extra calls and added time", ["related.py"]),
        (
            "A huge log file against grep -F",
            ["logfile.py", "--size-mb", "256" if args.quick else "1024"],
        ),
        ("Cold start", ["coldstart.py", "--runs", "3" if args.quick else "7"]),
        ("Failure storm", ["storm.py", "--scale", scale, "--before"]),
        ("Faults: slow and dead Slack, kills, forged events, replayed clicks", ["faults.py"]),
    ]
    for title, cmd in runs:
        started = time.monotonic()
        print(f"\n## {title}\n\n`.venv/bin/python bench/{' '.join(cmd)}`\n", flush=True)
        subprocess.run([sys.executable, str(BENCH / cmd[0]), *cmd[1:]], check=True)
        print(f"\n({time.monotonic() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
