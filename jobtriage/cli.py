"""The command line.

    python -m jobtriage demo [--lang ko] [--format text|json|slack]
    python -m jobtriage diagnose --project P --region R --job J --execution E [--format …]
    python -m jobtriage diagnose --log-file F [--input-format auto|text|json|jsonl]
                                 [--execution-file X] [--job-file Y] [--format …]

`demo` replays the seed incident (o4o-api-migrations-h5x5h, asia-northeast3) through the whole
pipeline: a recorded Cloud Run / Logging API served on 127.0.0.1, the real clients, a CloudEvent
through functions-framework into `main.on_job_event`, the analyzers, the incident store (in memory)
and the Slack message — posted for real when SLACK_BOT_TOKEN and SLACK_CHANNEL are set.

Exit codes: 0 report printed, 2 usage or input error (the message says what to fix), 3 live mode
could read nothing from Google (the report is printed; its gaps say why).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from jobtriage.diagnosis import Report, to_json, to_text
from jobtriage.errors import PermanentError
from jobtriage.evidence import Evidence, ExecutionRef
from jobtriage.settings import ConfigError, Settings
from jobtriage.text import Lang, parse_lang
from jobtriage.words import Word, say

NOTHING_READ = 3


class CliError(Exception):
    """A problem the user can fix; printed without a traceback (`ko`: in Korean)."""

    def __init__(self, message: str, *, ko: str = "") -> None:
        super().__init__(message)
        self.ko = ko


def _slack_preview(report: Report, lang: Lang, out: TextIO, *, as_json: bool) -> None:
    from jobtriage.incident.decide import new_incident
    from jobtriage.notify.alert import render_alert
    from jobtriage.notify.builder_url import builder_url, render_terminal

    ref = report.summary.ref
    draft = new_incident(
        job_path=ref.job_path,
        fingerprint=report.fingerprint,
        execution=ref.execution,
        now=report.summary.finished_at or datetime.now(UTC),
        lang=lang,
    )
    message = render_alert(report, draft, lang=lang)
    if as_json:  # stdout holds the document alone (`| jq` works); the link goes to stderr
        out.write(json.dumps(message.payload(), ensure_ascii=False, indent=2) + "\n")
        sys.stderr.write(f"Block Kit Builder: {builder_url(message)}\n")
    else:
        out.write(render_terminal(message) + "\n")
        out.write(f"\nBlock Kit Builder: {builder_url(message)}\n")


def _print(report: Report, fmt: str, lang: Lang, out: TextIO) -> None:
    if fmt == "json":
        out.write(to_json(report, lang=lang) + "\n")
    elif fmt == "slack":
        _slack_preview(report, lang, out, as_json=True)
    else:
        out.write(to_text(report, lang=lang))


def _diagnose(args: argparse.Namespace, out: TextIO) -> int:
    from jobtriage.diagnosis import build_report

    lang = parse_lang(args.lang)
    live = [args.project, args.region, args.job, args.execution]
    files = [args.log_file, args.execution_file, args.job_file]
    evidence: Evidence
    if any(files):
        from jobtriage.evidence.files import evidence_from_files

        ref = ExecutionRef(*live) if all(live) else None
        from jobtriage.evidence.logfile import InputFormat

        evidence = evidence_from_files(
            log_file=args.log_file,
            execution_file=args.execution_file,
            job_file=args.job_file,
            ref=ref,
            input_format=InputFormat(args.input_format),
        )
    elif all(live):
        evidence = _live_evidence(ExecutionRef(*live))
        if evidence.execution is None and evidence.job is None and not evidence.logs:
            _print(build_report(evidence), args.format, lang, out)
            sys.stderr.write(
                "오류: 이 실행에 대해 Google에서 아무것도 읽지 못함; 위의 '확인하지 못한 항목'에 "
                "이유가 있음\n"
                if lang == "ko"
                else "error: nothing could be read from Google for this execution; the gaps "
                "above say why\n"
            )
            return NOTHING_READ
    else:
        raise CliError(
            "say which execution: --project, --region, --job and --execution (live), "
            "or --log-file (offline)",
            ko="어떤 실행인지 지정: --project, --region, --job, --execution(라이브) 또는 "
            "--log-file(오프라인)",
        )
    _print(build_report(evidence), args.format, lang, out)
    return 0


def _live_evidence(ref: ExecutionRef) -> Evidence:
    settings = Settings.from_env()
    if not (settings.cloud_run_emulator_host and settings.cloud_logging_emulator_host):
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError

        try:
            google.auth.default()
        except DefaultCredentialsError as exc:
            raise CliError(
                "no Google credentials found. Run `gcloud auth application-default login` "
                "(needs roles/run.viewer and roles/logging.viewer on the project), or use "
                "--log-file for an offline diagnosis",
                ko="Google 자격 증명이 없음. `gcloud auth application-default login`을 실행"
                "(프로젝트에 roles/run.viewer와 roles/logging.viewer 필요)하거나 "
                "--log-file로 오프라인 진단",
            ) from exc
    from jobtriage.evidence.gather import Sources, gather

    return gather(ref, sources=Sources.from_settings(settings))


def _pubsub_envelope(entry: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(entry).encode()).decode()
    stamp = str(entry.get("timestamp", ""))
    return {
        "message": {
            "data": data,
            "attributes": {"logging.googleapis.com/timestamp": stamp},
            "messageId": "demo-1",
            "publishTime": stamp,
        },
        "subscription": "projects/demo/subscriptions/jobtriage-demo",
    }


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    """The seed incident through the whole pipeline, with recorded evidence."""
    import logging

    from jobtriage.ownlog import get_logger

    lang = parse_lang(args.lang)
    logger = get_logger()
    level = logger.level
    if not args.verbose:
        logger.setLevel(logging.ERROR)
    try:
        return _demo_run(args, lang, out)
    finally:
        logger.setLevel(level)


def _demo_run(args: argparse.Namespace, lang: Lang, out: TextIO) -> int:
    import functions_framework

    from jobtriage import app
    from standins.replay.dependencies import DependencyReplay, DependencyScenario
    from standins.replay.google import GoogleReplay, Scenario

    scenario = Scenario.embedded("seed")
    assert scenario.event is not None
    reports: list[Report] = []
    with (
        GoogleReplay(scenario) as google,
        DependencyReplay(DependencyScenario.embedded("seed")) as deps,
    ):
        os.environ.update(
            {
                "CLOUD_RUN_EMULATOR_HOST": google.host,
                "CLOUD_LOGGING_EMULATOR_HOST": google.host,
                "CLOUD_BUILD_EMULATOR_HOST": deps.host,
                "ARTIFACT_REGISTRY_EMULATOR_HOST": deps.host,
                "SECRET_MANAGER_EMULATOR_HOST": deps.host,
                "CLOUD_SQL_ADMIN_EMULATOR_HOST": deps.host,
                "INCIDENT_STORE": "memory",
                "LOG_WAIT_SECONDS": "0",
                "REPORT_LANG": lang,
            }
        )
        app.reset_runtimes()
        rt = app.runtime("events")
        rt.on_report = lambda evidence, report: reports.append(report)
        client = functions_framework.create_app(  # type: ignore[no-untyped-call]
            target="on_job_event",
            source=os.path.join(os.path.dirname(os.path.dirname(__file__)), "main.py"),
        ).test_client()
        response = client.post(
            "/",
            json={
                "specversion": "1.0",
                "id": "demo-1",
                "source": "//pubsub.googleapis.com/projects/netureyoutube/topics/jobtriage",
                "type": "google.cloud.pubsub.topic.v1.messagePublished",
                "datacontenttype": "application/json",
                "data": _pubsub_envelope(scenario.event),
            },
            headers={"Content-Type": "application/cloudevents+json"},
        )
        if response.status_code != 200 or not reports:
            raise CliError(
                f"the event function answered {response.status_code}; see the logs above",
                ko=f"이벤트 함수가 {response.status_code}로 응답함; 위의 로그 참고",
            )
    report = reports[0]
    if args.format == "json":
        out.write(to_json(report, lang=lang) + "\n")
        return 0
    if args.format == "slack":
        _slack_preview(report, lang, out, as_json=True)
        return 0
    out.write(to_text(report, lang=lang))
    out.write("\n" + "=" * 100 + "\n")
    posted = rt.settings.slack_enabled
    state = say(Word.CLI_POSTED if posted else Word.CLI_NOT_POSTED, lang)
    heading = f"{say(Word.CLI_SLACK_MESSAGE, lang)} {state}"
    out.write(heading + "\n\n")
    _slack_preview(report, lang, out, as_json=False)
    return 0


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (tests pass a StringIO)
        pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m jobtriage",
        description="Diagnose failed Cloud Run Job executions.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--format", choices=("text", "json", "slack"), default="text")
    common.add_argument("--lang", choices=("en", "ko"), default="en")

    demo = sub.add_parser("demo", parents=[common], help="replay the seed incident end to end")
    demo.add_argument("--verbose", action="store_true", help="show the function's own logs")

    diag = sub.add_parser("diagnose", parents=[common], help="diagnose one execution")
    diag.add_argument("--project")
    diag.add_argument("--region")
    diag.add_argument("--job")
    diag.add_argument("--execution")
    diag.add_argument(
        "--log-file",
        help="plain text, a JSON array (gcloud logging read --format=json) or JSON lines",
    )
    diag.add_argument(
        "--input-format",
        choices=("auto", "text", "json", "jsonl"),
        default="auto",
        help="how to read --log-file (auto: decided from its first bytes; in JSON lines a line "
        "that is not JSON is read as text)",
    )
    diag.add_argument("--execution-file", help="REST JSON of the v2 Execution")
    diag.add_argument("--job-file", help="REST JSON of the v2 Job")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(args, out)
        return _diagnose(args, out)
    except BrokenPipeError:
        # `… | head` closed the pipe: end quietly, as other command-line tools do.
        _quiet_stdout()
        return 0
    except (CliError, ConfigError, PermanentError) as exc:
        fix = getattr(exc, "fix", "")
        korean = getattr(exc, "ko", "") if getattr(args, "lang", "en") == "ko" else ""
        if korean:
            sys.stderr.write(f"오류: {korean}" + (f"\n  해결: {fix}" if fix else "") + "\n")
        else:
            sys.stderr.write(f"error: {exc}" + (f"\n  fix: {fix}" if fix else "") + "\n")
        return 2
