import copy
import itertools

from services.tracker import domain

EVENTS = [
    {"id": "e1", "type": "CaseReported", "time": "2026-11-28T08:00:00+00:00", "source": "/i", "correlation_id": "e1", "causation_id": "e1",
     "data": {"case_id": "GD-1", "channel": "hotline", "text": "灯坏了", "reporter": {}, "location": {},
              "reported_at": "2026-11-28T08:00:00+00:00"}},
    {"id": "e2", "type": "CaseClassified", "time": "2026-11-28T08:00:01+00:00", "source": "/r", "correlation_id": "e1", "causation_id": "e1",
     "data": {"category": "facility", "tier": "general", "confidence": 0.9, "explanation": {}}},
    {"id": "e3", "type": "CaseAssigned", "time": "2026-11-28T08:00:01+00:00", "source": "/r", "correlation_id": "e1", "causation_id": "e1",
     "data": {"assignee": {"id": "p", "name": "王芳", "role": "unit_steward", "org_code": "U", "level": "unit"},
              "level": "unit", "tier": "general", "category": "facility", "org": {"unit": "U"},
              "location_resolved": True, "reason": "r"}},
    {"id": "e4", "type": "NotificationSent", "time": "2026-11-28T08:00:02+00:00", "source": "/n",
     "correlation_id": "e1", "causation_id": "e3", "data": {}},
]


def project(events):
    case = domain.new_case("GD-1")
    for event in events:
        case = domain.apply(case, event)
    return case


def test_any_arrival_order_gives_the_same_case():
    expected = project(EVENTS)
    assert expected["state"] == "assigned"
    assert expected["owner"]["name"] == "王芳"
    assert [e["type"] for e in expected["timeline"]] == ["CaseReported", "CaseClassified", "CaseAssigned",
                                                          "NotificationSent"]
    for order in itertools.permutations(EVENTS):
        case = project(order)
        assert (case["state"], case["timeline"], case["owner"]) == (
            expected["state"], expected["timeline"], expected["owner"])


def test_a_redelivered_event_changes_nothing():
    once = project(EVENTS)
    assert domain.apply(once, EVENTS[2]) is once
    assert len(project(EVENTS + EVENTS)["timeline"]) == 4


def test_before_routing_the_case_is_reported():
    case = project(EVENTS[:1])
    assert case["state"] == "reported" and case["owner"] is None


def test_an_event_never_precedes_its_cause_even_with_a_skewed_clock():
    skewed = [dict(EVENTS[0]), *(dict(e, time="2026-11-28T07:59:59+00:00") for e in EVENTS[1:3]), EVENTS[3]]
    case = project(reversed(skewed))
    assert [e["type"] for e in case["timeline"]][0] == "CaseReported"
    assert case["state"] == "assigned"


def action(n, kind, data, minute):
    return {"id": f"x{n}", "type": kind, "time": f"2026-11-28T09:{minute:02d}:00+00:00", "source": "/i",
            "correlation_id": "e1", "causation_id": "e1", "data": data}


BY = {"id": "p", "name": "王芳", "role": "unit_steward", "org_code": "U", "level": "unit"}


def test_the_full_path_to_closed_and_an_impossible_transition_is_refused():
    case = project(EVENTS + [action(1, "CaseAcknowledged", {"by": BY}, 1), action(2, "CaseStarted", {"by": BY}, 2),
                             action(3, "CaseResolved", {"by": BY, "result": "ok"}, 3),
                             action(4, "CaseVerified", {"by": BY, "accepted": True}, 4),
                             action(5, "CaseClosed", {"by": BY}, 5),
                             action(6, "CaseAcknowledged", {"by": BY}, 6)])
    assert case["state"] == "closed"
    assert [e.get("refused", False) for e in case["timeline"]][-1] is True


