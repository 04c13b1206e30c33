"""Evidence: everything known about one execution, gathered once, read by every analyzer."""

from jobtriage.evidence.model import (
    ContainerConfig,
    Evidence,
    ExecutionInfo,
    ExecutionRef,
    Gap,
    JobEvent,
    JobInfo,
    LogLine,
    LogStats,
    Outcome,
    SecretEnv,
    Source,
    Stream,
    TaskAttempt,
    TaskTemplateConfig,
    clip_line,
)

__all__ = [
    "ContainerConfig",
    "Evidence",
    "ExecutionInfo",
    "ExecutionRef",
    "Gap",
    "JobEvent",
    "JobInfo",
    "LogLine",
    "LogStats",
    "Outcome",
    "SecretEnv",
    "Source",
    "Stream",
    "TaskAttempt",
    "TaskTemplateConfig",
    "clip_line",
]
