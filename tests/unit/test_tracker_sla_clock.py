"""What moves the SLA clock, with an injected clock on the embedded store and log: waiting for the
resident pauses the owner's deadlines (wall-clock or working time, as the routing file says per tier),
an approved extension moves the resolution deadline and a refused one does not, a reopened case gets a
fresh resolution limit from the reopen time, and the routing file's working-time flag is the one rule
both router and tracker follow."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml

from shared.config import BackendSettings
from shared.deadline_rules import DEFAULT_ROUTING_FILE, RoutingFileError
from services.tracker import bootstrap, domain, handlers
from services.tracker.settings import TrackerSettings
from tests.unit.test_tracker_indicators import HANDLER, History

MONDAY = datetime(2026, 11, 2, 0, 0, tzinfo=timezone.utc)  # 08:00 in China; History's hour 0


def hours(n: float) -> datetime:
    return MONDAY + timedelta(hours=n)


class FakeClock:
    def __init__(self):
        self.moment = MONDAY

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def clock():
    return FakeClock()


def build(tmp_path, clock, routing_file: str = ""):
    settings = TrackerSettings(backend=BackendSettings(backend="embedded", data_dir=str(tmp_path / "data"),
                                                       sqlite_synchronous="NORMAL"), routing_file=routing_file)
    tracker = bootstrap.build(settings, clock=clock)
    bootstrap.prepare(tracker)
    return tracker


def project(tracker, history: History) -> dict:
    for event in history.events:
        handlers.project_case(event, tracker.store, tracker.policy)
    return tracker.store.get(handlers.CASES, history.case_id)


def sweep_at(tracker, clock, hour: float) -> list[tuple[str, str, str]]:
    """(type, deadline, due) of what the sweep publishes at that hour, projected back as the worker does."""
    clock.moment = hours(hour)
    before = {e["event_id"] for e in tracker.store.get(handlers.CASES, "C")["timeline"]}
    tracker.sweep()
    tracker.consume_loop().run(max_idle_polls=1)
    case = tracker.store.get(handlers.CASES, "C")
    return [(e["type"], e["data"]["deadline"], e["data"]["due"]) for e in case["timeline"]
            if e["type"].startswith("Sla") and e["event_id"] not in before]


def emergency_in_work() -> History:
    """An emergency (wall clock): assigned at hour 0, acknowledged at once, resolution due at hour 4."""
    return (History("C").reported().assigned(0, assignment_id="o1", ack_due=0.25, resolve_due=4, tier="emergency",
                                              category="safety").did("CaseAcknowledged", 0.05))


def test_waiting_for_the_resident_pauses_the_clock_and_the_breach_comes_later_by_the_paused_time(tmp_path, clock):
    tracker = build(tmp_path, clock)
    history = emergency_in_work().did("CaseAwaitingResident", 1, reason="需要入户，住户不在家")
    case = project(tracker, history)
    assert case["state"] == "waiting_for_resident"
    assert domain.public_view(case)["waiting_since"] == history.at(1)
    assert case["next_sla_check"] == "9999-12-31T00:00:00+00:00"  # nothing is due while waiting
    assert sweep_at(tracker, clock, 30) == []  # long past the 4 h, but the case waits

    case = project(tracker, history.add("CaseResumed", 6, {"by": None, "cause": "resident", "note": "明天上午在家"}))
    assert case["state"] == "acknowledged"  # back where it waited
    assert case["pauses"] == [{"from": history.at(1), "until": history.at(6), "reason": "需要入户，住户不在家"}]
    # 5 hours paused: the warning (80 % of 4 h = 3.2 h) comes at 8.2 h, the breach at 9 h
    assert sweep_at(tracker, clock, 8.1) == []
    assert sweep_at(tracker, clock, 8.2) == [("SlaWarning", "resolve", hours(9).isoformat())]
    assert sweep_at(tracker, clock, 8.99) == []
    assert sweep_at(tracker, clock, 9) == [("SlaBreached", "resolve", hours(9).isoformat())]


def test_a_pause_counts_only_working_time_where_the_tier_does(tmp_path, clock):
    """General tier (working time): assigned Friday 2026-11-06 08:00 China time, 1 working day to resolve, so
    due Monday 08:00. Waiting from Friday 20:00 to Monday 10:00 pauses 4 + 10 = 14 working hours (the weekend
    is not working time anyway): due Monday 22:00, not 62 wall-clock hours later."""
    tracker = build(tmp_path, clock)
    history = (History("C").reported(96).assigned(96, assignment_id="g1", ack_due=100, resolve_due=168)
               .did("CaseAcknowledged", 96.5).did("CaseAwaitingResident", 108, reason="等住户提供物业合同")
               .add("CaseResumed", 170, {"by": HANDLER, "cause": "handler", "note": "资料已收到"}))
    project(tracker, history)
    [breach] = [c for c in tracker.policy.checkpoints(tracker.store.get(handlers.CASES, "C")) if c["kind"] == "breach"]
    assert breach["at"] == hours(182) and breach["due"] == hours(182).isoformat()  # Monday 22:00 in China


def test_a_pause_that_began_after_the_deadline_does_not_move_it(tmp_path, clock):
    tracker = build(tmp_path, clock)
    history = (emergency_in_work().did("CaseAwaitingResident", 5, reason="迟到的等待")
               .add("CaseResumed", 7, {"by": HANDLER, "cause": "handler"}))
    case = project(tracker, history)
    assert [c["at"] for c in tracker.policy.checkpoints(case) if c["kind"] == "breach"] == [hours(4)]


def test_parallel_parties_keep_their_own_clock_while_the_owner_waits(tmp_path, clock):
    tracker = build(tmp_path, clock)
    history = (emergency_in_work().assigned(0, assignment_id="p1", ack_due=0.5, resolve_due=2, tier="emergency",
                                            category="safety", person={**HANDLER, "level": "community"},
                                            parallel=True)
               .did("CaseAwaitingResident", 0.1, reason="等住户开门"))
    case = project(tracker, history)
    assert {(c["assignment_id"], c["kind"]) for c in tracker.policy.checkpoints(case)} == {
        ("p1", "warning"), ("p1", "breach")}  # acknowledge and resolve of the community; nothing of the owner's


@pytest.mark.parametrize("approved, breach_at", [(True, 10), (False, 4)])
def test_an_approved_extension_moves_the_breach_and_a_refused_one_does_not(tmp_path, clock, approved, breach_at):
    tracker = build(tmp_path, clock)
    history = (emergency_in_work().did("ExtensionRequested", 1, reason="等配件", until=History("x").at(10))
               .did("ExtensionDecided", 2, approved=approved, until=History("x").at(10)))
    case = project(tracker, history)
    assert case["extended"] is approved
    if approved:  # 80 % of the 10 hours: the warning at 8 h, the breach at 10 h
        assert sweep_at(tracker, clock, 7.99) == []
        assert sweep_at(tracker, clock, 8) == [("SlaWarning", "resolve", hours(10).isoformat())]
        assert sweep_at(tracker, clock, 9.99) == []
        assert sweep_at(tracker, clock, 10) == [("SlaBreached", "resolve", hours(10).isoformat())]
    else:  # 80 % of the 4 hours: the warning at 3.2 h, the breach at 4 h, as if nothing was asked
        assert sweep_at(tracker, clock, 3.19) == []
        assert sweep_at(tracker, clock, 3.2) == [("SlaWarning", "resolve", hours(4).isoformat())]
        assert sweep_at(tracker, clock, 4) == [("SlaBreached", "resolve", hours(4).isoformat())]
    assert sweep_at(tracker, clock, 30) == []
    [breach] = tracker.store.get(handlers.CASES, "C")["breaches"]
    assert breach["due"] == hours(breach_at).isoformat()


def test_an_extension_after_the_warning_gets_its_own_warning_and_breach(tmp_path, clock):
    tracker = build(tmp_path, clock)
    project(tracker, emergency_in_work())
    assert sweep_at(tracker, clock, 3.5) == [("SlaWarning", "resolve", hours(4).isoformat())]
    project(tracker, emergency_in_work().did("ExtensionDecided", 3.6, approved=True, until=History("x").at(8)))
    assert sweep_at(tracker, clock, 7.9) == [("SlaWarning", "resolve", hours(8).isoformat())]
    assert sweep_at(tracker, clock, 8) == [("SlaBreached", "resolve", hours(8).isoformat())]
    case = tracker.store.get(handlers.CASES, "C")
    assert [w["round"] for w in case["warnings"]] == ["", f"extension:{History('x').at(8)}"]
    assert case["breaches_open_count"] == 1


def test_a_reopened_case_gets_a_fresh_resolution_limit_from_the_reopen_time(tmp_path, clock):
    """Resolved in time, reopened long after the old deadline: not breached at once; the emergency tier's
    resolution limit for the owner's level (1 day, wall clock, routing.yaml) counts from the reopen."""
    tracker = build(tmp_path, clock)
    history = (emergency_in_work().did("CaseResolved", 2, result="已处理")
               .add("CaseReopened", 30, {"reason": "又坏了", "cause": "feedback", "by": None}))
    case = project(tracker, history)
    assert case["state"] == "reopened" and case["reopens"] == 1
    assert sweep_at(tracker, clock, 30.5) == []
    assert sweep_at(tracker, clock, 30 + 24 * 0.8) == [("SlaWarning", "resolve", hours(54).isoformat())]
    assert sweep_at(tracker, clock, 54) == [("SlaBreached", "resolve", hours(54).isoformat())]
    [breach] = tracker.store.get(handlers.CASES, "C")["breaches"]
    assert breach["round"] == "reopen:1"


