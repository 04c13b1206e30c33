"""Diagnosis: findings ranked into a report, rendered for a terminal or as JSON."""

from jobtriage.console import Links
from jobtriage.diagnosis.model import Change, RankedCause, Report, Summary
from jobtriage.diagnosis.render import to_json, to_json_obj, to_text
from jobtriage.diagnosis.report import build_report

__all__ = [
    "Change",
    "Links",
    "RankedCause",
    "Report",
    "Summary",
    "build_report",
    "to_json",
    "to_json_obj",
    "to_text",
]
