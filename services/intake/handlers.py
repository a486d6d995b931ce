"""Intake's commands: store a report (the 202 promise), handlers' and residents' actions on a case,
keep the case files' owners from the router's events, and publish what is stored but not yet sent."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from shared.errors import BackendUnavailable, Conflict, PoisonMessage
from shared.events.contracts import validated_data
from shared.events.envelope import Envelope, from_document, to_document
from shared.ports import Clock, DocumentStore
from shared.publisher import EventPublisher
from services.intake import casework, domain

log = logging.getLogger(__name__)

REPORTS = "reports"
CASE_FILES = "case_files"  # intake's own read model: state, owner, assignments, and its action outbox
_APPLIED_KEPT = 500  # router event ids remembered per case, to skip redeliveries


@dataclass(frozen=True)
class SubmitReport:
    submission: dict  # validated by schemas.ReportIn (or the Open311 form)
    client_key_id: str
    idempotency_key: str | None
    media_url: str = ""  # Open311: a photo the client hosts itself


@dataclass(frozen=True)
class Accepted:
    case_id: str
    token: str
    replayed: bool
    correlation_id: str = ""  # the CaseReported event's id, which every later event of the case carries


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before for a different request."""


@dataclass(frozen=True)
class Act:
    case_id: str
    action: str  # a key of casework.ACTIONS
    actor: casework.Actor
    payload: dict  # validated by the action's schema
    idempotency_key: str | None


@dataclass(frozen=True)
class Acted:
    response: dict  # {"case_id", "state", "events": [{"id", "type"}]}
    replayed: bool


class CaseNotFound(Exception):
    """No report with this case id."""


def prepare_store(store: DocumentStore) -> None:
    store.ensure_index(REPORTS, ["idempotency"], unique=True)
    store.ensure_index(REPORTS, ["published", "received_at"])
    store.ensure_index(REPORTS, ["token_digest"])
    store.ensure_index(REPORTS, ["received_at"])
    store.ensure_index(CASE_FILES, ["pending", "outbox_since"])


@dataclass(frozen=True)
class NewReport:
    """A report checked and ready to be stored, waiting for its group's write (``report_groups``)."""
    command: SubmitReport
    fingerprint: str
    received_at: datetime
    document: dict  # as it is to be stored, its CaseReported event inside
    token: str  # the resident's follow-up token for the case, derived once for the document and the answer


def submit_report(command: SubmitReport, *, clock: Clock, secret_key: bytes,
                  store_report: Callable[[NewReport], Accepted]) -> Accepted:
    """Build the report and its CaseReported event and hand it to ``store_report``, which returns once it
    is durably stored (that is the promise behind the 202) and has tried to publish it — together with the
    other reports in flight (``report_groups``) — or, for a retry (the Idempotency-Key stored before), the
    stored report's answer. A retry is found by the key's unique index refusing the insert, not by a read
    before it: that read was ~6 % of intake's CPU per report, for the few requests that are retries."""
    fingerprint = domain.request_fingerprint(command.submission)
    report = new_report(command, fingerprint, clock.now(), secret_key)
    validated_data("CaseReported", report.document["event"]["data"])  # fails this request alone, not its group
    return store_report(report)


def new_report(command: SubmitReport, fingerprint: str, now: datetime, secret_key: bytes) -> NewReport:
    """The report under a new case id, unpublished, with its CaseReported event."""
    case_id = domain.new_case_id(now)
    token = domain.follow_up_token(secret_key, case_id)
    return NewReport(command, fingerprint, now, _report_document(command, fingerprint, now, case_id, token), token)


def _report_document(command: SubmitReport, fingerprint: str, now: datetime, case_id: str, token: str) -> dict:
    event = domain.case_reported(case_id, command.submission, now)
    idempotency = (f"{command.client_key_id}:{command.idempotency_key}" if command.idempotency_key
                   else f"none:{case_id}")  # never missing: FerretDB's unique indexes collide on null
    return {"_id": case_id, "idempotency": idempotency, "fingerprint": fingerprint,
            "received_at": now.isoformat(), "published": False, "event": to_document(event),
            "token_digest": domain.token_digest(token),
            "media_url": command.media_url}


