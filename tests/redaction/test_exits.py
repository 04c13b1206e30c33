"""Every secret kind, end to end, through every exit: 0 fragments survive.

Each kind is written into a failed execution's log four ways — as a line an analyzer quotes as
evidence, among the last lines of a failure nothing recognises, straddling the 2,000-character
clip, and straddling the Slack display cut of an evidence line — and the execution is diagnosed
through:

- the pipeline with the real slack_sdk WebClient against the fake Slack Web API (every request
  body, as sent and URL-decoded), with the real Cloud Run and Logging clients against the replay;
- the same with Slack refusing the post (`channel_not_found`), so the whole report goes to our
  own logs;
- our own log lines (the JSON formatter) of both runs;
- the incident store's documents (the memory store here; tests/incident/test_store_scrubs.py
  reads back what Firestore itself holds, on both emulators);
- the command line: `diagnose --log-file … --execution-file …` as text, JSON and Slack (with the
  Block Kit Builder link).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_plus

import pytest

from jobtriage.cli import main as cli_main
from jobtriage.errors import PermanentError
from jobtriage.event import parse_log_entry
from jobtriage.evidence.gather import Sources
from jobtriage.evidence.model import MAX_LINE_CHARS
from jobtriage.incident.store import MemoryStore, _incident_to_doc
from jobtriage.notify import deliver as D
from jobtriage.notify.deliver import SlackNotifier
from jobtriage.notify.limits import EVIDENCE_LINE_CHARS
from jobtriage.ownlog import LOGGER_NAME, JsonFormatter
from jobtriage.pipeline import process_event
from jobtriage.redact import MASK
from jobtriage.runtime import Runtime
from jobtriage.settings import Settings
from standins.clock import SteppingClock
from standins.joblogs.secrets import ALL_KINDS, ARG_VALUE, ENV_VALUE, Kind, leaks
from standins.load.harness import renamed
from standins.replay.google import GoogleReplay, Scenario
from standins.slack import TOKEN, FakeSlack

CHANNEL = "C0REDACT"
PROJECT = "netureyoutube"
ESM = "Error [ERR_REQUIRE_ESM]: "
PLACEMENTS = ("quoted", "last_lines", "clip", "display_cut")
FAST = D.RetryPolicy(timeout_seconds=5, backoff_seconds=0.0, jitter=False)


def _filler(length: int) -> str:
    return ("lorem ipsum dolor sit amet " * 400)[: max(0, length - 1)] + " "


def _written(kind: Kind, placement: str) -> list[str]:
    """The lines the job writes for `kind` in `placement`."""
    lines = list(kind.lines)
    first = lines[0]
    at = min((first.find(s) for s in kind.secrets if s in first), default=0)
    if placement == "quoted":
        lines[0] = ESM + first
    elif placement == "clip":  # the secret starts 6 characters before the clip
        lines[0] = ESM + _filler(MAX_LINE_CHARS - 6 - at - len(ESM)) + first
    elif placement == "display_cut":  # … and before the cut of a quoted line in Slack
        lines[0] = ESM + _filler(EVIDENCE_LINE_CHARS - 45 - at - len(ESM)) + first
    return lines


def _entries(sc: Scenario, lines: list[str], *, keep_seed: bool) -> list[dict[str, Any]]:
    template = next(e for e in sc.logs if "stderr" in str(e.get("logName")))
    base = [e for e in sc.logs if keep_seed and "ERR_REQUIRE_ESM" not in json.dumps(e)]
    extra = []
    for i, text in enumerate(lines):
        entry = json.loads(json.dumps(template))
        entry["textPayload"] = text
        entry["insertId"] = f"zz-redact-{i:04d}"
        extra.append(entry)
    return base + extra


def _with_config(execution: dict[str, Any]) -> dict[str, Any]:
    """The execution with a plain env value and a `-p` argument the log will echo."""
    execution = json.loads(json.dumps(execution))
    container = execution["template"]["containers"][0]
    container.setdefault("env", []).append({"name": "FEATURE_SEED", "value": ENV_VALUE})
    container["args"] = [*container.get("args", []), "-p", ARG_VALUE]
    return execution


CASES = [(kind, placement) for kind in ALL_KINDS for placement in PLACEMENTS]


def _scenarios() -> dict[tuple[str, str], Scenario]:
    seed = Scenario.embedded("seed")
    out: dict[tuple[str, str], Scenario] = {}
    for n, (kind, placement) in enumerate(CASES):
        job = f"redact-{n:04d}"
        sc = renamed(seed, job=job, execution=f"{job}-x1", project=PROJECT)
        sc.logs[:] = _entries(sc, _written(kind, placement), keep_seed=placement != "last_lines")
        if sc.execution is not None and kind.name.startswith("config_"):
            sc.execution = _with_config(sc.execution)
        out[(kind.name, placement)] = sc
    return out


@pytest.fixture(scope="module")
def scenarios() -> dict[tuple[str, str], Scenario]:
    return _scenarios()


@pytest.fixture(scope="module")
def replay(scenarios: dict[tuple[str, str], Scenario]) -> Iterator[GoogleReplay]:
    with GoogleReplay(list(scenarios.values())) as r:
        yield r


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def own_logs() -> Iterator[_Capture]:
    logger = logging.getLogger(LOGGER_NAME)
    capture = _Capture()
    level = logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    yield capture
    logger.removeHandler(capture)
    logger.setLevel(level)


def _runtime(replay: GoogleReplay, slack: FakeSlack, store: MemoryStore) -> Runtime:
    settings = Settings(
        slack_bot_token=TOKEN,
        slack_channel=CHANNEL,
        slack_api_url=slack.base_url,
        incident_store="memory",
        cloud_run_emulator_host=replay.host,
        cloud_logging_emulator_host=replay.host,
        log_wait_seconds=0.0,
        api_timeout_seconds=5.0,
        logging_reads_per_minute=0,
    )
    # Frozen at the incident's time; sleeping (waiting for late logs) takes no real time.
    clock = SteppingClock(datetime(2026, 1, 12, 6, 20, tzinfo=UTC))
    return Runtime(
        settings=settings,
        sources=Sources.from_settings(settings, clock=clock),
        store=store,
        notifier=SlackNotifier(settings, policy=FAST),
        clock=clock,
    )


def _bodies(slack: FakeSlack, since: int) -> list[str]:
    out = []
    for req in slack.server.requests[since:]:
        raw = req.body.decode("utf-8", "replace")
        out += [raw, unquote_plus(raw)]
    return out


def _store_docs(store: MemoryStore) -> list[str]:
    docs = [json.dumps(_incident_to_doc(i, "w"), default=str) for i in store._incidents.values()]
    docs += [json.dumps(asdict(d), default=str) for d in store._deliveries.values()]
    return docs


def _cli(sc: Scenario, tmp_path: Path, fmt: str) -> str:
    logs = tmp_path / "logs.json"
    execution = tmp_path / "execution.json"
    logs.write_text(json.dumps(sc.logs))
    execution.write_text(json.dumps(sc.execution))
    out = io.StringIO()
    code = cli_main(
        ["diagnose", "--log-file", str(logs), "--execution-file", str(execution), "--format", fmt],
        out=out,
    )
    assert code == 0
    text = out.getvalue()
    if fmt == "slack":  # the Block Kit Builder link carries the message percent-encoded
        text += "\n" + unquote(text)
    return text


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "placement"), CASES, ids=lambda v: getattr(v, "name", v))
def test_no_fragment_leaves(
    kind: Kind,
    placement: str,
    scenarios: dict[tuple[str, str], Scenario],
    replay: GoogleReplay,
    slack: FakeSlack,
    own_logs: _Capture,
    tmp_path: Path,
) -> None:
    sc = scenarios[(kind.name, placement)]
    event = parse_log_entry(sc.event or {})
    outputs: dict[str, list[str]] = {}

    # 1. posted to Slack
    store = MemoryStore()
    since = len(slack.server.requests)
    process_event(event, _runtime(replay, slack, store))
    outputs["slack"] = _bodies(slack, since)
    outputs["store"] = _store_docs(store)
    # The secret's line must have been shown (masked), or the test proves nothing. Slack shows
    # 700 characters of a line (the clip is at 2,000), a mask at the cut may be cut itself, and
    # a finding quotes one line of a multi-line secret.
    shown = MASK[:3]
    if placement != "clip" and kind.single_line:
        assert any(shown in body for body in outputs["slack"]), "the secret's line was not shown"

    # 2. Slack refuses: the report goes to our own logs
    refused_store = MemoryStore()
    slack.error("chat.postMessage", "channel_not_found")
    with pytest.raises(PermanentError):
        process_event(event, _runtime(replay, slack, refused_store))
    outputs["store"] += _store_docs(refused_store)
    outputs["own_logs"] = list(own_logs.lines)
    assert any("could not post to Slack" in line for line in own_logs.lines)

    # 3. the command line, in its three formats
    for fmt in ("text", "json", "slack"):
        outputs[f"cli_{fmt}"] = [_cli(sc, tmp_path, fmt)]
    if kind.single_line:
        assert shown in outputs["cli_json"][0], "the secret's line was not shown"

    found = {exit_: leaks(kind, "\n".join(texts)) for exit_, texts in outputs.items()}
    assert {k: v for k, v in found.items() if v} == {}
