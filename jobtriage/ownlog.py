"""The function's own logs: one JSON object per line, which Cloud Logging parses.

`severity` and `message` are the fields Cloud Logging maps; everything else lands in jsonPayload,
so each line can carry the job and execution it is about and be searched by them. Messages and
every string field pass through `scrub` — a secret in an exception text never reaches our logs,
nor does an invisible or control character.
See https://cloud.google.com/functions/docs/monitoring/logging#writing_structured_logs
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from jobtriage.redact import scrub

LOGGER_NAME = "jobtriage"
_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            message = f"{message}: {record.exc_info[0].__name__}: {record.exc_info[1]}"
        line: dict[str, Any] = {
            "severity": "WARNING" if record.levelname == "WARN" else record.levelname,
            "message": scrub(message)[:8000],
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        for key, value in vars(record).items():
            if key in _RESERVED or key.startswith("_"):
                continue
            line[key] = scrub(value)[:2000] if isinstance(value, str) else value
        return json.dumps(line, ensure_ascii=False, default=str)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stdout` is at the time (test capture replaces it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def get_logger() -> logging.Logger:
    """The product's logger; configured once to write JSON lines to stdout."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h, _StdoutHandler) for h in logger.handlers):
        handler = _StdoutHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger
