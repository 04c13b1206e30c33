"""The Terraform in deploy/ as data: parsed with python-hcl2, with a few helpers for the tests.

python-hcl2 8.x keeps expressions as `${...}` strings and nested blocks as lists of dicts; the
options below give the classic, quote-free shape (see shared reference B6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


def parse(text: str) -> dict[str, Any]:
    return hcl2.loads(text, serialization_options=OPTIONS)


def tf_files() -> list[Path]:
    return sorted(DEPLOY.glob("*.tf"))


@cache
def parsed() -> dict[str, dict[str, Any]]:
    """File name → parsed content, for every .tf file in deploy/."""
    return {path.name: parse(path.read_text(encoding="utf-8")) for path in tf_files()}


@dataclass(frozen=True)
class Block:
    kind: str  # "resource" or "data"
    type: str
    name: str
    body: dict[str, Any]
    file: str

    @property
    def address(self) -> str:
        prefix = "data." if self.kind == "data" else ""
        return f"{prefix}{self.type}.{self.name}"


def blocks(kind: str = "resource", type_: str | None = None) -> list[Block]:
    found = []
    for file, content in parsed().items():
        for entry in content.get(kind, []):
            for rtype, named in entry.items():
                for name, body in named.items():
                    if type_ is None or rtype == type_:
                        found.append(Block(kind, rtype, name, body, file))
    return found


def resource(type_: str, name: str) -> Block:
    matches = [b for b in blocks("resource", type_) if b.name == name]
    assert len(matches) == 1, f"expected exactly one {type_}.{name}, found {len(matches)}"
    return matches[0]


def merged(section: str) -> dict[str, Any]:
    """All `locals`, `variable` or `output` entries of every file, by name (names are unique)."""
    result: dict[str, Any] = {}
    for content in parsed().values():
        for entry in content.get(section, []):
            for name, value in entry.items():
                assert name not in result, f"{section} {name} is defined twice"
                result[name] = value
    return result


def one(value: Any) -> Any:
    """The single nested block python-hcl2 wraps in a list."""
    assert isinstance(value, list), f"expected a block, got {value!r}"
    assert len(value) == 1, f"expected one block, got {value!r}"
    return value[0]


_REF = re.compile(r"\$\{([a-z0-9_]+)\.([a-z0-9_]+)(?:\[0\])?\.([a-z0-9_]+)(?:\[0\]\.[a-z0-9_]+)?\}")


def reference(expr: Any) -> tuple[str, str, str] | None:
    """`${type.name.attr}` (optionally `type.name[0].attr`, or a nested block's attribute as in
    `type.name[0].block[0].attr`) → (type, name, attr)."""
    if not isinstance(expr, str):
        return None
    match = _REF.fullmatch(expr)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def walk_strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string in a parsed structure with the path it sits at."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in walk_strings(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in walk_strings(v, f"{path}[{i}]")]
    return []