def accepted(document: dict, token: str, *, replayed: bool) -> Accepted:
    """The answer for a stored report, with its follow-up token."""
    return Accepted(document["_id"], token, replayed=replayed, correlation_id=document["event"]["correlation_id"])


def earlier_report(store: DocumentStore, command: SubmitReport, fingerprint: str,
                   secret_key: bytes) -> Accepted | None:
    """The answer to a retry of a stored request (same Idempotency-Key); IdempotencyMismatch if the key was
    used for another report; None if the key is new."""
    found = store.find(REPORTS, {"idempotency": f"{command.client_key_id}:{command.idempotency_key}"}, limit=1)
    if not found:
        return None
    if found[0]["fingerprint"] != fingerprint:
        raise IdempotencyMismatch(command.idempotency_key)
    return accepted(found[0], domain.follow_up_token(secret_key, found[0]["_id"]), replayed=True)


def case_file(store: DocumentStore, case_id: str, *, shared: bool = False) -> dict:
    """The case file, created from the stored report the first time it is needed (``shared``: the unit of
    work's own document, not a copy — for a caller that never changes it)."""
    found = store.get(CASE_FILES, case_id, shared=shared)
    if found is not None:
        return found
    report = store.get(REPORTS, case_id)
    if report is None:
        raise CaseNotFound(case_id)
    try:
        # the case's correlation id (its CaseReported event's) follows every action event, so one id
        # finds the case in every service's logs and on every topic
        return store.insert(CASE_FILES, {**casework.new_case_file(case_id, report["event"]["data"]),
                                         "correlation_id": report["event"]["correlation_id"]})
    except Conflict:
        return store.get(CASE_FILES, case_id)


def act(command: Act, *, store: DocumentStore, publisher: EventPublisher, clock: Clock) -> Acted:
    """Check the action against the case file, store the new state with its events in the file's outbox
    (one compare-and-set write: the promise), then publish them; the relay covers an outage."""
    fingerprint = domain.request_fingerprint({"action": command.action, **command.payload})
    request_key = (hashlib.sha256(f"{command.actor.credential}|{command.idempotency_key}".encode()).hexdigest()[:32]
                   if command.idempotency_key else None)
    for _ in range(20):
        case = case_file(store, command.case_id)
        earlier = case["requests"].get(request_key) if request_key else None
        if earlier is not None:
            if earlier["fingerprint"] != fingerprint:
                raise IdempotencyMismatch(command.idempotency_key)
            return Acted(earlier["response"], replayed=True)
        assignment = casework.check(command.action, command.actor, case, command.payload)
        now = clock.now()
        updated, recorded = casework.apply(command.action, command.actor, case, command.payload, assignment,
                                           now.isoformat())
        envelopes = _envelopes(command.case_id, recorded, now, case.get("correlation_id", ""))
        response = {"case_id": command.case_id, "state": updated["state"],
                    "events": [{"id": e.id, "type": e.type} for e in envelopes]}
        updated["outbox"] = case["outbox"] + [to_document(e) for e in envelopes]
        updated["pending"], updated["outbox_since"] = True, case.get("outbox_since") or now.isoformat()
        if request_key:
            updated["requests"] = {**case["requests"], request_key: {"fingerprint": fingerprint, "response": response}}
        try:
            stored = store.replace(CASE_FILES, updated)
            break
        except Conflict:
            continue  # someone else wrote the file meanwhile: check again against the new state
    else:
        raise BackendUnavailable(f"case {command.case_id} is too busy; retry")
    _flush(store, publisher, stored)
    return Acted(response, replayed=False)


def _envelopes(case_id: str, recorded: list[tuple[str, dict]], now, correlation_id: str = "") -> list[Envelope]:
    first = Envelope(type=recorded[0][0], source=domain.SOURCE, subject=case_id, data=recorded[0][1], time=now,
                     correlation_id=correlation_id)
    return [first] + [first.caused(event_type, domain.SOURCE, data) for event_type, data in recorded[1:]]


