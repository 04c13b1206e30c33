"""Yelp's detect-secrets as an independent oracle: every value its format detectors find in the
secret corpus is masked by our redaction too.

detect-secrets is not used at run time (bench/redaction.py: ~0.6 ms a line, 40 times our cost,
and on log text its entropy and keyword detectors flag almost every ordinary line), but its
token-format detectors are well kept and were written by other people: they keep our own list
honest. Its entropy and keyword detectors are left out here for the same reason.
"""

from __future__ import annotations

import pytest

from jobtriage.redact import redact_lines
from standins.joblogs.ordinary import ORDINARY
from standins.joblogs.secrets import KINDS, Kind

scan = pytest.importorskip("detect_secrets.core.scan")
settings = pytest.importorskip("detect_secrets.settings")

_NOT_FORMATS = {
    "Base64 High Entropy String",
    "Hex High Entropy String",
    "Secret Keyword",
    "Public IP (ipv4)",
}


def _formats(text: str) -> list[str]:
    with settings.default_settings():
        return [
            s.secret_value
            for line in text.split("\n")
            for s in scan.scan_line(line)
            if s.type not in _NOT_FORMATS and s.secret_value and len(s.secret_value) >= 8
        ]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_what_detect_secrets_finds_we_mask(kind: Kind) -> None:
    found = _formats("\n".join(kind.lines))
    out = "\n".join(redact_lines(list(kind.lines)))
    assert [value for value in found if value.strip("\"'") in out] == []


def test_detect_secrets_finds_no_format_in_the_ordinary_lines() -> None:
    # the corpus of ordinary lines holds no secret that another detector would see either
    assert _formats("\n".join(ORDINARY)) == []


def test_the_oracle_has_something_to_say() -> None:
    assert sum(bool(_formats("\n".join(k.lines))) for k in KINDS) >= 25
