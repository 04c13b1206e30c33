"""Turning untrusted job text into Slack mrkdwn that shows exactly what the job wrote.

Slack treats `&`, `<` and `>` as control characters: `<!channel>` pings everyone, `<@U123>` pings
a person and `<http://x|click>` hides a link behind friendly words. A log line may contain any of
them, so every piece of text that came from a job goes through `untrusted()`: secrets are redacted
first (the pattern must see the raw text), then the three characters are escaped, `&` first, and
nothing else (https://api.slack.com/reference/surfaces/formatting#escaping).

Quoted log lines go inside code blocks, where a backtick in the quote could end the fence early and
let the rest be read as mrkdwn; `code_block` swaps backticks for a look-alike that cannot.
Cutting is always visible: a shortened text ends in `TRUNCATION_MARKER` so nobody mistakes a partial
line for the whole one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, unquote

from jobtriage.redact import redact, scrub, strip_invisible

# What a shortened text ends with: readers must see that something was cut.
TRUNCATION_MARKER = "…[truncated]"

FENCE = "```"
# Text this far beyond what will be shown is dropped before redaction. Redaction must see more
# than is shown, so that a secret crossing the cut is still recognised as a whole: redaction is
# linear (jobtriage/redact.py), so the margin can cover any line the evidence keeps (2,000).
REDACT_MARGIN = 4000

# U+02CB MODIFIER LETTER GRAVE ACCENT: looks like a backtick, but Slack does not read it as one,
# so a quoted "```" cannot close our code block.
BACKTICK_LOOKALIKE = "\u02cb"

# Control and invisible characters (C0 but tab and newline, C1, bidirectional controls that make
# "gpj.exe" show as "exe.jpg" — CVE-2021-42574 —, zero-width characters, the soft hyphen, line
# and paragraph separators, …) are dropped by `jobtriage.redact.strip_invisible`.

# Slack's own formatting characters in job text: *bold*, _italic_, ~strike~. Slack has no escape
# for them, so outside code they become look-alikes that it does not read as markup: `*` → `∗`
# (U+2217) and `~` → `∼` (U+223C) always; `_` → `ˍ` (U+02CD) only where it could open or close
# italics (at a word's edge), so that DATABASE_URL or node_modules read unchanged.
_FORMATTING = re.compile(r"[*~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_LOOKALIKE = {"*": "\u2217", "~": "\u223c", "_": "\u02cd"}


def neutralise(text: str) -> str:
    """Job text that Slack cannot read as *bold*, _italic_ or ~strike~ (outside code)."""
    return _FORMATTING.sub(lambda m: _LOOKALIKE[m.group()], text)


def escape(text: str) -> str:
    """Escape Slack's three control characters; `&` first so that escapes are not escaped twice."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """The inverse of `escape` (what a Slack reader sees), `&` last."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clean(text: str) -> str:
    """Drop control and invisible characters (carriage returns, escape sequences, bidi
    overrides, zero-width and format characters) that came with job text."""
    return strip_invisible(text)


def _bound(text: str, limit: int | None) -> str:
    return text if limit is None else text[: max(0, limit) + REDACT_MARGIN]


def untrusted(text: str, *, limit: int | None = None) -> str:
    """Job text made safe for mrkdwn: control characters dropped, secrets redacted, then escaped,
    and Slack's formatting characters turned into look-alikes (`neutralise`).

    Backticks become a look-alike too: a quoted "```" must not open a code block that swallows the
    rest of the message (or close one of ours). With `limit` (what the caller will show at most),
    text far beyond it is dropped before redaction, which keeps redaction cheap on huge lines.
    """
    return neutralise(_untrusted_code(text, limit=limit))


def _untrusted_code(text: str, *, limit: int | None = None) -> str:
    """`untrusted` for inside code, where Slack applies no formatting: * _ ~ stay exact."""
    return escape(scrub(_bound(text, limit))).replace("`", BACKTICK_LOOKALIKE)


