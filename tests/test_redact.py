"""Secrets never leave: real-looking secrets go in, none survive, ordinary text is untouched."""

from __future__ import annotations

import pytest

from jobtriage.redact import MASK, redact

SECRETS = [
    ("postgres://migrator:Sup3rS3cret!@10.20.0.3:5432/o4o", "Sup3rS3cret!"),
    ("DATABASE_URL=mysql://root:hunter2hunter2@db/app", "hunter2hunter2"),
    ("host=/cloudsql/p:r:i user=app password=pa55word-xyz dbname=app", "pa55word-xyz"),
    ('{"db_password": "json-secret-value", "user": "app"}', "json-secret-value"),
    ("DB_PASSWORD: yaml-secret-123", "yaml-secret-123"),
    ("Authorization: Bearer ya29.a0AfH6SMBx-very-long-google-token-value", "ya29.a0AfH6SMBx"),
    ("curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA=='", "dXNlcjpwYXNzd29yZA"),
    ("SLACK_BOT_TOKEN=xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp", "xoxb-1234567890"),
    ("posting with xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp failed", "AbCdEfGhIjKlMnOp"),
    ("key AKIAIOSFODNN7EXAMPLE in use", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("token=ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghij"),
    ("GOOGLE_API_KEY AIzaSyD-1234567890abcdefghijklmnopqrstu", "AIzaSyD-123456"),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3",
    ),
    (
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
        "MIIEvQIBADAN",
    ),
    ("stripe sk_live_51Habcdefghijklmnop", "sk_live_51Hab"),
    ("https://api.example.com/v1?client_secret=abcDEF123456&x=1", "abcDEF123456"),
]


@pytest.mark.parametrize(("text", "secret"), SECRETS)
def test_secret_is_gone(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert MASK in out


@pytest.mark.parametrize(
    "text",
    [
        'FATAL: password authentication failed for user "migrator"',
        "Error [ERR_REQUIRE_ESM]: require() of ES Module /app/dist/data-source.js not supported.",
        "connect ECONNREFUSED 10.20.0.3:5432",
        "Memory limit of 512 MiB exceeded with 517 MiB used.",
        "Container called exit(1).",
        "at Object.<anonymous> (/app/dist/migrate.js:3:18)",
    ],
)
def test_ordinary_diagnostic_text_is_untouched(text: str) -> None:
    assert redact(text) == text


def test_known_values_are_replaced_wherever_they_occur() -> None:
    out = redact("connecting with s3cr3t-value-9 as app", known=["s3cr3t-value-9", "app"])
    assert "s3cr3t-value-9" not in out
    assert "as app" in out  # too short to be replaced blindly
