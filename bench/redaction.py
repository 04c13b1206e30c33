"""Redaction: what it costs, and what it finds compared with a secret-scanning library.

1. Hostile 100 kB lines (each the worst of 5 runs): floods of the characters and words each
   rule starts at, a line of one character, random base64, PEM and URL floods.
2. The entry pass alone (`redact_log_lines`, as `Evidence` runs it) over 1k / 10k / 100k lines
   of the diagnosis benchmark's mix, with a secret every 100 lines.
3. Detection on the secret corpus (standins/joblogs/secrets.py) and cost per line: ours, and
   Yelp's detect-secrets when it is installed (requirements-dev.txt pins it).

    .venv/bin/python bench/redaction.py
"""

from __future__ import annotations

import random
import statistics
import string
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobtriage.evidence import LogLine, Stream
from jobtriage.evidence.redaction import redact_log_lines
from jobtriage.redact import redact, redact_lines
from standins.joblogs.ordinary import ORDINARY
from standins.joblogs.secrets import ALL_KINDS, KINDS, Kind, leaks

N = 100_000
_rng = random.Random(7)


def hostile() -> dict[str, str]:
    b64 = string.ascii_letters + string.digits + "+/"
    return {
        "one character": "A" * N,
        "random base64": "".join(_rng.choice(b64) for _ in range(N)),
        "password= flood": "password=" * (N // 9),
        "password:' flood": "password:'" * (N // 10),
        '"password": "\\\\ flood': '"password": "' + "\\\\" * (N // 2),
        "://a: flood": "://a:" * (N // 5),
        "://a:@ flood": "://a:@" * (N // 6),
        "@ after a URL": "postgres://u:" + "@" * N,
        "key flood": "key " * (N // 4),
        "token= flood": "token= " * (N // 7),
        "credential words": " ".join(
            _rng.choice(["secret", "token", "key", "password", "auth", "=", ":", "'", '"'])
            for _ in range(N // 6)
        ),
        "PEM then 100 kB": "-----BEGIN PRIVATE KEY-----" + "A" * N,
        "PEM words": "-----BEGIN PRIVATE KEY----- " + " ".join(["A" * 15] * (N // 16)),
        "mysql -p flood": "mysql " + " -pX" * (N // 4),
        "IDENTIFIED BY flood": "create user " + "identified by '" * (N // 15),
        "<password> flood": "<password>" * (N // 10),
        "Bearer flood": "Bearer " * (N // 7),
        "zero-width / bidi": "\u200b\u202e" * (N // 2),
        "ANSI codes": "\x1b[31m" * (N // 5),
    }


def bench_hostile() -> None:
    print("| hostile 100 kB line | worst of 5 |\n|---|---:|")
    worst = 0.0
    for name, text in hostile().items():
        text = text[:N]
        times = []
        for _ in range(5):
            t = time.perf_counter()
            redact(text)
            times.append(time.perf_counter() - t)
        worst = max(worst, max(times))
        print(f"| {name} | {max(times) * 1000:.1f} ms |")
    print(f"| **worst** | **{worst * 1000:.1f} ms** |\n")


CHATTER = [
    'query: SELECT * FROM "migrations" "migrations" ORDER BY "id" DESC',
    "info: processed batch {i} of users (1000 rows) in 212ms",
    "debug: cache miss for key tenant:{i}:settings, loading from database",
    "GET /internal/health 200 3ms",
    "warn: slow query took 1532ms: UPDATE orders SET status = $1 WHERE id = $2",
]


def bench_entry_pass() -> None:
    t0 = datetime(2026, 1, 12, tzinfo=UTC)
    secrets = [k.lines[0] for k in KINDS if k.single_line]
    print("| log lines | entry pass (median of 5) | per line |\n|---:|---:|---:|")
    for n in (1_000, 10_000, 100_000):
        lines = tuple(
            LogLine(
                t0 + timedelta(milliseconds=i),
                Stream.STDOUT,
                "DEFAULT",
                secrets[i // 100 % len(secrets)] if i % 100 == 99 else CHATTER[i % 5].format(i=i),
            )
            for i in range(n)
        )
        times = []
        for _ in range(5):
            t = time.perf_counter()
            redact_log_lines(lines, known=("Vq7tM2xK9pLr4WzB",))
            times.append(time.perf_counter() - t)
        median = statistics.median(times)
        print(f"| {n:,} | {median * 1000:.1f} ms | {median * 1e6 / n:.2f} µs |")
    print()


def _detected_by_ours(kind: Kind) -> bool:
    return not leaks(kind, "\n".join(redact_lines(list(kind.lines))))


def bench_detection() -> None:
    kinds = [k for k in ALL_KINDS if not k.name.startswith("config_")]  # need the job's config
    ours = sum(_detected_by_ours(k) for k in kinds)
    altered = sum(a != b for a, b in zip(ORDINARY, redact_lines(list(ORDINARY)), strict=True))
    t = time.perf_counter()
    for _ in range(20):
        redact_lines(list(ORDINARY))
    ours_us = (time.perf_counter() - t) / (20 * len(ORDINARY)) * 1e6
    print("| detector | secret kinds found | ordinary lines altered | cost per line |")
    print("|---|---:|---:|---:|")
    print(
        f"| jobtriage.redact | {ours} / {len(kinds)} | {altered} / {len(ORDINARY)} "
        f"| {ours_us:.1f} µs |"
    )
    try:
        from detect_secrets.core.scan import scan_line
        from detect_secrets.settings import default_settings
    except ImportError:
        print("| detect-secrets | not installed | | |")
        return
    with default_settings():

        def found(line: str) -> list[str]:
            return [s.secret_value or "" for part in line.split("\n") for s in scan_line(part)]

        def detected(kind: Kind) -> bool:
            values = [v for line in kind.lines for v in found(line) if len(v) >= 8]
            return all(any(v in s or s in v for v in values) for s in kind.secrets)

        hits = sum(detected(k) for k in kinds)
        flagged = sum(bool(found(line)) for line in ORDINARY)
        t = time.perf_counter()
        for line in ORDINARY:
            found(line)
        ds_us = (time.perf_counter() - t) / len(ORDINARY) * 1e6
    print(
        f"| detect-secrets 1.5.0 (default plugins and filters, `scan_line`) | {hits} / "
        f"{len(kinds)} | {flagged} / {len(ORDINARY)} flagged | {ds_us:.0f} µs |"
    )
    print()


def main() -> None:
    bench_hostile()
    bench_entry_pass()
    bench_detection()


if __name__ == "__main__":
    main()
