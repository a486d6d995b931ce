"""The only place the notifier's adapters (backends and channels) are built from settings."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable
from zoneinfo import ZoneInfo

from flask import Flask

from shared.adapters.system_clock import SystemClock
from shared.backends import build_event_log, build_store
from shared.consumer import ConsumeLoop
from shared.events.contracts import ALL_TOPICS, INTAKE_EVENTS, ROUTER_EVENTS, TRACKER_EVENTS, dead_letter_topic
from shared.org.directory import OrgDirectory
from shared.ports import Clock, DocumentStore, EventLog
from shared.publisher import EventPublisher
from shared.web import create_service_app
from services.notifier import handlers
from services.notifier.channels import Sender
from services.notifier.channels.dingtalk_robot import DingtalkRobot
from services.notifier.channels.inbox import InAppInbox
from services.notifier.channels.signed_webhook import SignedWebhook
from services.notifier.channels.sms_gateway import HttpSmsGateway
from services.notifier.channels.smtp_email import SmtpEmail
from services.notifier.channels.wecom_robot import WecomRobot
from services.notifier.delivery import DeliveryStep
from services.notifier.domain import RetryPolicy
from services.notifier.planning import NotifierDeps
from services.notifier.routing import Routing
from services.notifier.settings import NotifierSettings

SERVICE = "notifier"
CONSUMED_TOPICS = (ROUTER_EVENTS, TRACKER_EVENTS, INTAKE_EVENTS)  # read by the worker (group SERVICE)


@dataclass
class Notifier:
    settings: NotifierSettings
    store: DocumentStore
    log: EventLog
    clock: Clock
    routing: Routing = field(default_factory=Routing)
    senders: dict[str, Sender] = field(default_factory=dict)

    def deps(self) -> NotifierDeps:
        s = self.settings
        return NotifierDeps(
            store=self.store, clock=self.clock, public_url=s.public_url, routing=self.routing, senders=self.senders,
            directory=OrgDirectory(self.store), zone=ZoneInfo(s.timezone),
            retry=RetryPolicy(s.retry_attempts, s.retry_base_s, s.retry_max_s, s.retry_jitter),
            emergency_repeat_s=s.emergency_repeat_s, emergency_max_repeats=s.emergency_max_repeats,
            send_lease_s=s.send_lease_s)

    def consume_loop(self, deps: NotifierDeps | None = None, *,
                     after_batch: Callable[[], None] | None = None) -> ConsumeLoop:
        """``after_batch``: called once each batch's planned deliveries are stored (the worker wakes the
        delivery step with it)."""
        deps = deps or self.deps()
        return ConsumeLoop(self.log, SERVICE, SERVICE, list(CONSUMED_TOPICS),
                           handlers.reactions(deps), store=deps.store, after_batch=after_batch)

    def delivery_step(self, deps: NotifierDeps | None = None, **options) -> DeliveryStep:
        return DeliveryStep(deps or self.deps(), EventPublisher(self.log, SERVICE), **options)


def build_senders(settings: NotifierSettings, routing: Routing) -> dict[str, Sender]:
    """Every configured channel; a channel without an address is absent, and messages skip it."""
    c = settings.channels
    senders: dict[str, Sender] = {"inbox": InAppInbox()}
    if c.sms_url:
        senders["sms"] = HttpSmsGateway(c.sms_url, token=c.sms_token, timeout_s=c.timeout_s)
    if c.smtp_host:
        senders["email"] = SmtpEmail(c.smtp_host, c.smtp_port, c.smtp_from, security=c.smtp_security,
                                     username=c.smtp_username, password=c.smtp_password, ca_file=c.smtp_ca_file,
                                     timeout_s=c.timeout_s)
    if c.wecom_url:
        senders["wecom"] = WecomRobot(c.wecom_url, timeout_s=c.timeout_s)
    if c.dingtalk_url:
        senders["dingtalk"] = DingtalkRobot(c.dingtalk_url, secret=c.dingtalk_secret, timeout_s=c.timeout_s)
    default_endpoint = {"url": c.webhook_url, "secret": c.webhook_secret} if c.webhook_url else None
    if routing.departments or default_endpoint:
        senders["webhook"] = SignedWebhook(routing.departments, default=default_endpoint, timeout_s=c.timeout_s)
    return senders


def build(settings: NotifierSettings | None = None, *, store: DocumentStore | None = None,
          log: EventLog | None = None, clock: Clock | None = None,
          senders: dict[str, Sender] | None = None) -> Notifier:
    settings = settings or NotifierSettings.from_env()
    routing = Routing.load(settings.routing_file)
    return Notifier(settings, store or build_store(settings.backend),
                    log or build_event_log(settings.backend, client_id=SERVICE), clock or SystemClock(),
                    routing, senders if senders is not None else build_senders(settings, routing))


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
