"""The router's reactions against a real (SQLite) store and the demo district, under a controlled clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from shared.adapters.sqlite_store import SqliteStore
from shared.events.contracts import department_topic
from shared.events.envelope import Envelope
from shared.org.demo import demo_registry
from shared.org.registry import flatten, import_registry
from services.router import handlers
from services.router.bootstrap import build
from services.router.settings import RouterSettings
from shared.config import BackendSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERSON = {"id": "QJ01-G01/grid_worker", "name": "网格员", "role": "grid_worker", "org_code": "QJ01-G01", "level": "grid"}


class Clock:
    def __init__(self, now: datetime):
        self.value = now

    def now(self) -> datetime:
        return self.value


@pytest.fixture(scope="module")
def units():
    return {u["_id"]: u for u in flatten(demo_registry())}


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI))  # a Tuesday


@pytest.fixture
def deps(tmp_path, clock):
    store = SqliteStore(str(tmp_path / "store"), synchronous="OFF")
    import_registry(store, demo_registry())
    router = build(RouterSettings(backend=BackendSettings(data_dir=str(tmp_path))), store=store, log=object(),
                   clock=clock)
    yield router.deps()
    store.close()


def reported(text, location, hint=None, case_id="c1", reporter="李四"):
    return Envelope("CaseReported", "/griddesk/intake", case_id, {
        "case_id": case_id, "channel": "hotline", "text": text, "reporter": {"name": reporter},
        "location": location, "category_hint": hint, "reported_at": "2026-11-24T02:00:00+00:00"})


def follow_up(kind, data, case_id="c1"):
    return Envelope(kind, "/griddesk/intake", case_id, data)


def steward_unit(units):
    return next(u for u in units.values() if u["level"] == "unit" and "unit_steward" in u["people"])


def assigned(events):
    return [e for e in events if not isinstance(e, tuple) and e.type == "CaseAssigned"]


def test_a_general_case_lands_with_the_unit_steward_with_deadlines(deps, units, clock):
    unit = steward_unit(units)
    events = handlers.assign_new_case(reported("楼道灯坏了好几天了", {"unit_code": unit["code"]}), deps)
    classified, owner = events
    assert classified.data["category"] == "facility" and classified.data["tier"] == "general"
    assert "楼道灯" in classified.data["explanation"]["matched"]
    assert owner.data["assignee"] == unit["people"]["unit_steward"] and owner.data["parallel"] is False
    assert owner.data["assignment_id"] == owner.id
    assert datetime.fromisoformat(owner.data["acknowledge_due"]) == clock.value + timedelta(hours=4)


def test_redelivery_returns_the_same_events_and_decides_nothing_new(deps, units, clock):
    event = reported("楼道灯坏了好几天了", {"unit_code": steward_unit(units)["code"]})
    first = handlers.assign_new_case(event, deps)
    clock.value += timedelta(hours=1)
    again = handlers.assign_new_case(event, deps)
    assert [e.id for e in again] == [e.id for e in first] and again[1].data == first[1].data


def test_a_coordination_case_goes_to_the_grid_worker_the_branch_is_informed_and_the_department_gets_a_copy(
        deps, units):
    unit = steward_unit(units)
    events = handlers.assign_new_case(reported("家里停水两天了，什么时候来水", {"unit_code": unit["code"]}), deps)
    owners = assigned(events)
    assert owners[0].data["assignee"]["role"] == "grid_worker" and owners[0].data["level"] == "grid"
    department = next(e for e in owners if e.data["department"])
    assert department.data["department"] == "water" and department.data["parallel"] is True
    assert (department_topic("water"), department) in events
    informed = next(e for e in events if not isinstance(e, tuple) and e.type == "CaseInformed")
    assert informed.data["person"] == units[unit["chain"]["branch"]]["people"]["branch_secretary"]


def test_an_emergency_fans_out_to_five_owners_in_one_pass_on_wall_clock_time(deps, units, clock):
    unit = steward_unit(units)
    events = handlers.assign_new_case(reported("楼道里电动车起火了，烟好大，快来人", {"unit_code": unit["code"]}), deps)
    owners = assigned(events)
    assert [e.data["level"] for e in owners] == ["branch", "community", "street", "district", "department"]
    assert [e.data["parallel"] for e in owners] == [False, True, True, True, True]
    assert owners[-1].data["department"] == "fire"
    assert len({e.data["assignment_id"] for e in owners}) == 5
    assert datetime.fromisoformat(owners[0].data["acknowledge_due"]) == clock.value + timedelta(minutes=15)


def test_an_unacknowledged_case_climbs_the_chain_level_by_level(deps, units, clock):
    unit = steward_unit(units)
    owner = handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": unit["code"]}), deps)[1]
    climbed = []
    for step in range(8):
        clock.value += timedelta(hours=5)
        breach = follow_up("SlaBreached", {"assignment_id": owner.data["assignment_id"], "deadline": "acknowledge",
                                           "due": owner.data["acknowledge_due"], "level": owner.data["level"]})
        events = handlers.escalate_breached_case(breach, deps)
        if not events:
            break
        escalated, owner, told = events
        assert escalated.data["from_level"] == climbed[-1] if climbed else escalated.data["from_level"] == "unit"
        assert told.type == "CaseInformed" and told.data["person"]["level"] == escalated.data["from_level"]
        assert datetime.fromisoformat(owner.data["acknowledge_due"]) > clock.value  # the clock restarts
        climbed.append(owner.data["level"])
    assert climbed == ["building", "grid", "branch", "community", "street", "district"]


def test_a_breach_of_an_assignment_the_case_has_left_changes_nothing(deps, units):
    owner = handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": steward_unit(units)["code"]}), deps)[1]
    breach = {"assignment_id": owner.data["assignment_id"], "deadline": "resolve", "due": "x", "level": "unit"}
    assert handlers.escalate_breached_case(follow_up("SlaBreached", breach), deps)
    assert handlers.escalate_breached_case(follow_up("SlaBreached", breach), deps) == []


def test_a_holiday_is_not_counted_as_working_time(deps, units, clock):
    clock.value = datetime(2026, 9, 30, 22, 0, tzinfo=SHANGHAI)  # National Day holiday: Oct 1-7
    owner = handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": steward_unit(units)["code"]}), deps)[1]
    assert datetime.fromisoformat(owner.data["acknowledge_due"]) == datetime(2026, 10, 8, 2, 0, tzinfo=SHANGHAI)


def test_a_traditional_report_routes_like_its_simplified_twin(deps, units):
    unit = steward_unit(units)
    simplified = handlers.assign_new_case(reported("电梯坏了，困在电梯里出不来", {"unit_code": unit["code"]}, case_id="a"), deps)
    traditional = handlers.assign_new_case(reported("電梯壞了，困在電梯裡出不來", {"unit_code": unit["code"]}, case_id="b"), deps)
    for a, b in zip(assigned(simplified), assigned(traditional)):
        assert (a.data["assignee"], a.data["tier"], a.data["category"]) == (b.data["assignee"], b.data["tier"], b.data["category"])


def test_an_address_string_and_a_coordinate_resolve(deps, units):
    by_address = handlers.assign_new_case(reported("楼道灯坏了", {"address": "翠湖苑三号楼2单元"}, case_id="a"), deps)
    assert by_address[1].data["org"]["unit"] == "QJ01-G05-03-2" and by_address[1].data["location_resolved"]
    grid = units["QJ01-G02"]
    by_point = handlers.assign_new_case(reported("家里停水了", {"lat": 39.1225, "lng": 117.1945}, case_id="b"), deps)
    assert by_point[1].data["org"]["grid"] == grid["code"]
    assert by_point[1].data["assignee"] == grid["people"]["grid_worker"]
    assert by_point[0].data["explanation"]["location"]["how"] == "coordinates"


def test_an_unknown_place_or_a_vague_report_goes_to_a_grid_worker_for_triage(deps, units):
    unknown = handlers.assign_new_case(reported("楼道灯坏了", {"address": "火星一号楼"}, case_id="a"), deps)
    assert not unknown[1].data["location_resolved"] and unknown[1].data["assignee"]["role"] == "grid_worker"
    vague = handlers.assign_new_case(reported("你好，在吗", {"unit_code": steward_unit(units)["code"]}, case_id="b"), deps)
    assert vague[1].data["assignee"]["role"] == "grid_worker" and "manual triage" in vague[1].data["reason"]


def test_returned_reclassified_and_reopened_cases_are_reassigned(deps, units):
    unit = steward_unit(units)
    handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": unit["code"]}), deps)
    returned = handlers.reassign_returned_case(follow_up("CaseReturned", {"by": PERSON, "reason": "不归我管"}), deps)
    assert returned[0].data["level"] == "grid" and "manual triage" in returned[0].data["reason"]
    changed = handlers.reassign_reclassified_case(follow_up("CaseReclassified", {
        "by": PERSON, "category": "security", "tier": "emergency", "reason": "有人持刀"}), deps)
    assert [e.data["level"] for e in assigned(changed)] == ["branch", "community", "street", "district", "department"]
    reopened = handlers.return_reopened_case(follow_up("CaseReopened", {"reason": "没修好", "cause": "feedback"}), deps)
    assert reopened[0].data["assignee"] == assigned(changed)[0].data["assignee"]
    assert reopened[0].data["assignment_id"] != assigned(changed)[0].data["assignment_id"]


def test_five_similar_reports_from_one_compound_become_one_concentrated_case_with_a_deliberation_request(
        deps, units, clock):
    compound_units = [u for u in units.values() if u["level"] == "unit" and u["chain"]["compound"] == "QJ01-C1"]
    texts = ["小区垃圾好几天没人清运了", "垃圾桶满了没人清运，臭死了", "楼下垃圾堆成山", "垃圾站的垃圾一周没人运",
             "小区里垃圾到处都是"]
    results = []
    for n, text in enumerate(texts):
        clock.value += timedelta(hours=3)
        results.append(handlers.assign_new_case(
            reported(text, {"unit_code": compound_units[n]["code"]}, case_id=f"k{n}", reporter=f"居民{n}"), deps))
    assert all(r[0].data["tier"] in ("general", "coordination") for r in results[:4])  # four are not yet a cluster
    last = results[4]
    assert last[0].data["tier"] == "concentrated" and last[0].data["explanation"]["cluster"]["size"] == 5
    owner = assigned(last)[0]
    assert owner.data["level"] == "branch" and owner.data["tier"] == "concentrated"
    clustered = [e for e in last if not isinstance(e, tuple) and e.type == "CaseClustered"]
    assert sorted(e.subject for e in clustered) == [f"k{n}" for n in range(5)]
    assert len({e.data["cluster_id"] for e in clustered}) == 1
    [deliberation] = [e for e in last if not isinstance(e, tuple) and e.type == "DeliberationRequested"]
    assert deliberation.data["case_ids"] == [f"k{n}" for n in range(5)]
    assert deliberation.data["convener"]["role"] == "branch_secretary"
    # a sixth similar report joins the cluster; a different problem in the compound does not
    sixth = handlers.assign_new_case(reported("垃圾没人清运", {"unit_code": compound_units[5]["code"]}, case_id="k5",
                                              reporter="居民5"), deps)
    assert sixth[0].data["tier"] == "concentrated" and not any(
        not isinstance(e, tuple) and e.type == "DeliberationRequested" for e in sixth)
    other = handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": compound_units[6]["code"]}, case_id="k6"), deps)
    assert other[0].data["tier"] == "general"


def test_one_resident_reporting_the_same_problem_five_times_is_not_a_concentrated_case(deps, units, clock):
    compound_units = [u for u in units.values() if u["level"] == "unit" and u["chain"]["compound"] == "QJ01-C1"]
    for n in range(6):
        clock.value += timedelta(hours=1)
        classified = handlers.assign_new_case(reported("垃圾好几天没人清运", {"unit_code": compound_units[n]["code"]},
                                                       case_id=f"same{n}"), deps)[0]
        assert classified.data["tier"] != "concentrated"
