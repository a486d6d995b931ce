from __future__ import annotations

import json

import pytest

from shared import auth
from shared.errors import BackendUnavailable
from shared.events.contracts import INTAKE_EVENTS
from shared.events.wire import decode
from services.intake import handlers

REPORT = {"channel": "hotline", "text": "3号楼楼道灯坏了", "reporter": {"name": "张三", "phone": "13800001111"},
          "location": {"unit_code": "QJ01-G01-01-1"}, "category_hint": "facility"}


def published(intake):
    subscription = intake.log.subscribe("test-reader", [INTAKE_EVENTS])
    try:
        return [decode(r.message) for r in subscription.poll(0.05, 1000)]
    finally:
        subscription.close()


def post(client, key, body, **headers):
    return client.post("/api/v1/reports", json=body, headers={"X-API-Key": key, **headers})


def test_a_report_is_stored_published_and_answered_202(intake, intake_client, api_key):
    response = post(intake_client, api_key, REPORT)
    assert response.status_code == 202
    body = response.get_json()
    assert body["case_id"].startswith("GD-") and len(body["token"]) >= 20
    [event] = published(intake)
    assert event.type == "CaseReported" and event.subject == body["case_id"]
    assert event.data["text"] == REPORT["text"] and event.data["location"] == REPORT["location"]
    intake.published_marks.flush()  # marked off the request's path, a moment later
    assert intake.store.get(handlers.REPORTS, body["case_id"])["published"] is True


def test_a_repeated_idempotency_key_returns_the_same_case(intake, intake_client, api_key):
    first = post(intake_client, api_key, REPORT, **{"Idempotency-Key": "abc"})
    again = post(intake_client, api_key, REPORT, **{"Idempotency-Key": "abc"})
    other = post(intake_client, api_key, REPORT, **{"Idempotency-Key": "xyz"})
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.get_json()["case_id"] != first.get_json()["case_id"]
    assert len(published(intake)) == 2


def test_reusing_an_idempotency_key_for_another_report_is_refused(intake_client, api_key):
    post(intake_client, api_key, REPORT, **{"Idempotency-Key": "abc"})
    response = post(intake_client, api_key, {**REPORT, "text": "别的事情"}, **{"Idempotency-Key": "abc"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("body, fields", [
    ({**REPORT, "channel": "fax"}, ["channel"]),
    ({**REPORT, "text": ""}, ["text"]),
    ({**REPORT, "location": {}}, ["location"]),
    ({**REPORT, "location": {"unit_code": "a b"}}, ["location"]),
    ({**REPORT, "reporter": {"phone": "call me"}}, ["reporter"]),
    ({**REPORT, "surprise": 1}, ["surprise"]),
    ({**REPORT, "category_hint": "weather"}, ["category_hint"]),
    ({"text": "只有文字"}, ["channel", "location"]),
])
def test_a_malformed_report_gets_400_naming_the_fields(intake_client, api_key, body, fields):
    response = post(intake_client, api_key, body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert sorted(error["fields"]) == sorted(fields)


def test_a_body_that_is_not_a_json_object_gets_400(intake_client, api_key):
    response = intake_client.post("/api/v1/reports", data="[1,2]", content_type="application/json",
                                  headers={"X-API-Key": api_key})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"


def test_a_body_with_a_lone_surrogate_gets_400_not_500(intake_client, api_key):
    body = json.dumps({**REPORT, "reporter": {"name": "\ud800", "phone": "13800001111"}})  # escaped: valid JSON
    response = intake_client.post("/api/v1/reports", data=body, content_type="application/json",
                                  headers={"X-API-Key": api_key})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("key", [None, "", "gdk_wrong"])
def test_a_missing_or_wrong_key_gets_401(intake_client, key):
    headers = {"X-API-Key": key} if key is not None else {}
    response = intake_client.post("/api/v1/reports", json=REPORT, headers=headers)
    assert response.status_code == 401


def test_a_revoked_key_gets_401_and_a_key_limited_to_other_channels_403(intake, intake_client):
    key = auth.issue_api_key(intake.store, "old")
    auth.revoke(intake.store, auth.digest(key))
    assert post(intake_client, key, REPORT).status_code == 401
    box_only = auth.issue_api_key(intake.store, "opinion box", ("opinion_box",))
    assert post(intake_client, box_only, REPORT).status_code == 403


def test_keys_are_stored_hashed(intake, api_key):
    documents = intake.store.find(auth.CREDENTIALS)
    assert all(api_key not in str(d) for d in documents)


def test_a_report_taken_while_the_log_is_down_is_published_by_the_relay(intake, intake_client, api_key,
                                                                          monkeypatch):
    real_append = intake.log.append

    def down(*args, **kwargs):
        raise BackendUnavailable("broker down")

    monkeypatch.setattr(intake.log, "append", down)
    response = post(intake_client, api_key, REPORT)
    assert response.status_code == 202  # stored durably: the promise holds
    case_id = response.get_json()["case_id"]
    assert intake.store.get(handlers.REPORTS, case_id)["published"] is False
    monkeypatch.setattr(intake.log, "append", real_append)
    relayed = handlers.relay_unpublished(store=intake.store, publisher=intake.publisher, clock=intake.clock,
                                         grace_s=0)
    assert relayed == 1
    assert [e.subject for e in published(intake)] == [case_id]
    assert handlers.unpublished_count(intake.store) == 0


def test_health_readiness_and_metrics(intake_client):
    assert intake_client.get("/healthz").status_code == 200
    assert intake_client.get("/readyz").get_json()["status"] == "ready"
    assert b"griddesk_http_requests_total" in intake_client.get("/metrics").data
    assert intake_client.delete("/api/v1/reports").headers["Allow"]
