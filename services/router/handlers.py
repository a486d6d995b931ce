"""The router's reactions to events. Each returns the events it causes; their ids derive from the
cause, so reacting twice to a redelivered event publishes nothing new downstream."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from shared.errors import BackendUnavailable
from shared.events.envelope import Envelope
from shared.org.directory import OrgDirectory
from shared.ports import Clock
from services.router import assignment, classification

SOURCE = "/griddesk/router"


@dataclass
class RouterDeps:
    directory: OrgDirectory
    clock: Clock
    normalise: Callable[[str], str]
    triage_below: float


def assign_new_case(event: Envelope, deps: RouterDeps) -> list[Envelope]:
    report = event.data
    now = deps.clock.now()
    verdict = classification.classify(deps.normalise(report["text"]), report.get("category_hint"))
    classified = event.caused("CaseClassified", SOURCE, {
        "category": verdict.category, "tier": verdict.tier, "confidence": verdict.confidence,
        "explanation": verdict.explanation,
    }, time=now)
    placement = assignment.place(report["location"], deps.directory.get, deps.directory.district())
    try:
        if verdict.confidence < deps.triage_below and placement.resolved:
            chosen = assignment.assign(placement, "coordination", deps.directory.get)
            chosen = assignment.Assignment(chosen.assignee, chosen.level,
                                           f"low confidence ({verdict.confidence}), manual triage: {chosen.reason}")
        else:
            chosen = assignment.assign(placement, verdict.tier, deps.directory.get)
    except LookupError as error:
        # An empty or unstaffed registry is a deployment fault, not a bad report: retry, then stop
        # loudly, and never dead-letter a resident's case.
        raise BackendUnavailable(f"cannot assign {event.subject}: {error}") from error
    assigned = event.caused("CaseAssigned", SOURCE, {
        "assignee": chosen.assignee, "level": chosen.level, "tier": verdict.tier,
        "category": verdict.category, "org": placement.chain, "location_resolved": placement.resolved,
        "reason": chosen.reason, "summary": report["text"][:80],
    }, time=now)
    return [classified, assigned]


def reactions(deps: RouterDeps) -> dict[str, Callable[[Envelope], list[Envelope]]]:
    """The router's whole behaviour at a glance: event type -> reaction."""
    return {
        "CaseReported": lambda event: assign_new_case(event, deps),
    }
