"""The notifier's reactions to events. A reaction only *plans* messages: it stores one pending
delivery per (event, recipient, channel) under a derived id (planning.py) — no network in the consume
loop. The delivery step (delivery.py) sends them, retries, falls back and publishes the outcomes."""
from __future__ import annotations

from typing import Callable

from shared.errors import BackendUnavailable, Conflict
from shared.events.envelope import Envelope
from shared.ports import DocumentStore
from services.notifier import emergencies
from services.notifier.domain import stamp
from services.notifier.planning import (CASE_ACTIVITY, EMERGENCY_ALERTS, NOTIFICATIONS, Cause, NotifierDeps,
                                        person_from_directory, plan_message)

SOURCE = "/griddesk/notifier"
LEVEL_ROLES = {"district": "command_center", "street": "street_office", "community": "community_secretary",
               "branch": "branch_secretary", "compound": "property_manager", "grid": "grid_worker",
               "building": "building_head", "unit": "unit_steward"}
__all__ = ["NOTIFICATIONS", "NotifierDeps", "SOURCE", "prepare_store", "reactions"]


def prepare_store(store: DocumentStore) -> None:
    store.ensure_index(NOTIFICATIONS, ["recipient.id", "created_at"])
    store.ensure_index(NOTIFICATIONS, ["case_org.grid"])
    store.ensure_index(NOTIFICATIONS, ["state", "next_attempt_at"])
    store.ensure_index(NOTIFICATIONS, ["outbox_pending"])
    store.ensure_index(EMERGENCY_ALERTS, ["case_id"])
    store.ensure_index(EMERGENCY_ALERTS, ["acknowledged", "next_repeat_at"])
    store.ensure_index(CASE_ACTIVITY, ["org.community"])


def remember(deps: NotifierDeps, case_id: str, change: Callable[[dict], dict]) -> dict:
    """Apply ``change`` to what the notifier knows about the case (compare-and-set, retried). ``change``
    returns a new document and never changes the one it is given, nor anything inside it: the document is
    read and written without the unit of work's copies (``shared``, ``handed_over``), and the returned one
    is only read."""
    for _ in range(10):
        known = deps.store.get(CASE_ACTIVITY, case_id, shared=True)
        base = known or {"_id": case_id, "reporter": {}, "org": {}, "assignments": [], "owner": None,
                         "first_assigned_at": "", "breached_at": "", "resolved_at": "", "closed_at": ""}
        updated = change(dict(base))
        try:
            return (deps.store.replace(CASE_ACTIVITY, updated, handed_over=True) if known
                    else deps.store.insert(CASE_ACTIVITY, updated, handed_over=True))
        except Conflict:
            continue
    raise BackendUnavailable(f"what the notifier knows about {case_id} kept changing")


def cause_of(event: Envelope, org: dict | None = None) -> Cause:
    return Cause(basis=event.id, about_event_id=event.id, about_event_type=event.type, case_id=event.subject,
                 correlation_id=event.correlation_id, case_org=org or {})


def case_facts(event: Envelope, deps: NotifierDeps, known: dict) -> dict:
    return {"case_id": event.subject, "link": deps.case_link(event.subject), "category": known.get("category", ""),
            "tier": known.get("tier", ""), "summary": known.get("summary", ""),
            "reporter_contact": known.get("reporter") or None}


def remember_report(event: Envelope, deps: NotifierDeps) -> list[Envelope]:
    reporter = event.data.get("reporter") or {}
    remember(deps, event.subject, lambda k: {**k, "reporter": {"name": reporter.get("name", ""),
                                                               "phone": reporter.get("phone", "")},
                                             "reported_at": event.data.get("reported_at", "")})
    return []


def notify_assignee(event: Envelope, deps: NotifierDeps) -> list[Envelope]:
    assigned = event.data
    assignee, assignment_id = assigned["assignee"], assigned.get("assignment_id") or event.id

    def note(known: dict) -> dict:
        assignments = [a for a in known["assignments"] if a["assignment_id"] != assignment_id]
        assignments.append({"assignment_id": assignment_id, "assignee": assignee,
                            "parallel": assigned.get("parallel", False)})
        return {**known, "org": assigned["org"], "tier": assigned["tier"], "category": assigned["category"],
                "summary": assigned.get("summary", ""), "assignments": assignments,
                "owner": known["owner"] if assigned.get("parallel") else assignee,
                "first_assigned_at": known["first_assigned_at"] or stamp(event.time)}

    known = remember(deps, event.subject, note)
    cause, facts = cause_of(event, assigned["org"]), case_facts(event, deps, known)
    urgent = assigned["tier"] == "emergency"
    plan_message(deps, cause, assignee, "CaseAssigned", facts, urgent=urgent)
    if urgent:
        emergencies.open_alert(deps, cause, assignee, facts, assignment_id, assigned.get("parallel", False))
    return []


def notify_informed(event: Envelope, deps: NotifierDeps) -> list[Envelope]:
    known = deps.store.get(CASE_ACTIVITY, event.subject, shared=True) or {}
    facts = {**case_facts(event, deps, known), "reason": event.data["reason"]}
    plan_message(deps, cause_of(event, known.get("org")), event.data["person"], "CaseInformed", facts)
    return []


def _assignee_of(known: dict, assignment_id: str) -> dict | None:
    for assignment in known.get("assignments", []):
        if assignment["assignment_id"] == assignment_id:
            return assignment["assignee"]
    return known.get("owner")


