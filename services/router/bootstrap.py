"""The only place the router's adapters are built from settings."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from shared.adapters.system_clock import SystemClock
from shared.backends import build_event_log, build_store
from shared.consumer import ConsumeLoop
from shared.events.contracts import ALL_TOPICS, INTAKE_EVENTS, dead_letter_topic
from shared.org.directory import OrgDirectory
from shared.ports import Clock, DocumentStore, EventLog
from shared.web import create_service_app
from services.router import handlers
from services.router.settings import RouterSettings

SERVICE = "router"


@dataclass
class Router:
    settings: RouterSettings
    store: DocumentStore
    log: EventLog
    clock: Clock

    def deps(self) -> handlers.RouterDeps:
        from services.router.normalise import to_simplified

        return handlers.RouterDeps(OrgDirectory(self.store, refresh_s=self.settings.org_refresh_s),
                                   self.clock, to_simplified, self.settings.triage_below)

    def consume_loop(self) -> ConsumeLoop:
        return ConsumeLoop(self.log, SERVICE, SERVICE, [INTAKE_EVENTS], handlers.reactions(self.deps()))


def build(settings: RouterSettings | None = None, *, store: DocumentStore | None = None,
          log: EventLog | None = None, clock: Clock | None = None) -> Router:
    settings = settings or RouterSettings.from_env()
    return Router(settings, store or build_store(settings.backend),
                  log or build_event_log(settings.backend, client_id=SERVICE), clock or SystemClock())


def prepare(router: Router) -> None:
    router.log.ensure_topics([*ALL_TOPICS, dead_letter_topic(SERVICE)])


def create_app(router: Router | None = None) -> Flask:
    router = router or build()
    app = create_service_app(SERVICE, {"store": router.store.ping, "event_log": router.log.ping})
    app.extensions["griddesk"] = router
    return app
