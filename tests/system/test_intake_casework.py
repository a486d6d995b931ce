"""One case walked through every handler action, with intake's API, the real router and intake's own
worker loop together, on both backends (SQLite, and the real Kafka + FerretDB)."""
from __future__ import annotations

import time

import pytest

from shared import auth
from shared.events.contracts import INTAKE_EVENTS
from shared.events.wire import decode
from shared.org.demo import demo_registry
from shared.org.registry import import_registry
from services.intake import handlers

pytestmark = pytest.mark.system

UNIT = "QJ01-G01-01-1"
NEIGHBOUR = "QJ01-G01-01-2"
CHAIN_UP = ("unit", "building", "grid", "branch", "community", "street", "district")


@pytest.fixture
def services(backend_settings):
    from services.intake import bootstrap as intake_bootstrap
    from services.intake.settings import IntakeSettings
    from services.router import bootstrap as router_bootstrap
    from services.router.settings import RouterSettings

    intake = intake_bootstrap.build(IntakeSettings(backend=backend_settings, relay_grace_s=0))
    intake_bootstrap.prepare(intake)
    router = router_bootstrap.build(RouterSettings(backend=backend_settings))
    router_bootstrap.prepare(router)
    import_registry(intake.store, demo_registry())
    yield intake, router, intake_bootstrap.create_app(intake).test_client()
    for service in (intake, router):
        service.log.close()
        service.store.close()


