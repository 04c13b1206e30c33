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
    ],
)
def test_bad_settings_say_what_to_fix(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)
