"""Every indicator on a hand-built event history whose answers are worked out by hand below."""
from __future__ import annotations

from datetime import date

import pytest

from shared.adapters.sqlite_store import SqliteStore
from shared.deadline_rules import load_deadline_rules
from shared.events.envelope import Envelope
from shared.working_time import WorkingCalendar
from services.tracker import handlers, queries
from services.tracker.sla import SlaPolicy

ORG = {"district": "XX", "street": "QJ", "community": "QJ01", "grid": "QJ01-G01", "unit": "QJ01-G01-01-1"}
OTHER_ORG = {"district": "XX", "street": "QJ", "community": "QJ02", "grid": "QJ02-G01"}
STEWARD = {"id": "QJ01-G01-01-1/unit_steward", "name": "王芳", "role": "unit_steward", "org_code": "QJ01-G01-01-1",
           "level": "unit"}
HANDLER = {"id": "QJ01-G01/grid_worker", "name": "李强", "role": "grid_worker", "org_code": "QJ01-G01",
           "level": "grid"}
SYSTEM = {"id": "system", "name": "system", "role": "system", "org_code": "XX", "level": "system"}


class History:
    """Builds one case's events; times are hours after 2026-11-02 00:00 UTC (a Monday, 08:00 in China)."""

    def __init__(self, case_id: str):
        self.case_id, self.events, self.n = case_id, [], 0

    def at(self, hour: float) -> str:
        minutes = int(round(hour * 60))
        return f"2026-11-{2 + minutes // 1440:02d}T{minutes % 1440 // 60:02d}:{minutes % 60:02d}:00+00:00"

    def add(self, kind: str, hour: float, data: dict, source: str = "/griddesk/intake") -> "History":
        from datetime import datetime

        self.n += 1
        self.events.append(Envelope(type=kind, source=source, subject=self.case_id, data=data,
                                    id=f"{self.case_id}-{self.n}", time=datetime.fromisoformat(self.at(hour)),
                                    correlation_id=f"{self.case_id}-1"))
        return self

    def reported(self, hour=0.0):
        return self.add("CaseReported", hour, {"case_id": self.case_id, "channel": "hotline", "text": "楼道灯坏了",
                                               "reporter": {}, "location": {}, "reported_at": self.at(hour)})

    def assigned(self, hour, *, assignment_id, ack_due, resolve_due, org=ORG, person=STEWARD, parallel=False,
                 category="facility", tier="general"):
        return self.add("CaseAssigned", hour, {
            "assignee": person, "level": person["level"], "tier": tier, "category": category, "org": org,
            "location_resolved": True, "reason": "test", "assignment_id": assignment_id, "parallel": parallel,
            "acknowledge_due": self.at(ack_due), "resolve_due": self.at(resolve_due)}, "/griddesk/router")

    def did(self, kind, hour, **data):
        return self.add(kind, hour, {"by": HANDLER, **data})


def histories() -> list[History]:
    # A: acknowledged on time, resolved on time in 10 h, closed, satisfied
    a = (History("A").reported().assigned(0, assignment_id="a1", ack_due=1, resolve_due=24)
         .did("CaseAcknowledged", 0.5).did("CaseResolved", 10, result="ok").did("CaseVerified", 11, accepted=True)
         .did("CaseClosed", 12).add("FeedbackGiven", 13, {"satisfied": True}))
    # B: returned as misrouted, reassigned; acknowledged late; resolved late (30 h); unsatisfied -> reopened
    b = (History("B").reported().assigned(0, assignment_id="b1", ack_due=1, resolve_due=24)
         .did("CaseReturned", 0.2, reason="not mine")
         .assigned(0.3, assignment_id="b2", ack_due=1, resolve_due=24, person=HANDLER)
         .did("CaseAcknowledged", 2).did("CaseResolved", 30, result="done")
         .add("FeedbackGiven", 31, {"satisfied": False})
         .add("CaseReopened", 31.5, {"reason": "still dark", "cause": "feedback"}))
    # C: never acknowledged: the sweep breached it, the router escalated; an extension was approved; open
    c = (History("C").reported().assigned(0, assignment_id="c1", ack_due=1, resolve_due=24)
         .add("SlaBreached", 1, {"assignment_id": "c1", "deadline": "acknowledge", "due": "x", "level": "unit"},
              "/griddesk/tracker")
         .add("CaseEscalated", 1.1, {"from_level": "unit", "to_level": "grid", "deadline": "acknowledge",
                                     "reason": "late", "assignment_id": "c1"}, "/griddesk/router")
         .did("ExtensionRequested", 1.5, reason="parts", until="x")
         .did("ExtensionDecided", 2, approved=True, until="2026-11-05T00:00:00+00:00"))
    # D: rejected (不予立案) before routing; E: in the other community, resolved in 2 h without due dates
    d = History("D").reported().did("CaseRejected", 0.1, reason="abusive")
    e = (History("E").reported().assigned(0, assignment_id="e1", ack_due=1, resolve_due=24, org=OTHER_ORG,
                                          category="sanitation").did("CaseResolved", 2, result="ok"))
    return [a, b, c, d, e]


def projected(tmp_path, stories) -> SqliteStore:
    """A store holding the projection of these histories, their events delivered newest first."""
    store = SqliteStore(str(tmp_path / "store.sqlite"), synchronous="NORMAL")
    handlers.prepare_store(store)
    policy = SlaPolicy(WorkingCalendar(), load_deadline_rules())
    for history in stories:
        for event in reversed(history.events):  # arrival order must not matter
            handlers.project_case(event, store, policy)
    handlers.add_pending_to_buckets(store)
    return store


@pytest.fixture
def store(tmp_path):
    return projected(tmp_path, histories())


