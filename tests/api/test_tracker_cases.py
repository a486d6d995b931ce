from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared import auth
from shared.events.envelope import Envelope
from services.tracker import handlers
from services.tracker.bootstrap import create_app


def assigned_case(tracker, case_id: str, unit_code: str):
    from shared.org.registry import ORG_UNITS

    store = tracker.store
    unit = store.get(ORG_UNITS, unit_code)
    reported = Envelope(type="CaseReported", source="/griddesk/intake", subject=case_id,
                        time=datetime(2026, 11, 28, 8, tzinfo=timezone.utc),
                        data={"case_id": case_id, "channel": "hotline", "text": "灯坏了", "reporter": {},
                              "location": {"unit_code": unit_code}, "reported_at": "2026-11-28T08:00:00+00:00"})
    assignment = reported.caused("CaseAssigned", "/griddesk/router", {
        "assignee": unit["people"].get("unit_steward") or {"id": "x", "name": "x", "role": "r",
                                                            "org_code": unit_code, "level": "unit"},
        "level": "unit", "tier": "general", "category": "facility", "org": unit["chain"],
        "location_resolved": True, "reason": "test"})
    for event in (reported, assignment):
        handlers.project_case(event, store, tracker.policy)


@pytest.fixture
def client(tracker):
    assigned_case(tracker, "GD-A", "QJ01-G01-01-1")
    assigned_case(tracker, "GD-B", "QJ02-G01-01-1")
    return create_app(tracker).test_client()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_district_token_sees_every_case(tracker, client):
    token = auth.issue_staff_token(tracker.store, "cc", "command_center", "XX", "district")
    body = client.get("/api/v1/cases", headers=bearer(token)).get_json()
    assert sorted(c["case_id"] for c in body["items"]) == ["GD-A", "GD-B"] and body["total"] == 2
    case = client.get("/api/v1/cases/GD-B", headers=bearer(token)).get_json()
    assert case["state"] == "assigned" and [e["type"] for e in case["timeline"]] == ["CaseReported", "CaseAssigned"]


def test_a_grid_token_sees_only_its_grid(tracker, client):
    token = auth.issue_staff_token(tracker.store, "gw", "grid_worker", "QJ01-G01", "grid")
    body = client.get("/api/v1/cases", headers=bearer(token)).get_json()
    assert [c["case_id"] for c in body["items"]] == ["GD-A"]
    assert client.get("/api/v1/cases/GD-A", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/cases/GD-B", headers=bearer(token)).status_code == 404
    units = client.get("/api/v1/org/units", headers=bearer(token)).get_json()["items"]
    assert units and all(u["chain"]["grid"] == "QJ01-G01" for u in units)


def test_staff_apis_need_a_valid_token(client):
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/cases", headers=bearer("gdt_nope")).status_code == 401


def test_org_levels_are_served_with_their_chain(tracker, client):
    token = auth.issue_staff_token(tracker.store, "cc", "command_center", "XX", "district")
    for plural, level in (("streets", "street"), ("grids", "grid"), ("units", "unit")):
        items = client.get(f"/api/v1/org/{plural}", headers=bearer(token)).get_json()["items"]
        assert items and all(i["level"] == level and i["chain"][level] == i["code"] for i in items)
    assert client.get("/api/v1/org/planets", headers=bearer(token)).status_code == 404


def test_bad_paging_gets_400(tracker, client):
    token = auth.issue_staff_token(tracker.store, "cc", "command_center", "XX", "district")
    response = client.get("/api/v1/cases?per_page=0&colour=red", headers=bearer(token))
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"per_page", "colour"}


def test_filters_sort_and_csv(tracker, client):
    token = auth.issue_staff_token(tracker.store, "cc", "command_center", "XX", "district")
    body = client.get("/api/v1/cases?org=QJ02&sort=reported_at", headers=bearer(token)).get_json()
    assert [c["case_id"] for c in body["items"]] == ["GD-B"]
    assert client.get("/api/v1/cases?state=closed", headers=bearer(token)).get_json()["total"] == 0
    assert client.get("/api/v1/cases?breached=false", headers=bearer(token)).get_json()["total"] == 2
    csv = client.get("/api/v1/cases.csv", headers=bearer(token))
    assert csv.content_type.startswith("text/csv")
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("case_id,state") and len(lines) == 3
    indicators = client.get("/api/v1/indicators.csv?level=community&from=2026-11-01&to=2026-11-30",
                            headers=bearer(token)).get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert indicators[0].startswith("code,name,level,from,to,received") and len(indicators) == 4  # 3 communities


def test_openapi_document_lists_every_endpoint(client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/cases", "/api/v1/cases.csv", "/api/v1/indicators", "/api/v1/indicators.csv",
            "/api/v1/breaches", "/api/v1/hotspots"} <= set(document["paths"])


def test_the_dashboard_page_and_its_assets_are_served_locally(client):
    page = client.get("/").get_data(as_text=True)
    assert "/assets/app.js" in page and "http" not in page.replace("http://www.w3.org", "")
    assert client.get("/assets/app.js").status_code == 200
