"""The deployed functions install requirements.txt alone (Cloud Functions runs `pip install -r
requirements.txt`), so it must pin the whole runtime closure at the versions the tests ran with:
what runs in production is exactly what was tested."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        assert version, f"{path.name}: {raw!r} is not pinned with =="
        pins[_norm(name)] = version.strip()
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(roots: list[str]) -> set[str]:
    env = default_environment()
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = _norm(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for spec in metadata.requires(name) or []:
            req = Requirement(spec)
            if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
                continue
            todo.append(req.name)
    return seen


def test_requirements_pin_the_whole_runtime_closure() -> None:
    pins = _pins(ROOT / "requirements.txt")
    missing = sorted(_closure(list(pins)) - set(pins))
    assert missing == [], (
        f"add to requirements.txt (with the versions in constraints.txt): {missing}"
    )


def test_requirements_pin_what_the_tests_ran_with() -> None:
    pins = _pins(ROOT / "requirements.txt")
    constraints = _pins(ROOT / "constraints.txt")
    for name, version in pins.items():
        assert metadata.version(name) == version, name
        assert constraints.get(name) == version, f"constraints.txt disagrees on {name}"
