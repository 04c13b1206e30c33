# One service account per function, each granted exactly what jobtriage/iam.py says its code
# needs (tests/deploy/test_terraform.py compares the two), plus one account whose only power is
# to invoke the event function for Pub/Sub. Everything is a single-member grant (*_iam_member):
# nothing here replaces bindings the platform already has.

resource "google_service_account" "event" {
  project      = var.project_id
  account_id   = local.names.event_sa
  display_name = "jobtriage event function"
  description  = "Runs on_job_event: reads Cloud Run jobs and their logs, records incidents, posts to Slack."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "action" {
  project      = var.project_id
  account_id   = local.names.action_sa
  display_name = "jobtriage Slack actions function"
  description  = "Runs on_slack_action: applies Slack button clicks to incidents."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = local.names.push_sa
  display_name = "jobtriage Pub/Sub push"
  description  = "Identity of the push subscription that delivers execution outcomes to the event function."

  depends_on = [google_project_service.apis]
}

# --- event function (jobtriage.iam.EVENT_FUNCTION_ROLES) -------------------------------------

resource "google_project_iam_member" "event_run_viewer" {
  project = var.project_id
  role    = "roles/run.viewer"
  member  = google_service_account.event.member
}

resource "google_project_iam_member" "event_logging_viewer" {
  project = var.project_id
  role    = "roles/logging.viewer"
  member  = google_service_account.event.member
}

# Suspect changes: builds, image annotations, secret metadata, Cloud SQL state.
resource "google_project_iam_member" "event_cloudbuild_viewer" {
  project = var.project_id
  role    = "roles/cloudbuild.builds.viewer"
  member  = google_service_account.event.member
}

resource "google_project_iam_member" "event_artifactregistry_reader" {
  project = var.project_id
  role    = "roles/artifactregistry.reader"
  member  = google_service_account.event.member
}

resource "google_project_iam_member" "event_secretmanager_viewer" {
  project = var.project_id
  role    = "roles/secretmanager.viewer"
  member  = google_service_account.event.member
}

resource "google_project_iam_member" "event_cloudsql_viewer" {
  project = var.project_id
  role    = "roles/cloudsql.viewer"
  member  = google_service_account.event.member
}

resource "google_project_iam_member" "event_datastore_user" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.event.member

  # Only the product's own database: the role is granted on the project (Firestore has no
  # per-database IAM policy), and this condition keeps it off every other database there.
  condition {
    title       = "jobtriage database only"
    description = "roles/datastore.user on the jobtriage incident database alone"
    expression  = local.firestore_condition
  }
}

resource "google_secret_manager_secret_iam_member" "event_reads_bot_token" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.slack_bot_token.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.event.member
}

# --- Slack actions function (jobtriage.iam.ACTION_FUNCTION_ROLES) ----------------------------

resource "google_project_iam_member" "action_datastore_user" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.action.member

  # Only the product's own database: the role is granted on the project (Firestore has no
  # per-database IAM policy), and this condition keeps it off every other database there.
  condition {
    title       = "jobtriage database only"
    description = "roles/datastore.user on the jobtriage incident database alone"
    expression  = local.firestore_condition
  }
}

resource "google_secret_manager_secret_iam_member" "action_reads_bot_token" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.slack_bot_token.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.action.member
}

resource "google_secret_manager_secret_iam_member" "action_reads_signing_secret" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.slack_signing_secret.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.action.member
}

# --- who may call the functions -------------------------------------------------------------
# 2nd gen functions are Cloud Run services: invoking one takes roles/run.invoker on that service
# (granting it on the function resource is rejected).

# The push subscription's account may invoke the event function, and nothing else.
resource "google_cloud_run_v2_service_iam_member" "push_invokes_event" {
  count = local.functions_enabled ? 1 : 0

  project  = var.project_id
  location = var.region
  # The Cloud Run service behind the function (usually, not always, of the same name).
  name   = google_cloudfunctions2_function.event[0].service_config[0].service
  role   = "roles/run.invoker"
  member = google_service_account.push.member
}

# The one public grant: Slack's servers call the interactivity endpoint without Google
# credentials. The function itself refuses any request whose Slack signature does not verify.
# (Organisations that forbid allUsers through the iam.allowedPolicyMemberDomains policy need an
# exception for this service; see README.)
resource "google_cloud_run_v2_service_iam_member" "slack_invokes_action" {
  count = local.functions_enabled ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.action[0].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}
