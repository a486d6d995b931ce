"""The router's reactions to events. Each returns the events it causes; their ids derive from the
cause, and what a reaction decided is stored with the case's routing record (records.py), so
reacting twice to a redelivered event publishes nothing new downstream."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import timezone
from typing import Callable

from shared.errors import BackendUnavailable
from shared.events.envelope import Envelope, derived_id
from shared.org.directory import OrgDirectory
from shared.ports import Clock, DocumentStore
from shared.publisher import Publishable
from services.router import assignment, clustering, metrics
from services.router.assignment import LEVELS, Assignment, Placement
from services.router.classification import Classifier
from services.router.dispatch import SOURCE, CaseFacts, Planner
from services.router.merging import merge, open_duplicate, place_of
from services.router.locator import Locator
from services.router.records import ROUTED_CASES, dispatched, react_once, state_of

log = logging.getLogger(__name__)


@dataclass
class RouterDeps:
    store: DocumentStore
    directory: OrgDirectory
    locator: Locator
    classifier: Classifier
    planner: Planner
    clock: Clock
    normalise: Callable[[str], str]


def _facts(record: dict, **changes) -> CaseFacts:
    placement = Placement(record["chain"], record["resolved"], record.get("how", ""))
    values = {"placement": placement, "category": record["category"], "tier": record["tier"],
              "summary": record["summary"], "text": record["text"], **changes}
    return CaseFacts(**values)


def _record(facts: CaseFacts, owner: Assignment, owner_assignment_id: str, before: dict | None = None) -> dict:
    history = list((before or {}).get("owner_levels", [])) + [owner.level]
    return {**(state_of(before) if before else {}), "chain": facts.placement.chain, "resolved": facts.placement.resolved, "how": facts.placement.how,
            "category": facts.category, "tier": facts.tier, "summary": facts.summary, "text": facts.text[:500],
            "owner": {"assignee": owner.assignee, "level": owner.level, "assignment_id": owner_assignment_id},
            "owner_levels": history}


def _staffed(choose: Callable[[], Assignment], case_id: str) -> Assignment:
    try:
        return choose()
    except LookupError as error:
        # An empty or unstaffed registry is a deployment fault, not a bad report: retry, then stop
        # loudly, and never dead-letter a resident's case.
        raise BackendUnavailable(f"cannot assign {case_id}: {error}") from error


def assign_new_case(event: Envelope, deps: RouterDeps) -> list[Publishable]:
    report = event.data

    def decide(before: dict | None):
        if before is not None:
            return None, []  # routed already under another event id: never dispatch a case twice
        now = deps.clock.now()
        text = deps.normalise(report["text"])
        verdict = deps.classifier.classify(text, report.get("category_hint"))
        found = deps.locator.locate(report["location"])
        placement = assignment.place(report["location"], deps.directory.get, deps.directory.district(), found)
        facts = CaseFacts(placement, verdict.category, verdict.tier, report["text"][:80], text)
        explanation = {**verdict.explanation, "location": {"how": placement.how, "resolved": placement.resolved,
                                                           "detail": placement.detail}}
        triage = verdict.tier != "emergency" and verdict.confidence < deps.planner.rules.triage_below
        routed_at = now.astimezone(timezone.utc).isoformat()
        terms = _telling_terms(verdict.category, verdict.explanation["matched"], deps.classifier)
        reporter = _reporter_key(report, event.subject)
        known = {"compound": placement.chain.get("compound"), "terms": terms, "reporter": reporter,
                 "routed_at": routed_at, "unit": place_of(placement).unit}
        # a duplicate of an open case is merged before it could join a cluster (docs/routing.md)
        window = deps.planner.rules.duplicates.window
        found = None if triage or verdict.tier == "emergency" else open_duplicate(
            deps.store, event.subject, facts, terms, reporter,
            clustering.window_start(now.astimezone(timezone.utc), window))
        if found is not None:
            return merge(event, facts, known, *found, window, now)
        cluster = None if triage else _cluster(event, facts, terms, reporter, routed_at, deps)
        if cluster is not None:
            facts = replace(facts, tier="concentrated")
            explanation["cluster"] = {"cluster_id": cluster.cluster_id, "size": len(cluster.members) + 1,
                                      "shared_terms": list(cluster.shared_terms), "formed_now": cluster.new}
        classified = event.caused("CaseClassified", SOURCE, {
            "category": verdict.category, "tier": facts.tier, "confidence": verdict.confidence,
            "explanation": explanation}, time=now)
        owner = _staffed(lambda: assignment.assign(placement, "coordination" if triage else facts.tier,
                                                   deps.directory.get), event.subject)
        if triage and placement.resolved:
            owner = Assignment(owner.assignee, owner.level,
                               f"low confidence ({verdict.confidence}), manual triage: {owner.reason}")
        events = [classified, *deps.planner.dispatch(event, facts, owner, now, "")]
        if cluster is not None:
            events += _concentrated_events(event, facts, cluster, owner, now, deps)
        record = {**_record(facts, owner, events[1].data["assignment_id"]), **known,
                  "cluster_id": cluster.cluster_id if cluster else None}
        return record, events

    events, fresh = react_once(deps.store, event.subject, event.id, decide)
    if fresh and events and events[0].type == "DuplicateMerged":
        metrics.DUPLICATES_MERGED.labels(events[0].data["match"]).inc()
    elif fresh and events:
        data = events[0].data
        metrics.CLASSIFICATIONS.labels(data["category"], data["tier"]).inc()
        if "triage" in events[1].data["reason"]:
            metrics.MANUAL_TRIAGE.inc()
    return events


def _telling_terms(category: str, matched: list[str], classifier: Classifier) -> list[str]:
    """The matched words that say what the problem is, for comparing reports (clusters, duplicates): the
    lexicon's weak words (坏了, 维修 …) only say that something is wrong, and would make any two
    reports of a category look alike."""
    return sorted(set(matched) - classifier.weak_words.get(category, frozenset()))


def _reporter_key(report: dict, case_id: str) -> str:
    """Who reported it, as an opaque key (the record keeps no phone number); unknown: the case itself."""
    who = (report.get("reporter") or {}).get("phone") or (report.get("reporter") or {}).get("name")
    return hashlib.sha256(who.encode()).hexdigest()[:16] if who else f"case:{case_id}"


# what clustering reads of each recent routing record: not the events kept for redelivery (``effects``),
# most of a record's size
CLUSTER_FIELDS = ("terms", "cluster_id", "reporter", "merged_into")


def _cluster(event: Envelope, facts: CaseFacts, terms: list[str], reporter: str, routed_at: str,
             deps: RouterDeps) -> clustering.Cluster | None:
    """Does this report make (or join) a concentrated case with recent similar ones from its compound?"""
    compound = facts.placement.chain.get("compound")
    if facts.tier == "emergency" or not facts.placement.resolved or not compound or facts.category == "other":
        return None
    rules = deps.planner.rules.clustering
    since = clustering.window_start(deps.clock.now().astimezone(timezone.utc), rules.window)
    recent = [clustering.Recent(r["_id"], frozenset(r.get("terms") or ()), r.get("cluster_id"),
                                r.get("reporter") or f"case:{r['_id']}")
              for r in deps.store.find(ROUTED_CASES, {"compound": compound, "category": facts.category,
                                                      "routed_at": {"$gte": since}}, sort=[("routed_at", 1)],
                                       fields=CLUSTER_FIELDS)
              if r["_id"] != event.subject and not r.get("merged_into")]  # its surviving case counts
    return clustering.find_cluster(frozenset(terms), reporter, recent, rules.min_reports,
                                   lambda: derived_id(event.id, "cluster"))


def _concentrated_events(event: Envelope, facts: CaseFacts, cluster: clustering.Cluster, owner: Assignment, now,
                         deps: RouterDeps) -> list[Publishable]:
    size = len(cluster.members) + 1
    words = "、".join(cluster.shared_terms)
    reason = (f"{size} similar {facts.category} reports ({words}) from compound "
              f"{facts.placement.chain['compound']} within {deps.planner.rules.clustering.window.total_seconds() / 3600:g}h")
    clustered = {"cluster_id": cluster.cluster_id, "size": size, "reason": reason, "lead_case_id": event.subject}
    events: list[Publishable] = [event.caused("CaseClustered", SOURCE, clustered, time=now)]
    if not cluster.new:
        return events
    for member in cluster.members:  # the earlier reports learn they are now part of the concentrated case
        events.append(Envelope("CaseClustered", SOURCE, member, clustered,
                               id=derived_id(event.id, f"CaseClustered/{member}"), time=now,
                               correlation_id=event.correlation_id, causation_id=event.id))
    events.append(event.caused("DeliberationRequested", SOURCE, {
        "cluster_id": cluster.cluster_id, "case_ids": [*cluster.members, event.subject],
        "compound": facts.placement.chain["compound"],
        "convener": owner.assignee if owner.level == "branch" else None,
        "reason": f"{reason}: the branch convenes the residents' deliberation forum"}, time=now))
    return events


def escalate_breached_case(event: Envelope, deps: RouterDeps) -> list[Publishable]:
    """A deadline of the owner's assignment passed: one level up, a fresh clock, the previous owner told."""
    breach = event.data

    def decide(before: dict | None):
        if not dispatched(before) or before["owner"]["assignment_id"] != breach["assignment_id"]:
            return None, []  # a parallel party's deadline, or an owner the case has already left
        previous = before["owner"]
        now = deps.clock.now()
        reason = (f"{breach['deadline']} deadline {breach['due']} missed by the "
                  f"{previous['assignee']['role'].replace('_', ' ')} ({previous['level']})")
        up = assignment.climb(_facts(before).placement, previous["level"], deps.directory.get, reason)
        if up is None:
            log.warning("case %s: %s, and nobody is above the %s", event.subject, reason, previous["level"])
            return state_of(before), []
        facts = _facts(before)
        escalated = event.caused("CaseEscalated", SOURCE, {
            "from_level": previous["level"], "to_level": up.level, "deadline": breach["deadline"],
            "reason": reason, "assignment_id": breach["assignment_id"]}, time=now)
        assigned = deps.planner.assigned(event, facts, up, now, "owner")
        told = deps.planner.informed(event, previous["assignee"], f"escalated to the {up.level}: {reason}", now,
                                     "informed/previous")
        return _record(facts, up, assigned.data["assignment_id"], before), [escalated, assigned, told]

    events, fresh = react_once(deps.store, event.subject, event.id, decide)
    if fresh and events:
        metrics.ESCALATIONS.labels(events[0].data["from_level"], events[0].data["to_level"]).inc()
    return events


