"""The redaction engine on its own: every secret kind masked, ordinary lines left alone,
invisible characters gone, hostile input handled (speed is measured in bench/redaction.py)."""

from __future__ import annotations

import sys
import unicodedata
from datetime import UTC, datetime

import pytest

from jobtriage.evidence import Evidence, ExecutionRef, LogLine, Stream
from jobtriage.evidence.model import MAX_LINE_CHARS
from jobtriage.evidence.redaction import config_secrets
from jobtriage.redact import MASK, redact, redact_lines, strip_invisible
from standins.joblogs.ordinary import DIGESTS, EXECUTIONS, ORDINARY
from standins.joblogs.secrets import ALL_KINDS, KINDS, Kind, leaks

REF = ExecutionRef(
    "netureyoutube", "asia-northeast3", "o4o-api-migrations", "o4o-api-migrations-h5x5h"
)
T0 = datetime(2026, 1, 12, 6, 12, tzinfo=UTC)


def test_the_corpus_has_at_least_80_kinds() -> None:
    assert len({k.name for k in ALL_KINDS}) == len(ALL_KINDS) >= 80


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_every_kind_is_masked(kind: Kind) -> None:
    out = redact_lines(list(kind.lines))
    assert leaks(kind, "\n".join(out)) == []
    assert any(MASK in line for line in out)
    assert len(out) == len(kind.lines)  # the line structure stays


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_redacting_twice_changes_nothing(kind: Kind) -> None:
    once = redact_lines(list(kind.lines))
    assert redact_lines(once) == once
    assert [redact(line) for line in once] == once


def test_ordinary_lines_stay_intact() -> None:
    out = redact_lines(list(ORDINARY))
    altered = [(a, b) for a, b in zip(ORDINARY, out, strict=True) if a != b]
    assert len(ORDINARY) >= 300
    assert len(altered) <= len(ORDINARY) // 100, altered
    text = "\n".join(out)
    for value in (*DIGESTS, *EXECUTIONS):
        assert text.count(value) == "\n".join(ORDINARY).count(value) > 0


def test_each_ordinary_line_alone_stays_intact() -> None:
    altered = [line for line in ORDINARY if redact(line) != line]
    assert len(altered) <= len(ORDINARY) // 100, altered


def test_the_recorded_fixture_logs_stay_intact() -> None:
    """Every line of the recorded scenarios (standins/replay/scenarios), as evidence reads them."""
    import json
    from pathlib import Path

    from jobtriage.evidence.cloud_logging import payload_text

    root = Path(__file__).resolve().parents[2]
    texts = []
    for path in root.glob("standins/replay/scenarios/*/logs.json"):
        data = json.loads(path.read_text())
        for entry in data if isinstance(data, list) else data.get("entries", []):
            payload = next(
                (entry[k] for k in ("textPayload", "jsonPayload", "protoPayload") if k in entry),
                None,
            )
            texts.append(payload_text(payload))
    assert len(texts) >= 90
    out = redact_lines(texts)
    assert [(a, b) for a, b in zip(texts, out, strict=True) if a != b] == []


def test_the_failure_corpus_stays_intact() -> None:
    """Real failures collected from public issue threads (tests/corpus/failures): at most 1 % of
    their lines altered (those that are: opaque ids and mangled symbols that read as random), and
    never an image digest."""
    import re
    from pathlib import Path

    from tests.corpus.cases import load_case

    root = Path(__file__).resolve().parents[1] / "corpus" / "failures"
    logs = [list(load_case(path).log) for path in sorted(root.rglob("*.txt"))]
    if not logs:
        pytest.skip("no failure corpus in this checkout")
    lines = [line for log in logs for line in log]
    out = [line for log in logs for line in redact_lines(log)]
    altered = [(a, b) for a, b in zip(lines, out, strict=True) if a != b]
    assert len(altered) * 100 <= len(lines), altered
    digests = {d for line in lines for d in re.findall(r"sha256:[0-9a-f]{64}", line)}
    text = "\n".join(out)
    assert all(d in text for d in digests)


def test_keys_hosts_and_error_words_stay_for_the_analyzers() -> None:
    assert redact("connect ECONNREFUSED postgres://app:S3cr3tPassw0rd@10.0.0.5:5432/ledger") == (
        "connect ECONNREFUSED postgres://app:[REDACTED]@10.0.0.5:5432/ledger"
    )
    assert redact('FATAL: password authentication failed for user "app"').endswith('"app"')
    assert redact("DB_PASSWORD=hunter2hunter2 is wrong") == "DB_PASSWORD=[REDACTED] is wrong"


