"""Bilingual text: every user-facing sentence exists in English and Korean.

Findings are data; renderers choose the language. A `Text` holds both so that an analyzer never has
to know which language the report will be rendered in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["en", "ko"]
LANGS: tuple[Lang, ...] = ("en", "ko")


@dataclass(frozen=True, slots=True)
class Text:
    """One sentence in both report languages."""

    en: str
    ko: str

    def get(self, lang: Lang) -> str:
        return self.ko if lang == "ko" else self.en

    def format(self, **params: object) -> Text:
        """Fill `{name}` placeholders in both languages with the same values."""
        return Text(en=self.en.format(**params), ko=self.ko.format(**params))


def parse_lang(value: str) -> Lang:
    if value not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, not {value!r}")
    return value
