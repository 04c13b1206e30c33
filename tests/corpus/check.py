"""Check the form of every failure-corpus case (or of the files named on the command line)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.corpus.cases import CaseError, load_case  # noqa: E402


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted((HERE / "failures").glob("*/*.txt"))
    bad = 0
    for path in paths:
        try:
            load_case(path)
        except CaseError as exc:
            bad += 1
            print(f"{path}: {exc}")
    print(f"{len(paths) - bad} good, {bad} bad")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
