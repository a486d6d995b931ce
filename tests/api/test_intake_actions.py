"""Handlers', departments' and residents' actions through intake's HTTP API (embedded backend)."""
from __future__ import annotations

import pytest

from shared import auth
from shared.events.contracts import INTAKE_EVENTS, validated_data
from shared.events.envelope import Envelope
from shared.events.wire import decode
from shared.org.demo import demo_registry
from shared.org.registry import import_registry
from services.intake import handlers

UNIT = "QJ01-G01-01-1"
CHAIN = {"district": "XX", "street": "QJ", "community": "QJ01", "branch": "QJ01-B1", "compound": "QJ01-C1",
         "grid": "QJ01-G01", "building": "QJ01-G01-01", "unit": UNIT}
REPORT = {"channel": "hotline", "text": "楼道里有煤气味，很危险", "reporter": {"name": "张三", "phone": "13800001111"},
          "location": {"unit_code": UNIT}}


@pytest.fixture
def registry(intake):
    import_registry(intake.store, demo_registry())


def bearer(intake, level, code, role):
    return {"Authorization": f"Bearer {auth.issue_staff_token(intake.store, role, role, code, level)}"}


def assign(intake, case_id, *, level="unit", code=UNIT, role="unit_steward", tier="emergency", **extra):
    data = {"assignee": {"id": f"{code}/{role}", "name": "罗凤秀", "role": role, "org_code": code, "level": level},
            "level": level, "tier": tier, "category": "safety", "org": CHAIN, "location_resolved": True,
            "reason": "test", **extra}
    event = Envelope(type="CaseAssigned", source="/griddesk/router", subject=case_id,
                     data=validated_data("CaseAssigned", data))
    handlers.record_router_event(event, store=intake.store)
    return event


def reported(client, api_key):
    response = client.post("/api/v1/reports", json=REPORT, headers={"X-API-Key": api_key})
    assert response.status_code == 202
    return response.get_json()


def events_of(intake, case_id):
    subscription = intake.log.subscribe("test-reader", [INTAKE_EVENTS])
    try:
        return [e for e in (decode(r.message) for r in subscription.poll(0.05, 1000)) if e.subject == case_id]
    finally:
        subscription.close()


def test_the_owner_acknowledges_and_the_event_names_the_registry_person(intake, intake_client, api_key, registry):
    case = reported(intake_client, api_key)
    assign(intake, case["case_id"])
    owner = bearer(intake, "unit", UNIT, "unit_steward")
    response = intake_client.post(f"/api/v1/cases/{case['case_id']}/acknowledge", json={"note": "马上到"},
                                  headers=owner)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["state"] == "acknowledged"
    acknowledged = events_of(intake, case["case_id"])[-1]
    assert acknowledged.type == "CaseAcknowledged"
    assert acknowledged.data["by"] == {"id": f"{UNIT}/unit_steward", "name": "罗凤秀", "role": "unit_steward",
                                       "org_code": UNIT, "level": "unit"}
    intake.published_marks.flush()  # the report's own mark is written off the request's path
    assert handlers.unpublished_count(intake.store) == 0


def test_actions_answer_401_404_403_409_and_400_in_one_shape(intake, intake_client, api_key, registry):
    case_id = reported(intake_client, api_key)["case_id"]
    assign(intake, case_id)
    url = f"/api/v1/cases/{case_id}/resolve"
    assert intake_client.post(url, json={"result": "好了"}).status_code == 401
    other_grid = bearer(intake, "grid", "QJ01-G02", "grid_worker")
    assert intake_client.post(url, json={"result": "好了"}, headers=other_grid).status_code == 404
    grid = bearer(intake, "grid", "QJ01-G01", "grid_worker")
    assert intake_client.post(url, json={"result": "好了"}, headers=grid).status_code == 403
    verify = intake_client.post(f"/api/v1/cases/{case_id}/verify", json={"accepted": True}, headers=grid)
    assert verify.status_code == 409 and verify.get_json()["error"]["code"] == "wrong_state"
    owner = bearer(intake, "unit", UNIT, "unit_steward")
    bad = intake_client.post(url, json={"result": "", "extra": 1}, headers=owner)
    assert bad.status_code == 400 and sorted(bad.get_json()["error"]["fields"]) == ["extra", "result"]
    assert intake_client.post("/api/v1/cases/GD-20261128-ZZZZZZ/resolve", json={"result": "x"},
                              headers=owner).status_code == 404


