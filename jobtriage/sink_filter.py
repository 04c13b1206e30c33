"""The Logging sink filter that routes Cloud Run Job execution outcomes to the event function.

One source of truth: `sink_filter.tftpl` beside this module. deploy/sink.tf renders it with
`trimspace(templatefile("…/jobtriage/sink_filter.tftpl", { job_clause = … }))`, and
`render_sink_filter` renders it here the same way, so what a deployment routes can be read and
tested without Terraform.

Why each clause (see shared reference gcp-facts §1.3 and §2):
- `resource.type="cloud_run_job"` — job executions only. The functions' own logs are written
  under `cloud_run_revision` (2nd gen functions run on Cloud Run services) or `cloud_function`, so
  a diagnosis can never trigger another one.
- `log_id("cloudaudit.googleapis.com/system_event")` — the System Event audit entry Cloud Run
  writes once per execution when it reaches a terminal state. It is always on (unlike Data Access
  logs) and arrives once per execution, not once per task attempt.
- `protoPayload.methodName="/Jobs.RunJob"` — that entry's method (with the leading slash).
- No severity or status-code clause, on purpose: successes (INFO) close open incidents with a
  "recovered" reply, and a failure is status code 10 (non-zero exit) *or* 4 (task timeout), so a
  `protoPayload.status.code=10` filter would silently miss every timeout.
- Optional job clause, `AND resource.labels.job_name=~"^(a|b)$"`: anchored, so watching `db`
  does not also watch `db-migrate`. Names are checked against Cloud Run's own naming rule, which
  admits no character that is special in a regular expression or a quoted filter string, so the
  clause needs no escaping and cannot be broken out of.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from importlib import resources

TEMPLATE_FILE = "sink_filter.tftpl"

# Cloud Run's rule for job names: lower-case letters, digits and hyphens, starting with a letter,
# not ending with a hyphen, at most 63 characters. deploy/variables.tf validates `watched_jobs`
# with this exact pattern (a test compares the two).
JOB_NAME_PATTERN = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
_JOB_NAME = re.compile(JOB_NAME_PATTERN)

# `${name}` is the only template syntax the file uses; templatefile() substitutes it the same way.
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

SINK_FILTER_TEMPLATE: str = (
    resources.files(__package__ or "jobtriage").joinpath(TEMPLATE_FILE).read_text(encoding="utf-8")
)


def job_clause(jobs: Sequence[str]) -> str:
    """The filter clause that limits the sink to `jobs`; empty when every job is watched.

    Mirrors `local.sink_job_clause` in deploy/sink.tf: distinct names, sorted, joined into one
    anchored alternation.
    """
    if isinstance(jobs, str):
        raise TypeError("jobs must be a sequence of job names, not one string")
    names = sorted(set(jobs))
    for name in names:
        if not _JOB_NAME.match(name):
            raise ValueError(
                f"{name!r} is not a Cloud Run job name (lower-case letters, digits and hyphens, "
                "starting with a letter, at most 63 characters)"
            )
    if not names:
        return ""
    return 'AND resource.labels.job_name=~"^(' + "|".join(names) + ')$"'


def render_template(template: str, variables: Mapping[str, str]) -> str:
    """Substitute `${name}` the way Terraform's templatefile() does for plain interpolations.

    An unknown name is an error, as it is in Terraform. Directives (`%{…}`) and escapes (`$${`)
    are not supported: the sink filter template uses neither, and a test keeps it that way.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise KeyError(f"template variable {name!r} is not set")
        return variables[name]

    return _PLACEHOLDER.sub(substitute, template)


def render_sink_filter(jobs: Sequence[str] = ()) -> str:
    """The exact filter deploy/ gives the Logging sink when `watched_jobs = jobs`."""
    return render_template(SINK_FILTER_TEMPLATE, {"job_clause": job_clause(jobs)}).strip()
