"""Everything from outside the process, in one object: settings, Google, the store, Slack, time.

Built once per function instance (`app.build_runtime`); tests, the demo and the load harness
build it from local stand-ins instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from jobtriage.clock import SYSTEM_CLOCK, Clock
from jobtriage.diagnosis import Report
from jobtriage.evidence import Evidence
from jobtriage.evidence.gather import Sources
from jobtriage.incident.ledger import Ledger
from jobtriage.incident.recall import ProjectCache
from jobtriage.incident.store import IncidentStore
from jobtriage.incident.waiting import Waiting
from jobtriage.notify.notifier import Notifier
from jobtriage.settings import Settings
from jobtriage.text import Lang

LOCAL_CHANNEL = "local"


@dataclass
class Runtime:
    settings: Settings
    sources: Sources
    store: IncidentStore
    notifier: Notifier
    clock: Clock = SYSTEM_CLOCK
    # Called with every report built (the demo prints it; tests inspect it).
    on_report: Callable[[Evidence, Report], None] | None = None
    lang: Lang = field(init=False)
    # Members of the allow-list user group, and when they were read (`clock.monotonic()`).
    group_cache: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict)
    # A project's confirmed incidents, and when they were read (`incident.recall`).
    project_cache: ProjectCache = field(default_factory=dict)
    # Repeats this instance deferred, and until when (`incident.waiting`).
    waiting: Waiting = field(default_factory=Waiting)

    def __post_init__(self) -> None:
        self.lang = self.settings.lang

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.store, self.clock, self.notifier)

    @property
    def channel(self) -> str:
        """Where alerts go. Without Slack settings the notifier writes to our logs instead
        (see `app.LogNotifier`), and this names that place."""
        return self.settings.slack_channel or LOCAL_CHANNEL
