# The function source: this repository zipped without tests, the local stand-ins (standins/),
# benchmarks, deployment files and local clutter, uploaded under a name that contains the zip's
# hash, so any code change is a new object and therefore a new build and revision of both
# functions (re-uploading under a fixed name would not redeploy them).

locals {
  # Paths relative to the repository root; glob patterns (archive provider >= 2.5.0). A matching
  # directory is left out with everything below it.
  source_excludes = [
    ".git", ".gitignore", ".ci",
    ".venv", ".venv-*", ".env", ".env.*",
    "tests", "standins", "deploy", "bench", "build", "dist", "node_modules",
    ".terraform", "*.tfstate", "*.tfstate.*",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis",
    "**/__pycache__", "**/*.pyc", "**/.DS_Store", ".idea", ".vscode",
    "*.zip",
    # Development configuration only: the runtime installs requirements.txt.
    "pyproject.toml", "requirements-dev.txt", "requirements-tools.txt",
  ]
}

data "archive_file" "source" {
  type        = "zip"
  source_dir  = "${path.module}/.."
  output_path = "${path.module}/.build/jobtriage-source.zip"
  excludes    = local.source_excludes

  # Same modes everywhere, so the same code gives the same hash on every machine.
  output_file_mode = "0666"
}

resource "google_storage_bucket" "source" {
  #checkov:skip=CKV_GCP_62:Holds only this product's own zipped source, written by Terraform; who reads it is recorded by Data Access audit logs where the platform enables them, and a separate log bucket would be one more thing to manage and destroy.
  project  = var.project_id
  name     = coalesce(var.source_bucket_name, "${var.project_id}-${var.name_prefix}-source")
  location = var.region
  labels   = local.labels

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  # Only build inputs live here; `terraform destroy` may delete them.
  force_destroy = true

  versioning {
    enabled = true
  }

  # Superseded source zips are kept a month for reference, then deleted.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_object" "source" {
  bucket = google_storage_bucket.source.name
  name   = "jobtriage-${data.archive_file.source.output_md5}.zip"
  source = data.archive_file.source.output_path
}
