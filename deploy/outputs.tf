output "slack_interactivity_url" {
  description = "Paste into the Slack app: Interactivity & Shortcuts > Request URL. null until the functions are deployed (both secret versions set)."
  value       = one(google_cloudfunctions2_function.action[*].url)
}

output "event_topic" {
  description = "Topic the Logging sink publishes execution outcomes to."
  value       = google_pubsub_topic.events.id
}

output "dead_letter_topic" {
  description = "Topic that receives events the event function could not handle after max_delivery_attempts."
  value       = google_pubsub_topic.dead_letter.id
}

output "dead_letter_subscription" {
  description = "Pull from this subscription to inspect dead-lettered events (README: \"When an event could not be delivered\")."
  value       = google_pubsub_subscription.dead_letter_inspect.id
}

output "service_accounts" {
  description = "The product's service accounts: event function, Slack actions function, and the Pub/Sub push identity."
  value = {
    event_function  = google_service_account.event.email
    action_function = google_service_account.action.email
    pubsub_push     = google_service_account.push.email
  }
}

output "sink_writer_identity" {
  description = "Identity the Logging sink writes as: the project's Logging writer account, shared by its sinks; granted publish on event_topic only."
  value       = google_logging_project_sink.job_outcomes.writer_identity
}

output "sink_filter" {
  description = "The exact Logging filter of the sink: paste into Logs Explorer to see what is routed."
  value       = local.sink_filter
}

output "slack_secrets" {
  description = "Secret Manager secrets to add the Slack values to (gcloud secrets versions add NAME --data-file=-)."
  value = {
    bot_token      = google_secret_manager_secret.slack_bot_token.secret_id
    signing_secret = google_secret_manager_secret.slack_signing_secret.secret_id
  }
}

output "firestore_database" {
  description = "Firestore database holding incidents."
  value       = local.firestore_database
}

output "event_function" {
  description = "Name of the event function (for `gcloud functions logs read`). null until deployed."
  value       = one(google_cloudfunctions2_function.event[*].name)
}

output "next_step" {
  description = "What to do next."
  value       = local.functions_enabled ? "Deployed. Set the Slack app's Request URL to slack_interactivity_url, invite the bot to ${var.slack_channel}, then run the failing test job (README step 7)." : "Add the two Slack secret values (README step 3), then set slack_bot_token_version and slack_signing_secret_version and apply again."
}
