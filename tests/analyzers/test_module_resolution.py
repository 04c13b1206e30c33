"""module_resolution: which "module not found" lines are the code's and which the image's."""

from __future__ import annotations

import pytest

from analyzers.module_resolution import Side, classify
from tests.analyzers._build import evidence, out

ROWS = [
    ("Error: Cannot find module '/app/dist/migrate.js'", Side.IMAGE, "ENTRYPOINT_NOT_FOUND"),
    ("Error: Cannot find module './config'", Side.CODE, "MODULE_NOT_FOUND"),
    ("ModuleNotFoundError: No module named 'pendulum'", Side.IMAGE, "PY_MODULE_NOT_FOUND"),
    # Bun and Deno quote with double quotes
    ('error: Cannot find module "pg" from "/app/src/db.ts"', Side.IMAGE, "MODULE_NOT_FOUND"),
    ('error: Cannot find module "./env" from "/app/src/db.ts"', Side.CODE, "MODULE_NOT_FOUND"),
    ('error: Cannot find package "zod" from "/app/src/db.ts"', Side.IMAGE, "MODULE_NOT_FOUND"),
    ('error: Module not found "file:///app/main.ts".', Side.IMAGE, "ENTRYPOINT_NOT_FOUND"),
]


@pytest.mark.parametrize(("line", "side", "signature"), ROWS, ids=[r[0][:40] for r in ROWS])
def test_classify(line: str, side: Side, signature: str) -> None:
    (miss,) = classify(evidence([line]))
    assert (miss.side, miss.signature) == (side, signature)


@pytest.mark.parametrize(
    "line",
    [
        # webpack's build-time wording is not a runtime miss of the job
        "Module not found: Error: Can't resolve './App' in '/src'",
        "bun install v1.1.8: 212 packages installed; module cache warm",
    ],
)
def test_near_misses_are_not_module_misses(line: str) -> None:
    assert classify(evidence([out(line)])) == ()
