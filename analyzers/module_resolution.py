"""Which "module not found" errors are code and which are a file missing from the image.

Two causes share these lines, so the decision lives in one place and both `entrypoint_runtime` and
`missing_artifact` ask it:

- the program the job starts is not in the image (`Cannot find module '/app/dist/migrate.js'` with
  an empty require stack, an ES module entry "imported from /app/", `python: can't open file`,
  `python -m` of a module that is not there) → **image** (`missing_artifact`);
- an absolute path a tool was told to load is not there (a TypeORM data-source file, a
  migrations file) → **image**;
- a package (`'pg'`, `'typeorm'`, Python's `No module named 'pendulum'`) → **image**
  (`missing_artifact`): the dependency was not installed into the image (the failure corpus's
  threads were fixed in the Dockerfile or the dependency list, not in the code);
- a relative import inside the code (`'./config'`, an ES module import without its `.js`
  extension) → **code** (`entrypoint_runtime`): the fix is in the source.

Bun's and Deno's wording (double-quoted specifiers, `Module not found "…"`) is read the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from analyzers.base import grep_indexed, neighbours
from jobtriage.evidence import Evidence, LogLine


class Side(StrEnum):
    CODE = "code"
    IMAGE = "image"


@dataclass(frozen=True, slots=True)
class ModuleMiss:
    """One unresolvable module or file, classified."""

    line: LogLine
    side: Side
    signature: str  # normalised: never the specifier itself
    specifier: str  # what the log named (untrusted; for checks and titles only, shell-quoted)
    strength: float


_CJS = re.compile(r"Cannot find module '([^']+)'")
_ESM_MODULE = re.compile(r"Cannot find module '([^']+)' imported from (\S+)")
_ESM_PACKAGE = re.compile(r"Cannot find package '([^']+)' imported from (\S+)")
_PY_CANT_OPEN = re.compile(r"can't open file '([^']+)': \[Errno 2\]")
_PY_DASH_M = re.compile(
    r"(?:python[\d.]*: No module named (\S+)$|Error while finding module specification for "
    r"'([^']+)')"
)
_PY_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")
# Bun's resolver ('Cannot find module "pg" from "/app/src/db.ts"') and Bun's / Deno's entry point
# ('error: Module not found "file:///app/main.ts"'), which quote with double quotes.
_BUN = re.compile(r'Cannot find (?:module|package) "([^"]+)" from "([^"]+)"')
_NOT_FOUND_ENTRY = re.compile(r'error: Module not found "([^"]+)"')

NEEDLES = (
    "Cannot find module",
    "Cannot find package",
    "can't open file",
    "No module named",
    "Module not found",
)


def _extension(path: str) -> bool:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return "." in last


def _bun_or_deno_miss(line: LogLine) -> ModuleMiss | None:
    text = line.text
    bun = _BUN.search(text)
    if bun:
        spec = bun.group(1)
        if spec.startswith("."):  # a relative import inside the code
            return ModuleMiss(line, Side.CODE, "MODULE_NOT_FOUND", spec, 0.8)
        if spec.startswith("/"):
            return ModuleMiss(line, Side.IMAGE, "FILE_NOT_IN_IMAGE", spec, 0.7)
        return ModuleMiss(line, Side.IMAGE, "MODULE_NOT_FOUND", spec, 0.85)
    entry = _NOT_FOUND_ENTRY.search(text)
    if entry:
        return ModuleMiss(line, Side.IMAGE, "ENTRYPOINT_NOT_FOUND", entry.group(1), 0.8)
    return None


def _node_miss(evidence: Evidence, index: int, line: LogLine) -> ModuleMiss | None:
    text = line.text
    pkg = _ESM_PACKAGE.search(text)
    if pkg:
        return ModuleMiss(line, Side.IMAGE, "MODULE_NOT_FOUND", pkg.group(1), 0.85)
    esm = _ESM_MODULE.search(text)
    if esm:
        spec, importer = esm.group(1), esm.group(2)
        if importer.endswith("/"):  # the entry point itself, resolved from the working dir
            return ModuleMiss(line, Side.IMAGE, "ENTRYPOINT_NOT_FOUND", spec, 0.92)
        if "/node_modules/" in spec:
            return ModuleMiss(line, Side.IMAGE, "MODULE_NOT_FOUND", spec, 0.75)
        if not _extension(spec):  # ESM needs the file extension in relative imports
            return ModuleMiss(line, Side.CODE, "ESM_IMPORT_WITHOUT_EXTENSION", spec, 0.88)
        return ModuleMiss(line, Side.IMAGE, "FILE_NOT_IN_IMAGE", spec, 0.7)
    cjs = _CJS.search(text)
    if cjs is None:
        return None
    spec = cjs.group(1)
    if "ERR_MODULE_NOT_FOUND" in text and spec.startswith("/"):
        return ModuleMiss(line, Side.IMAGE, "ENTRYPOINT_NOT_FOUND", spec, 0.92)
    if spec.startswith("/"):
        after = neighbours(evidence, index, after=3)
        stack = [a.text for a in after if a.text.lstrip().startswith("- /")]
        has_stack = any("Require stack:" in a.text for a in after) or "Require stack:" in text
        if "requireStack: []" in text or not has_stack:
            return ModuleMiss(line, Side.IMAGE, "ENTRYPOINT_NOT_FOUND", spec, 0.92)
        loaded_by_tool = bool(stack) and "/node_modules/" in stack[0]
        return ModuleMiss(
            line, Side.IMAGE, "FILE_NOT_IN_IMAGE", spec, 0.85 if loaded_by_tool else 0.7
        )
    if spec.startswith("."):  # a relative import inside the code
        return ModuleMiss(line, Side.CODE, "MODULE_NOT_FOUND", spec, 0.8)
    return ModuleMiss(line, Side.IMAGE, "MODULE_NOT_FOUND", spec, 0.85)


def _python_miss(line: LogLine) -> ModuleMiss | None:
    text = line.text
    cant_open = _PY_CANT_OPEN.search(text)
    if cant_open:
        return ModuleMiss(line, Side.IMAGE, "ENTRYPOINT_NOT_FOUND", cant_open.group(1), 0.93)
    dash_m = _PY_DASH_M.search(text.strip())
    if dash_m:
        spec = dash_m.group(1) or dash_m.group(2) or ""
        return ModuleMiss(line, Side.IMAGE, "ENTRYPOINT_NOT_FOUND", spec, 0.85)
    module = _PY_MODULE.search(text)
    if module:
        return ModuleMiss(line, Side.IMAGE, "PY_MODULE_NOT_FOUND", module.group(1), 0.85)
    return None


def classify(evidence: Evidence) -> tuple[ModuleMiss, ...]:
    """Every module-resolution error in the log, each classified as code or image."""
    found: list[ModuleMiss] = []
    for index, line in grep_indexed(evidence, *NEEDLES):
        miss = _node_miss(evidence, index, line) or _python_miss(line) or _bun_or_deno_miss(line)
        if miss is not None:
            found.append(miss)
    return tuple(found)
