"""The SLA sweep with an injected clock, on the embedded log and store: warning at the configured share,
breach at the deadline, once each, across restarts; an action in time silences it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.config import BackendSettings
from shared.events.envelope import Envelope
from services.tracker import bootstrap, handlers
from services.tracker.settings import TrackerSettings
from tests.unit.test_tracker_indicators import HANDLER, ORG, STEWARD

START = datetime(2026, 11, 2, 0, 0, tzinfo=timezone.utc)  # Monday 08:00 in China


class FakeClock:
    def __init__(self, now: datetime):
        self.moment = now

    def now(self) -> datetime:
        return self.moment


def build(tmp_path, clock):
    settings = TrackerSettings(backend=BackendSettings(backend="embedded", data_dir=str(tmp_path / "data"),
                                                       sqlite_synchronous="NORMAL"))
    tracker = bootstrap.build(settings, clock=clock)
    bootstrap.prepare(tracker)
    return tracker


def emergency(tracker, case_id="GD-E"):
    reported = Envelope(type="CaseReported", source="/griddesk/intake", subject=case_id, time=START,
                        data={"case_id": case_id, "channel": "hotline", "text": "燃气泄漏", "reporter": {},
                              "location": {}, "reported_at": START.isoformat()})
    assigned = reported.caused("CaseAssigned", "/griddesk/router", {
        "assignee": STEWARD, "level": "unit", "tier": "emergency", "category": "safety", "org": ORG,
        "location_resolved": True, "reason": "t", "assignment_id": "as-1",
        "acknowledge_due": (START + timedelta(minutes=10)).isoformat(),
        "resolve_due": (START + timedelta(hours=4)).isoformat()})
    for event in (reported, assigned):
        handlers.project_case(event, tracker.store, tracker.policy)
    return reported


def published(tracker):
    """The sweep's events, projected back as the worker's consume loop would."""
    tracker.consume_loop().run(max_idle_polls=1)
    case = tracker.store.get(handlers.CASES, "GD-E")
    return [(e["type"], e["data"]["deadline"]) for e in case["timeline"] if e["type"].startswith("Sla")]


@pytest.fixture
def clock():
    return FakeClock(START)


def test_warning_at_the_share_then_breach_at_the_deadline_once_each(tmp_path, clock):
    tracker = build(tmp_path, clock)
    emergency(tracker)
    clock.moment = START + timedelta(minutes=7)
    assert tracker.sweep() == 0  # 70 % of the 10 minutes
    clock.moment = START + timedelta(minutes=8)
    assert tracker.sweep() == 1
    assert tracker.sweep() == 0  # marked: never twice
    clock.moment = START + timedelta(minutes=10)
    assert tracker.sweep() == 1
    assert published(tracker) == [("SlaWarning", "acknowledge"), ("SlaBreached", "acknowledge")]
    case = tracker.store.get(handlers.CASES, "GD-E")
    assert case["breaches_open_count"] == 1


def test_a_restarted_sweeper_does_not_repeat_and_a_lost_mark_repeats_the_same_id(tmp_path, clock):
    tracker = build(tmp_path, clock)
    emergency(tracker)
    clock.moment = START + timedelta(minutes=11)
    assert tracker.sweep() == 2  # warning and breach, both due
    restarted = build(tmp_path, clock)
    assert restarted.sweep() == 0
    # a crash between publishing and marking: the marks are gone, the events come again with the same ids
    case = restarted.store.get(handlers.CASES, "GD-E")
    restarted.store.replace(handlers.CASES, {**case, "sla_marks": [], "next_sla_check": START.isoformat()})
    assert restarted.sweep() == 2
    assert published(restarted) == [("SlaWarning", "acknowledge"), ("SlaBreached", "acknowledge")]


def test_acting_in_time_silences_the_deadline(tmp_path, clock):
    tracker = build(tmp_path, clock)
    reported = emergency(tracker)
    ack = reported.caused("CaseAcknowledged", "/griddesk/intake", {"by": HANDLER},
                          time=START + timedelta(minutes=5))
    handlers.project_case(ack, tracker.store, tracker.policy)
    clock.moment = START + timedelta(hours=3, minutes=13)  # 80 % of the 4 h resolve limit
    assert tracker.sweep() == 1
    assert published(tracker) == [("SlaWarning", "resolve")]
    resolved = reported.caused("CaseResolved", "/griddesk/intake", {"by": HANDLER, "result": "ok"},
                               time=START + timedelta(hours=3, minutes=30))
    handlers.project_case(resolved, tracker.store, tracker.policy)
    clock.moment = START + timedelta(days=2)
    assert tracker.sweep() == 0


def test_working_time_deadlines_warn_on_the_working_calendar(tmp_path, clock):
    """A general case assigned on Friday 2026-11-06 08:00 China time, due in 3 working days (Wednesday
    08:00): 80 % is 2.4 working days after the start, i.e. Tuesday 17:36 China time, not Monday."""
    tracker = build(tmp_path, clock)
    friday = datetime(2026, 11, 6, 0, 0, tzinfo=timezone.utc)
    case = {"case_id": "W", "state": "assigned", "tier": "general", "assignments": [{
        "assignment_id": "w1", "parallel": False, "active": True, "assigned_at": friday.isoformat(),
        "acknowledge_due": None, "resolve_due": datetime(2026, 11, 11, 0, 0, tzinfo=timezone.utc).isoformat(),
        "acknowledged_at": None, "resolved_at": None, "level": "unit"}]}
    warning = [c for c in tracker.policy.checkpoints(case) if c["kind"] == "warning"][0]
    assert warning["at"] == datetime(2026, 11, 10, 9, 36, tzinfo=timezone.utc)
