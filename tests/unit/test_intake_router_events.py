"""The router's events recorded in a case file without copies (handlers.record_router_event reads with
shared=True and writes with handed_over=True): that is only safe while recording never changes the case
file it starts from, nested values included."""
from __future__ import annotations

import copy

import pytest

from services.intake import casework
from tests.unit.test_intake_authorisation import owned_case

ASSIGNED = {"assignee": {"id": "p2", "org_code": "QJ01-G01", "level": "grid"}, "level": "grid", "tier": "urgent",
            "category": "facility", "org": {"grid": "QJ01-G01"}, "assignment_id": "a-grid", "resolve_due": "x"}
RECORD = {
    "assignment": lambda case: casework.record_assignment(case, ASSIGNED, "e3", "2026-11-28T09:00:00+00:00"),
    "parallel assignment": lambda case: casework.record_assignment(case, {**ASSIGNED, "parallel": True}, "e3", "t"),
    "escalation": lambda case: casework.record_escalation(case, {"to_level": "branch", "assignment_id": "a"}, "t"),
    "duplicate merged": lambda case: casework.record_duplicate_merged(
        case, {"into_case_id": "GD-20261128-BBBBBB", "category": "facility", "tier": "routine"}, "t"),
}


@pytest.mark.parametrize("state", ["reported", "assigned", "closed"])
@pytest.mark.parametrize("record", sorted(RECORD))
def test_recording_a_router_event_leaves_the_case_file_it_started_from_unchanged(record, state):
    case = owned_case(state)
    before = copy.deepcopy(case)
    RECORD[record](case)
    assert case == before
