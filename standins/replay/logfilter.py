"""Enough of the Logging query language to serve recorded entries the way Cloud Logging would.

Supported: comparisons `=`, `!=`, `>`, `>=`, `<`, `<=`, `:` (has: case-insensitive substring) on
dotted field paths (`resource.labels.job_name`, `labels."run.googleapis.com/execution_name"`,
`jsonPayload.message`, ...), `severity` compared by level, `timestamp` compared as time, `AND`,
`OR`, `NOT`, parentheses, implicit AND between terms and lines, and a bare string as a
search over the payload. As in the real language, `OR` binds tighter than `AND`
(https://cloud.google.com/logging/docs/view/logging-query-language), and a comparison on a
missing field is false. Anything else is a `FilterError`, which the replay answers with 400
INVALID_ARGUMENT like the API does, so a malformed filter fails a test instead of matching
everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SEVERITY_RANK = {
    "DEFAULT": 0,
    "DEBUG": 100,
    "INFO": 200,
    "NOTICE": 300,
    "WARNING": 400,
    "ERROR": 500,
    "CRITICAL": 600,
    "ALERT": 700,
    "EMERGENCY": 800,
}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<op>!=|>=|<=|=~|!~|=|>|<|:)
      | (?P<paren>[()])
      | (?P<dot>\.)
      | (?P<word>[^\s()"=<>!:.]+)
    )""",
    re.X,
)


class FilterError(ValueError):
    """The filter uses something this replay does not understand (or is malformed)."""


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError(f"unexpected character at {pos}: {text[pos : pos + 10]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append(_Tok(kind, value))
    return out


Predicate = Callable[[Mapping[str, Any]], bool]


def parse_time(value: str) -> datetime | None:
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", value.strip())
    if not m:
        return None
    base, frac, zone = m.groups()
    micro = (frac or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if zone in (None, "Z") else zone
    return datetime.fromisoformat(f"{base}.{micro}{zone}").astimezone(UTC)


def _lookup(entry: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = entry
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _compare(path: tuple[str, ...], op: str, literal: str) -> Predicate:
    field = path[-1] if len(path) == 1 else ""
    if op in ("=~", "!~"):
        raise FilterError("regular expressions are not supported by the replay")

    def test(entry: Mapping[str, Any]) -> bool:
        if field == "severity":
            have = SEVERITY_RANK.get(str(entry.get("severity") or "DEFAULT").upper(), 0)
            want = SEVERITY_RANK.get(literal.upper())
            if want is None:
                raise FilterError(f"unknown severity {literal!r}")
            return _order(have, want, op)
        value = _lookup(entry, path)
        if value is None:
            return False
        if field == "timestamp":
            have_t, want_t = parse_time(str(value)), parse_time(literal)
            if want_t is None:
                raise FilterError(f"unreadable timestamp {literal!r}")
            return have_t is not None and _order(have_t, want_t, op)
        if op == ":":
            haystack = value if isinstance(value, str) else str(value)
            return literal.lower() in haystack.lower()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return _order(float(value), float(literal), op)
            except ValueError:
                return False
        return _order(str(value), literal, op)

    return test


def _order(have: Any, want: Any, op: str) -> bool:
    if op == "=":
        return bool(have == want)
    if op == "!=":
        return bool(have != want)
    if op == ">":
        return bool(have > want)
    if op == ">=":
        return bool(have >= want)
    if op == "<":
        return bool(have < want)
    if op == "<=":
        return bool(have <= want)
    raise FilterError(f"operator {op} not supported here")


def _search(literal: str) -> Predicate:
    needle = literal.lower()

    def test(entry: Mapping[str, Any]) -> bool:
        for key in ("textPayload", "jsonPayload", "protoPayload"):
            if key in entry and needle in str(entry[key]).lower():
                return True
        return False

    return test


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise FilterError("unexpected end of filter")
        self.i += 1
        return tok

    def parse(self) -> Predicate:
        if not self.toks:
            return lambda _e: True
        pred = self.conj()
        if self.peek() is not None:
            raise FilterError(f"unexpected {self.peek()!r}")
        return pred

    def conj(self) -> Predicate:
        parts = [self.disj()]
        while True:
            tok = self.peek()
            if tok is None or (tok.kind == "paren" and tok.text == ")"):
                break
            if tok.kind == "word" and tok.text == "AND":
                self.take()
            parts.append(self.disj())
        return lambda e: all(p(e) for p in parts)

    def disj(self) -> Predicate:
        parts = [self.unary()]
        while (tok := self.peek()) is not None and tok.kind == "word" and tok.text == "OR":
            self.take()
            parts.append(self.unary())
        return lambda e: any(p(e) for p in parts)

    def unary(self) -> Predicate:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text == "NOT":
            self.take()
            inner = self.unary()
            return lambda e: not inner(e)
        return self.primary()

    def primary(self) -> Predicate:
        tok = self.take()
        if tok.kind == "paren" and tok.text == "(":
            pred = self.conj()
            close = self.take()
            if close.text != ")":
                raise FilterError("missing )")
            return pred
        if tok.kind == "str":
            return _search(tok.text)
        if tok.kind != "word":
            raise FilterError(f"unexpected {tok.text!r}")
        path = [tok.text]
        while (nxt := self.peek()) is not None and nxt.kind == "dot":
            self.take()
            part = self.take()
            if part.kind not in ("word", "str"):
                raise FilterError("bad field path")
            path.append(part.text)
        nxt = self.peek()
        if nxt is None or nxt.kind != "op":
            if len(path) == 1:
                return _search(path[0])
            raise FilterError(f"field {'.'.join(path)} without a comparison")
        op = self.take().text
        value = self.take()
        if value.kind not in ("str", "word"):
            raise FilterError(f"bad value after {op}")
        return _compare(tuple(path), op, value.text)


def compile_filter(text: str) -> Predicate:
    """A predicate over LogEntry dicts (REST/JSON form) for one filter string."""
    return _Parser(text).parse()


__all__ = ["SEVERITY_RANK", "FilterError", "compile_filter", "parse_time"]
