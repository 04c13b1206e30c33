# Delivery to the event function, with retries and a dead-letter topic.
#
# Why not the function's own Eventarc trigger (event_trigger): Eventarc creates and owns the
# Pub/Sub subscription behind it and offers no dead-letter setting; patching its subscription
# afterwards drifts and is undone whenever the trigger is recreated. Instead this module owns the
# subscription: a push subscription that delivers each message straight to the event function's
# Cloud Run URL, authenticated with an OIDC token of a dedicated service account, with
# exponential backoff and a dead-letter policy. This is Google's "direct Pub/Sub trigger".
#
# What the function receives: Pub/Sub's standard push request, a JSON body
#   {"message": {"data": <base64 LogEntry>, "attributes": {...}, "messageId": ..., "publishTime": ...},
#    "subscription": "projects/<p>/subscriptions/<name>"}
# without CloudEvent headers. The functions framework converts it into a CloudEvent of type
# google.cloud.pubsub.topic.v1.messagePublished (id = messageId, time = publishTime) whose data is
# {"message": {"@type", "data", "attributes", "messageId", "publishTime"}} (no "subscription");
# the endpoint's path carries the topic name so the CloudEvent's source is
# //pubsub.googleapis.com/projects/<p>/topics/<topic>, as Eventarc would send it. on_job_event
# reads data.message.data either way (tests/deploy/test_push_delivery.py proves it).
#
# Retries: any non-2xx answer (an exception escaping on_job_event) or no answer within the
# acknowledgement deadline is a failed delivery; Pub/Sub redelivers with backoff from 10 s to
# 600 s. After var.max_delivery_attempts the message moves to the dead-letter topic, where the
# "-inspect" subscription keeps it for 7 days (README: "When an event could not be delivered").

resource "google_pubsub_subscription" "events" {
  count = local.functions_enabled ? 1 : 0

  project = var.project_id
  name    = local.names.subscription
  topic   = google_pubsub_topic.events.id
  labels  = local.labels

  # For push delivery this is also the HTTP request timeout: longer than the function may run.
  ack_deadline_seconds       = var.event_timeout_seconds + 60
  message_retention_duration = "604800s"

  # A subscription without traffic for 31 days would otherwise expire, and jobs may fail rarely.
  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  push_config {
    # The default run.app URL, so that the request counts as internal for the function's
    # internal-only ingress (Pub/Sub in the same project). The path names the topic; see above.
    push_endpoint = "${google_cloudfunctions2_function.event[0].service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.events.name}"

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.event[0].service_config[0].uri
    }
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.push_invokes_event,
    google_pubsub_topic_iam_member.dead_letter_publisher,
  ]
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:Holds only copies of the audit entries the events topic carried (see that topic's reason).
  project = var.project_id
  name    = local.names.dead_letter
  labels  = local.labels

  depends_on = [google_project_service.apis]
}

# Messages published to a topic without a subscription are dropped, so the dead-letter topic has
# one that nobody consumes automatically: a person pulls from it to see what failed.
resource "google_pubsub_subscription" "dead_letter_inspect" {
  project = var.project_id
  name    = local.names.dead_letter_pull
  topic   = google_pubsub_topic.dead_letter.id
  labels  = local.labels

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }
}

# Google creates Pub/Sub's service agent (service-PROJECT_NUMBER@gcp-sa-pubsub…) a little while
# after the API is enabled, not when the enable call returns: on a first apply, granting it a role
# at once fails with "does not exist". Every grant to it waits for this pause instead.
resource "time_sleep" "pubsub_service_agent" {
  create_duration = "90s"

  depends_on = [google_project_service.apis]
}

# Pub/Sub's service agent publishes what could not be delivered to the dead-letter topic…
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent

  depends_on = [time_sleep.pubsub_service_agent]
}

# …and must be able to acknowledge it on the source subscription when it does.
resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  count = local.functions_enabled ? 1 : 0

  project      = var.project_id
  subscription = google_pubsub_subscription.events[0].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent

  depends_on = [time_sleep.pubsub_service_agent]
}

# The service agent mints the push requests' OIDC tokens as the push account. Projects whose
# Pub/Sub API was enabled after 2021-04-08 have this built in; older ones need the grant, and it
# is scoped to the one account that does nothing but invoke the event function.
resource "google_service_account_iam_member" "pubsub_signs_push_tokens" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent

  depends_on = [time_sleep.pubsub_service_agent]
}
