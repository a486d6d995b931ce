"""The only place intake's adapters are built from settings."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import partial

from flask import Flask

from shared.adapters.system_clock import SystemClock
from shared.backends import build_event_log, build_file_store, build_store
from shared.consumer import ConsumeLoop
from shared.events.contracts import ALL_TOPICS, ROUTER_EVENTS, dead_letter_topic
from shared.group_commit import GroupCommit
from shared.org.directory import OrgDirectory
from shared.ports import Clock, DocumentStore, EventLog, FileStore
from shared.publisher import EventPublisher
from shared.web import create_service_app
from services.intake import handlers, report_groups
from services.intake.published_marks import PublishedMarks
from services.intake.rate_limits import RATE_COUNTERS, Limit, RateLimiter
from services.intake.settings import IntakeSettings

SERVICE = "intake"
CONSUMED_TOPICS = (ROUTER_EVENTS,)  # read by the worker (group SERVICE)


@dataclass
class Intake:
    settings: IntakeSettings
    store: DocumentStore
    log: EventLog
    clock: Clock
    secret_key: bytes

    directory: OrgDirectory
    rate_limiter: RateLimiter
    files: FileStore
    published_marks: PublishedMarks
    report_writes: GroupCommit  # stores the reports in flight together (services.intake.report_groups)
    openapi: dict | None = None  # built on first request, then kept

    @property
    def publisher(self) -> EventPublisher:
        return EventPublisher(self.log, SERVICE)

    def store_report(self, report: handlers.NewReport) -> handlers.Accepted:
        """Store the report with the others in flight and publish it; returns once it is durable."""
        return self.report_writes.submit(report)

    def consume_loop(self) -> ConsumeLoop:
        """Keeps the case files' owners from the router's events (group ``intake``)."""
        reactions = {event_type: (lambda event, react=react: react(event, store=self.store))
                     for event_type, react in handlers.REACTIONS.items()}
        return ConsumeLoop(self.log, SERVICE, SERVICE, list(CONSUMED_TOPICS), reactions, store=self.store)


def build(settings: IntakeSettings | None = None, *, store: DocumentStore | None = None,
          log: EventLog | None = None, clock: Clock | None = None, files: FileStore | None = None) -> Intake:
    settings = settings or IntakeSettings.from_env()
    store = store or build_store(settings.backend)
    log = log or build_event_log(settings.backend, client_id=SERVICE)
    clock = clock or SystemClock()
    limits = {"key": Limit(settings.rate_key_per_minute, 60), "phone": Limit(settings.rate_phone_per_hour, 3600),
              "ip": Limit(settings.rate_ip_per_minute, 60)}
    secret_key = _secret_key(settings)
    published_marks = PublishedMarks(store, handlers.REPORTS)
    report_writes = GroupCommit(partial(report_groups.store_reports, store=store,
                                        publisher=EventPublisher(log, SERVICE), secret_key=secret_key,
                                        mark_published=published_marks.add), name="intake-reports")
    return Intake(settings, store, log, clock, secret_key, OrgDirectory(store), RateLimiter(store, clock, limits),
                  files or build_file_store(settings.backend), published_marks, report_writes)


def prepare(intake: Intake) -> None:
    """Create topics and indexes (idempotent); run before serving."""
    intake.log.ensure_topics([*ALL_TOPICS, dead_letter_topic(SERVICE)])
    handlers.prepare_store(intake.store)
    intake.store.ensure_index(RATE_COUNTERS, ["expires_at"])


def create_app(intake: Intake | None = None) -> Flask:
    from services.intake.api import blueprint
    from services.intake.open311 import blueprint as open311_blueprint

    intake = intake or build()
    app = create_service_app(SERVICE, {"store": intake.store.ping, "event_log": intake.log.ping,
                                       "files": intake.files.ping},
                             max_body_bytes=intake.settings.max_body_bytes)
    app.extensions["griddesk"] = intake
    app.register_blueprint(blueprint)
    app.register_blueprint(open311_blueprint)
    return app


def _secret_key(settings: IntakeSettings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    # embedded default: a random key kept beside the data, created once, readable by its owner only
    path = os.path.join(settings.backend.data_dir, "secret.key")
    os.makedirs(settings.backend.data_dir, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    with open(path) as handle:
        return handle.read().strip().encode()
