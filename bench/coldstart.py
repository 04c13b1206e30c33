"""Cold start: importing main.py and serving the first event, against importing the bare
dependencies that path needs. Each measurement is a fresh Python process; the figure is the
median of several, and the ratio holds across machines where absolute times do not.

The first event goes through functions-framework into `main.on_job_event` with the real clients
against the replayed Google APIs and the fake Slack (started once, outside the timed process), and
the in-memory store (the Firestore client is not part of it).

    .venv/bin/python bench/coldstart.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from standins.load.harness import pubsub_data  # noqa: E402
from standins.replay.google import GoogleReplay, Scenario  # noqa: E402
from standins.slack import TOKEN, FakeSlack  # noqa: E402

DEPS = """
import time
t = time.perf_counter()
import functions_framework, cloudevents.http, flask
import slack_sdk
import google.auth, google.cloud.run_v2, google.cloud.logging
print(time.perf_counter() - t)
"""

FIRST_EVENT = """
import json, sys, time
t = time.perf_counter()
import functions_framework
client = functions_framework.create_app(target="on_job_event", source=sys.argv[1]).test_client()
imported = time.perf_counter() - t
headers = {"Content-Type": "application/cloudevents+json"}
answer = client.post("/", data=sys.stdin.read(), headers=headers)
assert answer.status_code == 200, answer.status_code
print(json.dumps({"import": imported, "first_event": time.perf_counter() - t}))
"""


def _python(code: str, *args: str, env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    return done.stdout.strip().splitlines()[-1]


def measure(runs: int) -> dict[str, float]:
    seed = Scenario.embedded("seed")
    assert seed.event is not None
    with GoogleReplay(seed) as replay, FakeSlack() as slack:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CLOUD_", "GOOGLE_"))
        }
        env.update(
            {
                "CLOUD_RUN_EMULATOR_HOST": replay.host,
                "CLOUD_LOGGING_EMULATOR_HOST": replay.host,
                "INCIDENT_STORE": "memory",
                "LOG_WAIT_SECONDS": "0",
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_CHANNEL": "C0COLD001",
                "SLACK_API_URL": slack.base_url,
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        event = json.dumps(
            {
                "specversion": "1.0",
                "id": "cold-1",
                "source": "//pubsub.googleapis.com/projects/netureyoutube/topics/jobtriage",
                "type": "google.cloud.pubsub.topic.v1.messagePublished",
                "datacontenttype": "application/json",
                "data": pubsub_data(seed.event, "cold-1"),
            }
        )
        deps, imports, firsts = [], [], []
        _python(DEPS, env=env)  # warm the OS file cache once; not counted
        for _ in range(runs):
            deps.append(float(_python(DEPS, env=env)))
            out = json.loads(_python(FIRST_EVENT, str(ROOT / "main.py"), env=env, stdin=event))
            imports.append(out["import"])
            firsts.append(out["first_event"])
        assert len(slack.calls("chat.postMessage")) == runs
    d, i, f = statistics.median(deps), statistics.median(imports), statistics.median(firsts)
    return {"deps": d, "import_main": i, "first_event": f, "ratio": f / d, "import_ratio": i / d}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    r = measure(args.runs)
    print(f"median of {args.runs} fresh processes each")
    print("| step | time | ÷ bare dependencies |")
    print("|---|---:|---:|")
    print(f"| import the bare dependencies | {r['deps'] * 1000:.0f} ms | 1.00 |")
    print(
        f"| import main.py (functions-framework app) | {r['import_main'] * 1000:.0f} ms "
        f"| {r['import_ratio']:.2f} |"
    )
    print(
        f"| import main.py + serve the first event | {r['first_event'] * 1000:.0f} ms "
        f"| {r['ratio']:.2f} |"
    )


if __name__ == "__main__":
    main()
