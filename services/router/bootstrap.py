"""The only place the router's adapters are built from settings."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from importlib import resources

import yaml
from flask import Flask

from shared.adapters.system_clock import SystemClock
from shared.backends import build_event_log, build_store
from shared.consumer import ConsumeLoop
from shared.events.contracts import ALL_TOPICS, INTAKE_EVENTS, TRACKER_EVENTS, dead_letter_topic, department_topic
from shared.org.directory import OrgDirectory
from shared.ports import Clock, DocumentStore, EventLog
from shared.web import create_service_app
from shared.working_time import WorkingCalendar
from services.router import handlers
from services.router.classification import Classifier
from services.router.dispatch import Planner
from services.router.locator import Locator
from services.router.ngram_model import ModelFileError, NgramModel
from services.router.normalise import to_simplified
from services.router.records import ROUTED_CASES
from services.router.routing_rules import RoutingRules, load_rules
from services.router.settings import RouterSettings

SERVICE = "router"
CONSUMED_TOPICS = (INTAKE_EVENTS, TRACKER_EVENTS)  # read by the worker (group SERVICE)
NO_MODEL = "none"  # GRIDDESK_ROUTER_MODEL_FILE=none: classify with the lexicon alone


def load_classifier(path: str = "", model_path: str = "") -> Classifier:
    """The lexicon and the trained model (``model_path`` "none": the lexicon alone); a bad file stops here."""
    path = path or str(resources.files("services.router") / "data" / "lexicon.yaml")
    with open(path, encoding="utf-8") as handle:
        return Classifier(yaml.safe_load(handle), load_model(model_path))


def load_model(path: str = "") -> NgramModel | None:
    if path.strip().lower() == NO_MODEL:
        return None
    path = path or str(resources.files("services.router") / "data" / "model.json")
    try:
        with open(path, encoding="utf-8") as handle:
            return NgramModel(json.load(handle))
    except (OSError, ValueError) as error:  # ModelFileError and JSONDecodeError are ValueErrors
        raise ModelFileError(f"router model {path}: {error}") from error


def load_routing(settings: RouterSettings) -> RoutingRules:
    rules = load_rules(settings.routing_file or None)
    return rules if settings.triage_below is None else replace(rules, triage_below=settings.triage_below)


@dataclass
class Router:
    settings: RouterSettings
    store: DocumentStore
    log: EventLog
    clock: Clock
    rules: RoutingRules
    classifier: Classifier
    calendar: WorkingCalendar

    def deps(self) -> handlers.RouterDeps:
        directory = OrgDirectory(self.store, refresh_s=self.settings.org_refresh_s)
        return handlers.RouterDeps(
            self.store, directory, Locator(self.store, to_simplified, refresh_s=self.settings.org_refresh_s),
            self.classifier, Planner(self.rules, self.calendar, directory.get), self.clock, to_simplified)

    def consume_loop(self) -> ConsumeLoop:
        return ConsumeLoop(self.log, SERVICE, SERVICE, list(CONSUMED_TOPICS), handlers.reactions(self.deps()),
                           store=self.store)


def build(settings: RouterSettings | None = None, *, store: DocumentStore | None = None,
          log: EventLog | None = None, clock: Clock | None = None) -> Router:
    """Reads and validates the routing rules, the lexicon and the model first: a bad file stops the start."""
    settings = settings or RouterSettings.from_env()
    rules = load_routing(settings)
    classifier = load_classifier(settings.lexicon_file, settings.model_file)
    calendar = WorkingCalendar.from_file(settings.calendar_file or None, timezone=settings.timezone)
    return Router(settings, store or build_store(settings.backend),
                  log or build_event_log(settings.backend, client_id=SERVICE), clock or SystemClock(),
                  rules, classifier, calendar)


def prepare(router: Router) -> None:
    departments = [department_topic(code) for code in router.rules.all_departments()]
    router.log.ensure_topics([*ALL_TOPICS, dead_letter_topic(SERVICE), *departments])
    router.store.ensure_index(ROUTED_CASES, ["compound", "category", "routed_at"])
    router.store.ensure_index(ROUTED_CASES, ["unit", "routed_at"])  # duplicates (handlers._duplicate)
    router.store.ensure_index(ROUTED_CASES, ["reporter", "routed_at"])


def create_app(router: Router | None = None) -> Flask:
    router = router or build()
    app = create_service_app(SERVICE, {"store": router.store.ping, "event_log": router.log.ping})
    app.extensions["griddesk"] = router
    return app
