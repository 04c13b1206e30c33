locals {
  apis = [
    "artifactregistry.googleapis.com",     # the functions' built images
    "cloudbuild.googleapis.com",           # builds the functions from source
    "cloudfunctions.googleapis.com",       # the two functions
    "cloudresourcemanager.googleapis.com", # project IAM bindings and the Logging sink
    "cloudscheduler.googleapis.com",       # the tick (scheduler.tf)
    "firestore.googleapis.com",            # the incident store
    "iam.googleapis.com",                  # the service accounts
    "logging.googleapis.com",              # the sink, and reading execution logs
    "pubsub.googleapis.com",               # sink destination, push delivery, dead letters
    "run.googleapis.com",                  # functions run as Cloud Run services; reading jobs
    "secretmanager.googleapis.com",        # the Slack secrets
    "storage.googleapis.com",              # the source bucket
  ]
}

resource "google_project_service" "apis" {
  for_each = var.enable_apis ? toset(local.apis) : toset([])

  project = var.project_id
  service = each.value

  # The project is shared: other workloads may use these APIs, so destroying this module must
  # never turn them off.
  disable_on_destroy         = false
  disable_dependent_services = false
}
