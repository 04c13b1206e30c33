# ---------------------------------------------------------------------------------------------
# Where it runs
# ---------------------------------------------------------------------------------------------

variable "project_id" {
  description = "Project that runs the Cloud Run Jobs to watch. Everything is created here."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 lower-case letters, digits, hyphens), not a name or number."
  }
}

variable "region" {
  description = "Region of the two functions, the source bucket and (unless firestore_location says otherwise) the Firestore database, e.g. asia-northeast3. Jobs in any region of the project are watched."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]{1,2}$", var.region))
    error_message = "region must be a Cloud Run region such as us-central1 or asia-northeast3."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (functions, service accounts, topics, sink, secrets). Change it to run two independent installations in one project."
  type        = string
  default     = "jobtriage"

  validation {
    # Service account ids are 6-30 characters and the longest suffix added here is "-actions".
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 4-21 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "labels" {
  description = "Labels added to every resource that takes labels."
  type        = map(string)
  default     = {}
}

variable "enable_apis" {
  description = "Enable the Google APIs the product uses. Set false when the platform enables APIs elsewhere. APIs are never disabled on destroy."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------
# What is watched and where reports go
# ---------------------------------------------------------------------------------------------

variable "watched_jobs" {
  description = "Names of the Cloud Run Jobs to watch. Empty (the default) watches every job in the project."
  type        = list(string)
  default     = []

  validation {
    # The same rule as JOB_NAME_PATTERN in jobtriage/sink_filter.py (a test compares them): it
    # admits nothing that would need escaping inside the sink filter's regular expression.
    condition     = alltrue([for job in var.watched_jobs : can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", job))])
    error_message = "Every watched job must be a Cloud Run job name: lower-case letters, digits and hyphens, starting with a letter, at most 63 characters."
  }
}

variable "slack_channel" {
  description = "Slack channel the reports go to. Prefer the channel ID (C0123ABCD, from the channel's 'About' tab): it survives renames. The bot must be invited to it."
  type        = string

  validation {
    condition     = length(trimspace(var.slack_channel)) > 0
    error_message = "slack_channel must name a channel (preferably its ID, e.g. C0123ABCD)."
  }
}

variable "report_language" {
  description = "Language of the Slack reports: en or ko."
  type        = string
  default     = "en"

  validation {
    condition     = contains(["en", "ko"], var.report_language)
    error_message = "report_language must be \"en\" or \"ko\"."
  }
}

variable "slack_allowed_users" {
  description = "Slack user IDs (U…/W…) allowed to Acknowledge, Resolve or Snooze. Empty lets everyone in the channel click."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for user in var.slack_allowed_users : can(regex("^[UW][A-Z0-9]{2,}$", user))])
    error_message = "slack_allowed_users must be Slack user IDs such as U0123ABCD (profile > ⋮ > Copy member ID)."
  }
}

variable "slack_allowed_usergroup" {
  description = "A Slack user group ID (S…) whose members may also click. Empty: only slack_allowed_users (or everyone when both are empty)."
  type        = string
  default     = ""

  validation {
    condition     = var.slack_allowed_usergroup == "" || can(regex("^S[A-Z0-9]{2,}$", var.slack_allowed_usergroup))
    error_message = "slack_allowed_usergroup must be a Slack user group ID such as S0123ABCD."
  }
}

# ---------------------------------------------------------------------------------------------
# Ticks (scheduler.tf, jobtriage/ticks.py): reminders and missed runs
# ---------------------------------------------------------------------------------------------

variable "tick_schedule" {
  description = "Cron schedule (UTC) of the tick that reminds of unacknowledged incidents and looks for missed runs. Empty: no tick, so neither happens."
  type        = string
  default     = "*/5 * * * *"

  validation {
    condition     = var.tick_schedule == "" || length(split(" ", trimspace(var.tick_schedule))) == 5
    error_message = "tick_schedule must be a five-field cron expression such as \"*/5 * * * *\", or empty."
  }
}

variable "remind_after_minutes" {
  description = "An incident nobody acknowledged (or snoozed) for this many minutes gets one reminder in its thread (REMIND_AFTER_MINUTES). 0: no reminders."
  type        = number
  default     = 30

  validation {
    condition     = var.remind_after_minutes >= 0 && var.remind_after_minutes <= 10080 && floor(var.remind_after_minutes) == var.remind_after_minutes
    error_message = "remind_after_minutes must be a whole number from 0 to 10080 (a week)."
  }
}

variable "remind_usergroup" {
  description = "Slack user group ID (S…) the reminder mentions, e.g. the on-call group. Empty: the reminder mentions nobody."
  type        = string
  default     = ""

  validation {
    condition     = var.remind_usergroup == "" || can(regex("^S[A-Z0-9]{2,}$", var.remind_usergroup))
    error_message = "remind_usergroup must be a Slack user group ID such as S0123ABCD."
  }
}

variable "expected_intervals" {
  description = "Jobs that must succeed at least this often, e.g. { \"nightly-export\" = \"26h\", billing = \"90m\" } (EXPECTED_INTERVALS; m, h or d, from 10m to 60d, at most 20 jobs). A tick opens one incident for a job whose newest executions hold no success within its interval."
  type        = map(string)
  default     = {}

  validation {
    condition = length(var.expected_intervals) <= 20 && alltrue([
      for job, interval in var.expected_intervals :
      can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", job)) && can(regex("^[0-9]{1,5}[mhd]$", interval))
    ])
    error_message = "expected_intervals maps Cloud Run job names to intervals such as \"26h\", \"90m\" or \"2d\" (at most 20 jobs)."
  }
}

variable "expected_jobs_region" {
  description = "Region of the jobs in expected_intervals. null uses var.region."
  type        = string
  default     = null

  validation {
    condition     = var.expected_jobs_region == null || can(regex("^[a-z]+-[a-z]+[0-9]{1,2}$", var.expected_jobs_region))
    error_message = "expected_jobs_region must be a Cloud Run region such as asia-northeast3."
  }
}

# ---------------------------------------------------------------------------------------------
# Slack secrets. Terraform creates the two secrets but never their values: values added with
# `gcloud secrets versions add` stay out of Terraform state. Until both versions below are set,
# the functions are not deployed (a function cannot start on a secret without a version).
# ---------------------------------------------------------------------------------------------

variable "slack_bot_token_version" {
  description = "Secret Manager version number of the Slack bot token (xoxb-…) to use, as printed by `gcloud secrets versions add` (\"Created version [1]\"). null until it has been added. \"latest\" is accepted but not recommended: see README."
  type        = string
  default     = null

  validation {
    condition     = var.slack_bot_token_version == null || can(regex("^([1-9][0-9]*|latest)$", var.slack_bot_token_version))
    error_message = "slack_bot_token_version must be a version number such as \"1\" (or \"latest\")."
  }
}

variable "slack_signing_secret_version" {
  description = "Secret Manager version number of the Slack app's signing secret to use. null until it has been added."
  type        = string
  default     = null

  validation {
    condition     = var.slack_signing_secret_version == null || can(regex("^([1-9][0-9]*|latest)$", var.slack_signing_secret_version))
    error_message = "slack_signing_secret_version must be a version number such as \"1\" (or \"latest\")."
  }
}

# ---------------------------------------------------------------------------------------------
# Capacity and timing
# ---------------------------------------------------------------------------------------------

variable "event_max_instances" {
  description = "Most instances of the event function at once. Each diagnosis makes about 3 Cloud Run API and 1-2 Logging reads; Logging allows roughly 60 reads a minute per project, so a burst of failures is better queued than fanned out."
  type        = number
  default     = 3

  validation {
    condition     = var.event_max_instances >= 1 && var.event_max_instances <= 100 && floor(var.event_max_instances) == var.event_max_instances
    error_message = "event_max_instances must be a whole number from 1 to 100."
  }
}

variable "event_timeout_seconds" {
  description = "Time one diagnosis may take. It waits log_wait_seconds for late log lines, then makes a handful of API calls with their own 10 s timeouts and posts to Slack; the Pub/Sub acknowledgement deadline is set a minute above it."
  type        = number
  default     = 120

  validation {
    # The acknowledgement deadline (this + 60 s) must fit in Pub/Sub's 600 s. A delivery may run
    # longer than its claim lease (CLAIM_LEASE, jobtriage/incident/ledger.py): the lease is renewed
    # when its Slack post starts, and a delivery taken over meanwhile is refused the post.
    condition     = var.event_timeout_seconds >= 30 && var.event_timeout_seconds <= 240
    error_message = "event_timeout_seconds must be between 30 and 240."
  }
}

variable "event_memory" {
  description = "Memory of the event function."
  type        = string
  default     = "512Mi"
}

variable "log_wait_seconds" {
  description = "How long the event function waits for the execution's last log lines to arrive in Logging before reading them (LOG_WAIT_SECONDS)."
  type        = number
  default     = 8

  validation {
    condition     = var.log_wait_seconds >= 0 && var.log_wait_seconds <= 60
    error_message = "log_wait_seconds must be between 0 and 60."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of one event before it is moved to the dead-letter topic. Redeliveries back off from 10 s to 600 s, so 20 attempts keep trying for about two and a half hours."
  type        = number
  default     = 20

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (a Pub/Sub limit)."
  }
}

variable "action_min_instances" {
  description = "Instances of the Slack interactivity function kept warm. Slack waits 3 s for a click's answer; 0 costs nothing when idle but the first click after a quiet spell may show Slack's timeout warning (the click is still applied)."
  type        = number
  default     = 0

  validation {
    condition     = var.action_min_instances >= 0 && var.action_min_instances <= 3
    error_message = "action_min_instances must be between 0 and 3."
  }
}

variable "action_max_instances" {
  description = "Most instances of the Slack interactivity function. It is reachable from the internet, so this also caps what a flood of forged requests can cost."
  type        = number
  default     = 3

  validation {
    condition     = var.action_max_instances >= 1 && var.action_max_instances <= 20 && floor(var.action_max_instances) == var.action_max_instances
    error_message = "action_max_instances must be a whole number from 1 to 20."
  }
}

# ---------------------------------------------------------------------------------------------
# Storage and build
# ---------------------------------------------------------------------------------------------

variable "firestore_database" {
  description = "Firestore (Native mode) database that holds incidents. A database of its own by default, so it never touches an application's (default) database."
  type        = string
  default     = "jobtriage"
}

variable "create_firestore_database" {
  description = "Create firestore_database. Set false to use a database that already exists (for example \"(default)\")."
  type        = bool
  default     = true
}

variable "firestore_location" {
  description = "Location of a created Firestore database (a region such as asia-northeast3, or a multi-region such as nam5). null uses var.region."
  type        = string
  default     = null
}

variable "firestore_deletion_policy" {
  description = "What `terraform destroy` does to a created Firestore database: ABANDON keeps it and its incident history (and turns on delete protection), DELETE removes it."
  type        = string
  default     = "ABANDON"

  validation {
    condition     = contains(["ABANDON", "DELETE"], var.firestore_deletion_policy)
    error_message = "firestore_deletion_policy must be ABANDON or DELETE."
  }
}

variable "source_bucket_name" {
  description = "Name of the bucket the function source is uploaded to. null uses \"<project_id>-<name_prefix>-source\"."
  type        = string
  default     = null
}

variable "build_service_account" {
  description = "Email of the service account Cloud Build uses to build the functions. null uses the project's default build account; see README if builds fail with a permission error."
  type        = string
  default     = null
}
