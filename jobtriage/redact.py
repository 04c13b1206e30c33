"""Secrets are redacted before any text leaves the process.

Applied at every exit: the terminal and JSON renderers, the Slack renderer, and the formatter of
our own logs. Patterns cover what real job logs leak: connection strings with passwords,
`password=`-style pairs (also JSON and YAML spellings), bearer tokens and Authorization headers,
well-known token formats (Slack, GitHub, Google API keys, AWS access keys, Stripe, JWTs) and PEM
private keys. Known secret values (e.g. plain env values from the audit entry) can be passed in
and are replaced wherever they occur.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[REDACTED]"

_KEYS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|client[_-]?secret|token|access[_-]?token|refresh[_-]?token|"
    r"api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|secret[_-]?access[_-]?key|private[_-]?key|"
    r"auth[_-]?token|credentials?|session[_-]?key|signing[_-]?secret|db[_-]?pass(?:word)?"
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM blocks (possibly cut): everything from BEGIN to END or end of text
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        MASK,
    ),
    # scheme://user:password@host  -> keep user and host
    (
        re.compile(
            r"(?i)(?<![a-z0-9+.\-])([a-z][a-z0-9+.\-]{0,30}://[^\s:/@'\"<>]{0,200}:)([^\s@/'\"<>]{1,2000})(@)"
        ),
        rf"\1{MASK}\3",
    ),
    # Authorization: Bearer xyz / Basic xyz ; bare "Bearer xyz"
    (
        re.compile(r"(?i)\b(authorization\s*[:=]\s*)(?:(bearer|basic|token)\s+)?[^\s'\",;]+"),
        rf"\1\2 {MASK}",
    ),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*"), rf"\1{MASK}"),
    # JSON / dict style: "password": "value"  or 'token': 'value'
    (
        re.compile(
            rf"""(?i)(["']?(?<![\w.-])[\w.-]{{0,40}}?(?:{_KEYS})["']?\s*[:=]\s*)(["'])(?:(?!\2).){{0,4000}}\2"""
        ),
        rf"\1\2{MASK}\2",
    ),
    # key=value / key: value  (env dumps, URLs query strings, libpq DSNs, YAML)
    (
        re.compile(
            rf"""(?i)(?<![\w.-])([\w.-]{{0,40}}?(?:{_KEYS})\s*[=:]\s*)(?!\[REDACTED\])([^\s'",;&)}}\]]+)"""
        ),
        rf"\1{MASK}",
    ),
    # token formats that are secrets wherever they appear
    (re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{8,}"), MASK),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"), MASK),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), MASK),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), MASK),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK),
    (re.compile(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{10,}"), MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), MASK),
    (re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"), MASK),
)

# Every repetition above is bounded and every key pattern starts only where a word starts, so
# the cost stays linear in the text's length even for hostile input (one 100 kB word: ~30 ms).

# Below this length a "known value" is too likely to be an ordinary word to replace blindly.
_MIN_KNOWN_LEN = 6


def redact(text: str, *, known: Iterable[str] = ()) -> str:
    """Return `text` with every secret we can recognise replaced by MASK."""
    if not text:
        return text
    for value in known:
        if len(value) >= _MIN_KNOWN_LEN and value in text:
            text = text.replace(value, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text
