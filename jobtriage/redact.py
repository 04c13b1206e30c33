"""Secrets are masked, and invisible characters dropped, before any job text is kept or shown.

Two places use this module (issue 9):

- **Where untrusted text enters**: `Evidence` runs `redact_lines` over every log line of an
  execution at once, *before* lines are clipped, and `redact` over every other message it holds,
  with the values of the job's own configuration as `known` values. Everything later sees clean
  text.
- **At every exit**, as a last check: renderers, Slack payloads, the Block Kit Builder link, our
  own logs, incident documents and exception messages go through `scrub` (single text) or
  `scrub_tree` (a JSON-like object).

What is recognised (each is a *span* of the text; spans are merged and each becomes `MASK`):

- connection strings and URLs with a password (`scheme://user:[REDACTED]@host` — user and host
  stay, so analyzers and readers still see where it connected); passwords may contain `/`, `'`,
  `@`, `#` or a space, and a URL split over two log lines is followed;
- `key=value`, `key: value`, `"key": "value"`, `'key' => 'value'`, `key value` (passwords only)
  for credential-named keys: passwords, secrets, tokens, API / access / private / account keys,
  credentials, cookies and sessions, `Authorization` headers, signatures, DSNs. Escaped quotes
  inside a quoted value are followed, and a value on the next line is masked too;
- PEM private keys, also printed one line per log entry or inside JSON (`\\n` escapes);
- about 60 token formats that are secrets wherever they appear (Slack, GitHub, GitLab, Google,
  AWS, Stripe, Twilio, SendGrid, OpenAI, Anthropic, Hugging Face, npm, PyPI, Docker Hub, …): those
  of Yelp's `detect-secrets` detectors and many it does not know (the tests use detect-secrets as
  an independent oracle; it is far too slow to run here, see bench/redaction.py);
- unknown token formats by entropy: a token after a credential word, or any long token that
  mixes upper case, lower case and digits with high Shannon entropy (hex-only tokens — digests,
  commit SHAs, trace ids — never count without a credential word);
- `known` values (the job's plain env values and args, at least `MIN_KNOWN_LEN` characters),
  wherever they occur.

Only secret *values* are masked: the key, the error words around it, hosts, paths and codes
stay, because analyzers match on them.

Cost is linear in the text: the text is lower-cased once (ASCII only, so offsets never move),
credential words are found with one scan, and every rule is anchored at a literal or at one of
those words; every repetition is bounded or possessive. 100k log lines take 0.4–0.5 s, the worst
hostile 100 kB line found so far under 70 ms (`bench/redaction.py`).
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MASK = "[REDACTED]"

# Below this length a "known value" is too likely to be an ordinary word to replace blindly.
MIN_KNOWN_LEN = 6

# --- invisible and control characters ----------------------------------------------------------

# Removed from job text before it is matched, kept or shown: C0 controls except tab and newline,
# DEL, C1 controls (U+0080–U+009F), the soft hyphen, the combining grapheme joiner, line and
# paragraph separators (U+2028/U+2029), every zero-width character, bidirectional controls
# (CVE-2021-42574), the Hangul fillers, interlinear annotations, tag characters and the
# variation-selector supplement — that is, every character of Unicode category Cc (but \t, \n),
# Cf, Zl and Zp, and a few invisible letters. tests/redaction/test_invisible.py checks the list
# against `unicodedata` for the whole of Unicode.
_INVISIBLE_CLASS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u034f\u061c\u0600-\u0605\u06dd\u070f\u0890\u0891"
    "\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\u3164\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_INVISIBLE = re.compile(f"[{_INVISIBLE_CLASS}]")
# ANSI escape sequences (colours, cursor moves): the ESC alone would go, but "[31m" would stay.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]{0,200}(?:\x07|\x1b\\)?")


_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def strip_invisible(text: str) -> str:
    """`text` without control, format and invisible characters (tab and newline stay)."""
    if not text:
        return text
    if text.isascii() and _ASCII_CONTROL.search(text) is None:
        return text  # the usual case, found at C speed
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    return _INVISIBLE.sub("", text)


# --- helpers --------------------------------------------------------------------------------------

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _entropy(token: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(token)
    if n == 0:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(token).values())


def _classes(token: str) -> int:
    """How many of upper case, lower case and digits occur in `token`."""
    upper = lower = digit = False
    for ch in token:
        if "A" <= ch <= "Z":
            upper = True
        elif "a" <= ch <= "z":
            lower = True
        elif "0" <= ch <= "9":
            digit = True
    return upper + lower + digit


_HEX = frozenset("0123456789abcdefABCDEF-")


def path_like(token: str) -> bool:
    """A file path or URL path: absolute, relative, or with a lower-case word as a segment."""
    if token.startswith(("/", "./", "../", "~/")) or "//" in token:
        return True
    if "/" not in token:
        return False
    return any(len(part) >= 3 and part.isalpha() and part.islower() for part in token.split("/"))


_SEPARATORS = re.compile(r"[_\-./]+")
_WORD = re.compile(r"[A-Za-z][a-z]{2,}|[A-Z]{2,}")
_CHUNKS = re.compile(r"[A-Z][a-z]+|[a-z]+|[A-Z]+(?![a-z])|[0-9]+|[^A-Za-z0-9]+")


def identifier_like(token: str) -> bool:
    """A name made of words: `AddPartnerSettlementTable1736651200000` (a TypeORM migration),
    `PostgreSQL95Dialect`, `users_email_key`. Generated key material almost always has a letter
    run shorter than three (`wJalrXUtnFEMI` → w, Jalr, X, …); one is allowed (`OAuth2`,
    `ProfileToSkill`). A name of several words joined by `_ - . /` is one too
    (`beam_bq_job_COPY_STEP_76772e260e0c`)."""
    parts = [p for p in _SEPARATORS.split(token) if p]
    if len(parts) >= 3 and sum(_WORD.fullmatch(p) is not None for p in parts) * 3 >= len(parts) * 2:
        return True
    digits = short = 0
    for chunk in _CHUNKS.findall(token):
        first = chunk[0]
        if first.isdigit():
            digits += 1
            if digits > 2:
                return False
        elif first.isalpha() and len(chunk) < 3 and not (chunk.isupper() and len(chunk) == 2):
            short += 1
            if short > 1:
                return False
    return True


def looks_random(token: str, *, min_len: int = 16, hex_ok: bool = False) -> bool:
    """A token that reads like generated key material rather than a word, a path or an id.

    Hex-only tokens (digests, commit SHAs, UUIDs, trace ids) count only with `hex_ok`, i.e. right
    after a word that says a secret follows."""
    if len(token) < min_len or token.startswith(MASK) or path_like(token):
        return False
    if identifier_like(token):
        return False
    if not hex_ok and all(ch in _HEX for ch in token):
        return False
    classes = _classes(token)
    if classes < 2:
        return False
    if classes == 2 and len(token) < 24:
        return _entropy(token) >= 3.6
    return _entropy(token) >= 3.2


# --- rules ----------------------------------------------------------------------------------------

# PEM private keys, also one line per log entry, or inside a JSON string with \n escapes. The body
# is taken while it looks like base64 (a following ordinary sentence stops it); END is optional,
# a cut key is masked to where the key material stops.
_B64 = r"[A-Za-z0-9+/=]"
_PEM = re.compile(
    r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    r"(?:"
    rf"(?:\\r)?\\n{_B64}*+"  # JSON-escaped line break, then base64
    rf"|\r?\n[ \t\"',]*+(?:{_B64}++|(?:Proc-Type|DEK-Info|Comment|Version):[^\n]{{0,200}})?"
    rf"[ \t\"',]*+(?=\r?\n|\\n|$)"  # a whole log line of base64
    rf"|[ \t]*+{_B64}{{16,}}+"  # base64 on the BEGIN line, or after a space
    r")*+"
    r"(?:(?:(?:\\r)?\\n|\r?\n[ \t\"',]*+|[ \t]*+)-----END [A-Z0-9 ]{0,40}-----)?"
)

# userinfo of a URL: "://user:password@host". Found at the literal "://" so that the scheme can
# be anything; the password may hold "/", "'", "@", "#" (the last "@" of the token that is
# followed by a host wins), run onto the next log line, or hold a space (then the first "@host"
# on the line wins). See `_url_spans`.
_URL_USER = re.compile(r"://[^\s:/@'\"<>]{0,128}:")
_URL_HOST = re.compile(r"[A-Za-z0-9\[][A-Za-z0-9.\-\[\]:%]{0,253}(?:[/?#\s'\"),;\]}<>|\\]|$)")
URL_PASSWORD_MAX = 4096
# "://key@host" where the user part is itself the key (Sentry DSNs, git over https with a token).
_URL_USER_KEY = re.compile(r"://(?P<pw>[A-Za-z0-9_\-]{24,128})@")

# Token formats that are secrets wherever they appear. Case-sensitive; each starts with a literal.
_TOKENS = re.compile(
    "|".join(
        (
            r"xox[abposrec]-[A-Za-z0-9-]{8,}",  # Slack bot/user/app-level tokens
            r"xapp-[0-9]-[A-Za-z0-9-]{8,}",
            r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]{8,}",
            r"discord(?:app)?\.com/api/webhooks/[0-9]{5,}/[A-Za-z0-9_\-]{20,}",
            r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub
            r"github_pat_[A-Za-z0-9_]{40,}",
            r"gl(?:pat|dt|rt|ptt|cbt|imt|ft|soat|oas|agent)-[A-Za-z0-9_\-]{20,}",  # GitLab
            r"AKC[a-zA-Z0-9]{10,}",  # JFrog Artifactory API key
            r"AIza[0-9A-Za-z_\-]{30,}",  # Google API key
            r"ya29\.[0-9A-Za-z_\-]{20,}",  # Google OAuth access token
            r"1//0[0-9A-Za-z_\-]{30,}",  # Google OAuth refresh token
            r"GOCSPX-[0-9A-Za-z_\-]{20,}",  # Google OAuth client secret
            r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[0-9A-Z]{16}",  # AWS key ids
            r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,}",  # Stripe
            r"whsec_[0-9A-Za-z]{20,}",
            r"SK[0-9a-f]{32}",  # Twilio API key
            r"SG\.[0-9A-Za-z_\-]{16,}\.[0-9A-Za-z_\-]{16,}",  # SendGrid
            r"key-[0-9a-f]{32}",  # Mailgun
            r"hf_[A-Za-z0-9]{30,}",  # Hugging Face
            r"sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,}",  # OpenAI
            r"sk-ant-(?:api|admin|sid)[0-9]{2}-[A-Za-z0-9_\-]{20,}",  # Anthropic
            r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
            r"sk-[A-Za-z0-9]{40,}",
            r"npm_[A-Za-z0-9]{36}",
            r"pypi-AgE[A-Za-z0-9_\-]{30,}",
            r"dckr_pat_[A-Za-z0-9_\-]{20,}",
            r"do[opr]_v1_[a-f0-9]{64}",  # DigitalOcean
            r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}",  # Shopify
            r"ATATT3[A-Za-z0-9_\-=]{50,}",  # Atlassian
            r"lin_api_[A-Za-z0-9]{40}",  # Linear
            r"ntn_[A-Za-z0-9]{40,}",  # Notion
            r"secret_[A-Za-z0-9]{43}",
            r"hv[sb]\.[A-Za-z0-9_\-]{24,}",  # HashiCorp Vault
            r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}",  # Doppler
            r"pul-[a-f0-9]{40}",  # Pulumi
            r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,}",  # Terraform Cloud
            r"gl(?:c|sa)_[A-Za-z0-9+/=_]{32,}",  # Grafana
            r"dapi[a-f0-9]{32}",  # Databricks
            r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}",  # Postman
            r"figd_[A-Za-z0-9_\-]{40,}",  # Figma
            r"sbp_[a-f0-9]{40}",  # Supabase
            r"NRAK-[A-Z0-9]{27}",  # New Relic
            r"rubygems_[a-f0-9]{48}",
            r"AGE-SECRET-KEY-1[0-9A-Z]{58}",
            r"sq0(?:atp|csp)-[0-9A-Za-z_\-]{22,}",  # Square
            r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}(?:\.[A-Za-z0-9_\-]*)?",  # JWT
            r"[MNO][A-Za-z0-9]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}",  # Discord bot
            r"LTAI[A-Za-z0-9]{12,20}",  # Alibaba Cloud
            r"[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}",  # Azure AD client secret
            r"[0-9a-f]{32}-us[0-9]{1,2}",  # Mailchimp
            r"\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}",  # bcrypt hash
            r"\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}",  # htpasswd
        )
    )
)
# A token must not continue a longer word on the left ("xxAKIA…" is not an AWS key id).
_WORD_LEFT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

# Credential words, found in the lower-cased text. Longer spellings first: the leftmost-longest
# word decides how its value is judged.
_STRONG = (
    "passphrase|password|passwd|pass|pwd|secretkey|secret|authtoken|accesstoken|refreshtoken|"
    "token|apikey|api_key|api-key|accesskey|privatekey|accountkey|sharedaccesskey|"
    "credentials|credential|creds|cred|connectionstring|authorization|cookie|dsn"
)
_WEAK = (
    "jsessionid|phpsessid|sessionid|sessionkey|session|sessid|signature|sig|auth|key|salt|"
    "bearer|basic|jwt|sid"
)
_WORDS = re.compile(f"{_STRONG}|{_WEAK}")
# What the scan looks for: the stems of those words as a trie (one pass over the lower-cased text
# at ~10 ns a character; the full list as one alternation is four times slower).
_STEMS = re.compile(
    r"p(?:ass|wd)|s(?:e(?:cret|ss)|i[gd]|alt)|token|key|c(?:red|ookie|onnectionstring)|auth|dsn"
    r"|b(?:earer|asic)|jwt"
)
# Lower-case words that may stand right before a stem in one compound key ("apikey",
# "clientsecret", "jsessionid"); with "_", "-" or "." between them they are compounds as well.
_COMPOUND = (
    "sharedaccess",
    "connection",
    "private",
    "account",
    "refresh",
    "session",
    "access",
    "client",
    "secret",
    "signing",
    "bearer",
    "master",
    "auth",
    "user",
    "php",
    "api",
    "app",
    "db",
    "id",
    "j",
)
_STRONG_COMPOUND = frozenset(
    {"sharedaccess", "private", "account", "access", "client", "secret", "signing", "master", "api"}
)
_STRONG_SET = frozenset(_STRONG.split("|"))
_PASSWORD_WORDS = frozenset(
    {"passphrase", "password", "passwd", "pass", "pwd", "secret", "secretkey"}
)

# After a credential word: the rest of the key's name, its closing quote, a separator, the value.
# Quoted values follow backslash escapes (an escaped quote inside a JSON password).
_KEY_VALUE = re.compile(
    r"(?P<tail>[A-Za-z0-9_.\-]{0,40}?)(?:\\?[\"'])?\]?[ \t]{0,3}"
    r"(?P<sep>=>|:=|[:=])[ \t]{0,3}(?:(?<==)\n[ \t]{0,8})?"
    r"(?:\"(?P<dq>(?:[^\"\\\n]|\\[^\n]){0,1024}+)\""
    r"|'(?P<sq>(?:[^'\\\n]|\\[^\n]){0,1024}+)'"
    r"|\\\"(?P<eq>(?:[^\"\\\n]|\\\\\\\"|\\[^\"\n]){0,1024}+)\\\""
    r"|(?P<bare>[^\s'\",;&)}\]<>\\`]++))"
)
# "password hunter2", "--password hunter2", "password is hunter2": passwords only, and only a
# value that is not a plain word ("password authentication failed" must stay whole).
# "cloud-java-ci-it-service-account": the name of a secret, not its value
_LOWER_NAME = re.compile(r"[a-z]+(?:[-_.][a-z]+)+")
_SPACED = re.compile(
    r"""[A-Za-z0-9_\-]{0,20}?[ \t]+(?:is[ \t]+)?(?P<v>["']?[^\s'"]{4,256}+["']?)"""
)
_AUTH_SCHEME = re.compile(
    r"""(?P<tail>[A-Za-z0-9_.\-]{0,20}?)(?:\\?["'])?[ \t]*[:=][ \t]*(?:\\?["'])?[ \t]*"""
    r"""(?:(?:bearer|basic|token|digest|negotiate|apikey|ssws|sharedkey|key|hmac)[ \t]+)?"""
    r"""(?P<v>[^\s'",;]{4,4096}+)""",
    re.I,
)
_SCHEME_VALUE = re.compile(r"[ \t]+(?P<v>[A-Za-z0-9\-._~+/]{8,4096}+=*)")
_COOKIE = re.compile(r"""[ \t]*[:=][ \t]*(?P<v>[^\n"']{1,4096}+)""")
# A value after a credential word that is not in key=value form: "using key 7f3kq9Xm…".
_NEAR_RUN = re.compile(r"[A-Za-z0-9+/_\-.~]{16}")
_NEAR_TOKEN = re.compile(
    r"[^\n]{0,24}?(?<![A-Za-z0-9+/_\-])(?P<v>[A-Za-z0-9+/_\-.~]{16,512}+={0,2})(?![A-Za-z0-9])"
)
# Any long token; masked when it mixes upper, lower and digits with high entropy.
_LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9+/=_\-])[A-Za-z0-9+/_\-]{32,}+={0,2}")
# MySQL's "-pSECRET" right after "-u USER" or after the mysql tools.
# Formats with a ":" inside (the token scan splits at ":"), found at their literal middle.
_COLON_TOKENS = re.compile(
    r":A(?:A[A-Za-z0-9_\-]{33}"  # Telegram bot: 123456789:AA…
    r"|PA91b[A-Za-z0-9_\-]{100,})"  # Firebase Cloud Messaging: AAAA…:APA91b…
)
_COLON_HEAD = re.compile(r"(?:[0-9]{8,10}|AAAA[A-Za-z0-9_\-]{7})$")
# MySQL's "-pSECRET" in a line that also has "mysql…" or "-u USER" before it.
_MYSQL_P = re.compile(r"-p(?P<v>[^\s\-][^\s]{3,255}+)")
_MYSQL_CONTEXT = re.compile(r"mysql|(?:^|\s)-u[ \t]?\S")
_IDENTIFIED_BY = re.compile(r"identified[ \t]+by[ \t]+(?:password[ \t]+)?'(?P<v>[^'\n]{1,256}+)'")
_SQL_USER = re.compile(r"user|role|login")
_XML_ELEMENT = re.compile(
    r"<(?P<tag>[A-Za-z0-9_:\-]{0,40}(?:password|passwd|secret|token|apikey|api_key|accesskey"
    r"|privatekey|credential)[A-Za-z0-9_:\-]{0,20})>(?P<v>[^<\n]{1,1024}+)</(?P=tag)>"
)

