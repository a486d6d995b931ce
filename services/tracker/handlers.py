"""The tracker's reactions: every case event is folded into the case's document."""
from __future__ import annotations

from typing import Callable

from shared.errors import Conflict
from shared.events.envelope import Envelope, to_document
from shared.ports import DocumentStore
from services.tracker import domain

CASES = "cases"
CASE_INDEXES = (["reported_at"], ["state"], ["category"], ["tier"], ["org.street"], ["org.community"],
                ["org.branch"], ["org.compound"], ["org.grid"], ["org.building"], ["org.unit"])


def prepare_store(store: DocumentStore) -> None:
    for fields in CASE_INDEXES:
        store.ensure_index(CASES, fields)


def project_case(event: Envelope, store: DocumentStore) -> list[Envelope]:
    """Fold the event into its case. The event id is recorded in the same document write, so a
    redelivered event changes nothing; a lost race is retried from a fresh read."""
    document = to_document(event)
    for _ in range(20):
        case = store.get(CASES, event.subject)
        if case is None:
            try:
                store.insert(CASES, domain.apply(domain.new_case(event.subject), document))
                return []
            except Conflict:
                continue
        if domain.already_applied(case, event.id):
            return []
        try:
            store.replace(CASES, domain.apply(case, document))
            return []
        except Conflict:
            continue
    raise RuntimeError(f"case {event.subject} kept changing while projecting {event.id}")


def reactions(store: DocumentStore) -> dict[str, Callable[[Envelope], list[Envelope]]]:
    """The tracker's whole behaviour at a glance: event type -> reaction."""
    project = lambda event: project_case(event, store)  # noqa: E731
    return {
        "CaseReported": project,
        "CaseClassified": project,
        "CaseAssigned": project,
        "NotificationSent": project,
    }
