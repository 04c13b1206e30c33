# The Logging sink that selects Cloud Run Job execution outcomes and publishes them to a topic.
#
# The filter text lives in jobtriage/sink_filter.tftpl, the one file both Terraform and the code
# read (jobtriage/sink_filter.py renders it the same way; tests/deploy compares the two). It keeps
# failures (status code 10 for a non-zero exit, 4 for a task timeout) and successes (which close
# incidents), and matches only resource.type "cloud_run_job", so the functions' own logs
# (cloud_run_revision) can never loop back.

locals {
  watched_jobs    = sort(distinct(var.watched_jobs))
  sink_job_clause = length(local.watched_jobs) == 0 ? "" : "AND resource.labels.job_name=~\"^(${join("|", local.watched_jobs)})$\""
  sink_filter     = trimspace(templatefile("${path.module}/../jobtriage/sink_filter.tftpl", { job_clause = local.sink_job_clause }))
}

resource "google_pubsub_topic" "events" {
  #checkov:skip=CKV_GCP_83:Carries Cloud Run's own audit entries, already held in Cloud Logging under Google-managed keys; a customer key would add a KMS dependency without protecting anything new.
  project = var.project_id
  name    = local.names.topic
  labels  = local.labels

  depends_on = [google_project_service.apis]
}

resource "google_logging_project_sink" "job_outcomes" {
  project     = var.project_id
  name        = local.names.sink
  description = "jobtriage: Cloud Run Job execution outcomes (system_event /Jobs.RunJob) to ${local.names.topic}"
  destination = "pubsub.googleapis.com/${google_pubsub_topic.events.id}"
  filter      = local.sink_filter

  # The sink writes as a Google-managed identity (writer_identity), granted publish on this one
  # topic below. It is not the sink's own: Logging uses one writer service account per project
  # (service-PROJECT_NUMBER@gcp-sa-logging.iam.gserviceaccount.com) for all its sinks, so any
  # other sink of the project pointed at this topic could publish to it too.
  unique_writer_identity = true

  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic_iam_member" "sink_publishes" {
  project = var.project_id
  topic   = google_pubsub_topic.events.name
  role    = "roles/pubsub.publisher"
  # Already in "serviceAccount:…" form.
  member = google_logging_project_sink.job_outcomes.writer_identity
}
