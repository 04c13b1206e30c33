# Names and values shared by the other files. What each file holds:
#   apis.tf       the Google APIs the product uses
#   sink.tf       the Logging sink that selects execution outcomes, and its topic
#   pubsub.tf     delivery to the event function: push subscription, retries, dead letters
#   source.tf     the zipped function source and the bucket it is uploaded to
#   functions.tf  the two Cloud Functions
#   iam.tf        one service account per function and exactly the roles jobtriage/iam.py lists
#   secrets.tf    the two Slack secrets (never their values)
#   firestore.tf  the incident store and the expiry of its delivery claims
#   scheduler.tf  the tick: reminders and missed runs, published to the events topic

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  labels = merge({ app = "jobtriage" }, var.labels)

  names = {
    event_function   = "${var.name_prefix}-event"
    action_function  = "${var.name_prefix}-slack-actions"
    event_sa         = "${var.name_prefix}-event"
    action_sa        = "${var.name_prefix}-actions"
    push_sa          = "${var.name_prefix}-push"
    topic            = "${var.name_prefix}-job-outcomes"
    subscription     = "${var.name_prefix}-job-outcomes-push"
    dead_letter      = "${var.name_prefix}-job-outcomes-dead-letter"
    dead_letter_pull = "${var.name_prefix}-job-outcomes-dead-letter-inspect"
    sink             = "${var.name_prefix}-job-outcomes"
    bot_token        = "${var.name_prefix}-slack-bot-token"
    signing_secret   = "${var.name_prefix}-slack-signing-secret"
    tick             = "${var.name_prefix}-tick"
  }

  # The functions are deployed once both Slack secrets have a version to read (see README:
  # "Deploying", steps 3-4). Before that, a function could not start.
  functions_enabled = var.slack_bot_token_version != null && var.slack_signing_secret_version != null

  # Pub/Sub's own service agent moves undeliverable messages to the dead-letter topic and signs
  # push requests. It exists once the Pub/Sub API is enabled.
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  firestore_database = var.create_firestore_database ? google_firestore_database.incidents[0].name : var.firestore_database
  # IAM condition limiting roles/datastore.user to that database (resource.name of a Firestore
  # database: projects/PROJECT/databases/DATABASE).
  firestore_condition = "resource.name == \"projects/${var.project_id}/databases/${local.firestore_database}\""
}
