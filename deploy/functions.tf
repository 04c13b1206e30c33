# The two functions. Both are built from the same source zip (source.tf) and read their settings
# from the environment (jobtriage/settings.py lists every variable). The Slack secrets arrive as
# environment variables that Cloud Run fills from Secret Manager when an instance starts.
#
# Secret versions are pinned to the numbers given in variables: rotating a token is "add a
# version, set the new number, apply", which rolls out a new revision everywhere at once and can
# be rolled back the same way. With "latest", already running instances would keep the old value
# until they happen to restart, and a bad new value would reach production unannounced.

locals {
  common_env = {
    SLACK_CHANNEL      = var.slack_channel
    REPORT_LANG        = var.report_language
    INCIDENT_STORE     = "firestore"
    FIRESTORE_DATABASE = local.firestore_database
  }

  # "nightly-export=26h,billing=90m", as jobtriage/settings.py reads EXPECTED_INTERVALS.
  expected_intervals = join(",", [for job, interval in var.expected_intervals : "${job}=${interval}"])

  build_service_account = var.build_service_account == null ? null : "projects/${var.project_id}/serviceAccounts/${var.build_service_account}"
}

# on_job_event: receives each execution outcome from the push subscription (pubsub.tf), gathers
# evidence, diagnoses, and posts to Slack.
resource "google_cloudfunctions2_function" "event" {
  count = local.functions_enabled ? 1 : 0

  project     = var.project_id
  location    = var.region
  name        = local.names.event_function
  description = "jobtriage: diagnoses finished Cloud Run Job executions and reports them to Slack"
  labels      = local.labels

  build_config {
    runtime         = "python312"
    entry_point     = "on_job_event"
    service_account = local.build_service_account

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email = google_service_account.event.email

    # Only Pub/Sub in this project (and the project's own VPC) can reach it; the push request is
    # also checked for the push account's OIDC token (roles/run.invoker in iam.tf).
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true

    min_instance_count               = 0
    max_instance_count               = var.event_max_instances
    max_instance_request_concurrency = 1
    available_memory                 = var.event_memory
    timeout_seconds                  = var.event_timeout_seconds

    environment_variables = merge(local.common_env, {
      LOG_WAIT_SECONDS     = tostring(var.log_wait_seconds)
      REMIND_AFTER_MINUTES = tostring(var.remind_after_minutes)
      REMIND_USERGROUP     = var.remind_usergroup
      EXPECTED_INTERVALS   = local.expected_intervals
    })

    secret_environment_variables {
      key        = "SLACK_BOT_TOKEN"
      project_id = var.project_id
      secret     = google_secret_manager_secret.slack_bot_token.secret_id
      version    = var.slack_bot_token_version
    }
  }

  # Cloud Run checks at deploy time that the runtime account can read every referenced secret.
  depends_on = [
    google_project_service.apis,
    google_secret_manager_secret_iam_member.event_reads_bot_token,
    google_project_iam_member.event_run_viewer,
    google_project_iam_member.event_logging_viewer,
    google_project_iam_member.event_datastore_user,
    google_firestore_database.incidents,
  ]
}

# on_slack_action: receives Slack button clicks (Acknowledge / Resolve / Snooze).
resource "google_cloudfunctions2_function" "action" {
  count = local.functions_enabled ? 1 : 0

  project     = var.project_id
  location    = var.region
  name        = local.names.action_function
  description = "jobtriage: Slack interactivity endpoint for incident buttons"
  labels      = local.labels

  build_config {
    runtime         = "python312"
    entry_point     = "on_slack_action"
    service_account = local.build_service_account

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    #checkov:skip=CKV_GCP_124:Slack delivers button clicks from the internet and cannot authenticate to Google; every request must carry a valid Slack signature (HMAC of the raw body with the signing secret, timestamp within 5 minutes) or it is refused before anything is read. Instances are capped by action_max_instances.
    service_account_email = google_service_account.action.email

    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true

    min_instance_count               = var.action_min_instances
    max_instance_count               = var.action_max_instances
    max_instance_request_concurrency = 1
    available_memory                 = "256Mi"
    # Slack waits 3 s for the answer; the message update after it is bounded by API timeouts.
    timeout_seconds = 30

    environment_variables = merge(local.common_env, {
      SLACK_ALLOWED_USERS     = join(",", var.slack_allowed_users)
      SLACK_ALLOWED_USERGROUP = var.slack_allowed_usergroup
    })

    secret_environment_variables {
      key        = "SLACK_BOT_TOKEN"
      project_id = var.project_id
      secret     = google_secret_manager_secret.slack_bot_token.secret_id
      version    = var.slack_bot_token_version
    }

    secret_environment_variables {
      key        = "SLACK_SIGNING_SECRET"
      project_id = var.project_id
      secret     = google_secret_manager_secret.slack_signing_secret.secret_id
      version    = var.slack_signing_secret_version
    }
  }

  depends_on = [
    google_project_service.apis,
    google_secret_manager_secret_iam_member.action_reads_bot_token,
    google_secret_manager_secret_iam_member.action_reads_signing_secret,
    google_project_iam_member.action_datastore_user,
    google_firestore_database.incidents,
  ]
}
