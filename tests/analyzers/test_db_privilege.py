"""db_privilege and gcp_permission: error codes of a refused privilege, and their near misses."""

from __future__ import annotations

import pytest

from analyzers import db_privilege, gcp_permission
from tests.analyzers._build import HEALTHY, Case, check_case

DB = [
    Case(
        "extensions allowed in one schema only",
        ("ERROR:  Extensions can only be created on heroku_ext schema",),
        "EXTENSION_DENIED",
    ),
    Case(
        "mysql2 table access denied",
        ("Error: ER_TABLEACCESS_DENIED_ERROR (errno 1142)",),
        "MYSQL_COMMAND_DENIED",
    ),
    Case(
        "postgres 15 parameter privilege",
        ('ERROR:  permission denied to set parameter "session_replication_role"',),
        "SUPERUSER_REQUIRED",
    ),
    Case("setting a parameter is healthy", ('SET parameter "search_path"',), None),
    Case("healthy run", HEALTHY, None),
]

GCP = [
    Case(
        "gax-java permission denied",
        (
            "com.google.api.gax.rpc.PermissionDeniedException: io.grpc.StatusRuntimeException: "
            "PERMISSION_DENIED: Permission denied on resource project demo.",
        ),
        "PERMISSION_DENIED",
    ),
    Case(
        "gax-java denial of a secret is secret_config's",
        ("com.google.api.gax.rpc.PermissionDeniedException: secretmanager versions access denied",),
        None,
    ),
]


@pytest.mark.parametrize("case", DB, ids=lambda c: c.name)
def test_db_privilege(case: Case) -> None:
    check_case(case, db_privilege.analyze)


@pytest.mark.parametrize("case", GCP, ids=lambda c: c.name)
def test_gcp_permission(case: Case) -> None:
    check_case(case, gcp_permission.analyze)
