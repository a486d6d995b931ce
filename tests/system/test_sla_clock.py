"""The SLA clock across intake, router and tracker on both backends (SQLite, and the real Kafka +
FerretDB), under one controlled clock: a case waiting for the resident does not breach while it waits and
breaches later by exactly the time it waited; an approved extension moves the breach; a refused one does
not. Each breach of the owner's deadline moves the case up a level (the router)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared import auth
from shared.org.demo import demo_registry
from shared.org.registry import import_registry
from services.tracker import handlers as tracker_handlers
from tests.system.test_intake_casework import level_above, owner_of, token_for

pytestmark = pytest.mark.system

SHANGHAI = ZoneInfo("Asia/Shanghai")
UNIT = "QJ01-G01-01-1"
# Tuesday 2026-11-24 10:00 in China: a general case is due one working day later, Wednesday 10:00
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
ORIGINAL_DUE = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)


class Clock:
    def __init__(self, now: datetime):
        self.value = now

    def now(self) -> datetime:
        return self.value


@pytest.fixture
def system(backend_settings):
    from services.intake import bootstrap as intake_bootstrap
    from services.intake.settings import IntakeSettings
    from services.router import bootstrap as router_bootstrap
    from services.router.settings import RouterSettings
    from services.tracker import bootstrap as tracker_bootstrap
    from services.tracker.settings import TrackerSettings

    clock = Clock(T0)
    intake = intake_bootstrap.build(IntakeSettings(backend=backend_settings, relay_grace_s=0), clock=clock)
    intake_bootstrap.prepare(intake)
    router = router_bootstrap.build(RouterSettings(backend=backend_settings), clock=clock)
    router_bootstrap.prepare(router)
    tracker = tracker_bootstrap.build(TrackerSettings(backend=backend_settings), clock=clock)
    tracker_bootstrap.prepare(tracker)
    import_registry(intake.store, demo_registry())
    yield Running(clock, intake, router, tracker, intake_bootstrap.create_app(intake).test_client())
    for service in (intake, router, tracker):
        service.log.close()
        service.store.close()


class Running:
    def __init__(self, clock, intake, router, tracker, client):
        self.clock, self.intake, self.router, self.tracker, self.client = clock, intake, router, tracker, client
        self.loops = [router.consume_loop(), intake.consume_loop(), tracker.consume_loop()]

    def pump_until(self, condition, what: str, timeout_s: float = 120) -> None:
        """Run the three consume loops (the workers' job) until ``condition()`` holds."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for loop in self.loops:
                loop.run(max_idle_polls=2)
            if condition():
                return
        raise AssertionError(f"timed out waiting for {what}")

    def case(self, case_id: str) -> dict:
        return self.tracker.store.get(tracker_handlers.CASES, case_id) or {}

    def has(self, case_id: str, event_type: str, count: int = 1) -> bool:
        return [e["type"] for e in self.case(case_id).get("timeline", [])].count(event_type) >= count

    def sweep_at(self, moment: datetime) -> None:
        """The tracker worker's timer at ``moment``, then its consume loop projects what it published."""
        self.clock.value = moment
        self.tracker.sweep()
        for loop in self.loops:
            loop.run(max_idle_polls=2)

    def breaches(self, case_id: str) -> list[tuple[str, datetime]]:
        return [(b["deadline"], datetime.fromisoformat(b["due"])) for b in self.case(case_id).get("breaches", [])]

    def act(self, case_id: str, action: str, body: dict, headers: dict, state: str) -> None:
        response = self.client.post(f"/api/v1/cases/{case_id}/{action}", json=body, headers=headers)
        assert response.status_code == 202, (action, response.get_json())
        assert response.get_json()["state"] == state, action


def test_waiting_pauses_the_clock_and_extensions_move_the_breach(system):
    key = {"X-API-Key": auth.issue_api_key(system.intake.store, "hotline")}
    texts = {"waiting": "3号楼2单元楼道灯坏了好几天", "approved": "楼道里的窗户关不上了", "refused": "楼道扶手松了"}
    reports = {}
    for name, text in texts.items():
        response = system.client.post("/api/v1/reports", headers=key,
                                      json={"channel": "hotline", "text": text, "location": {"unit_code": UNIT}})
        assert response.status_code == 202
        reports[name] = response.get_json()
    ids = {name: r["case_id"] for name, r in reports.items()}
    system.pump_until(lambda: all(owner_of(system.intake, c) and system.has(c, "CaseAssigned") for c in ids.values()),
                      "the three cases to be assigned")
    for name, case_id in ids.items():
        case = system.case(case_id)
        assert case["tier"] == "general" and case["owner"]["role"] == "unit_steward", name
        assert datetime.fromisoformat(case["assignments"][0]["resolve_due"]) == ORIGINAL_DUE

    owner = owner_of(system.intake, ids["waiting"])
    mine = token_for(system.intake, owner["level"], owner["assignee"]["org_code"])
    chain = system.case(ids["waiting"])["org"]
    above_level = level_above(system.intake, chain, owner["level"])
    above = token_for(system.intake, above_level, chain[above_level])
    system.clock.value = T0 + timedelta(minutes=5)
    for case_id in ids.values():
        system.act(case_id, "acknowledge", {}, mine, "acknowledged")

    # waiting: Tuesday 11:00 to Wednesday 14:00, 27 working hours
    system.clock.value = T0 + timedelta(hours=1)
    system.act(ids["waiting"], "await_resident", {"reason": "需要入户查看线路，请告知在家时间"}, mine,
               "waiting_for_resident")
    # extensions asked at 12:00, decided at 13:00: until Thursday 18:00 for both, one approved, one refused
    until = datetime(2026, 11, 26, 18, 0, tzinfo=SHANGHAI)
    system.clock.value = T0 + timedelta(hours=2)
    for name in ("approved", "refused"):
        system.act(ids[name], "request_extension", {"reason": "等配件到货", "until": until.isoformat()}, mine,
                   "acknowledged")
    system.clock.value = T0 + timedelta(hours=3)
    system.act(ids["approved"], "decide_extension", {"approved": True}, above, "acknowledged")
    system.act(ids["refused"], "decide_extension", {"approved": False, "reason": "可以按期完成"}, above, "acknowledged")
    system.pump_until(lambda: system.case(ids["waiting"]).get("state") == "waiting_for_resident"
                      and system.has(ids["approved"], "ExtensionDecided") and system.has(ids["refused"], "ExtensionDecided"),
                      "the tracker to project the wait and the decisions")

    # the old deadline passes: only the refused one breaches
    system.sweep_at(ORIGINAL_DUE - timedelta(seconds=1))
    assert all(system.breaches(c) == [] for c in ids.values())
    system.sweep_at(ORIGINAL_DUE)
    system.pump_until(lambda: system.breaches(ids["refused"]), "the refused extension's breach")
    assert system.breaches(ids["refused"]) == [("resolve", ORIGINAL_DUE)]
    assert system.breaches(ids["approved"]) == [] and system.breaches(ids["waiting"]) == []
    system.pump_until(lambda: system.case(ids["refused"]).get("escalations") == 1, "the router's escalation")
    assert system.case(ids["refused"])["owner"]["role"] == "building_head"
    system.sweep_at(ORIGINAL_DUE + timedelta(hours=3, minutes=59))  # Wednesday 13:59: still waiting
    assert system.breaches(ids["waiting"]) == []

    # the resident replies on Wednesday at 14:00
    system.clock.value = ORIGINAL_DUE + timedelta(hours=4)
    reply = system.client.post(f"/api/v1/follow-up/{ids['waiting']}/reply", json={"note": "周三下午都在家"},
                               headers={"X-Case-Token": reports["waiting"]["token"]})
    assert reply.status_code == 202 and reply.get_json()["state"] == "acknowledged"
    system.pump_until(lambda: system.case(ids["waiting"]).get("state") == "acknowledged", "the resumed case")
    paused = timedelta(hours=27)  # Tuesday 11:00 to Wednesday 14:00, every hour a working one
    moved_due = ORIGINAL_DUE + paused  # Thursday 13:00
    system.sweep_at(moved_due - timedelta(seconds=1))
    assert system.breaches(ids["waiting"]) == []
    system.sweep_at(moved_due)
    system.pump_until(lambda: system.breaches(ids["waiting"]), "the waiting case's breach")
    assert system.breaches(ids["waiting"]) == [("resolve", moved_due)]

    # the approved extension breaches at its own deadline
    system.sweep_at(until - timedelta(seconds=1))
    assert system.breaches(ids["approved"]) == []
    system.sweep_at(until)
    system.pump_until(lambda: system.breaches(ids["approved"]), "the approved extension's breach")
    assert system.breaches(ids["approved"]) == [("resolve", until)]
    system.pump_until(lambda: all(system.case(c).get("escalations", 0) >= 1 for c in (ids["waiting"], ids["approved"])),
                      "the escalations of the moved deadlines")
