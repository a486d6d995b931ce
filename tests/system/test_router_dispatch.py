"""The router on both backends (SQLite, and the real Kafka broker + FerretDB): reports go in on
intake.events, breaches on tracker.events; assignments come out on router.events and the departments'
topics. The clock is controlled, so escalation runs level by level without waiting."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.backends import build_event_log, build_store
from shared.events.contracts import ROUTER_EVENTS, department_topic
from shared.events.envelope import Envelope
from shared.events.wire import decode
from shared.org.demo import demo_registry
from shared.org.registry import flatten, import_registry
from shared.process import StopFlag
from shared.publisher import EventPublisher
from services.router.bootstrap import build, prepare
from services.router.settings import RouterSettings

pytestmark = pytest.mark.system
SHANGHAI = ZoneInfo("Asia/Shanghai")
UNITS = flatten(demo_registry())
STEWARD_UNIT = next(u for u in UNITS if u["level"] == "unit" and "unit_steward" in u["people"])
COMPOUND_UNITS = [u for u in UNITS if u["level"] == "unit" and u["chain"]["compound"] == "QJ02-C2"]


class Clock:
    def __init__(self, now: datetime):
        self.value = now

    def now(self) -> datetime:
        return self.value


class Running:
    def __init__(self, settings, tmp_path):
        if settings.backend == "embedded":
            tmp_path.joinpath("data").mkdir(exist_ok=True)
        self.store = build_store(settings)
        import_registry(self.store, demo_registry())
        self.log = build_event_log(settings, client_id="router-test")
        self.clock = Clock(datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI))
        router = build(RouterSettings(backend=settings), store=self.store, log=self.log, clock=self.clock)
        prepare(router)
        self.stop = StopFlag()
        self.thread = threading.Thread(target=router.consume_loop().run, args=(self.stop,), daemon=True)
        self.thread.start()
        self.reader = self.log.subscribe("test-reader", [ROUTER_EVENTS, department_topic("fire"),
                                                         department_topic("water")])
        self.seen: list[tuple[str, Envelope]] = []
        self.intake = EventPublisher(self.log, "intake")

    def report(self, case_id: str, text: str, location: dict, reporter: str = "李四") -> None:
        self.intake.publish([Envelope("CaseReported", "/griddesk/intake", case_id, {
            "case_id": case_id, "channel": "hotline", "text": text, "reporter": {"name": reporter},
            "location": location, "reported_at": "2026-11-24T02:00:00+00:00"})])

    def breach(self, owner: Envelope) -> None:
        EventPublisher(self.log, "tracker").publish([Envelope("SlaBreached", "/griddesk/tracker", owner.subject, {
            "assignment_id": owner.data["assignment_id"], "deadline": "acknowledge",
            "due": owner.data["acknowledge_due"], "level": owner.data["level"]})])

    def wait_for(self, predicate, timeout_s: float = 90.0) -> list[tuple[str, Envelope]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.seen += [(r.topic, decode(r.message)) for r in self.reader.poll(0.5, 500)]
            if predicate(self.seen):
                return self.seen
            assert self.thread.is_alive(), "the router's consume loop stopped"
        raise AssertionError(f"timed out; saw {[(t, e.type, e.subject) for t, e in self.seen]}")

    def assigned(self, case_id: str, topic: str = ROUTER_EVENTS) -> list[Envelope]:
        return [e for t, e in self.seen if t == topic and e.subject == case_id and e.type == "CaseAssigned"]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(30)
        self.reader.close()
        self.log.close()
        self.store.close()


@pytest.fixture
def running(backend_settings, tmp_path):
    system = Running(backend_settings, tmp_path)
    yield system
    system.close()


def test_reports_are_classified_located_and_assigned_by_tier_then_escalated_level_by_level(running):
    unit = STEWARD_UNIT
    running.report("general", "楼道灯坏了好几天了", {"unit_code": unit["code"]})
    running.report("coordination", "家里停水两天了", {"unit_code": unit["code"]})
    running.report("emergency", "楼道里电动车起火了，烟好大", {"unit_code": unit["code"]})
    running.report("simplified", "电梯坏了，老人被困在电梯里", {"unit_code": unit["code"]})
    running.report("traditional", "電梯壞了，老人被困在電梯裡", {"unit_code": unit["code"]})
    running.report("address", "楼道灯坏了", {"address": "翠湖苑三号楼2单元"})
    running.report("point", "楼道灯坏了", {"lat": 39.1225, "lng": 117.1945})
    for n, text in enumerate(["小区垃圾好几天没人清运", "垃圾桶满了，臭死了", "楼下垃圾堆成山了", "垃圾站一周没人运",
                              "到处都是垃圾"]):
        running.report(f"rubbish{n}", text, {"unit_code": COMPOUND_UNITS[n]["code"]}, reporter=f"居民{n}")
    running.wait_for(lambda seen: len(running.assigned("emergency", department_topic("fire"))) == 1
                     and all(running.assigned(c) for c in ("general", "coordination", "simplified",
                                                           "traditional", "address", "point",
                                                           *(f"rubbish{n}" for n in range(5))))
                     and len({e.subject for _, e in seen if e.type in ("CaseClustered", "DeliberationRequested")}) == 5
                     and any(e.type == "DeliberationRequested" for _, e in seen))

    [general] = running.assigned("general")
    assert general.data["assignee"] == unit["people"]["unit_steward"]
    coordination = running.assigned("coordination")
    assert coordination[0].data["assignee"]["role"] == "grid_worker"
    assert [e.data["department"] for e in coordination[1:]] == ["water"]
    emergency = running.assigned("emergency")
    assert [e.data["level"] for e in emergency] == ["branch", "community", "street", "district", "department"]
    assert running.assigned("emergency", department_topic("fire"))[0].id == emergency[-1].id
    twins = [[(e.data["assignee"]["id"], e.data["tier"], e.data["category"]) for e in running.assigned(c)]
             for c in ("simplified", "traditional")]
    assert twins[0] == twins[1] and twins[0][0][1] == "emergency"
    assert running.assigned("address")[0].data["org"]["unit"] == "QJ01-G05-03-2"
    assert running.assigned("point")[0].data["org"]["grid"] == "QJ01-G02"
    # partitions may deliver the five in any order: whichever comes fifth makes the cluster
    [concentrated] = [e for n in range(5) for e in running.assigned(f"rubbish{n}") if e.data["tier"] == "concentrated"]
    assert concentrated.data["assignee"]["role"] == "branch_secretary"
    [deliberation] = [e for _, e in running.seen if e.type == "DeliberationRequested"]
    assert sorted(deliberation.data["case_ids"]) == [f"rubbish{n}" for n in range(5)]
    assert deliberation.subject == concentrated.subject
    assert {e.subject for _, e in running.seen if e.type == "CaseClustered"} == {f"rubbish{n}" for n in range(5)}

    owner, climbed = general, []
    for _ in range(6):
        running.clock.value += timedelta(hours=5)
        running.breach(owner)
        before = len(running.assigned("general"))
        running.wait_for(lambda seen: len(running.assigned("general")) > before)
        owner = running.assigned("general")[-1]
        climbed.append(owner.data["level"])
        assert datetime.fromisoformat(owner.data["acknowledge_due"]) > running.clock.value
    assert climbed == ["building", "grid", "branch", "community", "street", "district"]
    escalations = [e for _, e in running.seen if e.type == "CaseEscalated"]
    assert [(e.data["from_level"], e.data["to_level"]) for e in escalations][:2] == [("unit", "building"),
                                                                                    ("building", "grid")]
