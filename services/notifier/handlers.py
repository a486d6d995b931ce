"""The notifier's reactions. A message is recorded in the delivery store under an id derived from
(event, recipient, channel) before NotificationSent is published, so redelivery never sends twice."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from shared.errors import Conflict
from shared.events.envelope import Envelope, derived_id
from shared.ports import Clock, DocumentStore
from services.notifier import messages

SOURCE = "/griddesk/notifier"
NOTIFICATIONS = "notifications"
INBOX = "inbox"  # the first channel: a durable in-app inbox that handlers' apps read over HTTP


@dataclass
class NotifierDeps:
    store: DocumentStore
    clock: Clock
    public_url: str


def prepare_store(store: DocumentStore) -> None:
    store.ensure_index(NOTIFICATIONS, ["recipient.id", "created_at"])
    store.ensure_index(NOTIFICATIONS, ["case_org.grid"])


def notify_assignee(event: Envelope, deps: NotifierDeps) -> list[Envelope]:
    assigned = event.data
    recipient = assigned["assignee"]
    notification_id = derived_id(event.id, f"{recipient['id']}/{INBOX}")
    text = messages.assignment_message(event.subject, assigned, f"{deps.public_url}/api/v1/cases/{event.subject}")
    now = deps.clock.now()
    try:
        deps.store.insert(NOTIFICATIONS, {
            "_id": notification_id, "case_id": event.subject, "about_event_id": event.id,
            "recipient": recipient, "channel": INBOX, "message": text, "read": False,
            "case_org": assigned["org"], "created_at": now.isoformat(),
        })
    except Conflict:
        pass  # delivered before this redelivery; announce it again with the same event id
    return [event.caused("NotificationSent", SOURCE, {
        "notification_id": notification_id, "recipient": recipient, "channel": INBOX, "message": text,
        "about_event_id": event.id,
    }, purpose=notification_id, time=now)]


def reactions(deps: NotifierDeps) -> dict[str, Callable[[Envelope], list[Envelope]]]:
    """The notifier's whole behaviour at a glance: event type -> reaction."""
    return {
        "CaseAssigned": lambda event: notify_assignee(event, deps),
    }
