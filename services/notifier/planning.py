"""Planning deliveries: a message for a recipient becomes one stored delivery per channel chain, under
an id derived from (basis, recipient, channel). The unique id is the at-most-once guarantee: planning
the same message again (a redelivered event, a restarted worker) finds the delivery already there."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from shared.errors import Conflict
from shared.events.envelope import derived_id
from shared.org.directory import OrgDirectory
from shared.ports import Clock, DocumentStore
from services.notifier import messages
from services.notifier.channels import Sender
from services.notifier.domain import PENDING, QuietHours, RetryPolicy, stamp
from services.notifier.routing import Routing

NOTIFICATIONS = "notifications"
CASE_ACTIVITY = "notifier_case_activity"  # what the notifier remembers about cases (reporter, org, assignees)
EMERGENCY_ALERTS = "emergency_alerts"
HELD_IN_QUIET_HOURS = ("sms", "wecom", "dingtalk")  # channels that ring or buzz; the inbox and e-mail wait anyway
GROUP_CHANNELS = ("wecom", "dingtalk")  # a whole group reads these, so residents' details stay masked there


@dataclass
class NotifierDeps:
    store: DocumentStore
    clock: Clock
    public_url: str
    routing: Routing = field(default_factory=Routing)
    senders: Mapping[str, Sender] = field(default_factory=dict)
    directory: OrgDirectory | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    emergency_repeat_s: float = 300.0
    emergency_max_repeats: int = 12
    send_lease_s: float = 300.0

    def case_link(self, case_id: str) -> str:
        return f"{self.public_url}/api/v1/cases/{case_id}"


@dataclass(frozen=True)
class Cause:
    """Why a message is sent. ``basis`` is what delivery ids derive from (the event id, or a repeat's or
    a scheduled message's own id); ``case_id`` is empty for messages about no case (digests, reminders),
    whose outcomes are then not published as events (every event's subject is a case)."""
    basis: str
    about_event_id: str
    about_event_type: str
    case_id: str = ""
    correlation_id: str = ""
    case_org: Mapping[str, str] = field(default_factory=dict)


def compose(routing: Routing, kind: str, facts: Mapping[str, Any], recipient: dict, channel: str, *,
            urgent: bool = False, repeat: int = 0) -> tuple[str, str]:
    language = routing.language
    unmasked = routing.unmasked_for(recipient) and channel not in GROUP_CHANNELS
    values = {**facts, "name": recipient.get("name", ""),
              "urgent": messages.urgent_mark(language) if urgent else "",
              "reporter": messages.reporter_line(language, facts.get("reporter_contact"), unmasked=unmasked)}
    subject, text = messages.render(kind, language, values)
    if repeat:
        text = messages.repeat_mark(language, repeat + 1) + text
    return subject, text


def usable_chains(deps: NotifierDeps, kind: str, recipient: dict, *, urgent: bool) -> list[list[str]]:
    chains = []
    for chain in deps.routing.chains_for(kind, recipient):
        usable = [c for c in chain if c in deps.senders and deps.senders[c].can_reach(recipient)]
        if usable:
            chains.append(usable)
    if urgent:  # emergencies: every channel at once, no waiting for a fallback
        chains = [[channel] for channel in dict.fromkeys(c for chain in chains for c in chain)]
    return chains


def plan_message(deps: NotifierDeps, cause: Cause, recipient: dict, kind: str, facts: Mapping[str, Any], *,
                 urgent: bool = False, repeat: int = 0) -> list[str]:
    """Store a pending delivery for each usable channel chain; the ids of those newly stored."""
    recipient = with_registry_contact(deps, recipient)
    planned = []
    for first, *fallback in usable_chains(deps, kind, recipient, urgent=urgent):
        created = store_delivery(deps, cause, recipient, kind, facts, first, fallback, urgent=urgent, repeat=repeat)
        if created is not None:
            planned.append(created)
    return planned


def with_registry_contact(deps: NotifierDeps, recipient: dict) -> dict:
    """Events carry name and phone; an e-mail address may be known only to the org registry."""
    if recipient.get("email") or deps.directory is None or recipient.get("level") in ("resident", "department"):
        return recipient
    registered = deps.directory.person(recipient.get("org_code"), recipient.get("role", "")) or {}
    return {**recipient, "email": registered["email"]} if registered.get("email") else recipient


def store_delivery(deps: NotifierDeps, cause: Cause, recipient: dict, kind: str, facts: Mapping[str, Any],
                   channel: str, fallback: list[str], *, urgent: bool, repeat: int = 0) -> str | None:
    """Insert one pending delivery; None if it exists already (planned before: never twice)."""
    now = deps.clock.now()
    due, held = now, False
    quiet = None if urgent or channel not in HELD_IN_QUIET_HOURS else deps.routing.quiet_hours_for(recipient)
    if quiet is not None and quiet.contains(now.astimezone(deps.zone)):
        due, held = quiet_end(quiet, now, deps.zone), True
    subject, text = compose(deps.routing, kind, facts, recipient, channel, urgent=urgent, repeat=repeat)
    notification_id = derived_id(cause.basis, f"{recipient['id']}/{channel}")
    try:
        deps.store.insert(NOTIFICATIONS, {
            "_id": notification_id, "case_id": cause.case_id, "about_event_id": cause.about_event_id,
            "about_event_type": cause.about_event_type, "correlation_id": cause.correlation_id or cause.basis,
            "basis": cause.basis, "case_org": dict(cause.case_org), "recipient": recipient, "channel": channel,
            "fallback": list(fallback), "kind": kind, "facts": dict(facts), "urgent": urgent, "repeat": repeat,
            "subject": subject, "message": text, "state": PENDING, "attempts": 0, "held": held,
            "next_attempt_at": stamp(due), "created_at": stamp(now), "sending_since": "", "sent_at": "",
            "error": "", "read": False, "outbox": [], "outbox_pending": False,
        }, handed_over=True)  # built here; nothing changes it or the recipient and facts it holds afterwards
    except Conflict:
        return None
    return notification_id


def quiet_end(quiet: QuietHours, now: datetime, zone: ZoneInfo) -> datetime:
    return quiet.ends_after(now.astimezone(zone))


def person_from_directory(deps: NotifierDeps, code: str | None, role: str) -> dict | None:
    return deps.directory.person(code, role) if deps.directory is not None and code else None


def later(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)
