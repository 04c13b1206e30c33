"""Configuration, read from the environment in exactly one place.

Secrets (the Slack bot token and signing secret) arrive as environment variables that Cloud
Functions fills from Secret Manager (see deploy/). Nothing else in the code reads `os.environ`.

| variable | meaning | default |
|---|---|---|
| SLACK_BOT_TOKEN | bot token (xoxb-…) used to post and update messages | unset: no Slack |
| SLACK_SIGNING_SECRET | verifies button clicks (interactivity function) | unset |
| SLACK_CHANNEL | channel id (C…) or name the alerts go to | unset |
| SLACK_API_URL | Slack Web API base URL (tests, local runs) | https://slack.com/api/ |
| SLACK_ALLOWED_USERS | comma-separated Slack user ids allowed to click; empty: everyone | empty |
| SLACK_ALLOWED_USERGROUP | a Slack user group id (S…) whose members may click too | unset |
| REPORT_LANG | `en` or `ko` | en |
| INCIDENT_STORE | `firestore` or `memory` | firestore |
| FIRESTORE_DATABASE | Firestore database id | (default) |
| FIRESTORE_EMULATOR_HOST | host:port of a Firestore emulator (the client reads it itself) | unset |
| CLOUD_RUN_EMULATOR_HOST | host:port serving the Cloud Run Admin API v2 over plain HTTP | unset |
| CLOUD_LOGGING_EMULATOR_HOST | host:port serving the Logging API v2 over plain HTTP | unset |
| CLOUD_BUILD_EMULATOR_HOST | host:port serving the Cloud Build API v1 over plain HTTP | unset |
| ARTIFACT_REGISTRY_EMULATOR_HOST | host:port serving the Artifact Registry API v1 | unset |
| SECRET_MANAGER_EMULATOR_HOST | host:port serving the Secret Manager API v1 | unset |
| CLOUD_SQL_ADMIN_EMULATOR_HOST | host:port serving the Cloud SQL Admin API v1 | unset |
| LOG_WAIT_SECONDS | how long to wait for late log lines after the audit entry | 8 |
| API_TIMEOUT_SECONDS | timeout of every single Google API call | 10 |
| LOGGING_READS_PER_MINUTE | Logging reads one instance may make a minute (0: no limit) | 15 |
| REMIND_AFTER_MINUTES | a tick reminds of an incident unacknowledged this long (0: never) | 30 |
| REMIND_USERGROUP | Slack user group id (S…) the reminder mentions | unset: no one |
| EXPECTED_INTERVALS | `job=26h,other=90m`: no success for that long opens an incident | empty |

LOGGING_READS_PER_MINUTE times the event function's max instances (3) should stay below the
project's Logging read quota (60 a minute), which people reading logs share.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from jobtriage.text import Lang, parse_lang


class ConfigError(ValueError):
    """A setting is missing or malformed. The message says which and what to set."""


def _float(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from exc
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo:g} and {hi:g}, not {value:g}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise ConfigError(f"{name} must be a whole number from {lo} to {hi}, not {raw!r}")
    return int(raw)


def _hostport(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    host, sep, port = raw.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(f"{name} must be host:port (plain HTTP), not {raw!r}")
    return raw


# Jobs a tick may check for a missed run: one Cloud Run read each, every tick.
MAX_EXPECTED_JOBS = 20
_JOB_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_SPAN = re.compile(r"^(\d{1,5})(m|h|d)$")
_SPAN_UNIT = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
# Shorter than two ticks would only race the job itself; longer than 60 days, nobody waits.
MIN_INTERVAL = timedelta(minutes=10)
MAX_INTERVAL = timedelta(days=60)


def parse_intervals(
    raw: str, name: str = "EXPECTED_INTERVALS"
) -> tuple[tuple[str, timedelta], ...]:
    """`nightly-export=26h,billing=1h` → ((job, interval), …); ConfigError naming what is wrong."""
    found: dict[str, timedelta] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        job, sep, span = (x.strip() for x in item.partition("="))
        if not sep or not _JOB_NAME.match(job):
            raise ConfigError(
                f"{name}: {item[:80]!r} is not job=interval with a Cloud Run job name "
                "(e.g. nightly-export=26h)"
            )
        m = _SPAN.match(span)
        if m is None:
            raise ConfigError(f"{name}: {job}: interval {span[:20]!r} is not like 90m, 26h or 2d")
        interval = int(m.group(1)) * _SPAN_UNIT[m.group(2)]
        if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
            raise ConfigError(f"{name}: {job}: interval must be between 10m and 60d, not {span}")
        if job in found:
            raise ConfigError(f"{name}: {job} is named twice")
        found[job] = interval
    if len(found) > MAX_EXPECTED_JOBS:
        raise ConfigError(f"{name}: at most {MAX_EXPECTED_JOBS} jobs, not {len(found)}")
    return tuple(found.items())


def _usergroup(env: Mapping[str, str], name: str) -> str | None:
    group = env.get(name, "").strip() or None
    if group is not None and not re.fullmatch(r"S[A-Z0-9]{2,}", group):
        raise ConfigError(f"{name} must be a Slack user group id (S0123ABCD), not {group!r}")
    return group


@dataclass(frozen=True, slots=True)
class Settings:
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_channel: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_allowed_users: frozenset[str] = frozenset()
    slack_allowed_usergroup: str | None = None
    lang: Lang = "en"
    incident_store: str = "firestore"
    firestore_database: str = "(default)"
    cloud_run_emulator_host: str | None = None
    cloud_logging_emulator_host: str | None = None
    cloud_build_emulator_host: str | None = None
    artifact_registry_emulator_host: str | None = None
    secret_manager_emulator_host: str | None = None
    cloud_sql_admin_emulator_host: str | None = None
    log_wait_seconds: float = 8.0
    api_timeout_seconds: float = 10.0
    logging_reads_per_minute: int = 15
    # Ticks (jobtriage/ticks.py): the one reminder, and the jobs expected to succeed regularly.
    remind_after_minutes: int = 30
    remind_usergroup: str | None = None
    expected_intervals: tuple[tuple[str, timedelta], ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        try:
            lang = parse_lang(env.get("REPORT_LANG", "en").strip() or "en")
        except ValueError as exc:
            raise ConfigError(f"REPORT_LANG: {exc}") from exc
        store = env.get("INCIDENT_STORE", "firestore").strip() or "firestore"
        if store not in ("firestore", "memory"):
            raise ConfigError(f"INCIDENT_STORE must be 'firestore' or 'memory', not {store!r}")
        token = env.get("SLACK_BOT_TOKEN", "").strip() or None
        if token is not None and not token.startswith("xox"):
            raise ConfigError("SLACK_BOT_TOKEN does not look like a Slack token (xoxb-…)")
        group = _usergroup(env, "SLACK_ALLOWED_USERGROUP")
        allowed = frozenset(
            u.strip() for u in env.get("SLACK_ALLOWED_USERS", "").split(",") if u.strip()
        )
        return cls(
            slack_bot_token=token,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip() or None,
            slack_channel=env.get("SLACK_CHANNEL", "").strip() or None,
            slack_api_url=env.get("SLACK_API_URL", "").strip() or "https://slack.com/api/",
            slack_allowed_users=allowed,
            slack_allowed_usergroup=group,
            lang=lang,
            incident_store=store,
            firestore_database=env.get("FIRESTORE_DATABASE", "").strip() or "(default)",
            cloud_run_emulator_host=_hostport(env, "CLOUD_RUN_EMULATOR_HOST"),
            cloud_logging_emulator_host=_hostport(env, "CLOUD_LOGGING_EMULATOR_HOST"),
            cloud_build_emulator_host=_hostport(env, "CLOUD_BUILD_EMULATOR_HOST"),
            artifact_registry_emulator_host=_hostport(env, "ARTIFACT_REGISTRY_EMULATOR_HOST"),
            secret_manager_emulator_host=_hostport(env, "SECRET_MANAGER_EMULATOR_HOST"),
            cloud_sql_admin_emulator_host=_hostport(env, "CLOUD_SQL_ADMIN_EMULATOR_HOST"),
            log_wait_seconds=_float(env, "LOG_WAIT_SECONDS", 8.0, 0.0, 60.0),
            api_timeout_seconds=_float(env, "API_TIMEOUT_SECONDS", 10.0, 0.5, 120.0),
            logging_reads_per_minute=_int(env, "LOGGING_READS_PER_MINUTE", 15, 0, 6000),
            remind_after_minutes=_int(env, "REMIND_AFTER_MINUTES", 30, 0, 10080),
            remind_usergroup=_usergroup(env, "REMIND_USERGROUP"),
            expected_intervals=parse_intervals(env.get("EXPECTED_INTERVALS", "")),
        )

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_channel)
