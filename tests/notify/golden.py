"""Golden files: checked-in renderings compared whole.

Refresh them all after an intended change, then review the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/notify
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden" / "notify"
# Read once at import: the autouse environment fixture must not hide it.
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def serialise(payload: Any) -> str:
    if isinstance(payload, str):
        return payload
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def check_golden(name: str, payload: Any) -> None:
    """Compare `payload` (JSON-able or text) with golden/notify/<name>; write it if updating."""
    suffix = ".txt" if isinstance(payload, str) else ".json"
    path = GOLDEN_DIR / f"{name}{suffix}"
    actual = serialise(payload)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"no golden file {path}; create it with "
            "UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/notify"
        )
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"golden/{path.name}",
                tofile="rendered",
            )
        )
        pytest.fail(
            f"{path.name} differs from the rendering "
            f"(refresh with UPDATE_GOLDEN=1 if intended):\n{diff}",
            pytrace=False,
        )