def test_a_department_acts_only_on_its_own_assignment(intake, intake_client, api_key, registry):
    case_id = reported(intake_client, api_key)["case_id"]
    assign(intake, case_id)
    assign(intake, case_id, level="department", code="water", role="department", parallel=True,
           department="water", assignment_id="a-water")
    water = {"X-API-Key": auth.issue_api_key(intake.store, "自来水公司", (), department="water")}
    gas = {"X-API-Key": auth.issue_api_key(intake.store, "燃气公司", (), department="gas")}
    assert intake_client.post(f"/api/v1/cases/{case_id}/acknowledge", json={}, headers=gas).status_code == 404
    assert intake_client.post(f"/api/v1/cases/{case_id}/verify", json={"accepted": True},
                              headers=water).status_code == 403
    acknowledged = intake_client.post(f"/api/v1/cases/{case_id}/acknowledge", json={}, headers=water)
    resolved = intake_client.post(f"/api/v1/cases/{case_id}/resolve", json={"result": "已抢修"}, headers=water)
    assert (acknowledged.status_code, resolved.status_code) == (202, 202)
    assert resolved.get_json()["state"] == "assigned"  # the owner still has to resolve the case itself
    event = events_of(intake, case_id)[-1]
    assert event.data["assignment_id"] == "a-water" and event.data["by"]["level"] == "department"
    # a department key cannot file reports: it has no channel
    assert intake_client.post("/api/v1/reports", json=REPORT, headers=water).status_code == 403


def test_an_action_retried_with_its_idempotency_key_is_recorded_once(intake, intake_client, api_key, registry):
    case_id = reported(intake_client, api_key)["case_id"]
    assign(intake, case_id)
    owner = {**bearer(intake, "unit", UNIT, "unit_steward"), "Idempotency-Key": "note-1"}
    url = f"/api/v1/cases/{case_id}/progress"
    first = intake_client.post(url, json={"note": "已联系物业"}, headers=owner)
    again = intake_client.post(url, json={"note": "已联系物业"}, headers=owner)
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert intake_client.post(url, json={"note": "别的"}, headers=owner).status_code == 422
    assert [e.type for e in events_of(intake, case_id)].count("ProgressNoted") == 1


def test_a_router_event_delivered_twice_is_applied_once(intake, intake_client, api_key):
    case_id = reported(intake_client, api_key)["case_id"]
    event = assign(intake, case_id)
    handlers.record_router_event(event, store=intake.store)
    case = intake.store.get(handlers.CASE_FILES, case_id)
    assert [t["type"] for t in case["timeline"]] == ["CaseReported", "CaseAssigned"]


def test_the_resident_follows_up_gives_feedback_and_rework_follows(intake, intake_client, api_key, registry):
    case = reported(intake_client, api_key)
    case_id, token = case["case_id"], case["token"]
    assign(intake, case_id)
    owner = bearer(intake, "unit", UNIT, "unit_steward")
    assert intake_client.post(f"/api/v1/cases/{case_id}/resolve", json={"result": "已修好"},
                              headers=owner).status_code == 202
    assert intake_client.get(f"/api/v1/follow-up/{case_id}", headers={"X-Case-Token": "wrong"}).status_code == 404
    follow = intake_client.get(f"/api/v1/follow-up/{case_id}", headers={"X-Case-Token": token}).get_json()
    assert follow["state"] == "resolved" and follow["can_give_feedback"] is True
    assert "罗凤秀" not in str(follow) and "1380000" not in str(follow)
    assert [t["text"] for t in follow["timeline"]] == ["收到您的反映", "交由单元管家处理", "单元管家已处理完毕"]
    unhappy = intake_client.post(f"/api/v1/follow-up/{case_id}/feedback", json={"satisfied": False, "comment": "还有味道"},
                                 headers={"X-Case-Token": token})
    assert unhappy.status_code == 202 and unhappy.get_json()["state"] == "reopened"
    assert [e.type for e in events_of(intake, case_id)][-2:] == ["FeedbackGiven", "CaseReopened"]
    again = intake_client.post(f"/api/v1/follow-up/{case_id}/feedback", json={"satisfied": True},
                               headers={"X-Case-Token": token})
    assert again.status_code == 409


