"""The authorisation matrix: every staff action by every role, inside and outside its scope (pure rules)."""
from __future__ import annotations

import pytest

from services.intake import casework

CHAIN = {"district": "XX", "street": "QJ", "community": "QJ01", "branch": "QJ01-B1", "compound": "QJ01-C1",
         "grid": "QJ01-G01", "building": "QJ01-G01-01", "unit": "QJ01-G01-01-1"}


def staff(level, code, role):
    return casework.Actor("staff", casework.staff_person(code, level, role, role), level, code)


def department(code):
    return casework.Actor("department", casework.department_person(code, code), "department", code, code)


ROLES = {
    "owner": staff("unit", "QJ01-G01-01-1", "unit_steward"),
    "building": staff("building", "QJ01-G01-01", "building_head"),
    "grid": staff("grid", "QJ01-G01", "grid_worker"),
    "branch": staff("branch", "QJ01-B1", "branch_secretary"),
    "district": staff("district", "XX", "command_center"),
    "other_unit": staff("unit", "QJ01-G01-01-2", "unit_steward"),
    "other_grid": staff("grid", "QJ01-G02", "grid_worker"),
    "water": department("water"),
    "gas": department("gas"),
}
ABOVE = {"building", "grid", "branch", "district"}
EXPECTED = {  # action -> roles allowed; every other role is refused
    "acknowledge": {"owner", "water"},
    "start": {"owner"},
    "progress": {"owner", "water"},
    "call_party_members": {"branch", "district"},
    "arrive": {"owner", "water"},
    "await_resident": {"owner"},
    "resume": {"owner"},
    "request_extension": {"owner"},
    "decide_extension": ABOVE,
    "return": {"owner"},
    "reclassify": {"owner"} | ABOVE,
    "resolve": {"owner", "water"},
    "verify": ABOVE,
    "close": ABOVE,
    "reject": {"owner"} | ABOVE,
    "merge": {"owner"} | ABOVE,
}
OUT_OF_SCOPE = {"other_unit", "other_grid", "gas"}  # may not even know the case exists: 404
STATE_FOR = {"verify": "resolved", "close": "verified", "resume": "waiting_for_resident"}


def owned_case(state: str, pending_extension: bool = True) -> dict:
    case = casework.new_case_file("GD-20261128-AAAAAA", {"reported_at": "2026-11-28T08:00:00+00:00"})
    owner = {"assignee": ROLES["owner"].person, "level": "unit", "tier": "emergency", "category": "safety",
             "org": CHAIN, "location_resolved": True, "reason": "test", "assignment_id": "a-owner"}
    case = casework.record_assignment(case, owner, "e1", "2026-11-28T08:01:00+00:00")
    water = {**owner, "assignee": ROLES["water"].person, "level": "department", "department": "water",
             "parallel": True, "assignment_id": "a-water"}
    case = casework.record_assignment(case, water, "e2", "2026-11-28T08:01:00+00:00")
    case["state"] = state
    if pending_extension:
        case["pending_extension"] = {"until": "2026-12-01T00:00:00+00:00", "reason": "parts"}
    return case


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_action_by_each_role(action, role):
    case = owned_case(STATE_FOR.get(action, "acknowledged"), pending_extension=action == "decide_extension")
    payload = {"into_case_id": "GD-20261128-BBBBBB"}
    if role in EXPECTED[action]:
        assignment = casework.check(action, ROLES[role], case, payload)
        assert assignment is not None
    else:
        with pytest.raises(casework.Refused) as refused:
            casework.check(action, ROLES[role], case, payload)
        assert refused.value.status == (404 if role in OUT_OF_SCOPE else 403)


def test_every_staff_action_is_in_the_matrix():
    assert set(EXPECTED) == set(casework.STAFF_ACTIONS)


@pytest.mark.parametrize("action, state", [("verify", "in_progress"), ("close", "resolved"),
                                           ("acknowledge", "closed"), ("resolve", "withdrawn"),
                                           ("await_resident", "assigned"), ("await_resident", "waiting_for_resident"),
                                           ("resume", "in_progress"), ("resolve", "waiting_for_resident")])
def test_an_allowed_role_is_refused_in_the_wrong_state(action, state):
    actor = ROLES["owner"] if action in ("acknowledge", "resolve", "await_resident", "resume") else ROLES["grid"]
    with pytest.raises(casework.Refused) as refused:
        casework.check(action, actor, owned_case(state), {})
    assert refused.value.status == 409


def test_arrival_is_only_for_emergencies():
    case = {**owned_case("acknowledged"), "tier": "general"}
    with pytest.raises(casework.Refused):
        casework.check("arrive", ROLES["owner"], case, {})


def test_a_department_resolving_its_parallel_assignment_does_not_resolve_the_case():
    case = owned_case("in_progress")
    assignment = casework.check("resolve", ROLES["water"], case, {})
    updated, events = casework.apply("resolve", ROLES["water"], case, {"result": "修好了"}, assignment, "t")
    assert updated["state"] == "in_progress" and updated["assignments"]["a-water"]["resolved"]
    assert events == [("CaseResolved", {"by": ROLES["water"].person, "result": "修好了", "assignment_id": "a-water",
                                        "attachments": []})]


def test_refused_verification_and_unsatisfied_feedback_reopen_the_case():
    case = owned_case("resolved")
    updated, events = casework.apply("verify", ROLES["grid"], case, {"accepted": False, "note": "没修好"},
                                     case["owner"], "t")
    assert updated["state"] == "reopened"
    assert [e[0] for e in events] == ["CaseVerified", "CaseReopened"] and events[1][1]["cause"] == "verification"
    case = {**owned_case("closed"), "feedback_round": 1}
    updated, events = casework.apply("feedback", casework.Actor("resident"), case,
                                     {"satisfied": False, "comment": "还是坏的"}, {}, "t")
    assert updated["state"] == "reopened" and events[1] == ("CaseReopened", {
        "reason": "还是坏的", "cause": "feedback", "by": None})
    with pytest.raises(casework.Refused):  # one feedback per result
        casework.check("feedback", casework.Actor("resident"), {**updated, "state": "closed"}, {})


def test_waiting_for_the_resident_and_resuming_returns_to_the_state_it_waited_in():
    case = owned_case("in_progress", pending_extension=False)
    owner = ROLES["owner"]
    payload = {"reason": "需要入户查看"}
    waiting, events = casework.apply("await_resident", owner, case, payload,
                                     casework.check("await_resident", owner, case, payload), "2026-11-28T09:00:00+00:00")
    assert waiting["state"] == "waiting_for_resident"
    assert events == [("CaseAwaitingResident", {"by": owner.person, "reason": "需要入户查看"})]
    resident = casework.Actor("resident")
    resumed, events = casework.apply("reply", resident, waiting, {"note": "周六上午在家"},
                                     casework.check("reply", resident, waiting, {}), "2026-11-28T10:00:00+00:00")
    assert resumed["state"] == "in_progress" and resumed["awaiting"] is None
    assert events == [("CaseResumed", {"note": "周六上午在家", "by": None, "cause": "resident"})]
    with pytest.raises(casework.Refused) as refused:
        casework.check("reply", resident, resumed, {})
    assert refused.value.status == 409
