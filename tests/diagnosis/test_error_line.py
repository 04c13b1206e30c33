"""diagnosis.error_line: with nothing recognised, the line most likely to be the error."""

from __future__ import annotations

import pytest

from jobtriage.diagnosis.error_line import likely_error
from jobtriage.evidence import LogLine, Stream


def line(text: str, stream: Stream = Stream.STDERR, severity: str = "DEFAULT") -> LogLine:
    return LogLine(timestamp=None, stream=stream, severity=severity, text=text)


CASES = [
    (
        "node: the error above npm's epilogue",
        [
            "> api@1.0.0 export",
            "Error: upstream export refused: bucket locked",
            "    at exportAll (/app/dist/export.js:41:11)",
            "npm ERR! code ELIFECYCLE",
            "npm ERR! A complete log of this run can be found in: /root/.npm/_logs/x.log",
        ],
        "Error: upstream export refused: bucket locked",
    ),
    (
        "python: the exception line, not the frames",
        [
            "Traceback (most recent call last):",
            '  File "/app/job.py", line 12, in <module>',
            "    main()",
            "ValueError: unexpected column 'amount_eur' in input header",
        ],
        "ValueError: unexpected column 'amount_eur' in input header",
    ),
    (
        "go: the panic, not the goroutine dump",
        [
            "2026/01/01 starting",
            "panic: reconcile: ledger row 1182 has no account",
            "goroutine 1 [running]:",
            "main.main()",
            "\t/src/main.go:40 +0x1d",
        ],
        "panic: reconcile: ledger row 1182 has no account",
    ),
    (
        "jvm: the first exception wins over its echo",
        [
            'Exception in thread "main" java.lang.IllegalStateException: ledger not balanced',
            "\tat com.acme.Close.run(Close.java:88)",
            "Caused by: java.lang.IllegalStateException: ledger not balanced",
        ],
        'Exception in thread "main" java.lang.IllegalStateException: ledger not balanced',
    ),
]


@pytest.mark.parametrize(("name", "texts", "expected"), CASES, ids=[c[0] for c in CASES])
def test_likely_error(name: str, texts: list[str], expected: str) -> None:
    found = likely_error([line(t) for t in texts])
    assert found is not None
    assert found.text == expected


def test_chatter_alone_has_no_error_line() -> None:
    lines = [line("processing batch 1 of 3", Stream.STDOUT), line("done", Stream.STDOUT)]
    assert likely_error(lines) is None


def test_only_the_end_of_a_huge_log_is_read() -> None:
    early = [line("Error: this early error is outside the window")]
    tail = [line(f"row {i} ok", Stream.STDOUT) for i in range(5000)]
    assert likely_error(early + tail) is None
