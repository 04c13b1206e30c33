"""deploy/ parses, is formatted, and creates what the code needs with the least privilege it needs.

`terraform validate` needs the Google provider, which `terraform init` downloads; it cannot run
offline, so these checks read the HCL itself (python-hcl2) and compare it with what the code
declares: the roles in jobtriage/iam.py and the settings in jobtriage/settings.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from jobtriage import iam
from tests.deploy import terraform_model as tf

SETTINGS_SOURCE = (tf.REPO / "jobtriage" / "settings.py").read_text(encoding="utf-8")

# --- the files ----------------------------------------------------------------------------------


def test_the_module_has_its_files() -> None:
    names = {p.name for p in tf.tf_files()}
    assert {"versions.tf", "variables.tf", "outputs.tf"} <= names
    for extra in ("terraform.tfvars.example", "README.md", "checkov.sh"):
        assert (tf.DEPLOY / extra).is_file(), extra


@pytest.mark.parametrize("path", tf.tf_files(), ids=lambda p: p.name)
def test_every_tf_file_parses(path: Path) -> None:
    assert tf.parse(path.read_text(encoding="utf-8")), f"{path.name} is empty"


def test_terraform_fmt(tmp_path: Path) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        print("terraform fmt -check: SKIPPED, no terraform binary on PATH", file=sys.stderr)
        pytest.skip("no terraform binary on PATH: `terraform fmt -check` not run")
    # The example tfvars is checked under a name terraform fmt recognises.
    example = tmp_path / "example.tfvars"
    example.write_text((tf.DEPLOY / "terraform.tfvars.example").read_text(encoding="utf-8"))
    for target in (str(tf.DEPLOY), str(example)):
        result = subprocess.run(
            [terraform, "fmt", "-check", "-recursive", "-diff", target],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"terraform fmt would change {target}:\n{result.stdout}"


def test_versions_pin_the_providers() -> None:
    terraform = tf.one(tf.parsed()["versions.tf"]["terraform"])
    providers = tf.one(terraform["required_providers"])
    assert providers["google"]["source"] == "hashicorp/google"
    assert providers["archive"]["source"] == "hashicorp/archive"
    assert providers["archive"]["version"] == ">= 2.5.0"  # glob patterns in excludes
    assert providers["time"]["source"] == "hashicorp/time"
    # A drop-in module configures no provider of its own.
    assert all("provider" not in content for content in tf.parsed().values())


# --- variables, example, outputs ------------------------------------------------------------------

REQUIRED_VARIABLES = {
    "project_id",
    "region",
    "slack_channel",
    "report_language",
    "watched_jobs",
    "slack_allowed_users",
    "slack_allowed_usergroup",
    "event_max_instances",
    "action_max_instances",
    "name_prefix",
    "slack_bot_token_version",
    "slack_signing_secret_version",
    "firestore_database",
    "create_firestore_database",
}


def test_variables_are_typed_and_described() -> None:
    variables = tf.merged("variable")
    assert set(variables) >= REQUIRED_VARIABLES
    for name, body in variables.items():
        assert body.get("type"), f"variable {name} has no type"
        assert len(body.get("description", "")) >= 20, f"variable {name} is not described"


def test_language_is_en_or_ko() -> None:
    body = tf.merged("variable")["report_language"]
    assert body["default"] == "en"
    assert 'contains(["en", "ko"], var.report_language)' in tf.one(body["validation"])["condition"]


def test_tfvars_example_names_only_declared_variables() -> None:
    text = (tf.DEPLOY / "terraform.tfvars.example").read_text(encoding="utf-8")
    variables = tf.merged("variable")
    set_here = set(tf.parse(text))
    commented = set(re.findall(r"^#\s*([a-z_]+)\s*=", text, flags=re.MULTILINE))
    assert set_here | commented <= set(variables)
    required = {name for name, body in variables.items() if "default" not in body}
    assert required <= set_here, "every variable without a default must be set in the example"


def test_outputs() -> None:
    outputs = tf.merged("output")
    for name in ("slack_interactivity_url", "event_topic", "service_accounts", "dead_letter_topic"):
        assert outputs[name].get("description"), name
    assert outputs["slack_interactivity_url"]["value"] == (
        "${one(google_cloudfunctions2_function.action[*].url)}"
    )
    assert set(
        re.findall(r"google_service_account\.(\w+)\.email", str(outputs["service_accounts"]))
    ) == {
        "event",
        "action",
        "push",
    }


# --- APIs -----------------------------------------------------------------------------------------


def test_apis_are_enabled_and_never_disabled_on_destroy() -> None:
    apis = tf.resource("google_project_service", "apis").body
    assert apis["disable_on_destroy"] is False
    assert apis["disable_dependent_services"] is False
    enabled = set(tf.merged("locals")["apis"])
    assert {
        "cloudfunctions.googleapis.com",
        "run.googleapis.com",
        "cloudbuild.googleapis.com",
        "artifactregistry.googleapis.com",
        "pubsub.googleapis.com",
        "logging.googleapis.com",
        "secretmanager.googleapis.com",
        "firestore.googleapis.com",
        "cloudresourcemanager.googleapis.com",
        "iam.googleapis.com",
        "storage.googleapis.com",
        "cloudscheduler.googleapis.com",
    } <= enabled


# --- the tick -------------------------------------------------------------------------------------


def test_the_tick_publishes_what_the_event_function_reads_as_a_tick() -> None:
    from jobtriage.event import TICK, TICK_ATTRIBUTE, TICK_VERSION
    from jobtriage.ticks import MAX_TICK_AGE

    job = tf.resource("google_cloud_scheduler_job", "tick").body
    target = tf.one(job["pubsub_target"])
    assert target["topic_name"] == "${google_pubsub_topic.events.id}"  # the push subscription's
    assert target["attributes"] == {TICK_ATTRIBUTE: TICK}
    assert target["data"] == "${base64encode(jsonencode(local.tick_body))}"
    body = tf.merged("locals")["tick_body"]
    assert body["kind"] == TICK
    assert body["version"] == TICK_VERSION
    assert body["project"] == "${var.project_id}"
    assert "var.region" in body["region"]
    # no tick before the functions exist (it would only be dead-lettered), none when switched off
    assert job["count"] == "${local.tick_enabled ? 1 : 0}"
    enabled = tf.merged("locals")["tick_enabled"]
    assert "local.functions_enabled" in enabled
    assert 'var.tick_schedule != ""' in enabled
    # the default schedule ticks more often than a tick stays worth acting on
    schedule = tf.merged("variable")["tick_schedule"]["default"]
    minute = schedule.split()[0]
    assert minute.startswith("*/")
    assert int(minute[2:]) * 60 < MAX_TICK_AGE.total_seconds()
    assert tf.one(job["retry_config"])["retry_count"] == 0


def test_tick_settings_reach_the_event_function_in_the_form_settings_reads() -> None:
    env = service_config("event")["environment_variables"]
    assert "var.remind_after_minutes" in str(env)
    assert "var.remind_usergroup" in str(env)
    assert "EXPECTED_INTERVALS = local.expected_intervals" in str(env)
    joined = tf.merged("locals")["expected_intervals"]
    assert "var.expected_intervals" in joined
    assert '"${job}=${interval}"' in joined
    assert joined.startswith('${join(",", ')
    variables = tf.merged("variable")
    assert variables["remind_after_minutes"]["default"] == 30
    assert variables["expected_intervals"]["default"] == {}


# --- the functions --------------------------------------------------------------------------------


def function(name: str) -> dict[str, object]:
    return tf.resource("google_cloudfunctions2_function", name).body


def service_config(name: str) -> dict[str, object]:
    config = tf.one(function(name)["service_config"])
    assert isinstance(config, dict)
    return config


def test_both_functions_build_python312_from_the_hashed_source_object() -> None:
    for name, entry_point in (("event", "on_job_event"), ("action", "on_slack_action")):
        build = tf.one(function(name)["build_config"])
        assert build["runtime"] == "python312"
        assert build["entry_point"] == entry_point
        storage = tf.one(tf.one(build["source"])["storage_source"])
        assert storage == {
            "bucket": "${google_storage_bucket.source.name}",
            "object": "${google_storage_bucket_object.source.name}",
        }
    obj = tf.resource("google_storage_bucket_object", "source").body
    assert "${data.archive_file.source.output_md5}" in obj["name"], (
        "a code change must change the name"
    )


def test_entry_points_exist_in_main_py() -> None:
    main = tf.REPO / "main.py"
    if not main.exists():
        pytest.skip("main.py not yet present")
    text = main.read_text(encoding="utf-8")
    assert re.search(r"^def on_job_event\(", text, re.MULTILINE)
    assert re.search(r"^def on_slack_action\(", text, re.MULTILINE)


def test_the_source_zip_leaves_out_tests_standins_deploy_and_clutter() -> None:
    archive = next(b for b in tf.blocks("data", "archive_file") if b.name == "source").body
    assert archive["type"] == "zip"
    assert archive["source_dir"] == "${path.module}/.."
    assert archive["output_file_mode"] == "0666"
    assert archive["excludes"] == "${local.source_excludes}"
    included = zip_members(tf.merged("locals")["source_excludes"])
    assert "requirements.txt" in included
    assert "jobtriage/settings.py" in included
    assert "jobtriage/sink_filter.tftpl" in included
    assert any(p.startswith("analyzers/") for p in included)
    for path in included:
        top = path.split("/", 1)[0]
        assert top not in {
            "tests",
            "standins",
            "deploy",
            "bench",
            ".git",
            "build",
            "node_modules",
            ".ci",
        }, path
        assert not top.startswith((".venv", ".mypy_cache", ".pytest_cache", ".ruff_cache")), path
        assert "__pycache__" not in path.split("/"), path
        assert not path.endswith(".pyc"), path


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """doublestar semantics, as archive_file >= 2.5.0 applies them to paths relative to the root."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def zip_members(excludes: list[str]) -> set[str]:
    """The repository files the archive would contain (a matching directory drops its subtree)."""
    patterns = [_glob_regex(p) for p in excludes]
    members: set[str] = set()

    def visit(directory: Path) -> None:
        for child in sorted(directory.iterdir()):
            relative = child.relative_to(tf.REPO).as_posix()
            if any(p.fullmatch(relative) for p in patterns):
                continue
            if child.is_dir():
                visit(child)
            else:
                members.add(relative)

    visit(tf.REPO)
    return members


