"""How numbers, spans and times are written, the same in the terminal, JSON and Slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobtriage.text import Lang


def human_duration(span: timedelta, lang: Lang, *, precise: bool = False) -> str:
    """ "2 h", "45 min" (or "2 min 13 s" when precise) — and the same in Korean."""
    seconds = max(0, int(span.total_seconds()))
    units_en = ("d", "h", "min", "s")
    units_ko = ("일", "시간", "분", "초")
    units = units_ko if lang == "ko" else units_en
    sep = "" if lang == "ko" else " "
    values = (seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60, seconds % 60)
    if seconds < 60:
        return f"{seconds}{sep}{units[3]}"
    # the largest unit alone, or the two largest when precise
    first = next(i for i, v in enumerate(values) if v)
    shown = [first]
    if precise and first + 1 < len(values) and values[first + 1]:
        shown.append(first + 1)
    if not precise and first == 0 and values[0] < 2:
        # "1 d" hides too much; say "30 h"
        return f"{values[0] * 24 + values[1]}{sep}{units[1]}"
    return " ".join(f"{values[i]}{sep}{units[i]}" for i in shown)


def percent(confidence: float) -> str:
    return f"{round(max(0.0, min(1.0, confidence)) * 100)}%"


def ordinal(n: int, lang: Lang) -> str:
    if lang == "ko":
        return f"{n}번째"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def as_utc(when: datetime) -> datetime:
    """A naive time is taken as UTC; an aware one is converted."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"