def test_a_parallel_department_acknowledges_its_own_assignment_only():
    parallel = {**EVENTS[2]["data"], "assignment_id": "dept", "parallel": True, "department": "water",
                "acknowledge_due": "2026-11-28T09:30:00+00:00"}
    case = project(EVENTS + [dict(EVENTS[2], id="e5", data=parallel),
                             action(1, "CaseAcknowledged", {"by": BY, "assignment_id": "dept"}, 1)])
    assert case["state"] == "assigned"  # the owner has not acknowledged
    department = next(a for a in case["assignments"] if a["assignment_id"] == "dept")
    assert department["acknowledged_at"] and case["owner"]["name"] == "王芳"


def test_returned_then_reassigned_and_reopened_after_feedback():
    case = project(EVENTS + [action(1, "CaseReturned", {"by": BY, "reason": "不归我"}, 1)])
    assert case["state"] == "returned" and case["owner"] is None
    case = project(EVENTS + [action(2, "CaseResolved", {"by": BY, "result": "ok"}, 2),
                             action(3, "FeedbackGiven", {"satisfied": False}, 3),
                             action(4, "CaseReopened", {"reason": "没修好", "cause": "feedback"}, 4)])
    assert case["state"] == "reopened" and case["reopens"] == 1 and case["resolved_at"] is None


def test_the_tracker_projects_every_event_type_of_every_producer():
    from shared.events.contracts import CATALOGUE
    from services.tracker.handlers import reactions

    assert set(reactions(None, None)) == set(CATALOGUE)


def test_an_event_only_recorded_in_the_timeline_gives_the_case_a_full_fold_gives():
    """Notifications and the like skip the fold (domain.TIMELINE_ONLY): in any arrival order, the case must
    be the fold of its timeline from the start, also when a late notification turns out to be the cause of
    an action already folded (stamped before it by a skewed clock: the action then moves after the
    resolution and is refused)."""
    informed = {"id": "e5", "type": "CaseInformed", "time": "2026-11-28T08:00:04+00:00", "source": "/r",
                "correlation_id": "e1", "causation_id": "e3", "data": {"party": "community"}}
    acknowledged = {"id": "e6", "type": "CaseAcknowledged", "time": "2026-11-28T08:00:02+00:00", "source": "/i",
                    "correlation_id": "e1", "causation_id": "e5", "data": {"by": {"id": "p"}}}
    resolved = {"id": "e7", "type": "CaseResolved", "time": "2026-11-28T08:00:03+00:00", "source": "/i",
                "correlation_id": "e1", "causation_id": "e1", "data": {"by": {"id": "p"}, "result": "ok"}}
    events = [*EVENTS, informed, acknowledged, resolved]
    skipped = 0
    for order in itertools.permutations(events):
        case = domain.new_case("GD-1")
        for event in order:
            skipped += domain.only_in_timeline(case, event)
            case = domain.apply(case, event)
        assert case == domain._folded(copy.deepcopy(case)), [e["id"] for e in order]
        assert case["state"] == "resolved" and case["assignments"][0]["acknowledged_at"] is None  # after e5
    assert skipped > 0


def test_a_fold_never_changes_the_case_it_starts_from():
    """The tracker reads a case without a private copy (``shared=True``): applying an event must build a new
    case and leave the one it read, and everything in it, as it was — refused marks included."""
    path = EVENTS + [action(1, "CaseAcknowledged", {"by": BY}, 1), action(2, "CaseStarted", {"by": BY}, 2),
                     action(3, "CaseResolved", {"by": BY, "result": "ok"}, 3),
                     action(4, "CaseVerified", {"by": BY, "accepted": False}, 4),
                     action(5, "CaseAcknowledged", {"by": BY}, 5), action(6, "CaseClosed", {"by": BY}, 6)]
    for order in (path, list(reversed(path))):
        case = domain.new_case("GD-1")
        for event in order:
            before = copy.deepcopy(case)
            after = domain.apply(case, event)
            assert case == before
            case = after
        assert case == project(order)