def test_event_function_is_internal_bounded_and_fed_by_our_subscription() -> None:
    body = function("event")
    config = service_config("event")
    assert config["ingress_settings"] == "ALLOW_INTERNAL_ONLY"
    assert config["service_account_email"] == "${google_service_account.event.email}"
    assert config["max_instance_count"] == "${var.event_max_instances}"
    assert config["timeout_seconds"] == "${var.event_timeout_seconds}"
    # No Eventarc trigger: delivery (with a dead-letter topic) is our own push subscription.
    assert "event_trigger" not in body
    variables = tf.merged("variable")
    assert variables["event_max_instances"]["default"] <= 10
    assert "<= 100" in tf.one(variables["event_max_instances"]["validation"])["condition"]
    assert 30 <= variables["event_timeout_seconds"]["default"] <= 240


def test_a_post_ends_before_its_claim_lease_runs_out() -> None:
    from jobtriage.incident.ledger import ANNOUNCED_POST_ROOM, CLAIM_LEASE
    from jobtriage.notify.deliver import ALERT_POLICY

    # The lease is renewed when a Slack post starts (`begin_post`): it must outlive the longest
    # post, or a redelivery could take over a delivery still waiting for Slack's answer and post
    # before that message is there to be found. A delivery that runs longer than the lease
    # otherwise (evidence, the wait for late log lines) is refused its post (`ClaimLost`).
    assert ALERT_POLICY.worst_case_seconds * 2 <= CLAIM_LEASE.total_seconds()
    # A claim created with its post announced posts without that renewal only while this much
    # of its lease is left: the longest post, and at least 10 s for clocks that differ.
    assert ALERT_POLICY.worst_case_seconds + 10 <= ANNOUNCED_POST_ROOM.total_seconds()
    condition = tf.one(tf.merged("variable")["event_timeout_seconds"]["validation"])["condition"]
    bound = re.search(r"var\.event_timeout_seconds <= (\d+)", condition)
    assert bound, condition
    longest = int(bound[1])
    # The push request (acknowledgement deadline = timeout + 60 s) must fit in Pub/Sub's 600 s.
    assert longest + 60 <= 600


