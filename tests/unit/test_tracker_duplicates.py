"""A duplicate the router merged: the tracker shows it `merged`, links both cases, and counts it as
received but never accepted (docs/indicators.md)."""
from __future__ import annotations

from datetime import date

from shared.events.envelope import to_document
from services.tracker import domain, handlers, queries
from tests.unit.test_tracker_indicators import ORG, History, projected

MERGE = {"into_case_id": "A", "match": "unit", "matched": ["楼道"], "reason": "same problem", "window_hours": 168.0,
         "category": "facility", "tier": "general", "org": ORG}


def histories():
    a = (History("A").reported().assigned(0, assignment_id="a1", ack_due=1, resolve_due=24)
         .add("DuplicateLinked", 1, {"duplicate_case_id": "F", "match": "unit", "reason": "same problem"},
              "/griddesk/router")
         .did("CaseResolved", 10, result="ok").did("CaseVerified", 11, accepted=True).did("CaseClosed", 12))
    f = History("F").reported(0.9).add("DuplicateMerged", 1, MERGE, "/griddesk/router")
    return a, f


def test_a_merged_duplicate_is_merged_linked_both_ways_and_counted_received_not_accepted(tmp_path):
    store = projected(tmp_path, histories())

    survivor, duplicate = store.get(handlers.CASES, "A"), store.get(handlers.CASES, "F")
    assert duplicate["state"] == "merged" and duplicate["merged_into"] == "A"
    assert duplicate["org"] == ORG and duplicate["owner"] is None and duplicate["assignments"] == []
    assert [e["type"] for e in duplicate["timeline"]] == ["CaseReported", "DuplicateMerged"]
    assert survivor["state"] == "closed" and [d["case_id"] for d in survivor["duplicates"]] == ["F"]
    assert "DuplicateLinked" in [e["type"] for e in survivor["timeline"]]
    assert domain.public_view(survivor)["duplicates"][0]["match"] == "unit"

    for scope in ("*", ORG["grid"]):  # the duplicate counts where it was reported
        indicators = queries.summary(store, scope, date(2026, 11, 2), date(2026, 11, 2))["indicators"]
        assert (indicators["received"], indicators["accepted"], indicators["merged"]) == (2, 1, 1)
        assert indicators["closure_rate"] == 1.0  # of the accepted cases: the duplicate neither helps nor hurts
    store.close()


def test_a_duplicate_merged_after_a_person_dispatched_it_is_refused():
    case = domain.new_case("F")
    for event in History("F").reported().assigned(0, assignment_id="f1", ack_due=1, resolve_due=24) \
            .add("DuplicateMerged", 1, MERGE, "/griddesk/router").events:
        case = domain.apply(case, to_document(event))
    assert case["state"] == "assigned" and case["timeline"][-1]["refused"] is True