def untrusted_plain(text: str, *, limit: int | None = None) -> str:
    """Job text for a `plain_text` object (header, button).

    Slack parses no markup there, but whether it decodes `&lt;` in plain text is not documented; so
    instead of escaping, the angle brackets become look-alikes (‹ ›) that read the same and can
    never form a control sequence. Cloud Run job names cannot contain them: real names are
    unchanged.
    """
    return scrub(_bound(text, limit)).replace("<", "\u2039").replace(">", "\u203a")


def truncate(text: str, limit: int, *, marker: str = TRUNCATION_MARKER) -> str:
    """`text` if it fits in `limit` characters, otherwise its start followed by `marker`.

    Never cuts an escape sequence (`&amp;`, `&lt;`, `&gt;`) in half: the visible text stays exact.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if len(marker) >= limit:
        return marker[:limit]
    head = text[: limit - len(marker)]
    amp = head.rfind("&", max(0, len(head) - 4))
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + marker


def one_line(text: str) -> str:
    """Collapse line breaks so that a value stays on its own line in a list."""
    return " ".join(text.split())


def inline_code(text: str, *, limit: int = 200) -> str:
    """Untrusted text as `inline code`, on one line, backticks neutralised, within `limit` chars."""
    body = _untrusted_code(one_line(text[: limit + REDACT_MARGIN]), limit=limit) or " "
    return "`" + truncate(body, max(1, limit - 2)) + "`"


def code_block(lines: Iterable[str], *, limit: int, line_limit: int | None = None) -> str:
    """Untrusted lines as one fenced code block of at most `limit` characters, fence included.

    Each line is cleaned, redacted and escaped; backticks become a look-alike so the fence cannot be
    closed from inside. With `line_limit`, each line is first cut to that many characters so that
    one huge line does not crowd out the others. When the lines do not fit, the block keeps as many
    whole lines as it can and ends with a marker line saying how many were left out; a single
    oversized line is cut with the truncation marker. Returns "" for no lines.
    """
    each = line_limit if line_limit is not None else limit
    prepared = [truncate(_untrusted_code(line, limit=each), each) for line in lines]
    if not prepared:
        return ""
    overhead = len(FENCE) * 2 + 2  # "```\n" + "\n```"
    room = limit - overhead
    if room <= len(TRUNCATION_MARKER):
        return ""
    kept: list[str] = []
    used = 0
    for i, line in enumerate(prepared):
        left = len(prepared) - i - 1
        # reserve space for a "…[N more lines]" marker if anything will follow
        reserve = len(_more_lines(left)) + 1 if left else 0
        sep = 1 if kept else 0
        if used + sep + len(line) + reserve <= room:
            kept.append(line)
            used += sep + len(line)
            continue
        # this line does not fit whole: cut it if it is the first, then say how many were dropped
        dropped = len(prepared) - i
        if not kept:
            marker = _more_lines(dropped - 1) if dropped - 1 else ""
            space = room - (len(marker) + 1 if marker else 0)
            kept.append(truncate(line, space))
            if marker:
                kept.append(marker)
        else:
            kept.append(_more_lines(dropped))
        break
    block = FENCE + "\n" + "\n".join(kept) + "\n" + FENCE
    # A limit so small that not even the marker fits next to a cut line: say nothing rather than
    # overflow (hypothesis found limit=21 with two lines).
    return block if len(block) <= limit else ""


def _more_lines(count: int) -> str:
    return f"…[{count} more line{'s' if count != 1 else ''}]"


def link(url: str, label: str) -> str:
    """A mrkdwn link `<url|label>` that the URL cannot break out of.

    Characters that end or split a link (`<`, `>`, `|`, whitespace) are percent-encoded in the URL
    and `&` is escaped as Slack expects. URLs carry job names, so they are redacted like any job
    text; the label is treated as untrusted text.
    """
    url = scrub(url)
    decoded = unquote(url)
    redacted = redact(decoded)
    if redacted != decoded:
        # a secret hidden by percent-encoding (job names are quoted into console URLs)
        url = redacted
    safe_url = quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")
    label_text = untrusted(one_line(label)).replace("|", "¦")
    return f"<{escape(safe_url)}|{label_text}>"