def test_interactivity_function_is_the_public_one_and_bounded() -> None:
    config = service_config("action")
    assert config["ingress_settings"] == "ALLOW_ALL"
    assert config["service_account_email"] == "${google_service_account.action.email}"
    assert config["max_instance_count"] == "${var.action_max_instances}"
    assert (
        "<= 20" in tf.one(tf.merged("variable")["action_max_instances"]["validation"])["condition"]
    )


def env_keys(name: str) -> set[str]:
    expr = service_config(name)["environment_variables"]
    assert isinstance(expr, str)
    match = re.fullmatch(r"\$\{merge\(local\.common_env, \{(?P<extra>[^}]*)\}\)\}", expr)
    assert match, expr
    return set(tf.merged("locals")["common_env"]) | set(re.findall(r"([A-Z_]+) =", match["extra"]))


def secret_env(name: str) -> dict[str, dict[str, str]]:
    config = service_config(name)
    return {s["key"]: s for s in config["secret_environment_variables"]}  # type: ignore[attr-defined]


def test_environment_matches_the_settings_the_code_reads() -> None:
    common = {"SLACK_CHANNEL", "REPORT_LANG", "INCIDENT_STORE", "FIRESTORE_DATABASE"}
    assert env_keys("event") == common | {
        "LOG_WAIT_SECONDS",
        "REMIND_AFTER_MINUTES",
        "REMIND_USERGROUP",
        "EXPECTED_INTERVALS",
    }
    assert env_keys("action") == common | {"SLACK_ALLOWED_USERS", "SLACK_ALLOWED_USERGROUP"}
    assert tf.merged("locals")["common_env"]["INCIDENT_STORE"] == "firestore"
    for name in ("event", "action"):
        for key in env_keys(name) | set(secret_env(name)):
            assert f'"{key}"' in SETTINGS_SOURCE, (
                f"{key} is not a setting jobtriage/settings.py reads"
            )


