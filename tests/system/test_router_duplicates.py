"""Duplicates on both backends (SQLite, and the real Kafka broker + FerretDB): the router and the
tracker run their consume loops; reports and case endings go in on intake.events. The same unit
reporting the same problem twice gets one assignment and the second case is `merged` into the first;
another problem from the unit is dispatched; the same problem after the first case was closed is too."""
from __future__ import annotations

import threading
import time

import pytest

from shared.events.envelope import Envelope
from shared.process import StopFlag
from services.router.records import ROUTED_CASES
from services.tracker import bootstrap as tracker_bootstrap
from services.tracker import handlers as tracker_handlers
from services.tracker.settings import TrackerSettings
from tests.system.test_router_dispatch import STEWARD_UNIT, Running

pytestmark = pytest.mark.system
HANDLER = {"id": f"{STEWARD_UNIT['code']}/unit_steward", "name": "管家", "role": "unit_steward",
           "org_code": STEWARD_UNIT["code"], "level": "unit"}


class WithTracker(Running):
    def __init__(self, settings, tmp_path):
        super().__init__(settings, tmp_path)
        tracker = tracker_bootstrap.build(TrackerSettings(backend=settings), store=self.store, log=self.log,
                                          clock=self.clock)
        tracker_bootstrap.prepare(tracker)
        self.tracker_stop = StopFlag()
        self.tracker = threading.Thread(target=tracker.consume_loop().run, args=(self.tracker_stop,), daemon=True)
        self.tracker.start()

    def act(self, case_id: str, kind: str, data: dict) -> None:
        self.intake.publish([Envelope(kind, "/griddesk/intake", case_id, {"by": HANDLER, **data})])

    def case(self, case_id: str, predicate, timeout_s: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            case = self.store.get(tracker_handlers.CASES, case_id)
            if case is not None and predicate(case):
                return case
            assert self.tracker.is_alive(), "the tracker's consume loop stopped"
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for the tracker's {case_id}: {self.store.get(tracker_handlers.CASES, case_id)}")

    def routed(self, case_id: str, predicate, timeout_s: float = 90.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            record = self.store.get(ROUTED_CASES, case_id)
            if record is not None and predicate(record):
                return record
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for the router's record of {case_id}")

    def close(self) -> None:
        self.tracker_stop.set()
        self.tracker.join(30)
        super().close()


@pytest.fixture
def running(backend_settings, tmp_path):
    system = WithTracker(backend_settings, tmp_path)
    yield system
    system.close()


def of_type(running, case_id, kind):
    return [e for _, e in running.seen if e.subject == case_id and e.type == kind]


def test_a_duplicate_is_merged_another_problem_or_a_closed_case_is_dispatched(running):
    unit = {"unit_code": STEWARD_UNIT["code"]}
    running.report("first", "楼道灯坏了好几天了", unit, reporter="张三")
    running.wait_for(lambda seen: running.assigned("first"))
    running.report("second", "楼道灯又坏了，晚上看不见路", unit, reporter="王五")  # a neighbour in the same unit
    running.report("other", "单元门禁坏了，刷卡开不了门", unit, reporter="王五")
    running.wait_for(lambda seen: of_type(running, "second", "DuplicateMerged") and running.assigned("other"))

    [merged] = of_type(running, "second", "DuplicateMerged")
    assert merged.data["into_case_id"] == "first" and merged.data["match"] == "unit"
    assert running.assigned("second") == [] and of_type(running, "second", "CaseClassified") == []
    assert len(running.assigned("first")) == 1
    [linked] = of_type(running, "first", "DuplicateLinked")
    assert linked.data["duplicate_case_id"] == "second"

    duplicate = running.case("second", lambda c: c["state"] == "merged")
    assert duplicate["merged_into"] == "first" and duplicate["org"]["unit"] == STEWARD_UNIT["code"]
    survivor = running.case("first", lambda c: c["duplicates"])
    assert [d["case_id"] for d in survivor["duplicates"]] == ["second"]
    assert "DuplicateLinked" in [e["type"] for e in survivor["timeline"]]

    owner = running.assigned("first")[0].data["assignment_id"]
    running.act("first", "CaseResolved", {"result": "已换灯泡", "assignment_id": owner})
    running.act("first", "CaseVerified", {"accepted": True})
    running.act("first", "CaseClosed", {"note": "办结"})
    running.routed("first", lambda record: record.get("ended") == "CaseClosed")
    running.case("first", lambda c: c["state"] == "closed")
    running.report("after", "楼道灯又坏了", unit, reporter="张三")
    running.wait_for(lambda seen: running.assigned("after"))
    assert of_type(running, "after", "DuplicateMerged") == []
