"""Extract the schema of the google provider's resources this module uses, from the provider's
generated CDK bindings (an npm package whose `.jsii` assembly describes every resource, argument
and block of one provider release), into google.json beside this file.

    npm pack @cdktf/provider-google@16.12.1          # google provider 6.50.0; ~30 MB
    tar xzf cdktf-provider-google-16.12.1.tgz
    python deploy/schema/extract.py package/.jsii    # rewrites deploy/schema/google.json

Only the resource and data-source types named in deploy/*.tf are kept (the whole schema is
~100 MB). tests/deploy/test_schema.py checks deploy/ against the result offline: unknown
arguments or blocks, missing required arguments, references to attributes that do not exist.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEPLOY = HERE.parent
_REPRESENTS = re.compile(r"docs/(resources|data-sources)/([a-z0-9_]+) (google_[a-z0-9_]+)\}")
_LINK = re.compile(r"#([a-z0-9_]+) ")


def used_types() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in DEPLOY.glob("*.tf"):
        text = path.read_text(encoding="utf-8")
        found |= {
            ("resource", t) for t in re.findall(r'^resource "(google_[a-z0-9_]+)"', text, re.M)
        }
        found |= {("data", t) for t in re.findall(r'^data "(google_[a-z0-9_]+)"', text, re.M)}
    return found


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def struct_of(type_: dict[str, Any]) -> tuple[str | None, bool]:
    """The struct a property's type names (a block), and whether it is a list of them."""
    if "fqn" in type_:
        return type_["fqn"], False
    if "collection" in type_:
        inner, _ = struct_of(type_["collection"]["elementtype"])
        return inner, True
    if "union" in type_:
        for member in type_["union"]["types"]:
            inner, many = struct_of(member)
            if inner and not inner.startswith("cdktf."):
                return inner, many
    return None, False


def schema_of(types: dict[str, Any], fqn: str, depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"arguments": {}, "blocks": {}}
    for prop in types[fqn].get("properties", []):
        docs = prop.get("docs", {})
        link = _LINK.search(docs.get("remarks", "") + " " + docs.get("summary", ""))
        name = link.group(1) if link else snake(prop["name"])
        required = not prop.get("optional", False)
        inner, _ = struct_of(prop["type"])
        if inner and not inner.startswith("cdktf.") and types.get(inner, {}).get("datatype"):
            nested = schema_of(types, inner, depth + 1) if depth < 6 else {}
            out["blocks"][name] = {"required": required, **nested}
        else:
            out["arguments"][name] = required
    return out


def main(jsii_path: str) -> None:
    assembly = json.loads(Path(jsii_path).read_text(encoding="utf-8"))
    types: dict[str, Any] = assembly["types"]
    wanted = used_types()
    version = re.search(
        r"google/(\d+\.\d+\.\d+)/", json.dumps(assembly["types"][next(iter(types))])
    )
    result: dict[str, Any] = {
        "provider": "hashicorp/google",
        "version": version.group(1) if version else "?",
        "from": f"{assembly['name']}@{assembly['version']} (.jsii)",
        "resource": {},
        "data": {},
    }
    for fqn, cls in types.items():
        if cls.get("kind") != "class":
            continue
        match = _REPRESENTS.search(cls.get("docs", {}).get("summary", ""))
        if not match:
            continue
        kind = "resource" if match.group(1) == "resources" else "data"
        tf_type = match.group(3)
        if (kind, tf_type) not in wanted:
            continue
        config = fqn + "Config"
        entry = schema_of(types, config) if config in types else {"arguments": {}, "blocks": {}}
        computed = sorted(
            snake(p["name"])
            for p in cls.get("properties", [])
            if not p["name"].endswith("Input") and p["name"] != "tfResourceType"
        )
        entry["attributes"] = computed
        result[kind][tf_type] = entry
    missing = sorted(t for k, t in wanted if t not in result[k])
    if missing:
        raise SystemExit(f"not in this provider release: {missing}")
    (HERE / "google.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"wrote google.json: {len(result['resource'])} resources, {len(result['data'])} data")


if __name__ == "__main__":
    main(sys.argv[1])