def test_secrets_arrive_as_pinned_secret_environment_variables() -> None:
    event, action = secret_env("event"), secret_env("action")
    assert set(event) == {"SLACK_BOT_TOKEN"}, "the event function never needs the signing secret"
    assert set(action) == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}
    expected = {
        "SLACK_BOT_TOKEN": ("slack_bot_token", "slack_bot_token_version"),
        "SLACK_SIGNING_SECRET": ("slack_signing_secret", "slack_signing_secret_version"),
    }
    variables = tf.merged("variable")
    for key, entry in [*event.items(), *action.items()]:
        secret, version = expected[key]
        assert entry["secret"] == f"${{google_secret_manager_secret.{secret}.secret_id}}"
        assert entry["version"] == f"${{var.{version}}}"
        condition = tf.one(variables[version]["validation"])["condition"]
        assert "[1-9][0-9]*" in condition, "versions are pinned numbers"


def test_secret_values_never_reach_terraform_state() -> None:
    assert not tf.blocks("resource", "google_secret_manager_secret_version")
    assert not tf.blocks("data", "google_secret_manager_secret_version")
    for block in tf.blocks("resource"):
        for path, _ in tf.walk_strings(block.body):
            assert "secret_data" not in path, block.address
    secrets = {b.name for b in tf.blocks("resource", "google_secret_manager_secret")}
    assert secrets == {"slack_bot_token", "slack_signing_secret"}


