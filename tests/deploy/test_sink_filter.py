"""The sink filter has one source of truth, keeps every outcome the code handles, and nothing else.

- Terraform and `jobtriage.sink_filter.render_sink_filter` render the same text from
  `jobtriage/sink_filter.tftpl` for any list of watched jobs. The Terraform side is evaluated here
  from the parsed HCL itself (the job clause's literal text is taken from deploy/sink.tf), not
  copied from the Python renderer.
- A small evaluator of the filter's clauses shows that every sample under samples/accepted passes
  it and every sample under samples/rejected (the function's own logs among them) does not, and
  `jobtriage.event.parse_log_entry` accepts every entry the filter lets through.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from jobtriage import sink_filter
from jobtriage.event import parse_log_entry
from jobtriage.evidence.model import Outcome
from jobtriage.sink_filter import JOB_NAME_PATTERN, SINK_FILTER_TEMPLATE, render_sink_filter
from tests.deploy import terraform_model as tf

SAMPLES = Path(__file__).parent / "samples"
ACCEPTED = sorted((SAMPLES / "accepted").glob("*.json"))
REJECTED = sorted((SAMPLES / "rejected").glob("*.json"))

JOB_LISTS = [
    [],
    ["o4o-api-migrations"],
    ["nightly-report", "db-migrate", "a"],
    ["db-migrate", "db-migrate", "backfill-2026"],
]


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# --- Terraform's side, evaluated from the HCL -----------------------------------------------


def _hcl_unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\")


def terraform_rendering(jobs: list[str]) -> str:
    """What `local.sink_filter` in deploy/sink.tf evaluates to for `var.watched_jobs = jobs`."""
    locals_ = tf.merged("locals")

    # local.watched_jobs = sort(distinct(var.watched_jobs))
    assert locals_["watched_jobs"] == "${sort(distinct(var.watched_jobs))}"
    watched = sorted(set(jobs))

    # local.sink_job_clause = length(…) == 0 ? "" : "<prefix>${join("|", …)}<suffix>"
    clause_expr = re.fullmatch(
        r'\$\{length\(local\.watched_jobs\) == 0 \? "" : "(?P<body>.*)"\}',
        locals_["sink_job_clause"],
    )
    assert clause_expr, f"unexpected shape of local.sink_job_clause: {locals_['sink_job_clause']}"
    prefix, join_expr, suffix = clause_expr["body"].partition('${join("|", local.watched_jobs)}')
    assert join_expr, "local.sink_job_clause must join local.watched_jobs with |"
    clause = (
        "" if not watched else _hcl_unescape(prefix) + "|".join(watched) + _hcl_unescape(suffix)
    )

    # local.sink_filter = trimspace(templatefile("${path.module}/<file>", { job_clause = … }))
    filter_expr = re.fullmatch(
        r'\$\{trimspace\(templatefile\("\$\{path\.module\}/(?P<path>[^"]+)", '
        r"\{job_clause = local\.sink_job_clause\}\)\)\}",
        locals_["sink_filter"],
    )
    assert filter_expr, f"unexpected shape of local.sink_filter: {locals_['sink_filter']}"
    template_path = (tf.DEPLOY / filter_expr["path"]).resolve()
    assert template_path == (tf.REPO / "jobtriage" / sink_filter.TEMPLATE_FILE).resolve()

    template = template_path.read_text(encoding="utf-8")
    # templatefile() with plain interpolations only: substitute ${job_clause}, nothing else.
    assert re.findall(r"\$\{[^}]*\}", template) == ["${job_clause}"]
    assert "%{" not in template
    assert "$${" not in template
    return template.replace("${job_clause}", clause).strip()


def test_the_sink_uses_the_rendered_template() -> None:
    sink = tf.resource("google_logging_project_sink", "job_outcomes")
    assert sink.body["filter"] == "${local.sink_filter}"
    assert sink.body["destination"] == "pubsub.googleapis.com/${google_pubsub_topic.events.id}"


@pytest.mark.parametrize("jobs", JOB_LISTS, ids=lambda jobs: ",".join(jobs) or "all-jobs")
def test_terraform_and_python_render_the_same_filter(jobs: list[str]) -> None:
    assert terraform_rendering(jobs) == render_sink_filter(jobs)


def test_terraform_validates_job_names_with_the_same_pattern() -> None:
    variable = tf.merged("variable")["watched_jobs"]
    condition = tf.one(variable["validation"])["condition"]
    assert f'can(regex("{JOB_NAME_PATTERN}", job))' in condition


# --- the template and the renderer ------------------------------------------------------------


def test_template_selects_outcomes_without_severity_or_status_code() -> None:
    text = render_sink_filter()
    assert text == (
        'resource.type="cloud_run_job"\n'
        'AND log_id("cloudaudit.googleapis.com/system_event")\n'
        'AND protoPayload.methodName="/Jobs.RunJob"'
    )
    # Successes close incidents and a timeout is status code 4: neither may be filtered out.
    assert "severity" not in SINK_FILTER_TEMPLATE
    assert "status.code" not in SINK_FILTER_TEMPLATE


def test_job_clause_is_anchored_sorted_and_deduplicated() -> None:
    assert render_sink_filter(["db-migrate", "backfill", "db-migrate"]).endswith(
        '\nAND resource.labels.job_name=~"^(backfill|db-migrate)$"'
    )


@pytest.mark.parametrize(
    "bad", ["", "Db", "db_migrate", "-db", "db-", 'a"OR"b', "a|b", "a.b", "x" * 64, "9lives"]
)
def test_names_that_are_not_cloud_run_job_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="Cloud Run job name"):
        render_sink_filter([bad])


def test_one_string_is_not_mistaken_for_a_list_of_names() -> None:
    with pytest.raises(TypeError):
        render_sink_filter("db-migrate")


def test_unknown_template_variables_are_an_error_as_in_terraform() -> None:
    with pytest.raises(KeyError):
        sink_filter.render_template("${job_clause} ${other}", {"job_clause": ""})


# --- what the filter lets through -----------------------------------------------------------

_CLAUSE = re.compile(
    r"""\s*(?:AND\s+)?(?:
        log_id\("(?P<log_id>[^"]+)"\)
      | (?P<field>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>=~|=)\s*"(?P<value>(?:[^"\\]|\\.)*)"
    )\s*""",
    re.VERBOSE,
)


def _field(entry: dict[str, Any], path: str) -> Any:
    value: Any = entry
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def matches(filter_text: str, entry: dict[str, Any]) -> bool:
    """Evaluate a filter made only of AND-ed `f="v"`, `f=~"re"` and `log_id("…")` clauses.

    Anything else in the filter is an error here, so a new kind of clause in the template cannot
    slip past these tests unevaluated. A comparison on a missing field is false, as in Logging.
    """
    position, result = 0, True
    while position < len(filter_text):
        clause = _CLAUSE.match(filter_text, position)
        unknown = f"filter syntax this evaluator does not know: {filter_text[position:]!r}"
        assert clause, unknown
        assert clause.end() > position, unknown
        position = clause.end()
        if clause["log_id"]:
            wanted = "/logs/" + quote(clause["log_id"], safe="")
            result &= str(entry.get("logName", "")).endswith(wanted)
            continue
        actual = _field(entry, clause["field"])
        value = clause["value"].replace('\\"', '"')
        if not isinstance(actual, str):
            result = False
        elif clause["op"] == "=":
            result &= actual == value
        else:
            result &= re.search(value, actual) is not None
    return result


def test_samples_cover_every_outcome() -> None:
    codes = {load(p)["protoPayload"]["status"].get("code", 0) for p in ACCEPTED}
    assert {0, 4, 10} <= codes, "success, task timeout and non-zero exit must all have a sample"
    assert len(REJECTED) >= 2


@pytest.mark.parametrize("path", ACCEPTED, ids=lambda p: p.stem)
def test_the_filter_lets_every_outcome_through(path: Path) -> None:
    assert matches(render_sink_filter(), load(path))
    assert matches(render_sink_filter(["o4o-api-migrations", "other"]), load(path))
    assert not matches(render_sink_filter(["o4o-api"]), load(path)), "job clause must be anchored"


@pytest.mark.parametrize("path", REJECTED, ids=lambda p: p.stem)
def test_the_filter_keeps_out_everything_else(path: Path) -> None:
    assert not matches(render_sink_filter(), load(path))


EXPECTED_OUTCOME = {
    "failure_exit_code": Outcome.FAILED,
    "task_timeout": Outcome.TIMED_OUT,
    "success": Outcome.SUCCEEDED,
    "cancelled": Outcome.CANCELLED,
}


@pytest.mark.parametrize("path", ACCEPTED, ids=lambda p: p.stem)
def test_the_code_accepts_every_entry_the_filter_lets_through(path: Path) -> None:
    entry = load(path)
    assert matches(render_sink_filter(), entry)
    job_event = parse_log_entry(entry)  # raises BadEvent if the code would drop it
    assert job_event.outcome is EXPECTED_OUTCOME[path.stem]
    assert job_event.ref.job == entry["resource"]["labels"]["job_name"]
    assert job_event.ref.execution == entry["labels"]["run.googleapis.com/execution_name"]
    assert job_event.status_code == entry["protoPayload"]["status"].get("code", 0)