def test_the_owner_waits_for_the_resident_who_replies_through_the_follow_up(intake, intake_client, api_key, registry):
    case = reported(intake_client, api_key)
    case_id, resident = case["case_id"], {"X-Case-Token": case["token"]}
    assign(intake, case_id)
    owner = bearer(intake, "unit", UNIT, "unit_steward")
    url = f"/api/v1/cases/{case_id}"
    assert intake_client.post(f"{url}/await_resident", json={"reason": "需要入户"}, headers=owner).status_code == 409
    assert intake_client.post(f"{url}/acknowledge", json={}, headers=owner).status_code == 202
    assert intake_client.post(f"{url}/await_resident", json={}, headers=owner).status_code == 400  # reason required
    above = bearer(intake, "grid", "QJ01-G01", "grid_worker")
    assert intake_client.post(f"{url}/await_resident", json={"reason": "x"}, headers=above).status_code == 403
    waiting = intake_client.post(f"{url}/await_resident", json={"reason": "需要入户查看燃气表，请告知在家时间"},
                                 headers=owner)
    assert waiting.status_code == 202 and waiting.get_json()["state"] == "waiting_for_resident"
    follow = intake_client.get(f"/api/v1/follow-up/{case_id}", headers=resident).get_json()
    assert follow["state_text"] == "需要您的配合，请回复处理人"
    assert follow["awaiting_you"]["reason"] == "需要入户查看燃气表，请告知在家时间"
    assert follow["timeline"][-1]["text"] == "单元管家需要您的配合"
    assert intake_client.post(f"/api/v1/follow-up/{case_id}/reply", json={}, headers=resident).status_code == 400
    assert intake_client.post(f"/api/v1/follow-up/{case_id}/reply", json={"note": "x"},
                              headers={"X-Case-Token": "wrong"}).status_code == 404
    replied = intake_client.post(f"/api/v1/follow-up/{case_id}/reply", json={"note": "周六上午九点在家"}, headers=resident)
    assert replied.status_code == 202 and replied.get_json()["state"] == "acknowledged"
    assert intake_client.post(f"/api/v1/follow-up/{case_id}/reply", json={"note": "再说一次"},
                              headers=resident).status_code == 409  # not waiting any more
    assert intake_client.get(f"/api/v1/follow-up/{case_id}", headers=resident).get_json()["awaiting_you"] is None
    assert intake_client.post(f"{url}/await_resident", json={"reason": "还需确认"}, headers=owner).status_code == 202
    resumed = intake_client.post(f"{url}/resume", json={"note": "住户已电话确认"}, headers=owner)
    assert resumed.status_code == 202 and resumed.get_json()["state"] == "acknowledged"
    events = [e for e in events_of(intake, case_id) if e.type in ("CaseAwaitingResident", "CaseResumed")]
    assert [(e.type, e.data.get("cause"), (e.data.get("by") or {}).get("role")) for e in events] == [
        ("CaseAwaitingResident", None, "unit_steward"), ("CaseResumed", "resident", None),
        ("CaseAwaitingResident", None, "unit_steward"), ("CaseResumed", "handler", "unit_steward")]
    assert events[1].data["note"] == "周六上午九点在家" and events[0].data["reason"].startswith("需要入户")
    for event in events:
        validated_data(event.type, event.data)


def test_the_resident_withdraws(intake, intake_client, api_key):
    case = reported(intake_client, api_key)
    response = intake_client.post(f"/api/v1/follow-up/{case['case_id']}/withdraw", json={"reason": "自己修好了"},
                                  headers={"X-Case-Token": case["token"]})
    assert response.status_code == 202 and response.get_json()["state"] == "withdrawn"
    assert events_of(intake, case["case_id"])[-1].type == "CaseWithdrawn"


def test_actions_taken_while_the_log_is_down_are_relayed(intake, intake_client, api_key, registry, monkeypatch):
    from shared.errors import BackendUnavailable

    case_id = reported(intake_client, api_key)["case_id"]
    assign(intake, case_id)
    real_append = intake.log.append
    monkeypatch.setattr(intake.log, "append", lambda *a, **k: (_ for _ in ()).throw(BackendUnavailable("down")))
    owner = bearer(intake, "unit", UNIT, "unit_steward")
    assert intake_client.post(f"/api/v1/cases/{case_id}/acknowledge", json={}, headers=owner).status_code == 202
    assert intake_client.post(f"/api/v1/cases/{case_id}/start", json={}, headers=owner).status_code == 202
    intake.published_marks.flush()  # the report itself was published (and is marked so a moment later)
    assert handlers.unpublished_count(intake.store) == 1
    monkeypatch.setattr(intake.log, "append", real_append)
    assert handlers.relay_unpublished(store=intake.store, publisher=intake.publisher, clock=intake.clock,
                                      grace_s=0) == 2
    assert [e.type for e in events_of(intake, case_id)] == ["CaseReported", "CaseAcknowledged", "CaseStarted"]
    assert handlers.unpublished_count(intake.store) == 0
