"""cloudsql_permission: Cloud SQL IAM and Admin API, and the job's identity."""

from __future__ import annotations

import pytest

from analyzers import cloudsql_permission, db_connection
from jobtriage.evidence import LogLine
from tests.analyzers._build import (
    HEALTHY,
    INSTANCE,
    REF,
    Case,
    check_case,
    config,
    evidence,
    finding_for,
    rank,
    system,
    winner,
)

PROXY_403 = (
    'failed to get instance metadata (connection name = "netureyoutube:asia-northeast3:o4o-db"):'
    " googleapi: Error 403: boss::NOT_AUTHORIZED: Not authorized to access resource. Possibly"
    " missing permission cloudsql.instances.get on resource instances/o4o-db., forbidden"
)
DEFAULT_SA = "123456789012-compute@developer.gserviceaccount.com"

CASES = [
    Case(
        "proxy NOT_AUTHORIZED", (system(PROXY_403),), "CLOUDSQL_NOT_AUTHORIZED", min_strength=0.93
    ),
    Case(
        "older connector wording",
        (
            "Cloud SQL connection failed. Please see https://cloud.google.com/sql/docs/mysql/"
            'connect-overview for additional details: ensure that the account has access to "'
            f"{INSTANCE}\" (and make sure there's no typo in that name). Error during "
            f"generateEphemeral for {INSTANCE}: googleapi: Error 403: The client is not authorized"
            " to make this request., notAuthorized",
        ),
        "CLOUDSQL_NOT_AUTHORIZED",
    ),
    Case(
        "admin api disabled",
        (
            "googleapi: Error 403: Cloud SQL Admin API has not been used in project 123456789012"
            " before or it is disabled. Enable it by visiting https://console.developers.google."
            "com/apis/api/sqladmin.googleapis.com/overview?project=123456789012 then retry.,"
            " accessNotConfigured",
        ),
        "SQLADMIN_API_DISABLED",
        min_strength=0.93,
    ),
    Case(
        "admin api disabled, json form",
        (
            '"reason": "SERVICE_DISABLED", "domain": "googleapis.com", "service": '
            '"sqladmin.googleapis.com"',
        ),
        "SQLADMIN_API_DISABLED",
    ),
    Case(
        "python connector (sic)",
        (
            "aiohttp.client_exceptions.ClientResponseError: 403, message='Forbidden: "
            "Authenticated IAM principal does not seeem authorized to make API request. Verify "
            "'Cloud SQL Admin API' is enabled within your GCP project and 'Cloud SQL Client' role"
            " has been granted to IAM principal.'",
        ),
        "CLOUDSQL_NOT_AUTHORIZED",
    ),
    Case(
        "java connector",
        (
            'The Google Cloud SQL Admin API failed for the project "netureyoutube". Reason: 403'
            " Forbidden",
        ),
        "CLOUDSQL_NOT_AUTHORIZED",
    ),
    Case(
        "default compute account with cloud sql attached",
        (),
        "DEFAULT_COMPUTE_SA",
        cfg=config(service_account=DEFAULT_SA),
        max_strength=0.2,
        fact_contains=(DEFAULT_SA, INSTANCE),
    ),
    Case(
        "no service account named",
        (),
        "DEFAULT_COMPUTE_SA",
        cfg=config(service_account=None),
        max_strength=0.2,
        fact_contains=("PROJECT_NUMBER-compute",),
    ),
    Case("dedicated account, nothing logged", (), None, cfg=config()),
    Case("no cloud sql attached", (), None, cfg=config(service_account=None, cloudsql=())),
    Case(
        "unrelated 403 is not cloud sql",
        ("googleapi: Error 403: storage.objects.get access denied., forbidden",),
        None,
    ),
    Case("healthy run", HEALTHY, None, cfg=config()),
    Case(
        "go connector refresh error with 403",
        (
            'Refresh error: failed to get instance metadata (connection name = "p:r:i"): '
            "googleapi: Error 403: The client is not authorized to make this request., "
            "notAuthorized",
        ),
        "CLOUDSQL_NOT_AUTHORIZED",
        cfg=config(),
    ),
    Case(
        "instance metadata of some other cloud",
        ("failed to get instance metadata for node ip-10-0-1-80: instance not found",),
        None,
        cfg=config(),
    ),
    Case(
        "refused login of an IAM database user",
        ('FATAL: password authentication failed for user "api@my-project.iam"',),
        "CLOUDSQL_IAM_LOGIN",
        cfg=config(),
    ),
    Case(
        "refused login of a built-in user is not IAM",
        ('FATAL: password authentication failed for user "postgres"',),
        None,
        cfg=config(),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_cloudsql_permission(case: Case) -> None:
    check_case(case, cloudsql_permission.analyze)


def test_checks_look_at_the_instance_project_and_the_job_account() -> None:
    sa = "migrate-sa@netureyoutube.iam.gserviceaccount.com"
    finding = cloudsql_permission.analyze(evidence([PROXY_403], cfg=config(service_account=sa)))
    assert finding is not None
    commands = [c.command for c in finding.checks]
    assert any("get-iam-policy netureyoutube" in c and sa in c for c in commands), commands
    assert any("sql instances describe o4o-db --project=netureyoutube" in c for c in commands)
    assert any("sqladmin.googleapis.com" in c and REF.project in c for c in commands)


def test_connector_line_outranks_refused_socket_even_weighted_by_prior() -> None:
    ev = evidence(
        [PROXY_403, f"Error: connect ECONNREFUSED /cloudsql/{INSTANCE}/.s.PGSQL.5432"],
        cfg=config(),
    )
    perm = cloudsql_permission.analyze(ev)
    conn = finding_for(ev, "db_connection")  # after the symptom table
    assert perm is not None
    assert conn is not None
    assert perm.strength > conn.strength
    # The ranking may weigh strength by the seed's priors (0.1 vs 0.3): still first.
    assert (
        perm.strength * cloudsql_permission.CAUSE.prior > conn.strength * db_connection.CAUSE.prior
    )


COMPETING = [
    (
        "NOT_AUTHORIZED then ECONNREFUSED then crash",
        (
            system(PROXY_403),
            f"Error: connect ECONNREFUSED /cloudsql/{INSTANCE}/.s.PGSQL.5432",
            "    at PipeConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)",
            "[UnhandledPromiseRejection: ...] { code: 'ERR_UNHANDLED_REJECTION' }",
        ),
        "cloudsql_permission",
    ),
    (
        "api disabled beats prisma P1001",
        (
            "Cloud SQL Admin API has not been used in project 123456789012 before or it is"
            " disabled.",
            "Error: P1001: Can't reach database server at `/cloudsql/x:y:z`",
        ),
        "cloudsql_permission",
    ),
    (
        "IAM login refused beats the password failure it shows as",
        (
            'password authentication failed for user "codecov-api@foo.iam"',
            "fe_sendauth: no password supplied",
        ),
        "cloudsql_permission",
    ),
]


@pytest.mark.parametrize(("name", "lines", "expected"), COMPETING, ids=[c[0] for c in COMPETING])
def test_competing_causes(name: str, lines: tuple[str | LogLine, ...], expected: str) -> None:
    ev = evidence(lines, cfg=config())
    assert winner(ev) == expected, [(f.cause, f.signature, f.strength) for f in rank(ev)]