def notify_escalation(event: Envelope, deps: NotifierDeps) -> list[Envelope]:
    """The one who let it slip, and the person now responsible at the level it moved to (督办)."""
    known = deps.store.get(CASE_ACTIVITY, event.subject, shared=True) or {}
    org = known.get("org") or {}
    facts = {**case_facts(event, deps, known), **{k: event.data[k] for k in ("from_level", "to_level", "reason")}}
    recipients = [_assignee_of(known, event.data.get("assignment_id", "")),
                  person_from_directory(deps, org.get(event.data["to_level"]),
                                        LEVEL_ROLES.get(event.data["to_level"], ""))]
    _plan_for_each(deps, cause_of(event, org), recipients, "CaseEscalated", facts)
    return []


def notify_sla(event: Envelope, deps: NotifierDeps) -> list[Envelope]:
    """A warning goes to the assignee; a breach also to the community secretary."""
    breached = event.type == "SlaBreached"
    known = remember(deps, event.subject, lambda k: {**k, "breached_at": k["breached_at"] or stamp(event.time)}) \
        if breached else (deps.store.get(CASE_ACTIVITY, event.subject, shared=True) or {})
    org = known.get("org") or {}
    facts = {**case_facts(event, deps, known), "deadline": event.data["deadline"], "due": event.data["due"]}
    recipients = [_assignee_of(known, event.data["assignment_id"])]
    if breached:
        recipients.append(person_from_directory(deps, org.get("community"), "community_secretary"))
    _plan_for_each(deps, cause_of(event, org), recipients, event.type, facts)
    return []


def _plan_for_each(deps: NotifierDeps, cause: Cause, recipients: list, kind: str, facts: dict) -> None:
    seen = set()
    for person in recipients:
        if person and person["id"] not in seen:
            seen.add(person["id"])
            plan_message(deps, cause, person, kind, facts)


def ask_convener_to_deliberate(event: Envelope, deps: NotifierDeps) -> list[Envelope]:
    """A concentrated case: the branch secretary convenes the residents' deliberation forum."""
    convener = event.data.get("convener")
    if convener:
        known = deps.store.get(CASE_ACTIVITY, event.subject, shared=True) or {}
        compound = deps.directory.get(event.data["compound"]) if deps.directory is not None else None
        facts = {**case_facts(event, deps, known), "reason": event.data["reason"],
                 "count": len(event.data["case_ids"]), "compound_name": (compound or {}).get("name")
                 or event.data["compound"]}
        plan_message(deps, cause_of(event, known.get("org")), convener, "DeliberationRequested", facts)
    return []


def stop_emergency_repeats(event: Envelope, deps: NotifierDeps) -> list[Envelope]:
    emergencies.acknowledge_alerts(deps, event.subject, event.data.get("assignment_id", ""), event.data["by"])
    return []


def note_resolution(event: Envelope, deps: NotifierDeps) -> list[Envelope]:
    remember(deps, event.subject, lambda k: {**k, "resolved_at": k["resolved_at"] or stamp(event.time)})
    return []


def remember_duplicate(event: Envelope, deps: NotifierDeps) -> list[Envelope]:
    """A duplicate was merged into this case: its reporter is told of this case's closure too."""
    duplicate = event.data["duplicate_case_id"]
    remember(deps, event.subject, lambda k: {**k, "duplicates": sorted({*(k.get("duplicates") or []), duplicate})})
    return []


def tell_reporter_of_closure(event: Envelope, deps: NotifierDeps) -> list[Envelope]:
    """Each resident who left a phone number gets one SMS when the case is closed (not at each
    resolution: a refused verification would reopen it, and two texts would confuse): the case's own
    reporter, and the reporters of the duplicates merged into it, each about the case they reported."""
    known = remember(deps, event.subject, lambda k: {**k, "closed_at": k["closed_at"] or stamp(event.time),
                                                     "resolved_at": k["resolved_at"] or stamp(event.time)})
    org, facts = known.get("org") or {}, case_facts(event, deps, known)
    reports = [(event.subject, known.get("reporter") or {})] + [
        (duplicate, (deps.store.get(CASE_ACTIVITY, duplicate, shared=True) or {}).get("reporter") or {})
        for duplicate in known.get("duplicates") or []]
    told = set()
    for case_id, reporter in reports:
        if reporter.get("phone") and reporter["phone"] not in told:  # one text per phone
            told.add(reporter["phone"])
            resident = {"id": f"resident/{case_id}", "name": reporter.get("name") or "居民", "role": "resident",
                        "phone": reporter["phone"], "org_code": org.get("community") or "resident",
                        "level": "resident"}
            plan_message(deps, cause_of(event, org), resident, "CaseClosed", {**facts, "case_id": case_id})
    return []


def reactions(deps: NotifierDeps) -> dict[str, Callable[[Envelope], list[Envelope]]]:
    """The notifier's whole behaviour at a glance: event type -> reaction."""
    return {
        "CaseReported": lambda event: remember_report(event, deps),
        "CaseAssigned": lambda event: notify_assignee(event, deps),
        "CaseInformed": lambda event: notify_informed(event, deps),
        "DeliberationRequested": lambda event: ask_convener_to_deliberate(event, deps),
        "DuplicateLinked": lambda event: remember_duplicate(event, deps),
        "CaseEscalated": lambda event: notify_escalation(event, deps),
        "SlaWarning": lambda event: notify_sla(event, deps),
        "SlaBreached": lambda event: notify_sla(event, deps),
        "CaseAcknowledged": lambda event: stop_emergency_repeats(event, deps),
        "ArrivedOnSite": lambda event: stop_emergency_repeats(event, deps),
        "CaseResolved": lambda event: note_resolution(event, deps),
        "CaseClosed": lambda event: tell_reporter_of_closure(event, deps),
    }
