# jobtriage: diagnoses failed Cloud Run Job executions and posts the finished investigation to
# Slack. This directory is a self-contained Terraform module: apply it on its own (see README.md),
# or call it from an infrastructure repository with
#   module "jobtriage" { source = "git::<this repository>//deploy?ref=<tag>" ... }
# It configures no provider itself, so the caller's google provider (and credentials) are used.
# It reads files outside this directory (the function source and jobtriage/sink_filter.tftpl),
# so it must be consumed from the whole repository, never from a copy of deploy/ alone.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 7.0, < 8.0"
    }
    # 2.5.0 is the first release whose archive_file `excludes` understands glob patterns.
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.5.0"
    }
    # time_sleep: waits for the Pub/Sub service agent, which Google creates shortly after the
    # API is enabled (pubsub.tf).
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9.0"
    }
  }
}