def _flush(store: DocumentStore, publisher: EventPublisher, case: dict) -> None:
    """Publish a case file's outbox, then take the published events out of it."""
    if not case["outbox"]:
        return
    try:
        publisher.publish([from_document(d) for d in case["outbox"]])
    except BackendUnavailable as error:
        log.warning("case %s: events stored; publishing deferred to the relay: %s", case["_id"], error)
        return
    sent = {d["id"] for d in case["outbox"]}
    for _ in range(20):
        left = [d for d in case["outbox"] if d["id"] not in sent]
        try:
            store.replace(CASE_FILES, {**case, "outbox": left, "pending": bool(left),
                                       "outbox_since": case.get("outbox_since") if left else None})
            return
        except Conflict:
            case = store.get(CASE_FILES, case["_id"])


def record_router_event(event: Envelope, *, store: DocumentStore) -> list[Envelope]:
    """Keep the case file's owner and assignments as the router decides them, and learn of a merged
    duplicate (a consume-loop reaction).

    The case file is read and written without the unit of work's copies (``shared=True``,
    ``handed_over=True``; they were ~20 % of intake's worker CPU): safe because the ``casework.record_*``
    functions build a new file instead of changing the one they get (they replace whole values, never
    change a nested one in place), the fields set here go into a new top level, and nothing touches the
    written file afterwards."""
    for _ in range(20):
        try:
            case = case_file(store, event.subject, shared=True)
        except CaseNotFound:
            case = store.get(CASE_FILES, event.subject) or _insert_unknown(store, event.subject)
        if event.id in case["applied"]:
            return []  # a redelivery
        time = event.time.isoformat()
        if event.type == "CaseAssigned":
            updated = casework.record_assignment(case, event.data, event.id, time)
        elif event.type == "DuplicateMerged":
            updated = casework.record_duplicate_merged(case, event.data, time)
        else:
            updated = casework.record_escalation(case, event.data, time)
        updated = {**updated, "applied": (case["applied"] + [event.id])[-_APPLIED_KEPT:]}
        updated.setdefault("correlation_id", event.correlation_id)
        try:
            store.replace(CASE_FILES, updated, handed_over=True)
            return []
        except Conflict:
            continue
    raise BackendUnavailable(f"case {event.subject} is too busy")


def _insert_unknown(store: DocumentStore, case_id: str) -> dict:
    # An assignment for a report this store does not hold (another deployment's, or a lost store):
    # keep the owner anyway, so the case can still be acted on.
    try:
        return store.insert(CASE_FILES, casework.new_case_file(case_id, {}))
    except Conflict:
        return store.get(CASE_FILES, case_id)


def relay_unpublished(*, store: DocumentStore, publisher: EventPublisher, clock: Clock,
                      grace_s: float, batch: int = 500) -> int:
    """Publish stored reports and case-file outboxes whose request could not publish them. Publishing
    twice is harmless: the event id is the same, so consumers drop the repeat."""
    cutoff = (clock.now() - timedelta(seconds=grace_s)).isoformat()
    relayed = _relay_reports(store, publisher, cutoff, batch)
    for case in store.find(CASE_FILES, {"pending": True, "outbox_since": {"$lt": cutoff}},
                           sort=[("outbox_since", 1)], limit=batch):
        _flush(store, publisher, case)
        if store.get(CASE_FILES, case["_id"])["pending"]:
            raise BackendUnavailable(f"could not publish case {case['_id']}'s events")
        relayed += len(case["outbox"])
    return relayed


def _relay_reports(store: DocumentStore, publisher: EventPublisher, cutoff: str, batch: int) -> int:
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
    return store.count(REPORTS, {"published": False}) + store.count(CASE_FILES, {"pending": True})


COMMANDS = {
    SubmitReport: submit_report,
    Act: act,
}
REACTIONS = {  # router.events, consumed by intake's worker (group "intake")
    "CaseAssigned": record_router_event,
    "CaseEscalated": record_router_event,
    "DuplicateMerged": record_router_event,
}
