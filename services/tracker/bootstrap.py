"""The only place the tracker's adapters are built from settings."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask

from shared.adapters.system_clock import SystemClock
from shared.backends import build_event_log, build_store
from shared.consumer import ConsumeLoop
from shared.deadline_rules import load_deadline_rules
from shared.events.contracts import ALL_TOPICS, dead_letter_topic
from shared.ports import Clock, DocumentStore, EventLog
from shared.publisher import EventPublisher
from shared.web import create_service_app
from shared.working_time import WorkingCalendar
from services.tracker import handlers
from services.tracker.settings import TrackerSettings
from services.tracker.sla import SlaPolicy

SERVICE = "tracker"
CONSUMED_TOPICS = ALL_TOPICS  # read by the worker (group SERVICE)


@dataclass
class Tracker:
    settings: TrackerSettings
    store: DocumentStore
    log: EventLog
    clock: Clock
    policy: SlaPolicy

    def consume_loop(self, group: str = SERVICE, *, between_polls: Callable[[], None] | None = None) -> ConsumeLoop:
        """``between_polls``: the worker's bucket pass, run in the loop's thread between two polls."""
        return ConsumeLoop(self.log, SERVICE, group, list(CONSUMED_TOPICS), handlers.reactions(self.store, self.policy),
                           store=self.store, between_polls=between_polls)

    def sweep(self) -> int:
        return handlers.sweep_deadlines(self.store, EventPublisher(self.log, SERVICE), self.clock, self.policy)


def build(settings: TrackerSettings | None = None, *, store: DocumentStore | None = None,
          log: EventLog | None = None, clock: Clock | None = None) -> Tracker:
    """Reads and validates the routing file's deadline rules first: a bad file stops the start."""
    settings = settings or TrackerSettings.from_env()
    calendar = WorkingCalendar.from_file(settings.calendar_file or None, timezone=settings.timezone)
    policy = SlaPolicy(calendar, load_deadline_rules(settings.routing_file or None), settings.sla_warning_share)
    store = store or build_store(settings.backend, remembered={handlers.CASES: settings.remembered_cases})
    return Tracker(settings, store,
                   log or build_event_log(settings.backend, client_id=SERVICE), clock or SystemClock(), policy)


def prepare(tracker: Tracker) -> None:
    tracker.log.ensure_topics([*ALL_TOPICS, dead_letter_topic(SERVICE)])
    handlers.prepare_store(tracker.store)


def create_app(tracker: Tracker | None = None) -> Flask:
    from services.tracker.api import blueprint
    from services.tracker.dashboard import dashboard

    tracker = tracker or build()
    app = create_service_app(SERVICE, {"store": tracker.store.ping, "event_log": tracker.log.ping})
    app.extensions["griddesk"] = tracker
    app.register_blueprint(blueprint)
    app.register_blueprint(dashboard)
    return app
