"""LogIndex: the one-pass answer for declared needles equals a plain search, line for line."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from jobtriage.evidence import LogLine, Stream
from jobtriage.evidence.model import LogIndex

ALPHABET = "abcE:/ .-\u00e9\u4e2d"


def lines_of(texts: list[str]) -> list[LogLine]:
    return [LogLine(None, Stream.STDERR, "DEFAULT", t) for t in texts]


def plain(texts: list[str], needle: str) -> tuple[int, ...]:
    return tuple(i for i, t in enumerate(texts) if needle.lower() in t.lower())


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(st.text(ALPHABET, max_size=30), max_size=30),
    needles=st.lists(st.text(ALPHABET, min_size=1, max_size=4), min_size=1, max_size=6),
)
def test_declared_and_undeclared_needles_answer_alike(texts: list[str], needles: list[str]) -> None:
    LogIndex.know(needles[: len(needles) // 2 + 1])  # some declared, some not
    index = LogIndex(lines_of(texts))
    for needle in needles:
        assert index.find(needle) == plain(texts, needle), needle


def test_a_needle_on_two_lines_and_twice_on_one() -> None:
    LogIndex.know(["econnrefused"])
    index = LogIndex(lines_of(["x ECONNREFUSED y ECONNREFUSED", "ok", "connect econnrefused"]))
    assert index.find("ECONNREFUSED") == (0, 2)
    assert index.find_any(["econnrefused", "ok"]) == (0, 1, 2)


def test_the_analyzers_declare_their_needles() -> None:
    import analyzers  # noqa: F401  (importing the registry declares them)

    assert "econnrefused" in LogIndex._known
    assert "memory limit of" in LogIndex._known
