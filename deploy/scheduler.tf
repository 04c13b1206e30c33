# The tick (jobtriage/ticks.py): Cloud Scheduler publishes a small message to the events topic
# every var.tick_schedule, and the push subscription delivers it to the event function like any
# execution outcome (same retries, same dead letters). The function recognises it by the
# attribute jobtriage=tick and its body, then reminds once of incidents nobody acknowledged
# within var.remind_after_minutes and opens one incident for each job of var.expected_intervals
# that has not succeeded in time. Every tick is idempotent: a duplicated or late one does nothing
# twice, and one older than 15 minutes is acknowledged without acting.
#
# Cloud Scheduler publishes as its own service agent, which holds roles/cloudscheduler.serviceAgent
# (pubsub.topics.publish on the project's topics) from the moment the API is enabled: no grant.

locals {
  tick_enabled = local.functions_enabled && var.tick_schedule != ""
  tick_body = {
    kind    = "tick"
    version = 1
    project = var.project_id
    # Where the jobs of expected_intervals run (the tick checks their executions there).
    region = coalesce(var.expected_jobs_region, var.region)
  }
}

resource "google_cloud_scheduler_job" "tick" {
  count = local.tick_enabled ? 1 : 0

  project     = var.project_id
  region      = var.region
  name        = local.names.tick
  description = "jobtriage: reminders of unacknowledged incidents and missed runs (jobtriage/ticks.py)"
  schedule    = var.tick_schedule
  time_zone   = "Etc/UTC"

  # A tick that did not publish is replaced by the next one; Scheduler need not retry it.
  retry_config {
    retry_count = 0
  }

  pubsub_target {
    topic_name = google_pubsub_topic.events.id
    data       = base64encode(jsonencode(local.tick_body))
    attributes = {
      jobtriage = "tick"
    }
  }

  depends_on = [google_project_service.apis]
}