def summary(store, scope="*", **dimensions):
    return queries.summary(store, scope, date(2026, 11, 2), date(2026, 11, 2), **dimensions)["indicators"]


def test_received_counts_every_report(store):
    assert summary(store)["received"] == 5


def test_accepted_counts_dispatched_cases_not_rejected(store):
    assert summary(store)["accepted"] == 4


def test_dispatch_accuracy_discounts_misroutes(store):
    assert summary(store)["dispatch_accuracy"] == pytest.approx(4 / 5, abs=1e-4)  # 5 dispatches, 1 returned


def test_response_rate_is_acknowledged_within_the_deadline(store):
    # due: a1 (on time), b2 (late), c1 (breached, never) -> 1 of 3; b1 was returned before it was due
    assert summary(store)["response_rate"] == pytest.approx(1 / 3, abs=1e-4)


def test_on_time_rate_counts_resolutions_by_their_deadline(store):
    # A on time, B late, E on time; C is open without a resolve breach -> 2 of 3
    assert summary(store)["on_time_rate"] == pytest.approx(2 / 3, abs=1e-4)


def test_closure_rate(store):
    assert summary(store)["closure_rate"] == pytest.approx(1 / 4, abs=1e-4)


def test_rework_rate(store):
    assert summary(store)["rework_rate"] == pytest.approx(1 / 3, abs=1e-4)  # B of A, B, E


def test_extension_rate(store):
    assert summary(store)["extension_rate"] == pytest.approx(1 / 4, abs=1e-4)


def test_satisfaction_rate(store):
    assert summary(store)["satisfaction_rate"] == pytest.approx(1 / 2, abs=1e-4)


def test_resolution_time_percentiles_in_hours(store):
    # resolved now: A 10 h, E 2 h (B was reopened) -> p50 = 2 h, p90 = 10 h (nearest rank)
    values = summary(store)
    assert (values["resolution_time_p50"], values["resolution_time_p90"]) == (2.0, 10.0)


def test_resolution_time_change_against_the_previous_period(store):
    result = queries.summary(store, "*", date(2026, 11, 2), date(2026, 11, 2))
    assert result["previous_period"] == {"from": "2026-11-01", "to": "2026-11-01"}
    assert result["indicators"]["resolution_time_p50_previous"] is None
    assert result["indicators"]["resolution_time_p50_change"] is None


def test_breaches_and_escalations(store):
    values = summary(store)
    assert (values["breaches_total"], values["breaches_open"], values["escalations"]) == (1, 1, 1)


def test_indicators_per_org_unit_category_tier_and_person(store):
    assert summary(store, "QJ01")["received"] == 3  # A, B, C (D has no org, E is in QJ02)
    assert summary(store, "QJ02-G01")["on_time_rate"] == 1.0
    assert summary(store, "QJ01-G01-01-1", level="unit")["received"] == 3  # summed from the cases
    assert summary(store, "QJ01-G01-01-1", level="unit")["on_time_rate"] == summary(store, "QJ01-G01")["on_time_rate"]
    assert summary(store, "*", category="sanitation")["received"] == 1
    assert summary(store, "*", tier="emergency")["received"] == 0
    assert summary(store, "person:QJ01-G01/grid_worker")["received"] == 1  # B's owner now
    assert summary(store, "person:QJ01-G01-01-1/unit_steward")["received"] == 3  # A, C and E


def test_a_period_without_cases_has_no_rates(store):
    values = queries.summary(store, "*", date(2026, 10, 1), date(2026, 10, 7))["indicators"]
    assert values["received"] == 0 and values["on_time_rate"] is None


def test_redelivery_does_not_count_twice(store):
    policy = SlaPolicy(WorkingCalendar(), load_deadline_rules())
    for history in histories():
        for event in history.events:
            handlers.project_case(event, store, policy)
    handlers.add_pending_to_buckets(store)
    assert summary(store)["received"] == 5 and summary(store)["escalations"] == 1


def test_a_bucket_change_repeated_after_a_crash_counts_once(tmp_path):
    store = SqliteStore(str(tmp_path / "crash.sqlite"), synchronous="NORMAL")
    handlers.prepare_store(store)
    for event in histories()[0].events:
        handlers.project_case(event, store, SlaPolicy(WorkingCalendar(), load_deadline_rules()))
    case = store.get(handlers.CASES, "A")
    first = case["pending"][0]
    for key, delta in first["deltas"].items():  # the buckets took it, then the worker died
        handlers.add_to_bucket(store, key, [(delta, first["id"])])
    handlers.add_pending_to_buckets(store)
    assert summary(store)["received"] == 1 and store.get(handlers.CASES, "A")["has_pending"] is False


def test_projection_and_bucket_passes_never_change_a_document_handed_out_without_a_copy(tmp_path):
    """The tracker reads cases shared, writes them handed over, and keeps the last ones it stored for later
    batches (``remembered``): across batches, with bucket passes between them, none of those documents may
    change after it was handed out."""
    from tests.promise_checking_store import PromiseCheckingStore
    store = PromiseCheckingStore(SqliteStore(str(tmp_path / "shared.sqlite"), synchronous="OFF"),
                                 remembered={handlers.CASES: 100})
    handlers.prepare_store(store)
    policy = SlaPolicy(WorkingCalendar(), load_deadline_rules())
    events = [event for history in histories() for event in history.events]
    for start in range(0, len(events), 3):
        with store.batch():
            for event in events[start:start + 3]:
                handlers.project_case(event, store, policy)
        with store.batch():
            handlers.add_pending_to_buckets(store)
    assert store.handed_out > len(events)
    assert store.broken_promises() == []
    assert summary(store)["received"] == 5
