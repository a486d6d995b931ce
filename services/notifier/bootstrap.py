"""The only place the notifier's adapters are built from settings."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from shared.adapters.system_clock import SystemClock
from shared.backends import build_event_log, build_store
from shared.consumer import ConsumeLoop
from shared.events.contracts import ALL_TOPICS, ROUTER_EVENTS, dead_letter_topic
from shared.ports import Clock, DocumentStore, EventLog
from shared.web import create_service_app
from services.notifier import handlers
from services.notifier.settings import NotifierSettings

SERVICE = "notifier"


@dataclass
class Notifier:
    settings: NotifierSettings
    store: DocumentStore
    log: EventLog
    clock: Clock

    def consume_loop(self) -> ConsumeLoop:
        deps = handlers.NotifierDeps(self.store, self.clock, self.settings.public_url)
        return ConsumeLoop(self.log, SERVICE, SERVICE, [ROUTER_EVENTS], handlers.reactions(deps))


def build(settings: NotifierSettings | None = None, *, store: DocumentStore | None = None,
          log: EventLog | None = None, clock: Clock | None = None) -> Notifier:
    settings = settings or NotifierSettings.from_env()
    return Notifier(settings, store or build_store(settings.backend),
                    log or build_event_log(settings.backend, client_id=SERVICE), clock or SystemClock())


def prepare(notifier: Notifier) -> None:
    notifier.log.ensure_topics([*ALL_TOPICS, dead_letter_topic(SERVICE)])
    handlers.prepare_store(notifier.store)


def create_app(notifier: Notifier | None = None) -> Flask:
    from services.notifier.api import blueprint

    notifier = notifier or build()
    app = create_service_app(SERVICE, {"store": notifier.store.ping, "event_log": notifier.log.ping})
    app.extensions["griddesk"] = notifier
    app.register_blueprint(blueprint)
    return app
