# ruff: noqa: E501 — fake secrets in log lines are data: as long as the real formats
"""The secret corpus: realistic *fake* secrets of every kind a job's log has been seen to leak.

Every value is made up here (a seeded generator, or a documentation example): none is, or was
ever, a real credential. Each `Kind` is one or more consecutive log entries and the values that
must not survive; a test passes only when no fragment of 8 characters of any of them is left.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass

_rng = random.Random(20261129)
ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


def fake(n: int, alphabet: str = ALNUM) -> str:
    """A made-up value: n characters drawn from `alphabet`, at least one digit and one letter."""
    mixed = any(c.isdigit() for c in alphabet) and any(c.isalpha() for c in alphabet)
    while True:
        value = "".join(_rng.choice(alphabet) for _ in range(n))
        if (
            n < 8
            or not mixed
            or (any(c.isdigit() for c in value) and any(c.isalpha() for c in value))
        ):
            return value


def b64(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


def pem_body(lines: int = 4) -> list[str]:
    return [fake(64, B64) for _ in range(lines - 1)] + [fake(28, B64) + "=="]


def armored(label: str, body: list[str]) -> list[str]:
    """`body` (random, made at run time: no key is stored here) between PEM armor lines."""
    return [f"-----BEGIN {label}-----", *body, f"-----END {label}-----"]


@dataclass(frozen=True)
class Kind:
    name: str
    lines: tuple[str, ...]
    secrets: tuple[str, ...]

    @property
    def single_line(self) -> bool:
        return len(self.lines) == 1 and "\n" not in self.lines[0]


def fragments(secret: str, size: int = 8) -> set[str]:
    """Every piece of `size` characters of `secret` (the secret itself when shorter)."""
    if len(secret) <= size:
        return {secret}
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def leaks(kind: Kind, text: str) -> list[str]:
    """The fragments of `kind`'s secrets that `text` still contains."""
    return sorted({f for s in kind.secrets for f in fragments(s) if f in text})


def _k(name: str, line: str | list[str], *secrets: str) -> Kind:
    lines = (line,) if isinstance(line, str) else tuple(line)
    return Kind(name, lines, secrets)