def reassign_returned_case(event: Envelope, deps: RouterDeps) -> list[Publishable]:
    """Misrouted: below the grid it goes to the grid worker for manual triage, above it one level up."""
    returned = event.data

    def decide(before: dict | None):
        if not dispatched(before):
            return None, []
        facts = _facts(before)
        level = before["owner"]["level"]
        why = f"returned by {returned['by']['name']} as misrouted: {returned['reason']}"
        if LEVELS.index(level) < LEVELS.index("grid"):
            person = assignment.person_at(facts.placement, "grid", deps.directory.get)
            target = (Assignment(person, "grid", f"{why}; manual triage by the grid worker") if person
                      else assignment.climb(facts.placement, level, deps.directory.get, why))
        else:
            target = assignment.climb(facts.placement, level, deps.directory.get, why)
        if target is None:
            return None, []
        assigned = deps.planner.assigned(event, facts, target, deps.clock.now(), "owner")
        return _record(facts, target, assigned.data["assignment_id"], before), [assigned]

    events, fresh = react_once(deps.store, event.subject, event.id, decide)
    if fresh and events and "manual triage" in events[0].data["reason"]:
        metrics.MANUAL_TRIAGE.inc()
    return events


def reassign_reclassified_case(event: Envelope, deps: RouterDeps) -> list[Publishable]:
    """A person corrected category or tier: route again as if it had been reported so."""
    change = event.data

    def decide(before: dict | None):
        if not dispatched(before):
            return None, []
        facts = _facts(before, category=change["category"], tier=change["tier"])
        owner = _staffed(lambda: assignment.assign(facts.placement, facts.tier, deps.directory.get), event.subject)
        owner = Assignment(owner.assignee, owner.level,
                           f"reclassified by {change['by']['name']} as {facts.category}/{facts.tier}: {owner.reason}")
        events = deps.planner.dispatch(event, facts, owner, deps.clock.now(), "")
        return _record(facts, owner, events[0].data["assignment_id"], before), events

    events, _ = react_once(deps.store, event.subject, event.id, decide)
    return events


