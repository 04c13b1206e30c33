# The incident store: one Firestore (Native mode) database. Created here by default; with
# create_firestore_database = false an existing database named by firestore_database is used.
# The tick's reminder query (jobtriage/incident/store/firestore.py, `awaiting_ack`) needs no index
# of its own: one range filter ordered by the same field, `awaiting_ack_since`, is served by the
# automatic single-field index.

resource "google_firestore_database" "incidents" {
  count = var.create_firestore_database ? 1 : 0

  project     = var.project_id
  name        = var.firestore_database
  location_id = coalesce(var.firestore_location, var.region)
  type        = "FIRESTORE_NATIVE"

  deletion_policy         = var.firestore_deletion_policy
  delete_protection_state = var.firestore_deletion_policy == "DELETE" ? "DELETE_PROTECTION_DISABLED" : "DELETE_PROTECTION_ENABLED"

  depends_on = [google_project_service.apis]
}

# Delivery claims (jobtriage/incident/store/, collection "deliveries") are only needed while
# Pub/Sub may still redeliver an event; each carries `expire_at`, and this TTL policy lets
# Firestore delete them after it. The field is exempt from indexing: nothing queries it, and an
# index on an ever-increasing timestamp only adds write cost.
resource "google_firestore_field" "delivery_expiry" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "deliveries"
  field      = "expire_at"

  ttl_config {}

  index_config {}
}

# The incident memory's two bounded reads (jobtriage/incident/store/firestore.py): a job's last
# incidents, newest opened first, and a project's confirmed causes, newest confirmation first.
# Each is an equality filter plus a descending order, which Firestore serves only from a
# composite index.
resource "google_firestore_index" "job_history" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "incidents"

  fields {
    field_path = "job_path"
    order      = "ASCENDING"
  }

  fields {
    field_path = "opened_at"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "project_confirmations" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "incidents"

  fields {
    field_path = "confirmed_project"
    order      = "ASCENDING"
  }

  fields {
    field_path = "confirmed_at"
    order      = "DESCENDING"
  }
}