def test_functions_wait_for_the_secrets_to_have_versions() -> None:
    gate = tf.merged("locals")["functions_enabled"]
    assert "var.slack_bot_token_version != null" in gate
    assert "var.slack_signing_secret_version != null" in gate
    for name in ("event", "action"):
        assert function(name)["count"] == "${local.functions_enabled ? 1 : 0}"


# --- delivery, retries, dead letters --------------------------------------------------------------


def test_push_subscription_retries_and_dead_letters() -> None:
    sub = tf.resource("google_pubsub_subscription", "events").body
    assert sub["topic"] == "${google_pubsub_topic.events.id}"
    push = tf.one(sub["push_config"])
    uri = "${google_cloudfunctions2_function.event[0].service_config[0].uri}"
    assert push["push_endpoint"].startswith(uri + "/projects/")
    oidc = tf.one(push["oidc_token"])
    assert oidc == {
        "service_account_email": "${google_service_account.push.email}",
        "audience": uri,
    }
    dead = tf.one(sub["dead_letter_policy"])
    assert dead["dead_letter_topic"] == "${google_pubsub_topic.dead_letter.id}"
    assert dead["max_delivery_attempts"] == "${var.max_delivery_attempts}"
    retry = tf.one(sub["retry_policy"])
    assert (retry["minimum_backoff"], retry["maximum_backoff"]) == ("10s", "600s")
    # Push: the acknowledgement deadline is the request timeout, so it outlasts the function.
    assert sub["ack_deadline_seconds"] == "${var.event_timeout_seconds + 60}"
    assert tf.one(sub["expiration_policy"]) == {"ttl": ""}


def test_dead_letters_are_kept_for_inspection() -> None:
    inspect = tf.resource("google_pubsub_subscription", "dead_letter_inspect").body
    assert inspect["topic"] == "${google_pubsub_topic.dead_letter.id}"
    assert "push_config" not in inspect
    assert inspect["message_retention_duration"] == "604800s"
    assert tf.one(inspect["expiration_policy"]) == {"ttl": ""}


def test_sink_writes_as_a_managed_identity_granted_on_this_topic_only() -> None:
    sink = tf.resource("google_logging_project_sink", "job_outcomes").body
    assert sink["unique_writer_identity"] is True
    grant = tf.resource("google_pubsub_topic_iam_member", "sink_publishes").body
    assert grant["member"] == "${google_logging_project_sink.job_outcomes.writer_identity}"
    assert grant["topic"] == "${google_pubsub_topic.events.name}"


def test_every_grant_to_the_pubsub_service_agent_waits_for_it_to_exist() -> None:
    agent = "${local.pubsub_service_agent}"
    grants = [b for kind in ("resource",) for b in tf.blocks(kind) if b.body.get("member") == agent]
    assert len(grants) == 3
    for grant in grants:
        assert "${time_sleep.pubsub_service_agent}" in grant.body["depends_on"], grant.address
    pause = tf.resource("time_sleep", "pubsub_service_agent").body
    assert pause["depends_on"] == ["${google_project_service.apis}"]


def test_invokers_are_bound_to_the_service_behind_each_function() -> None:
    for name, function in (("push_invokes_event", "event"), ("slack_invokes_action", "action")):
        grant = tf.resource("google_cloud_run_v2_service_iam_member", name).body
        assert grant["name"] == (
            f"${{google_cloudfunctions2_function.{function}[0].service_config[0].service}}"
        )