def return_reopened_case(event: Envelope, deps: RouterDeps) -> list[Publishable]:
    """Rework goes back to whoever owned the case last, with a fresh clock."""
    reopened = event.data

    def decide(before: dict | None):
        if not dispatched(before):
            return None, []
        owner = before["owner"]
        last = Assignment(owner["assignee"], owner["level"],
                          f"reopened ({reopened['cause']}): {reopened['reason']}; back to the last owner")
        assigned = deps.planner.assigned(event, _facts(before), last, deps.clock.now(), "owner")
        # reopened after closure: open again, so a new report of the same problem merges into it
        return {**_record(_facts(before), last, assigned.data["assignment_id"], before), "ended": None}, [assigned]

    events, _ = react_once(deps.store, event.subject, event.id, decide)
    return events


def note_case_ended(event: Envelope, deps: RouterDeps) -> list[Publishable]:
    """Closed, withdrawn, rejected or merged by a person: no longer open, so no report merges into it."""
    def decide(before: dict | None):
        if before is None or before.get("ended"):
            return None, []
        return {**state_of(before), "ended": event.type}, []

    events, _ = react_once(deps.store, event.subject, event.id, decide)
    return events


def reactions(deps: RouterDeps) -> dict[str, Callable[[Envelope], list[Publishable]]]:
    """The router's whole behaviour at a glance: event type -> reaction."""
    return {
        "CaseReported": lambda event: assign_new_case(event, deps),
        "CaseReturned": lambda event: reassign_returned_case(event, deps),
        "CaseReclassified": lambda event: reassign_reclassified_case(event, deps),
        "CaseReopened": lambda event: return_reopened_case(event, deps),
        "CaseClosed": lambda event: note_case_ended(event, deps),
        "CaseWithdrawn": lambda event: note_case_ended(event, deps),
        "CaseRejected": lambda event: note_case_ended(event, deps),
        "CaseMerged": lambda event: note_case_ended(event, deps),
        "SlaBreached": lambda event: escalate_breached_case(event, deps),
    }