# A key that names where a secret is or what it is like, not the secret itself.
_NAMES_A_THING = re.compile(
    r"(?i)(?:name|ref|path|file|version|arn|type|url|uri|endpoint|manager|provider|length|size"
    r"|count|expiry|expires|expiration|ttl|policy)$"
)
_CALL = re.compile(r"[A-Za-z_][\w.]*\(")
_VALUE_END = frozenset(" \t\n'\",;&`")
_PLACEHOLDERS = frozenset(
    {
        "",
        "null",
        "none",
        "nil",
        "undefined",
        "true",
        "false",
        "yes",
        "no",
        "redacted",
        "masked",
        "hidden",
        "secret",
        "password",
        "pass",
        "passwd",
        "changeme",
        "token",
    }
)


class _Spans:
    """Collects [start, end) spans to mask."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple[int, int]] = []

    def add(self, start: int, end: int) -> None:
        if end > start:
            self.items.append((start, end))


def placeholder(value: str) -> bool:
    """A stand-in, not a secret: `****`, `xxxxxx`, `REDACTED`, `PASS`, `$DB_PASSWORD`, `${X}`,
    `<password>`."""
    v = value.strip("\"'")
    return (
        v.lower() in _PLACEHOLDERS
        or v.startswith(("$", "<", "{{", "%(", MASK))
        or set(v) <= {"*"}
        or set(v.lower()) <= {"x"}
    )


def _value_ok(value: str, *, strong: bool) -> bool:
    if placeholder(value):
        return False
    if _CALL.match(value):  # "creds = ServiceAccountCredentials.from_json_keyfile_name(path": code
        return False
    if value.startswith("projects/"):  # a Google resource name (a secret's *name*) is no secret
        return False
    if strong:
        # "password: YES", "token: Get …", "credentials:edit": a short plain word is prose
        return not (len(value) <= 4 and value.isalpha())
    return looks_random(value.strip("\"'"), min_len=12, hex_ok=True)


def _compound_prefix(low: str, start: int) -> str | None:
    """The lower-case word right before a stem that makes one key with it ("" for none), or None
    when the stem ends some other lower-case word."""
    if start == 0:
        return ""
    before = low[start - 1]
    sep = before in "_-." and start >= 2
    if not ("a" <= before <= "z") and not sep:
        return ""
    end = start - 1 if sep else start
    for word in _COMPOUND:
        if low.startswith(word, end - len(word)) and end - len(word) >= 0:
            head = end - len(word)
            if head == 0 or not ("a" <= low[head - 1] <= "z"):
                return word
    return "" if sep else None


def _keyword_spans(text: str, low: str, spans: _Spans) -> None:
    """Values after credential words: key=value, quoted JSON/dict values, headers, near tokens.
    A word inside a value already masked (a URL's password) is not a key."""
    n = len(text)
    skip_until = -1
    near_clear = 0
    found_before = sorted(spans.items)
    starts = [s for s, _ in found_before]
    for m in _STEMS.finditer(low):
        start = m.start()
        if start < skip_until:
            continue
        k = bisect.bisect_right(starts, start) - 1
        if k >= 0 and found_before[k][1] > start:
            skip_until = found_before[k][1]
            continue
        w = _WORDS.match(low, start)
        word = w.group() if w else m.group()
        end = start + len(word)
        if end < n and "a" <= text[end] <= "z":
            continue  # "tokens", "keyboard", "passed", "sessions"
        prefix = _compound_prefix(low, start)
        if prefix is None:
            if not ("A" <= text[start] <= "Z"):
                continue  # "bypass", "monkey": the end of a longer lower-case word
            prefix = ""  # camelCase: "dbPassword"
        strong = word in _STRONG_SET or (word == "key" and prefix in _STRONG_COMPOUND)
        key_start = start - len(prefix)
        while key_start and (text[key_start - 1].isalnum() or text[key_start - 1] in "_.-"):
            key_start -= 1
        if key_start and text[key_start - 1] == "/":
            continue  # the end of a URL path (".../token"), not a key
        found = False
        if word == "authorization":
            a = _AUTH_SCHEME.match(text, end)
            if a:
                spans.add(*a.span("v"))
                skip_until = a.end()
                continue
        elif word in ("bearer", "basic"):
            b = _SCHEME_VALUE.match(text, end)
            if b and (word == "bearer" or looks_random(b.group("v"), min_len=8)):
                spans.add(*b.span("v"))
                skip_until = b.end()
            continue
        elif word == "cookie":
            c = _COOKIE.match(text, end)
            if c and c.group("v").strip() and not c.group("v").startswith(MASK):
                spans.add(*c.span("v"))
                skip_until = c.end()
            continue
        kv = _KEY_VALUE.match(text, end)
        if kv and _NAMES_A_THING.search(kv.group("tail")):
            kv = None  # "secret_key_ref.name: Permission denied …", "token_url=https://…"
        if kv:
            group = next((g for g in ("dq", "sq", "eq") if kv.group(g) is not None), None)
            if group is not None:
                quoted = kv.group(group)
                if quoted and _value_ok(quoted, strong=strong):
                    spans.add(*kv.span(group))
                    found = True
            else:
                bare = kv.group("bare")
                if _value_ok(bare, strong=strong):
                    b_start, b_end = kv.span("bare")
                    if strong:  # "SECRET_KEY=abc)(x" is one value: through to a separator
                        while b_end < n and text[b_end] not in _VALUE_END:
                            b_end += 1
                    spans.add(b_start, b_end)
                    found = True
            if found:
                skip_until = kv.end()
                continue
        if word in _PASSWORD_WORDS:
            sp = _SPACED.match(text, end)
            if sp:
                value = sp.group("v").strip("\"'")
                quoted_value = sp.group("v")[:1] in "\"'"
                if (
                    value
                    and not placeholder(value)
                    and "://" not in value
                    and not value.startswith(("projects/", "-"))
                    and ("/" not in value or word.startswith("pass"))
                    and not _LOWER_NAME.fullmatch(value)
                    and (quoted_value or not value.isalpha())
                    and not value.endswith(":")
                ):
                    spans.add(*sp.span("v"))
                    skip_until = sp.end()
                    continue
        if word == "key" and text.startswith(" (", end):
            continue  # Postgres: 'Key (email)=(a@b.c) already exists.' quotes data, not a key
        # A token within 24 characters of the word. `near_clear`: no run of 16 token
        # characters lies wholly before it past the last look, so a flood of words is linear.
        window = min(n, end + 40)
        if _NEAR_RUN.search(text, max(end, near_clear - 15), window) is None:
            near_clear = window
            continue
        near = _NEAR_TOKEN.match(text, end)
        if near and looks_random(near.group("v"), hex_ok=strong):
            spans.add(*near.span("v"))
            skip_until = near.end()


# Token formats and high-entropy tokens are only looked for inside runs of at least 16
# token characters: one cheap scan finds the few such runs a log has.
_CANDIDATE = re.compile(r"[A-Za-z0-9_\-.$/+~]{16,}={0,2}")


def _token_spans(text: str, spans: _Spans) -> None:
    for c in _CANDIDATE.finditer(text):
        _candidate_spans(text, c.start(), c.end(), spans)


def _candidate_spans(text: str, cstart: int, cend: int, spans: _Spans) -> None:
    for m in _TOKENS.finditer(text, cstart, cend):
        start = m.start()
        if start and text[start - 1] in _WORD_LEFT and not m.group().startswith("hooks."):
            continue
        if m.group().startswith(("hooks.", "discord")):
            # keep the host: the path is the secret
            slash = m.group().index("/")
            spans.add(start + slash + 1, m.end())
            continue
        spans.add(start, m.end())
    for m in _LONG_TOKEN.finditer(text, cstart, cend):
        token = m.group()
        if m.start() and text[m.start() - 1] == "%":
            token = token[2:]  # "%2F74db120f-…": the "2F" belongs to the escape
        if looks_random(token, min_len=32) and _classes(token) == 3:
            spans.add(*m.span())


def _literal_spans(text: str, low: str, spans: _Spans) -> None:
    if "-----begin" in low:
        for m in _PEM.finditer(text):
            spans.add(*m.span())
    if "://" in text:
        _url_spans(text, spans)
        for m in _URL_USER_KEY.finditer(text):
            if _classes(m.group("pw")) >= 2:
                spans.add(*m.span("pw"))
    if " -p" in text or "\t-p" in text:
        for m in _MYSQL_P.finditer(low):
            if not m.start() or low[m.start() - 1] not in " \t":
                continue
            line_start = low.rfind("\n", 0, m.start()) + 1
            if _MYSQL_CONTEXT.search(low, max(line_start, m.start() - 160), m.start()):
                spans.add(*m.span("v"))
    if "identified" in low:
        for m in _IDENTIFIED_BY.finditer(low):
            line_start = low.rfind("\n", 0, m.start()) + 1
            if _SQL_USER.search(low, max(line_start, m.start() - 200), m.start()):
                spans.add(*m.span("v"))
    if ":A" in text:
        for m in _COLON_TOKENS.finditer(text):
            head = _COLON_HEAD.search(text, max(0, m.start() - 11), m.start())
            if head:
                spans.add(head.start(), m.end())
    if "</" in text:
        for m in _XML_ELEMENT.finditer(low):
            spans.add(*m.span("v"))


def _last_host_at(text: str, start: int, end: int) -> int:
    """The position of the last "@" in text[start:end] that a host name follows, or -1."""
    at = text.rfind("@", start, end)
    while at >= start:
        if _URL_HOST.match(text, at + 1):
            return at
        at = text.rfind("@", start, at)
    return -1


def _first_host_at(text: str, start: int, end: int) -> int:
    at = text.find("@", start, end)
    while at != -1 and not _URL_HOST.match(text, at + 1):
        at = text.find("@", at + 1, end)
    return at


_WHITESPACE = re.compile(r"\s")


def _url_spans(text: str, spans: _Spans) -> None:
    """Passwords of "scheme://user:password@host". Each "@" is judged at most once per way of
    looking (`clean_*` marks how far every "@" is known not to start a host), so a line made of
    nothing but "://a:@" costs no more than an ordinary one."""
    n = len(text)
    done = 0
    space_at = -1  # the next whitespace at or after the last start
    clean_token = clean_next = clean_spaced = 0
    for m in _URL_USER.finditer(text):
        start = m.end()
        if start < done or text.startswith(MASK, start):
            continue
        if space_at < start:
            ws = _WHITESPACE.search(text, start)
            space_at = ws.start() if ws else n
        end = min(space_at, start + URL_PASSWORD_MAX)
        at = _last_host_at(text, max(start, clean_token), end)
        if at == -1:
            clean_token = max(clean_token, end)
            if text[end : end + 1] == "\n":  # the password runs onto the next line
                ws = _WHITESPACE.search(text, end + 1)
                nxt = min(ws.start() if ws else n, end + 1 + URL_PASSWORD_MAX)
                at = _last_host_at(text, max(end + 1, clean_next), nxt)
                if at == -1:
                    clean_next = max(clean_next, nxt)
        if at == -1:  # a password with a space: the first "@host" on this line
            line_end = text.find("\n", start, start + 128)
            stop = line_end if line_end != -1 else min(n, start + 128)
            at = _first_host_at(text, max(start, clean_spaced), stop)
            if at == -1:
                clean_spaced = max(clean_spaced, stop)
        if at > start:
            if not placeholder(text[start:at]):  # "postgres://user:****@host"
                spans.add(start, at)
            done = at


def _known_spans(text: str, known: Iterable[str], spans: _Spans) -> None:
    for value in known:
        if len(value) < MIN_KNOWN_LEN:
            continue
        i = text.find(value)
        while i != -1:
            spans.add(i, i + len(value))
            i = text.find(value, i + len(value))


def find_spans(text: str, *, known: Iterable[str] = ()) -> list[tuple[int, int]]:
    """Sorted, merged [start, end) spans of `text` that hold secrets."""
    if not text:
        return []
    spans = _Spans()
    low = text.translate(_ASCII_LOWER)
    _literal_spans(text, low, spans)
    _keyword_spans(text, low, spans)
    _token_spans(text, spans)
    _known_spans(text, known, spans)
    if not spans.items:
        return []
    return _finish(text, spans.items)


def _finish(text: str, items: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping spans; widen any that touches an existing MASK to cover it (so that
    redacting twice changes nothing); follow a value that ends a line onto the next line when
    that line is a single bare token (a value split by the logger's line width)."""
    masks: list[tuple[int, int]] = []
    i = text.find(MASK)
    while i != -1:
        masks.append((i, i + len(MASK)))
        i = text.find(MASK, i + len(MASK))
    items.sort()
    merged: list[list[int]] = []
    for start, end in items:
        if masks:
            k = bisect.bisect_right(masks, (start, len(text) + 1)) - 1
            if k >= 0 and masks[k][0] <= start < masks[k][1]:
                start = masks[k][0]
            k2 = bisect.bisect_left(masks, (end, -1)) - 1
            if k2 >= 0 and masks[k2][0] < end < masks[k2][1]:
                end = masks[k2][1]
        if end < len(text) and text[end] == "\n" and (start == 0 or "\n" not in text[start:end]):
            nxt = text.find("\n", end + 1)
            line = text[end + 1 : nxt if nxt != -1 else len(text)]
            single_token = 3 <= len(line) <= 512 and not any(c.isspace() for c in line)
            if single_token and not line.startswith(("-----", MASK)):
                end = end + 1 + len(line)
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _apply(text: str, spans: Sequence[tuple[int, int]]) -> str:
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out.append(text[pos:start])
        # a span over several lines masks each line's part: the line structure stays
        out.append("\n".join(MASK if part else "" for part in text[start:end].split("\n")))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str, *, known: Iterable[str] = ()) -> str:
    """Return `text` with every secret we can recognise replaced by MASK."""
    if not text:
        return text
    spans = find_spans(text, known=known)
    return _apply(text, spans) if spans else text


def redact_lines(lines: Sequence[str], *, known: Iterable[str] = ()) -> list[str]:
    """Redact consecutive log lines together, so that a secret printed over several lines (a PEM
    key one line per entry, a pretty-printed JSON key, a `key=` or URL split in two) is seen
    whole. Returns one text per line, line structure unchanged."""
    if not lines:
        return []
    blob = "\n".join(lines)
    spans = find_spans(blob, known=tuple(known))
    if not spans:
        return list(lines)
    out: list[str] = []
    pos = 0
    k = 0
    for line in lines:
        end = pos + len(line)
        while k < len(spans) and spans[k][1] <= pos:
            k += 1
        j = k
        local: list[tuple[int, int]] = []
        while j < len(spans) and spans[j][0] < end:
            local.append((max(spans[j][0], pos) - pos, min(spans[j][1], end) - pos))
            j += 1
        out.append(_apply(line, [s for s in local if s[1] > s[0]]) if local else line)
        pos = end + 1
    return out


def scrub(text: str, *, known: Iterable[str] = ()) -> str:
    """The last check at an exit: invisible characters dropped, then secrets masked."""
    return redact(strip_invisible(text), known=known)


# Keys of our own Slack payloads whose values are ours and must stay byte-exact (button payloads,
# ids): everything else in a payload is scrubbed.
_OWN_KEYS = frozenset({"action_id", "block_id", "value", "type", "style", "event_type"})


def scrub_tree(obj: Any, *, skip: frozenset[str] = _OWN_KEYS) -> Any:
    """A JSON-like object with `scrub` applied to every string in it (keys stay)."""
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, Mapping):
        return {k: (v if k in skip else scrub_tree(v, skip=skip)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [scrub_tree(v, skip=skip) for v in obj]
    return obj
