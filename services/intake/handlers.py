"""Intake's commands: store a report (the 202 promise), and publish what is stored but not yet sent."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from shared.errors import BackendUnavailable, Conflict, PoisonMessage
from shared.events.contracts import validated_data
from shared.events.envelope import from_document, to_document
from shared.ports import Clock, DocumentStore
from shared.publisher import EventPublisher
from services.intake import domain

log = logging.getLogger(__name__)

REPORTS = "reports"


@dataclass(frozen=True)
class SubmitReport:
    submission: dict  # validated by schemas.ReportIn
    client_key_id: str
    idempotency_key: str | None


@dataclass(frozen=True)
class Accepted:
    case_id: str
    token: str
    replayed: bool


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before for a different request."""


def prepare_store(store: DocumentStore) -> None:
    store.ensure_index(REPORTS, ["idempotency"], unique=True)
    store.ensure_index(REPORTS, ["published", "received_at"])


def submit_report(command: SubmitReport, *, store: DocumentStore, publisher: EventPublisher,
                  clock: Clock, secret_key: bytes) -> Accepted:
    """Store the report durably (that is the promise behind the 202), then try to publish it at once.
    If the log is down the relay publishes it later; nothing already stored can be lost."""
    fingerprint = domain.request_fingerprint(command.submission)
    if command.idempotency_key:
        replay = _replay(store, command, fingerprint, secret_key)
        if replay:
            return replay
    now = clock.now()
    for _ in range(5):
        case_id = domain.new_case_id(now)
        event = domain.case_reported(case_id, command.submission, now)
        idempotency = (f"{command.client_key_id}:{command.idempotency_key}" if command.idempotency_key
                       else f"none:{case_id}")  # never missing: FerretDB's unique indexes collide on null
        document = {"_id": case_id, "idempotency": idempotency, "fingerprint": fingerprint,
                    "received_at": now.isoformat(), "published": False, "event": to_document(event)}
        try:
            stored = store.insert(REPORTS, document)
            break
        except Conflict:
            replay = _replay(store, command, fingerprint, secret_key) if command.idempotency_key else None
            if replay:
                return replay  # a concurrent retry of the same request won the race
    else:
        raise RuntimeError("could not allocate a unique case id")
    try:
        publisher.publish([event])
        store.replace(REPORTS, {**stored, "published": True})
    except (BackendUnavailable, Conflict) as error:
        log.warning("report %s stored; publishing deferred to the relay: %s", case_id, error)
    return Accepted(case_id, domain.follow_up_token(secret_key, case_id), replayed=False)


def _replay(store: DocumentStore, command: SubmitReport, fingerprint: str, secret_key: bytes) -> Accepted | None:
    found = store.find(REPORTS, {"idempotency": f"{command.client_key_id}:{command.idempotency_key}"}, limit=1)
    if not found:
        return None
    if found[0]["fingerprint"] != fingerprint:
        raise IdempotencyMismatch(command.idempotency_key)
    case_id = found[0]["_id"]
    return Accepted(case_id, domain.follow_up_token(secret_key, case_id), replayed=True)


def relay_unpublished(*, store: DocumentStore, publisher: EventPublisher, clock: Clock,
                      grace_s: float, batch: int = 500) -> int:
    """Publish stored reports whose request could not publish them. Publishing twice is harmless:
    the event id is the same, so consumers drop the repeat."""
    cutoff = (clock.now() - timedelta(seconds=grace_s)).isoformat()
    pending = store.find(REPORTS, {"published": False, "received_at": {"$lt": cutoff}},
                         sort=[("received_at", 1)], limit=batch)
    if not pending:
        return 0
    publishable = []
    for document in pending:
        try:
            validated_data("CaseReported", document["event"]["data"])
            publishable.append(document)
        except PoisonMessage as error:
            # Cannot happen for reports stored by this version; if an older one stored such a report,
            # park it for an operator instead of blocking every report behind it.
            log.error("report %s cannot be published: %s", document["_id"], error)
            _mark(store, document, {"published": None, "publish_error": str(error)})
    publisher.publish([from_document(d["event"]) for d in publishable])
    for document in publishable:
        _mark(store, document, {"published": True})
    log.info("relayed %d stored reports", len(publishable))
    return len(publishable)


def _mark(store: DocumentStore, document: dict, changes: dict) -> None:
    try:
        store.replace(REPORTS, {**document, **changes})
    except Conflict:
        pass  # the request's own publish marked it meanwhile


def unpublished_count(store: DocumentStore) -> int:
    return store.count(REPORTS, {"published": False})


COMMANDS = {
    SubmitReport: submit_report,
}
