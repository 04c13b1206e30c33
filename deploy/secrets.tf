# The two Slack secrets. Terraform creates the secrets and who may read them, never a version:
# the values are added with `gcloud secrets versions add` (README, step 3) and so are never in
# Terraform state or plan output.

resource "google_secret_manager_secret" "slack_bot_token" {
  project   = var.project_id
  secret_id = local.names.bot_token
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}

resource "google_secret_manager_secret" "slack_signing_secret" {
  project   = var.project_id
  secret_id = local.names.signing_secret
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}
