"""Google Cloud console addresses of one execution: its page, its job, and a Logs Explorer query
for exactly its lines. Shared by the report (diagnosis/) and the Slack messages (notify/)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from jobtriage.evidence import Evidence, ExecutionRef


@dataclass(frozen=True, slots=True)
class Links:
    execution: str
    logs: str
    job: str


def console_links(ref: ExecutionRef, evidence: Evidence | None = None) -> Links:
    """Console page of the execution and a Logs Explorer query for exactly its lines."""
    project = quote(ref.project, safe="")
    execution = (
        "https://console.cloud.google.com/run/jobs/executions/details/"
        f"{quote(ref.region, safe='')}/{quote(ref.execution, safe='')}?project={project}"
    )
    job = (
        "https://console.cloud.google.com/run/jobs/details/"
        f"{quote(ref.region, safe='')}/{quote(ref.job, safe='')}/executions?project={project}"
    )
    query = "\n".join(ref.log_clauses)
    time_range = ""
    execution_info = evidence.execution if evidence else None
    start = execution_info.start_time or execution_info.create_time if execution_info else None
    end = execution_info.completion_time if execution_info else None
    if start and end:
        lo = (start - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        hi = (end + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        time_range = f";timeRange={quote(lo + '/' + hi, safe='')}"
    logs = (
        "https://console.cloud.google.com/logs/query;query="
        f"{quote(query, safe='')}{time_range}?project={project}"
    )
    return Links(execution=execution, logs=logs, job=job)