def test_a_refused_verification_reopens_and_counts_the_rework(tmp_path, clock):
    tracker = build(tmp_path, clock)
    history = (emergency_in_work().did("CaseResolved", 2, result="已处理").did("CaseVerified", 3, accepted=False)
               .add("CaseReopened", 3.02, {"reason": "二楼仍不亮", "cause": "verification", "by": HANDLER}))
    case = project(tracker, history)
    assert case["state"] == "reopened" and case["reopens"] == 1
    assert not any(e.get("refused") for e in case["timeline"])


def write_rules(tmp_path, change) -> str:
    raw = yaml.safe_load(DEFAULT_ROUTING_FILE.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_the_sla_clock_follows_the_routing_files_working_time_flag(tmp_path, clock):
    """The same emergency over a weekend: wall clock by default; working time when the routing file says so."""
    friday = (History("C").reported(104).assigned(104, assignment_id="e1", ack_due=104.25, resolve_due=180,
                                                   tier="emergency", category="safety"))
    default = build(tmp_path / "a", clock)
    case = project(default, friday)
    warning = next(c for c in default.policy.checkpoints(case) if (c["kind"], c["deadline"]) == ("warning", "resolve"))
    assert warning["at"] == hours(104 + 0.8 * 76)  # Sunday, wall clock
    working = build(tmp_path / "b", clock, write_rules(tmp_path, lambda r: r["working_time"].update(emergency=True)))
    case = project(working, friday)
    warning = next(c for c in working.policy.checkpoints(case) if (c["kind"], c["deadline"]) == ("warning", "resolve"))
    # Friday 2026-11-06 16:00 China time to Monday 20:00 counts 8 + 20 = 28 working hours; 80 % is 22.4 h:
    # Monday 14:24 China time
    assert warning["at"] == datetime(2026, 11, 9, 6, 24, tzinfo=timezone.utc)


def test_a_reopen_uses_the_limit_of_the_routing_file(tmp_path, clock):
    rules = write_rules(tmp_path, lambda r: r["deadlines"]["emergency"].update(unit={"acknowledge": "5m",
                                                                                   "resolve": "6h"}))
    tracker = build(tmp_path, clock, rules)
    history = (emergency_in_work().did("CaseResolved", 2, result="已处理")
               .add("CaseReopened", 30, {"reason": "又坏了", "cause": "feedback", "by": None}))
    case = project(tracker, history)
    assert [c["at"] for c in tracker.policy.checkpoints(case) if c["kind"] == "breach"] == [hours(36)]


def test_a_bad_routing_file_stops_the_tracker_with_a_message_naming_the_entry(tmp_path, clock):
    rules = write_rules(tmp_path, lambda r: r["working_time"].update(emergency="sometimes"))
    with pytest.raises(RoutingFileError, match="routing.yaml: working_time.emergency must be true or false"):
        build(tmp_path, clock, rules)
