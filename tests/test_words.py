"""The word catalogue: every word in both languages with the same placeholders, one wording per
word, and no word the product never says."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from jobtriage.words import CATALOGUE, CHANGE_WORDS, OUTCOME_WORDS, STATE_WORDS, Word, say

REPO = Path(__file__).resolve().parents[1]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("word", list(Word))
def test_every_word_has_both_languages_with_the_same_placeholders(word: Word) -> None:
    text = CATALOGUE[word]
    assert text.en.strip(), word
    assert text.ko.strip(), word
    assert _placeholders(text.en) == _placeholders(text.ko), word
    params = {name: f"<{name}>" for name in _placeholders(text.en)}
    for lang in ("en", "ko"):
        said = say(word, lang, **params)
        assert all(f"<{name}>" in said for name in params), (word, lang)


def test_the_catalogue_holds_exactly_the_words() -> None:
    assert set(CATALOGUE) == set(Word)


def test_one_wording_per_word() -> None:
    seen: dict[tuple[str, str], Word] = {}
    for word, text in CATALOGUE.items():
        key = (text.en, text.ko)
        assert key not in seen, f"{word} and {seen[key]} say the same thing: merge them"
        seen[key] = word


def test_the_lookup_tables_cover_their_enums() -> None:
    from jobtriage.evidence import Outcome
    from jobtriage.incident.model import State

    assert set(OUTCOME_WORDS) == set(Outcome)
    assert set(STATE_WORDS) == set(State)
    assert all(isinstance(w, Word) for w in CHANGE_WORDS.values())


def test_every_word_is_said_somewhere() -> None:
    sources = (
        "\n".join(
            p.read_text(encoding="utf-8")
            for p in [REPO / "main.py", *(REPO / "jobtriage").rglob("*.py")]
            if p.name != "words.py"
        )
        + (REPO / "jobtriage" / "words.py")
        .read_text(encoding="utf-8")
        .split("CATALOGUE: Mapping")[-1]
    )
    used = set(re.findall(r"Word\.([A-Z0-9_]+)", sources))
    unused = sorted(w.name for w in Word if w.name not in used)
    assert not unused, f"words nobody says: {unused}"
