"""deploy/ against the real google provider's schema, offline.

deploy/schema/google.json is extracted from the provider's generated CDK bindings (see
deploy/schema/extract.py) for exactly the types deploy/*.tf uses. Every resource's arguments and
nested blocks must exist there, every required argument must be given, and every reference
`google_x.name.attr` must name a resource the module declares and an attribute that type has.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.terraform_model import DEPLOY, Block, blocks, parsed

SCHEMA = json.loads((DEPLOY / "schema" / "google.json").read_text(encoding="utf-8"))
META = {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection"}
_REFERENCE = re.compile(
    r"(?<![\w.])(data\.)?(google_[a-z0-9_]+)\.([a-z0-9_]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)"
)

GOOGLE = [b for kind in ("resource", "data") for b in blocks(kind) if b.type.startswith("google_")]


def problems(body: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    found: list[str] = []
    arguments: dict[str, bool] = schema.get("arguments", {})
    nested: dict[str, Any] = schema.get("blocks", {})
    for key, value in body.items():
        if key in META or key == "dynamic":
            continue
        if key in nested:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    found += problems(item, nested[key], f"{where}.{key}")
        elif key not in arguments:
            found.append(f"{where}: unknown argument or block {key!r}")
    for name, required in arguments.items():
        if required and name not in body:
            found.append(f"{where}: required argument {name!r} missing")
    for name, block in nested.items():
        if block.get("required") and name not in body:
            found.append(f"{where}: required block {name!r} missing")
    return found


@pytest.mark.parametrize("block", GOOGLE, ids=[b.address for b in GOOGLE])
def test_every_argument_and_block_exists_in_the_provider(block: Block) -> None:
    schema = SCHEMA[block.kind].get(block.type)
    assert schema is not None, f"{block.type} is not in google.json: rerun deploy/schema/extract.py"
    assert problems(block.body, schema, block.address) == []


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_every_reference_names_a_declared_resource_and_a_real_attribute() -> None:
    declared = {b.address: b.type for kind in ("resource", "data") for b in blocks(kind)}
    bad: list[str] = []
    for file, content in parsed().items():
        for text in _strings(content):
            for data, rtype, name, attr in _REFERENCE.findall(text):
                address = f"{'data.' if data else ''}{rtype}.{name}"
                kind = "data" if data else "resource"
                if declared.get(address) != rtype:
                    bad.append(f"{file}: {address} is not declared")
                    continue
                schema = SCHEMA[kind][rtype]
                known = set(schema["attributes"]) | set(schema["arguments"]) | set(schema["blocks"])
                if attr not in known:
                    bad.append(f"{file}: {address} has no attribute {attr!r}")
    assert bad == []


def test_the_check_catches_what_it_is_for() -> None:
    sink = SCHEMA["resource"]["google_logging_project_sink"]
    assert problems({"name": "s", "destination": "d", "filterr": "x"}, sink, "sink") == [
        "sink: unknown argument or block 'filterr'"
    ]
    assert problems({"destination": "d"}, sink, "sink") == [
        "sink: required argument 'name' missing"
    ]
    assert problems({"name": "s", "destination": "d", "exclusions": [{"nam": "x"}]}, sink, "s") == [
        "s.exclusions: unknown argument or block 'nam'",
        "s.exclusions: required argument 'filter' missing",
        "s.exclusions: required argument 'name' missing",
    ]


def test_the_schema_was_extracted_for_exactly_the_types_used() -> None:
    used = {(b.kind, b.type) for b in GOOGLE}
    extracted = {(k, t) for k in ("resource", "data") for t in SCHEMA[k]}
    assert used == extracted, "rerun deploy/schema/extract.py"
    assert Path(DEPLOY / "schema" / "extract.py").is_file()