def _lines(*texts: str) -> tuple[LogLine, ...]:
    return tuple(LogLine(T0, Stream.STDERR, "ERROR", t) for t in texts)


@pytest.mark.parametrize("kind", [k for k in KINDS if k.single_line], ids=lambda k: k.name)
def test_a_secret_across_the_clip_leaves_no_fragment(kind: Kind) -> None:
    line = kind.lines[0]
    first = min(line.find(s) for s in kind.secrets if s in line)
    for offset in (6, len(kind.secrets[0]) // 2):
        filler = ("lorem ipsum dolor " * 200)[: max(0, MAX_LINE_CHARS - offset - first - 1)] + " "
        evidence = Evidence(ref=REF, logs=_lines(filler + line))
        [kept] = evidence.logs
        assert len(kept.text) <= MAX_LINE_CHARS
        assert leaks(kind, kept.text) == []


def test_evidence_masks_the_configuration_values_everywhere() -> None:
    from dataclasses import replace

    from jobtriage.evidence.model import ContainerConfig, ExecutionInfo, TaskTemplateConfig

    secret = "Xk29sLmqW7-value"
    container = ContainerConfig(
        name="job", image="img", known_values=config_secrets([("FOO", secret)])
    )
    execution = ExecutionInfo(
        name="x",
        config=TaskTemplateConfig(containers=(container,)),
        completed_message=f"Task failed with message: bad {secret}",
    )
    evidence = Evidence(ref=REF, execution=execution, logs=_lines(f"using {secret} now"))
    assert secret not in repr(evidence)
    assert evidence.logs[0].text == f"using {MASK} now"
    assert evidence.execution is not None
    assert secret not in (evidence.execution.completed_message or "")
    again = replace(evidence)  # built again from itself: nothing changes
    assert again.logs == evidence.logs


def test_config_secrets_keeps_structure_and_takes_values() -> None:
    found = config_secrets(
        [
            ("NODE_ENV", "production"),
            ("DB_HOST", "/cloudsql/netureyoutube:asia-northeast3:o4o-platform-db"),
            ("DB_NAME", "o4o_platform"),
            ("DATABASE_URL", "postgresql://o4o_api:Vq7tM2xK9pLr4WzB@localhost/o4o_platform"),
            ("API_SALT", "lowercasewordsalt"),
            ("FOO", "Xk29sLmq"),
            ("HOST", "db.internal:5432"),
            ("SHORT", "abc12"),
        ],
        [
            "dist/migrate.js",
            "migration:run",
            "-p",
            "S3cretArg!",
            "--token=abcdefgh12",
            "--region=asia-northeast3",
        ],
    )
    assert set(found) == {
        "Vq7tM2xK9pLr4WzB",
        "lowercasewordsalt",
        "Xk29sLmq",
        "S3cretArg!",
        "abcdefgh12",
    }


# Every character that must never reach an output: Cc but \t \n, Cf, Zl, Zp.
_MUST_GO = [
    chr(c)
    for c in range(sys.maxunicode + 1)
    if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp") and chr(c) not in "\t\n"
]


def test_every_control_and_format_character_is_stripped() -> None:
    text = "a" + "".join(_MUST_GO) + "b\tc\nd"
    assert strip_invisible(text) == "ab\tc\nd"
    for extra in ("\u00ad", "\u034f", "\u115f", "\u3164", "\ufeff", "\U000e0041", "\U000e0100"):
        assert strip_invisible(f"x{extra}y") == "xy"


def test_ansi_sequences_go_whole() -> None:
    assert strip_invisible("\x1b[31mError\x1b[0m: x") == "Error: x"


@pytest.mark.parametrize(
    "text",
    [
        "://a:@" * 20_000,
        "password:'" * 10_000,
        "-----BEGIN PRIVATE KEY-----" + "A" * 100_000,
        "key " * 25_000,
        "postgres://u:" + "@" * 100_000,
    ],
    ids=["url-flood", "quote-flood", "pem-flood", "word-flood", "at-flood"],
)
def test_hostile_lines_are_handled(text: str) -> None:
    out = redact(text)
    assert redact(out) == out