def pump_until(intake, router, condition, timeout_s=90):
    """Run the router's and intake's consume loops until ``condition()`` holds (bounded wait)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        router.consume_loop().run(max_idle_polls=3)
        intake.consume_loop().run(max_idle_polls=3)
        if condition():
            return
    raise AssertionError("the router's assignments never reached intake's case files")


def owner_of(intake, case_id):
    case = intake.store.get(handlers.CASE_FILES, case_id)
    return (case or {}).get("owner")


def token_for(intake, level, code):
    unit = intake.store.get("org_units", code)
    role = next(iter(unit["people"]))
    return {"Authorization": f"Bearer {auth.issue_staff_token(intake.store, role, role, code, level)}"}


def level_above(intake, chain, level):
    for higher in CHAIN_UP[CHAIN_UP.index(level) + 1:]:
        unit = intake.store.get("org_units", chain.get(higher, ""))
        if unit and unit["people"]:
            return higher
    raise AssertionError("nobody above")


def test_one_case_through_every_action_with_rework_and_an_extension(services):
    intake, router, client = services
    key = {"X-API-Key": auth.issue_api_key(intake.store, "hotline")}

    def report(text, unit=UNIT):
        response = client.post("/api/v1/reports", headers=key, json={
            "channel": "hotline", "text": text, "location": {"unit_code": unit}})
        assert response.status_code == 202
        return response.get_json()

    main = report("3号楼2单元楼道灯坏了好几天")
    emergency = report("煤气泄漏了，有人晕倒在楼道里，很危险")
    # the same problem from another unit of the building, reporter unknown: the router dispatches it (not
    # a duplicate by its rule, docs/routing.md) and a person merges it by hand
    duplicate = report("3号楼2单元的楼道灯不亮了", NEIGHBOUR)
    nonsense = report("测试测试")
    cases = [main["case_id"], emergency["case_id"], duplicate["case_id"], nonsense["case_id"]]
    pump_until(intake, router, lambda: all(owner_of(intake, c) for c in cases))

    owner = owner_of(intake, main["case_id"])
    chain = intake.store.get(handlers.CASE_FILES, main["case_id"])["org"]
    mine = token_for(intake, owner["level"], owner["assignee"]["org_code"])
    above_level = level_above(intake, chain, owner["level"])
    above = token_for(intake, above_level, chain[above_level])
    branch = token_for(intake, "branch", chain["branch"])
    resident = {"X-Case-Token": main["token"]}

    def do(case_id, action, body, headers, state):
        response = client.post(f"/api/v1/cases/{case_id}/{action}", json=body, headers=headers)
        assert response.status_code == 202, (action, response.get_json())
        assert response.get_json()["state"] == state, action

    def resident_does(action, body, state):
        response = client.post(f"/api/v1/follow-up/{main['case_id']}/{action}", json=body, headers=resident)
        assert response.status_code == 202 and response.get_json()["state"] == state, action

    case_id = main["case_id"]
    do(case_id, "reclassify", {"category": "facility", "tier": "general", "reason": "确认"}, above, "assigned")
    do(case_id, "acknowledge", {"note": "收到"}, mine, "acknowledged")
    do(case_id, "start", {}, mine, "in_progress")
    do(case_id, "progress", {"note": "已联系物业电工"}, mine, "in_progress")
    do(case_id, "call_party_members", {"note": "请党员协助", "members": [{"name": "王伟"}]}, branch, "in_progress")
    do(case_id, "request_extension", {"reason": "等灯具到货", "until": "2026-12-20T18:00:00+08:00"}, mine,
       "in_progress")
    do(case_id, "decide_extension", {"approved": True}, above, "in_progress")
    do(case_id, "resolve", {"result": "已更换灯泡"}, mine, "resolved")
    do(case_id, "verify", {"accepted": False, "note": "二楼仍不亮"}, above, "reopened")  # rework
    do(case_id, "start", {}, mine, "in_progress")
    do(case_id, "resolve", {"result": "二楼也已更换"}, mine, "resolved")
    do(case_id, "verify", {"accepted": True}, above, "verified")
    do(case_id, "close", {"note": "办结"}, above, "closed")
    resident_does("feedback", {"satisfied": False, "comment": "三楼又坏了"}, "reopened")  # rework
    do(case_id, "resolve", {"result": "三楼已修"}, mine, "resolved")
    do(case_id, "verify", {"accepted": True}, above, "verified")
    do(case_id, "close", {}, above, "closed")
    resident_does("feedback", {"satisfied": True, "comment": "谢谢"}, "closed")

    urgent_owner = owner_of(intake, emergency["case_id"])
    urgent = token_for(intake, urgent_owner["level"], urgent_owner["assignee"]["org_code"])
    do(emergency["case_id"], "acknowledge", {}, urgent, "acknowledged")
    do(emergency["case_id"], "arrive", {}, urgent, "acknowledged")
    do(emergency["case_id"], "return", {"reason": "应由燃气公司处理"}, urgent, "returned")
    dup_owner = owner_of(intake, duplicate["case_id"])
    dup = token_for(intake, dup_owner["level"], dup_owner["assignee"]["org_code"])
    do(duplicate["case_id"], "merge", {"into_case_id": case_id}, dup, "merged")
    junk_owner = owner_of(intake, nonsense["case_id"])
    junk = token_for(intake, junk_owner["level"], junk_owner["assignee"]["org_code"])
    do(nonsense["case_id"], "reject", {"reason": "无实际内容"}, junk, "rejected")

    subscription = intake.log.subscribe("walk-reader", [INTAKE_EVENTS])
    seen: dict[str, list[str]] = {}
    deadline = time.monotonic() + 60
    while sum(map(len, seen.values())) < 29 and time.monotonic() < deadline:
        for record in subscription.poll(0.5, 1000):
            event = decode(record.message)
            seen.setdefault(event.subject, []).append(event.type)
    subscription.close()
    assert seen[case_id] == [
        "CaseReported", "CaseReclassified", "CaseAcknowledged", "CaseStarted", "ProgressNoted",
        "PartyMembersCalled", "ExtensionRequested", "ExtensionDecided", "CaseResolved", "CaseVerified",
        "CaseReopened", "CaseStarted", "CaseResolved", "CaseVerified", "CaseClosed", "FeedbackGiven",
        "CaseReopened", "CaseResolved", "CaseVerified", "CaseClosed", "FeedbackGiven"]
    assert seen[emergency["case_id"]] == ["CaseReported", "CaseAcknowledged", "ArrivedOnSite", "CaseReturned"]
    assert seen[duplicate["case_id"]] == ["CaseReported", "CaseMerged"]
    assert seen[nonsense["case_id"]] == ["CaseReported", "CaseRejected"]
    intake.published_marks.flush()  # reports are marked published off the request's path
    assert handlers.unpublished_count(intake.store) == 0