def test_firestore_access_is_limited_to_the_products_database() -> None:
    for who in ("event", "action"):
        grant = tf.resource("google_project_iam_member", f"{who}_datastore_user").body
        [condition] = grant["condition"]
        assert condition["expression"] == "${local.firestore_condition}"
    main = (tf.DEPLOY / "main.tf").read_text(encoding="utf-8")
    assert (
        'firestore_condition = "resource.name == \\"projects/${var.project_id}/databases/'
        '${local.firestore_database}\\""' in main
    )


def test_firestore_database_is_created_or_reused_by_variable() -> None:
    db = tf.resource("google_firestore_database", "incidents").body
    assert db["count"] == "${var.create_firestore_database ? 1 : 0}"
    assert db["name"] == "${var.firestore_database}"
    assert db["type"] == "FIRESTORE_NATIVE"
    assert tf.merged("locals")["common_env"]["FIRESTORE_DATABASE"] == "${local.firestore_database}"


def test_delivery_claims_expire_by_ttl_policy() -> None:
    from jobtriage.incident import store

    field = tf.resource("google_firestore_field", "delivery_expiry").body
    assert field["database"] == "${local.firestore_database}"
    assert field["collection"] == store.DELIVERIES
    assert field["field"] == "expire_at"
    assert "expire_at" in Path(store.contract.__file__).read_text(encoding="utf-8")
    assert field["ttl_config"] == [{}]


# --- IAM ------------------------------------------------------------------------------------------

PRINCIPALS = {
    "${google_service_account.event.member}": "sa:event",
    "${google_service_account.action.member}": "sa:action",
    "${google_service_account.push.member}": "sa:push",
    "${local.pubsub_service_agent}": "pubsub-agent",
    "${google_logging_project_sink.job_outcomes.writer_identity}": "sink-writer",
    "allUsers": "allUsers",
}

TARGET_ATTRIBUTE = {
    "google_secret_manager_secret_iam_member": (
        "secret_id",
        "google_secret_manager_secret",
        "secret",
    ),
    "google_cloud_run_v2_service_iam_member": (
        "name",
        "google_cloudfunctions2_function",
        "run-service",
    ),
    "google_pubsub_topic_iam_member": ("topic", "google_pubsub_topic", "topic"),
    "google_pubsub_subscription_iam_member": (
        "subscription",
        "google_pubsub_subscription",
        "subscription",
    ),
    "google_service_account_iam_member": (
        "service_account_id",
        "google_service_account",
        "account",
    ),
}

# Grants that are plumbing rather than what the code calls: who may deliver to whom.
PLUMBING = {
    ("sa:push", "roles/run.invoker", "run-service:event"),
    ("allUsers", "roles/run.invoker", "run-service:action"),
    ("sink-writer", "roles/pubsub.publisher", "topic:events"),
    ("pubsub-agent", "roles/pubsub.publisher", "topic:dead_letter"),
    ("pubsub-agent", "roles/pubsub.subscriber", "subscription:events"),
    ("pubsub-agent", "roles/iam.serviceAccountTokenCreator", "account:push"),
}


def granted() -> Counter[tuple[str, str, str]]:
    """Every IAM grant in deploy/ as (principal, role, scope)."""
    grants: Counter[tuple[str, str, str]] = Counter()
    for block in tf.blocks("resource"):
        if not block.type.endswith(("_iam_member", "_iam_binding", "_iam_policy")):
            continue
        assert block.type.endswith("_iam_member"), (
            f"{block.address}: only additive *_iam_member grants; a binding or policy would "
            "replace grants the platform already has"
        )
        principal = PRINCIPALS.get(block.body["member"])
        assert principal, f"{block.address}: unexpected member {block.body['member']}"
        if block.type == "google_project_iam_member":
            scope = iam.PROJECT
        else:
            attribute, target_type, label = TARGET_ATTRIBUTE[block.type]
            ref = tf.reference(block.body[attribute])
            assert ref, f"{block.address}: {block.body[attribute]}"
            assert ref[0] == target_type, f"{block.address}: {block.body[attribute]}"
            scope = f"{label}:{ref[1]}"
        grants[(principal, block.body["role"], scope)] += 1
    return grants


