"""Configuration errors name the variable and what to set."""

from __future__ import annotations

import pytest

from jobtriage.settings import ConfigError, Settings


def test_defaults_need_nothing() -> None:
    s = Settings.from_env({})
    assert s.lang == "en"
    assert s.incident_store == "firestore"
    assert not s.slack_enabled
    assert s.slack_api_url == "https://slack.com/api/"


def test_tick_settings() -> None:
    from datetime import timedelta

    s = Settings.from_env({})
    assert s.remind_after_minutes == 30
    assert s.remind_usergroup is None
    assert s.expected_intervals == ()
    s = Settings.from_env(
        {
            "REMIND_AFTER_MINUTES": "0",
            "REMIND_USERGROUP": "S0ONCALL",
            "EXPECTED_INTERVALS": " nightly-export=26h, billing=90m ,,weekly=7d",
        }
    )
    assert s.remind_after_minutes == 0
    assert s.remind_usergroup == "S0ONCALL"
    assert s.expected_intervals == (
        ("nightly-export", timedelta(hours=26)),
        ("billing", timedelta(minutes=90)),
        ("weekly", timedelta(days=7)),
    )


def test_everything_is_read() -> None:
    s = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
            "SLACK_SIGNING_SECRET": "sig",
            "SLACK_CHANNEL": "C123",
            "SLACK_ALLOWED_USERS": "U1, U2,,",
            "REPORT_LANG": "ko",
            "INCIDENT_STORE": "memory",
            "CLOUD_RUN_EMULATOR_HOST": "127.0.0.1:8089",
            "LOG_WAIT_SECONDS": "2.5",
        }
    )
    assert s.slack_enabled
    assert s.slack_allowed_users == frozenset({"U1", "U2"})
    assert s.lang == "ko"
    assert s.cloud_run_emulator_host == "127.0.0.1:8089"
    assert s.log_wait_seconds == 2.5
    assert "xoxb" not in repr(s)  # secrets are not in reprs (and so not in logs)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REPORT_LANG": "fr"}, "REPORT_LANG"),
        ({"INCIDENT_STORE": "redis"}, "INCIDENT_STORE must be"),
        ({"SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
        ({"CLOUD_RUN_EMULATOR_HOST": "localhost"}, "host:port"),
        ({"SLACK_ALLOWED_USERGROUP": "oncall-team"}, "user group id"),
        ({"LOG_WAIT_SECONDS": "soon"}, "LOG_WAIT_SECONDS must be a number"),
        ({"LOG_WAIT_SECONDS": "600"}, "between"),
        ({"REMIND_AFTER_MINUTES": "-5"}, "REMIND_AFTER_MINUTES must be a whole number"),
        ({"REMIND_USERGROUP": "@oncall"}, "REMIND_USERGROUP must be a Slack user group id"),
        ({"EXPECTED_INTERVALS": "nightly-export"}, "not job=interval"),
        ({"EXPECTED_INTERVALS": "Nightly=26h"}, "not job=interval"),
        ({"EXPECTED_INTERVALS": "nightly=26 hours"}, "is not like 90m, 26h or 2d"),
        ({"EXPECTED_INTERVALS": "nightly=5m"}, "between 10m and 60d"),
        ({"EXPECTED_INTERVALS": "a=1h,a=2h"}, "named twice"),
        ({"EXPECTED_INTERVALS": ",".join(f"j{n}=1h" for n in range(21))}, "at most 20"),
    ],
)
def test_bad_settings_say_what_to_fix(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)
