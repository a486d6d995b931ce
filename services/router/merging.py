"""Merging a duplicate instead of dispatching it: find, among the routing records, the open case a report
duplicates (the decision itself is duplicates.py), and the events and record of the merge. The merged
case's record keeps no owner, so it is never routed again (records.dispatched)."""
from __future__ import annotations

from datetime import datetime, timedelta

from shared.events.envelope import Envelope, derived_id
from shared.ports import DocumentStore
from shared.publisher import Publishable
from services.router.assignment import Placement
from services.router.dispatch import SOURCE, CaseFacts
from services.router.duplicates import Duplicate, OpenCase, Place, find_duplicate, known_reporter
from services.router.records import ROUTED_CASES, dispatched


def place_of(placement: Placement) -> Place:
    """The report's place for matching; nothing when its location could not be resolved."""
    chain = placement.chain if placement.resolved else {}
    return Place(chain.get("unit"), chain.get("building"), chain.get("grid"))


# what the query reads of each candidate's routing record, and of the survivor's (its tier): not the
# events kept for redelivery (``effects``), most of a record's size
CANDIDATE_FIELDS = ("routed_at", "owner", "ended", "terms", "reporter", "chain", "resolved", "how", "tier")


def open_duplicate(store: DocumentStore, case_id: str, facts: CaseFacts, terms: list[str], reporter: str,
                   since: str) -> tuple[Duplicate, dict] | None:
    """The open case this report duplicates (same reporter or unit, same category, similar words, routed
    since ``since``) and the ``CANDIDATE_FIELDS`` of its routing record; None when there is none."""
    place = place_of(facts.placement)
    queries = [{"unit": place.unit}] if place.unit else []
    if known_reporter(reporter) and (place.building or place.grid):
        queries.append({"reporter": reporter})
    candidates: dict[str, dict] = {}
    for query in queries:
        for record in store.find(ROUTED_CASES, {**query, "category": facts.category, "routed_at": {"$gte": since}},
                                 fields=CANDIDATE_FIELDS):
            if record["_id"] != case_id and dispatched(record) and not record.get("ended"):
                candidates[record["_id"]] = record
    ordered = sorted(candidates.values(), key=lambda r: (r["routed_at"], r["_id"]))
    open_cases = [OpenCase(r["_id"], frozenset(r.get("terms") or ()), r.get("reporter") or f"case:{r['_id']}",
                           place_of(Placement(r["chain"], r["resolved"], r.get("how") or ""))) for r in ordered]
    duplicate = find_duplicate(frozenset(terms), reporter, place, open_cases)
    return None if duplicate is None else (duplicate, candidates[duplicate.into_case_id])


def merge(event: Envelope, facts: CaseFacts, known: dict, duplicate: Duplicate, survivor: dict,
          window: timedelta, now: datetime) -> tuple[dict, list[Publishable]]:
    """The record and events of a merge: the duplicate learns where it went, the surviving case learns
    of it, and nobody is assigned or told."""
    hours = window.total_seconds() / 3600
    who = "the same reporter" if duplicate.match == "reporter" else f"the same unit ({known['unit']})"
    reason = (f"same {facts.category} problem ({'、'.join(duplicate.matched)}) from {who} as "
              f"{duplicate.into_case_id}, still open and reported within {hours:g}h: merged, not dispatched again")
    merged = event.caused("DuplicateMerged", SOURCE, {
        "into_case_id": duplicate.into_case_id, "match": duplicate.match, "matched": list(duplicate.matched),
        "reason": reason, "window_hours": hours, "category": facts.category, "tier": survivor["tier"],
        "org": facts.placement.chain}, time=now)
    linked = Envelope("DuplicateLinked", SOURCE, duplicate.into_case_id, {
        "duplicate_case_id": event.subject, "match": duplicate.match, "reason": reason},
        id=derived_id(event.id, f"DuplicateLinked/{duplicate.into_case_id}"), time=now,
        correlation_id=event.correlation_id, causation_id=event.id)
    record = {"chain": facts.placement.chain, "resolved": facts.placement.resolved, "how": facts.placement.how,
              "category": facts.category, "tier": survivor["tier"], "summary": facts.summary,
              "text": facts.text[:500], "owner": None, "owner_levels": [], **known, "cluster_id": None,
              "merged_into": duplicate.into_case_id, "ended": "DuplicateMerged"}
    return record, [merged, linked]
