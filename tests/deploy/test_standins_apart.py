"""The stand-ins (standins/) are never part of the deployed function: not imported by it, and
imported by the product's code only on the demo command's own path."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _imports_of(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    found: list[tuple[str, ast.AST]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, node))
    return found


def test_the_function_entry_points_load_no_standin() -> None:
    code = (
        "import sys, main\n"
        "import jobtriage.app, jobtriage.pipeline, jobtriage.clicks\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'standins', 'tests', 'bench'})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


def test_only_the_demo_command_imports_standins_and_only_lazily() -> None:
    for path in [REPO / "main.py", *sorted((REPO / "jobtriage").rglob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, node in _imports_of(tree):
            if name.split(".")[0] not in {"standins", "tests", "bench"}:
                continue
            relative = path.relative_to(REPO).as_posix()
            assert relative == "jobtriage/cli.py", f"{relative} imports {name}"
            top_level = {id(n) for n in tree.body}  # type: ignore[attr-defined]
            assert id(node) not in top_level, f"{relative} imports {name} at module level"
