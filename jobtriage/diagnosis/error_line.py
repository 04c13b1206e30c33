"""With nothing recognised, which line is most likely the error?

The last lines of a failed job are often its shutdown chatter (`npm ERR! A complete log…`, a
stack frame, "exiting"), and the error that mattered sits above them. Every line is scored on cues
that hold in any stack — an exception type at the line's start (`FooError:`, `panic:`,
`** (Bar)`, `Caused by:`), error words, the ERROR severity, stderr — and penalised for being a
stack frame or a package manager's epilogue; the best score wins, the earliest on a tie (the first
error is usually the cause, later ones its echoes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from jobtriage.evidence import LogLine, Stream

# Only the end of a long log is read: the error of a failed job is near its end.
WINDOW = 2000

_EXCEPTION = re.compile(
    r"^\s*(?:\w+[.:])*\w*(?:Error|Exception|Failure|Fault)\b:?|^\s*(?:panic|fatal error|FATAL|"
    r"ERROR|Error|error)\b[:\[ ]|^\s*\*\* \(\w|^\s*Caused by:|^\s*thread '.*' panicked"
)
_WORDS = re.compile(
    r"(?i)\b(?:error|exception|fatal|panic|failed|failure|denied|refused|cannot|can't|unable|"
    r"invalid|not found|no such|timed? ?out|exceeded|violat\w+|missing|unauthori[sz]ed|forbidden)\b"
)
_FRAME = re.compile(
    r"^\s*(?:at |File \"|from /|\(?[\w./-]+\.(?:ex|exs|rb|go|rs|py|js|ts|java|cs|php):\d+|#\d+ |"
    r"[\w./<>$-]+\(\S*\)$|goroutine \d+|\.\.\. \d+ more)"
)
_EPILOGUE = re.compile(
    r"(?i)npm ERR! (?:A complete log|This is probably not a problem|Failed at the|errno|code "
    r"ELIFECYCLE|\s*$)|ELIFECYCLE|Command failed with exit code|See .* for more|"
    r"For more information|--trace|Background on this error"
)


def score(line: LogLine) -> int:
    text = line.text
    points = 0
    if _EXCEPTION.search(text):
        points += 4
    points += min(2, len(_WORDS.findall(text))) * 2
    if line.severity in ("ERROR", "CRITICAL", "ALERT", "EMERGENCY"):
        points += 1
    if line.stream is Stream.STDERR:
        points += 1
    if _FRAME.search(text):
        points -= 5
    if _EPILOGUE.search(text):
        points -= 4
    return points


def likely_error(lines: Sequence[LogLine]) -> LogLine | None:
    """The line most likely to be the error, or None when no line looks like one."""
    best: LogLine | None = None
    best_score = 3  # a line must at least carry an error word and something more
    for line in lines[-WINDOW:]:
        points = score(line)
        if points > best_score:
            best, best_score = line, points
    return best