def test_function_accounts_are_the_functions_runtime_identities() -> None:
    assert (
        service_config("event")["service_account_email"] == "${google_service_account.event.email}"
    )
    assert (
        service_config("action")["service_account_email"]
        == "${google_service_account.action.email}"
    )


def test_every_role_the_code_needs_is_granted_and_nothing_else() -> None:
    expected = {("sa:event", g.role, g.scope) for g in iam.EVENT_FUNCTION_ROLES}
    expected |= {("sa:action", g.role, g.scope) for g in iam.ACTION_FUNCTION_ROLES}
    expected |= PLUMBING
    grants = granted()
    assert all(count == 1 for count in grants.values()), "a grant is made twice"
    missing = expected - set(grants)
    extra = set(grants) - expected
    assert not missing, f"the code needs these, deploy/ does not grant them: {sorted(missing)}"
    assert not extra, f"deploy/ grants more than the code needs: {sorted(extra)}"


def test_the_code_documents_why_each_role_is_needed() -> None:
    for grant in (*iam.EVENT_FUNCTION_ROLES, *iam.ACTION_FUNCTION_ROLES):
        assert grant.role.startswith("roles/")
        assert len(grant.why) > 15
        assert grant.scope in {iam.PROJECT, iam.BOT_TOKEN_SECRET, iam.SIGNING_SECRET}


BROAD_ROLES = re.compile(
    r"^roles/(owner|editor|viewer|browser|.*\.admin|.*Admin|iam\.serviceAccountUser"
    r"|secretmanager\.secretAccessor)$"
)


def test_nothing_is_granted_more_broadly_than_needed() -> None:
    for principal, role, scope in granted():
        if scope == iam.PROJECT:
            assert not BROAD_ROLES.match(role), f"{role} for {principal} on the whole project"
        assert not role.endswith((".admin", "Admin"))
        assert role not in {"roles/owner", "roles/editor"}
    # serviceAccountTokenCreator only ever on the push account itself, never on the project.
    assert all(
        scope == "account:push" for _, role, scope in granted() if role.endswith("TokenCreator")
    )


def test_all_users_appears_only_as_invoker_of_the_interactivity_service() -> None:
    public = [
        (block.address, path)
        for block in tf.blocks("resource") + tf.blocks("data")
        for path, text in tf.walk_strings(block.body)
        if "allUsers" in text or "allAuthenticatedUsers" in text
    ]
    assert public == [
        ("google_cloud_run_v2_service_iam_member.slack_invokes_action", ".member"),
    ]
    grant = tf.resource("google_cloud_run_v2_service_iam_member", "slack_invokes_action").body
    assert grant["role"] == "roles/run.invoker"
    assert grant["name"] == (
        "${google_cloudfunctions2_function.action[0].service_config[0].service}"
    )
    assert service_config("event")["ingress_settings"] != "ALLOW_ALL"


def test_source_bucket_is_private() -> None:
    bucket = tf.resource("google_storage_bucket", "source").body
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"


def test_the_incident_memory_queries_have_their_composite_indexes() -> None:
    # FirestoreStore.job_history / project_confirmations: equality + descending order.
    wanted = {
        "job_history": [("job_path", "ASCENDING"), ("opened_at", "DESCENDING")],
        "project_confirmations": [
            ("confirmed_project", "ASCENDING"),
            ("confirmed_at", "DESCENDING"),
        ],
    }
    for name, fields in wanted.items():
        body = tf.resource("google_firestore_index", name).body
        assert body["collection"] == "incidents"
        got = body["fields"]
        got = got if isinstance(got, list) else [got]
        assert [(f["field_path"], f["order"]) for f in got] == fields
