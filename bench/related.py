"""What the sources beyond the execution add to one diagnosis, against stand-ins with latency.

The seed incident through `gather` with the real clients, Run/Logging from `GoogleReplay` and
Cloud Build / Artifact Registry / Secret Manager / Cloud SQL Admin from `DependencyReplay`, each
answer delayed like Google's (defaults: Run 80 ms, Logging 250 ms, the others 150 ms, Cloud Build
300 ms). Measured twice per round, alternating: without the related sources and with them. The
figure is the median added time and the extra calls an event makes.

    .venv/bin/python bench/related.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jobtriage.event import parse_log_entry  # noqa: E402
from jobtriage.evidence.gather import Sources, gather  # noqa: E402
from jobtriage.settings import Settings  # noqa: E402
from standins.replay.dependencies import (  # noqa: E402
    DepApi,
    DependencyReplay,
    DependencyScenario,
)
from standins.replay.google import RUN_APIS, Api, GoogleReplay, Scenario  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--run-ms", type=float, default=80)
    parser.add_argument("--logging-ms", type=float, default=250)
    parser.add_argument("--deps-ms", type=float, default=150)
    parser.add_argument("--build-ms", type=float, default=300)
    args = parser.parse_args()

    sc = Scenario.embedded("seed")
    assert sc.event is not None
    event = parse_log_entry(sc.event)
    with (
        GoogleReplay(sc) as google,
        DependencyReplay(DependencyScenario.embedded("seed"), latency=args.deps_ms / 1000) as dep,
    ):
        for api in RUN_APIS:
            google.inject(api, delay=args.run_ms / 1000)
        google.inject(Api.LIST_ENTRIES, delay=args.logging_ms / 1000)
        dep.inject(DepApi.LIST_BUILDS, delay=(args.build_ms - args.deps_ms) / 1000)
        base = Settings(
            cloud_run_emulator_host=google.host,
            cloud_logging_emulator_host=google.host,
            log_wait_seconds=0,
            logging_reads_per_minute=0,
        )
        full = replace(
            base,
            cloud_build_emulator_host=dep.host,
            artifact_registry_emulator_host=dep.host,
            secret_manager_emulator_host=dep.host,
            cloud_sql_admin_emulator_host=dep.host,
        )
        plain_src, full_src = Sources.from_settings(base), Sources.from_settings(full)
        gather(event, sources=plain_src)  # warm both: clients built, connections open
        gather(event, sources=full_src)
        without: list[float] = []
        with_: list[float] = []
        calls: list[int] = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            gather(event, sources=plain_src)
            without.append(time.perf_counter() - t)
            before = dep.count()
            t = time.perf_counter()
            ev = gather(event, sources=full_src)
            with_.append(time.perf_counter() - t)
            calls.append(ev.related.calls)
            assert dep.count() - before == ev.related.calls - 1  # + one Logging read
            assert not ev.gaps, ev.gaps

    p50_without, p50_with = statistics.median(without), statistics.median(with_)
    added = [w - o for w, o in zip(with_, without, strict=True)]
    print("| rounds | extra calls per event | p50 without | p50 with | p50 added | p90 added |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.rounds} | {max(calls)} | {p50_without * 1000:.0f} ms | {p50_with * 1000:.0f} ms "
        f"| {statistics.median(added) * 1000:.0f} ms "
        f"| {statistics.quantiles(added, n=10)[-1] * 1000:.0f} ms |"
    )
    print(
        f"\nLatency: Run {args.run_ms:g} ms, Logging {args.logging_ms:g} ms, Cloud Build "
        f"{args.build_ms:g} ms, Secret Manager / Cloud SQL Admin / Artifact Registry "
        f"{args.deps_ms:g} ms per call."
    )


if __name__ == "__main__":
    main()
