"""main.py with the event function's clock moved by a file (standins.clock.ShiftedClock): lets
an end-to-end test have half an hour pass between two ticks without waiting for it.

    functions-framework --source tests/e2e/clocked.py --target on_job_event …
    E2E_CLOCK_FILE=<path>: seconds to add to the system's time
"""

from __future__ import annotations

import os

import main
from jobtriage import app
from jobtriage.runtime import Runtime
from jobtriage.settings import Settings
from standins.clock import ShiftedClock

_build_runtime = app.build_runtime


def _clocked(settings: Settings, *, for_clicks: bool = False) -> Runtime:
    rt = _build_runtime(settings, for_clicks=for_clicks)
    rt.clock = ShiftedClock(os.environ["E2E_CLOCK_FILE"])
    return rt


app.build_runtime = _clocked

on_job_event = main.on_job_event
on_slack_action = main.on_slack_action