def _kinds() -> list[Kind]:
    k: list[Kind] = []
    # --- connection strings and URLs ------------------------------------------------------------
    s = fake(14) + "!"
    k.append(_k("postgres_url", f"connect to postgres://migrator:{s}@10.20.0.3:5432/o4o", s))
    s = "Xy7/kq9'zP@w#2" + fake(6)
    k.append(
        _k(
            "url_password_slash_quote_at_hash",
            f"DATABASE_URL=postgresql://app:{s}@db.internal:5432/app",
            s,
        )
    )
    s = "correct Horse 42 " + fake(6)
    k.append(_k("url_password_with_space", f"connecting to postgres://app:{s}@db.internal/app", s))
    s = fake(16)
    k.append(_k("mysql_url", f"Error: mysql://root:{s}@127.0.0.1:3306/shop unreachable", s))
    s = fake(20)
    k.append(
        _k(
            "mongodb_srv",
            f"MongoServerSelectionError: mongodb+srv://admin:{s}@cluster0.ab1cd.mongodb.net/prod",
            s,
        )
    )
    s = fake(24)
    k.append(_k("redis_no_user", f"Error connecting to redis://:{s}@10.1.2.3:6379/0", s))
    s = fake(12)
    k.append(_k("amqp_url", f"amqp connection amqp://guest:{s}@rabbitmq:5672/vhost closed", s))
    s = fake(18)
    k.append(
        _k(
            "jdbc_query_password",
            f"jdbc:postgresql://db:5432/app?user=app&password={s}&ssl=true",
            s,
        )
    )
    s = fake(16) + "#"
    k.append(
        _k(
            "ado_net",
            f"Server=tcp:sql1.database.windows.net,1433;Database=app;User ID=sa;Password={s};Encrypt=True;",
            s,
        )
    )
    s = fake(15)
    k.append(_k("libpq_dsn", f"host=/cloudsql/p:r:i user=app password={s} dbname=app", s))
    s = fake(14)
    k.append(_k("odbc_pwd", f"DRIVER={{ODBC Driver 18}};SERVER=db;UID=app;PWD={s};", s))
    s = "django-insecure-" + fake(40, LOWER_ALNUM + "!@#$%^&*(-_=+)")
    k.append(_k("django_secret_key", f"SECRET_KEY={s}", s[16:]))
    s = fake(20)
    k.append(_k("env_dump_password", f"  POSTGRES_PASSWORD={s}", s))
    s = fake(18)
    k.append(_k("yaml_password", f"db_password: {s}", s))
    s = fake(18)
    k.append(_k("json_password", f'{{"user": "app", "password": "{s}"}}', s))
    s = fake(12)
    k.append(_k("json_password_escaped_quote", f'{{"password": "ab\\"{s}"}}', s))
    s = fake(16)
    k.append(_k("json_in_json_password", f'{{"msg": "{{\\"password\\": \\"{s}\\"}}"}}', s))
    s = fake(16)
    k.append(_k("python_dict_password", f"{{'username': 'app', 'password': '{s}'}}", s))
    s = fake(16)
    k.append(_k("php_array_password", f"'password' => '{s}',", s))
    s = fake(16)
    k.append(_k("ruby_hash_password", f':password => "{s}"', s))
    s = fake(16)
    k.append(_k("java_properties", f"spring.datasource.password={s}", s))
    s = fake(10) + "42"
    k.append(_k("password_space_value", f"login with password {s} failed", s))
    s = fake(14)
    k.append(_k("password_flag_arg", f"exec: migrate --password {s} --host db", s))
    s = fake(12) + "!"
    k.append(_k("mysql_p_flag", f"mysql -h 10.0.0.5 -u root -p{s} app", s))
    s = fake(14) + "!"
    k.append(_k("sql_identified_by", f"CREATE USER 'app'@'%' IDENTIFIED BY '{s}';", s))
    s = fake(18)
    k.append(_k("xml_password", f"<datasource><password>{s}</password></datasource>", s))
    s = fake(16)
    k.append(_k("netrc", f"machine api.heroku.com login me@example.com password {s}", s))
    # --- HTTP ---------------------------------------------------------------------------------------
    s = fake(40, URLSAFE)
    k.append(_k("authorization_bearer", f"Authorization: Bearer {s}", s))
    s = b64("deploy:" + fake(16))
    k.append(
        _k("authorization_basic", f"curl -H 'Authorization: Basic {s}' https://api.internal", s)
    )
    s = b64("svc:" + fake(16))
    k.append(_k("basic_in_json", f'{{"headers": {{"Authorization": "Basic {s}"}}}}', s))
    s = b64("svc:" + fake(16))
    k.append(_k("basic_in_python_dict", f"{{'Authorization': 'Basic {s}', 'Accept': 'json'}}", s))
    s = fake(36, URLSAFE)
    k.append(_k("bare_bearer", f"request failed with bearer {s}", s))
    s = fake(32)
    k.append(_k("x_api_key_header", f"X-Api-Key: {s}", s))
    s = fake(32)
    k.append(_k("cookie_header", f"Cookie: sessionid={s}; theme=dark", s))
    s = fake(48, URLSAFE)
    k.append(_k("set_cookie_connect_sid", f"Set-Cookie: connect.sid=s%3A{s}; Path=/; HttpOnly", s))
    s = fake(32)
    k.append(_k("session_token_json", f'{{"session_token": "{s}"}}', s))
    s = fake(26, LOWER_ALNUM)
    k.append(_k("phpsessid", f"PHPSESSID={s}", s))
    s = fake(32, HEX).upper()
    k.append(_k("jsessionid", f"GET /app;jsessionid={s} 302", s))
    s = fake(40, URLSAFE)
    k.append(
        _k("client_secret_query", f"POST /token?client_id=123&client_secret={s}&grant_type=x", s)
    )
    s = fake(40, URLSAFE)
    k.append(_k("refresh_token_json", f'{{"refresh_token": "{s}", "expires_in": 3600}}', s))
    s = fake(40, URLSAFE)
    k.append(_k("access_token_query", f"GET /v1/me?access_token={s} 401", s))
    s = fake(32)
    k.append(_k("api_key_query", f"GET https://api.example.com/v2/data?api_key={s}", s))
    # --- clouds ------------------------------------------------------------------------------------
    s = "AKIA" + fake(16, string.ascii_uppercase + string.digits)
    k.append(_k("aws_access_key_id", f"using {s} credentials for s3", s))
    s = fake(40, B64)
    k.append(_k("aws_secret_named", f"aws_secret_access_key = {s}", s))
    s = fake(40, B64)
    k.append(_k("aws_secret_unnamed", f"loaded {s} from the cache", s))
    s = "FwoGZXIvYXdzE" + fake(120, B64)
    k.append(_k("aws_session_token", f"AWS_SESSION_TOKEN={s}", s))
    s = fake(86, B64) + "=="
    k.append(
        _k(
            "azure_account_key",
            f"DefaultEndpointsProtocol=https;AccountName=st1;AccountKey={s};EndpointSuffix=core.windows.net",
            s,
        )
    )
    s = fake(43, B64).replace("/", "%2F").replace("+", "%2B") + "%3D"
    k.append(
        _k(
            "azure_sas_sig",
            f"GET https://st1.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sig={s}&se=2026-12-01",
            s,
        )
    )
    s = fake(43, B64) + "="
    k.append(
        _k(
            "azure_service_bus",
            f"Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={s}",
            s,
        )
    )
    s = fake(3, ALNUM) + "8Q~" + fake(34, ALNUM + "_~.-")
    k.append(_k("azure_ad_client_secret", f"AZURE_CLIENT_SECRET={s}", s))
    s = fake(3, ALNUM) + "7Q~" + fake(34, ALNUM + "_~.-")
    k.append(_k("azure_ad_secret_unnamed", f"msal: acquired with {s} for tenant", s))
    s = "AIza" + fake(35, URLSAFE)
    k.append(_k("google_api_key", f"GOOGLE_API_KEY AIza loaded: {s}", s))
    s = "ya29.a0" + fake(120, URLSAFE)
    k.append(_k("google_oauth_access", f"token refreshed: {s}", s))
    s = "GOCSPX-" + fake(28, URLSAFE)
    k.append(_k("google_oauth_client_secret", f"oauth client configured with GOCSPX secret {s}", s))
    s = "1//0" + fake(60, URLSAFE)
    k.append(_k("google_refresh_token", f"stored refresh {s}", s))
    s = fake(40, HEX)
    k.append(_k("gcp_private_key_id", f'  "private_key_id": "{s}",', s))
    body = pem_body(3)
    sa_key = "\\n".join([*armored("PRIVATE KEY", body), ""])
    pk_id = fake(40, HEX)
    k.append(
        _k(
            "gcp_service_account_json_pretty",
            [
                "{",
                '  "type": "service_account",',
                '  "project_id": "netureyoutube",',
                f'  "private_key_id": "{pk_id}",',
                f'  "private_key": "{sa_key}",',
                '  "client_email": "deployer@netureyoutube.iam.gserviceaccount.com",',
                '  "client_id": "104523984574029384756",',
                "}",
            ],
            pk_id,
            *body,
        )
    )
    s = b64("_json_key:" + fake(30))
    k.append(
        _k(
            "docker_config_auth",
            f'{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{s}"}}}}}}',
            s,
        )
    )
    s = "npm_" + fake(36)
    k.append(_k("npmrc_auth_token", f"//registry.npmjs.org/:_authToken={s}", s))
    s = fake(96, B64)
    k.append(_k("kubeconfig_client_key_data", f"    client-key-data: {s}", s))
    s = "eyJhbGciOiJSUzI1NiIsImtpZCI6Ik" + fake(40, URLSAFE) + "." + fake(60, URLSAFE)
    k.append(_k("kubeconfig_token", f"    token: {s}", s[30:]))
    s = fake(36, HEX)
    k.append(_k("heroku_api_key", f"HEROKU_API_KEY={s}", s))
    s = fake(32, HEX)
    k.append(_k("datadog_api_key", f"DD_API_KEY={s}", s))
    s = fake(32, HEX)
    k.append(_k("twilio_auth_token", f"TWILIO_AUTH_TOKEN={s}", s))
    # --- PEM keys ----------------------------------------------------------------------------------
    body = pem_body(5)
    k.append(
        _k(
            "pem_rsa_line_per_entry",
            armored("RSA PRIVATE KEY", body),
            *body,
        )
    )
    body = pem_body(4)
    k.append(
        _k(
            "pem_one_entry",
            "\n".join(armored("PRIVATE KEY", body)),
            *body,
        )
    )
    body = pem_body(4)
    k.append(
        _k(
            "openssh_private_key",
            armored("OPENSSH PRIVATE KEY", body),
            *body,
        )
    )
    body = pem_body(3)
    k.append(
        _k(
            "ec_key_spaces",
            " ".join(armored("EC PRIVATE KEY", body)),
            *body,
        )
    )
    body = pem_body(4)
    k.append(
        _k(
            "pgp_private_key",
            armored("PGP PRIVATE KEY BLOCK", ["", *body]),
            *body,
        )
    )
    body = pem_body(3)
    k.append(
        _k(
            "pem_cut_without_end",
            ["Error: bad key " + armored("PRIVATE KEY", [])[0], *body],
            *body,
        )
    )
    body = pem_body(3)
    escaped = "\\n".join(armored("PRIVATE KEY", body))
    k.append(_k("private_key_env", f'PRIVATE_KEY="{escaped}"', *body))
    # --- token formats -----------------------------------------------------------------------------
    tokens = {
        "slack_bot_token": "xoxb-"
        + fake(12, string.digits)
        + "-"
        + fake(13, string.digits)
        + "-"
        + fake(24),
        "slack_user_token": "xoxp-"
        + fake(12, string.digits)
        + "-"
        + fake(12, string.digits)
        + "-"
        + fake(13, string.digits)
        + "-"
        + fake(32, HEX),
        "slack_app_token": "xapp-1-A"
        + fake(10, string.ascii_uppercase + string.digits)
        + "-"
        + fake(13, string.digits)
        + "-"
        + fake(64, HEX),
        "github_pat_classic": "ghp_" + fake(36),
        "github_pat_fine_grained": "github_pat_" + fake(22) + "_" + fake(59),
        "github_oauth": "gho_" + fake(36),
        "gitlab_pat": "glpat-" + fake(20, URLSAFE),
        "stripe_secret": "sk_live_" + fake(99),
        "stripe_restricted": "rk_live_" + fake(99),
        "stripe_webhook_secret": "whsec_" + fake(32),
        "twilio_api_key": "SK" + fake(32, HEX),
        "sendgrid": "SG." + fake(22, URLSAFE) + "." + fake(43, URLSAFE),
        "mailgun": "key-" + fake(32, HEX),
        "mailchimp": fake(32, HEX) + "-us21",
        "huggingface": "hf_" + fake(34),
        "openai_project": "sk-proj-" + fake(120, URLSAFE),
        "openai_legacy": "sk-" + fake(20) + "T3BlbkFJ" + fake(20),
        "anthropic": "sk-ant-api03-" + fake(93, URLSAFE) + "AA",
        "npm_token": "npm_" + fake(36),
        "pypi_token": "pypi-AgEIcHlwaS5vcmc" + fake(60, URLSAFE),
        "docker_hub_pat": "dckr_pat_" + fake(27, URLSAFE),
        "digitalocean": "dop_v1_" + fake(64, HEX),
        "shopify": "shpat_" + fake(32, HEX),
        "atlassian": "ATATT3xFfGF0" + fake(180, URLSAFE),
        "linear": "lin_api_" + fake(40),
        "vault": "hvs." + fake(90, URLSAFE),
        "doppler": "dp.pt." + fake(43),
        "terraform_cloud": fake(14) + ".atlasv1." + fake(67, URLSAFE),
        "grafana_service_account": "glsa_" + fake(32) + "_" + fake(8, HEX),
        "databricks": "dapi" + fake(32, HEX),
        "postman": "PMAK-" + fake(24, HEX) + "-" + fake(34, HEX),
        "new_relic": "NRAK-" + fake(27, string.ascii_uppercase + string.digits),
        "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI"
        + fake(40, URLSAFE)
        + "."
        + fake(43, URLSAFE),
        "telegram_bot": fake(10, string.digits) + ":AA" + fake(33, URLSAFE),
        "discord_bot": "MT" + fake(24) + "." + fake(6, URLSAFE) + "." + fake(38, URLSAFE),
        "firebase_fcm_server_key": "AAAA" + fake(7, URLSAFE) + ":APA91b" + fake(134, URLSAFE),
        "age_secret_key": "AGE-SECRET-KEY-1" + fake(58, string.ascii_uppercase + string.digits),
        "square": "sq0atp-" + fake(22, URLSAFE),
        "alibaba": "LTAI" + fake(20),
        "artifactory": "AKCp8" + fake(68),
        "bcrypt_hash": "$2b$12$" + fake(53, ALNUM + "./"),
    }
    for name, value in tokens.items():
        secret = value[4:] if name == "jwt" else value
        if name == "jwt":
            secret = value.split(".", 1)[1]
        k.append(_k(name, f"worker started with {value} configured", secret))
    s = (
        "T0"
        + fake(8, string.ascii_uppercase + string.digits)
        + "/B0"
        + fake(8, string.ascii_uppercase + string.digits)
        + "/"
        + fake(24)
    )
    k.append(_k("slack_webhook_url", f"POST https://hooks.slack.com/services/{s} 404", s))
    s = fake(68, URLSAFE)
    k.append(
        _k("discord_webhook_url", f"POST https://discord.com/api/webhooks/1234567890123/{s}", s)
    )
    s = fake(32, HEX)
    k.append(_k("sentry_dsn", f"Sentry init dsn=https://{s}@o450000.ingest.sentry.io/5500000", s))
    # --- unknown formats: credential context + entropy ---------------------------------------------
    s = fake(32)
    k.append(_k("unknown_token_after_api_key", f"using api key {s} for upstream", s))
    s = fake(24, URLSAFE)
    k.append(_k("unknown_token_after_secret", f"vendor secret {s} rejected", s))
    s = fake(48, B64)
    k.append(_k("unknown_high_entropy_blob", f"signature mismatch for {s}", s))
    # --- split over two log lines -------------------------------------------------------------------
    s = fake(18)
    k.append(_k("split_key_value_empty_first", ["DB_PASSWORD=", s], s))
    s = fake(24)
    k.append(_k("split_key_value_mid_value", [f"API_TOKEN={s[:10]}", s[10:]], s))
    s = fake(20)
    k.append(
        _k(
            "split_url",
            [f"DATABASE_URL=postgres://app:{s[:8]}", f"{s[8:]}@db.internal:5432/app"],
            s,
        )
    )
    s = fake(40, URLSAFE)
    k.append(_k("split_bearer", ["Authorization: Bearer", s], s))
    return k


KINDS: tuple[Kind, ...] = tuple(_kinds())

# Values of the job's own configuration, echoed in a log line: only the configuration says they
# are secret (a plain env value with an ordinary name, an arg after -p).
ENV_VALUE = fake(14) + "-e"
ARG_VALUE = fake(12) + "-a"
CONFIG_KINDS: tuple[Kind, ...] = (
    Kind("config_env_value", (f"connecting with {ENV_VALUE} as the key",), (ENV_VALUE,)),
    Kind("config_p_argument", (f"argv: migrate -p {ARG_VALUE}",), (ARG_VALUE,)),
)
ALL_KINDS: tuple[Kind, ...] = KINDS + CONFIG_KINDS
