"""Hot spots on a hand-built history with known answers: the categories growing fastest per org unit
(received in 2026-11-08 … 11-14 against 11-01 … 11-07), read from the indicator buckets, within the
token's subtree, as JSON and CSV."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from shared import auth
from shared.events.envelope import Envelope
from shared.org.registry import ORG_UNITS
from services.tracker import handlers
from services.tracker.bootstrap import create_app

WEEK = "from=2026-11-08&to=2026-11-14"
UNIT_A, UNIT_B = "QJ01-G01-01-1", "QJ02-G01-01-1"  # in grids QJ01-G01 and QJ02-G01
# (unit, category): (cases reported in the previous week, in the week asked for)
HISTORY = {
    (UNIT_A, "facility"): (2, 8),     # +6, 6 / max(2, 5) = 1.2
    (UNIT_A, "sanitation"): (10, 15),  # +5, 0.5
    (UNIT_A, "dispute"): (0, 5),      # +5, new: 5 / 5 = 1.0
    (UNIT_A, "parking"): (0, 1),      # 0 -> 1: below the minimum count
    (UNIT_A, "utility"): (6, 6),      # steady
    (UNIT_A, "property"): (9, 4),     # shrinking
    (UNIT_B, "safety"): (5, 20),      # +15, 3.0
}
PREVIOUS_WEEK, THIS_WEEK = datetime(2026, 11, 1, 2, tzinfo=timezone.utc), datetime(2026, 11, 8, 2, tzinfo=timezone.utc)


def reported_case(tracker, case_id: str, unit_code: str, category: str, at: datetime) -> None:
    unit = tracker.store.get(ORG_UNITS, unit_code)
    reported = Envelope(type="CaseReported", source="/griddesk/intake", subject=case_id, time=at,
                        data={"case_id": case_id, "channel": "hotline", "text": "问题", "reporter": {},
                              "location": {"unit_code": unit_code}, "reported_at": at.isoformat()})
    assigned = reported.caused("CaseAssigned", "/griddesk/router", {
        "assignee": {"id": f"{unit_code}/unit_steward", "name": "管家", "role": "unit_steward", "org_code": unit_code,
                     "level": "unit"},
        "level": "unit", "tier": "general", "category": category, "org": unit["chain"], "location_resolved": True,
        "reason": "test"})
    for event in (reported, assigned):
        handlers.project_case(event, tracker.store, tracker.policy)


@pytest.fixture
def client(tracker):
    n = 0
    for (unit, category), counts in HISTORY.items():
        for week_start, count in zip((PREVIOUS_WEEK, THIS_WEEK), counts):
            for k in range(count):
                n += 1
                reported_case(tracker, f"GD-H{n:04d}", unit, category, week_start + timedelta(hours=k % 100))
    reported_case(tracker, "GD-OLD", UNIT_A, "facility", datetime(2026, 10, 20, tzinfo=timezone.utc))  # in neither
    handlers.add_pending_to_buckets(tracker.store)
    return create_app(tracker).test_client()


def headers(tracker, org: str, level: str) -> dict:
    return {"Authorization": f"Bearer {auth.issue_staff_token(tracker.store, 'staff', 'staff', org, level)}"}


def growing(body: dict) -> list[tuple]:
    return [(r["org"]["code"], r["category"], r["previous"], r["received"], r["growth"], r["growth_rate"])
            for r in body["growing_categories"]]


def test_the_district_sees_every_grids_fastest_growing_categories(tracker, client):
    body = client.get(f"/api/v1/hotspots?{WEEK}", headers=headers(tracker, "XX", "district")).get_json()
    assert body["previous_period"] == {"from": "2026-11-01", "to": "2026-11-07"} and body["min_count"] == 5
    assert growing(body) == [("QJ02-G01", "safety", 5, 20, 15, 3.0), ("QJ01-G01", "facility", 2, 8, 6, 1.2),
                             ("QJ01-G01", "dispute", 0, 5, 5, 1.0), ("QJ01-G01", "sanitation", 10, 15, 5, 0.5)]
    assert body["growing_categories"][0]["org"] == {"code": "QJ02-G01", "name": tracker.store.get(
        ORG_UNITS, "QJ02-G01")["name"], "level": "grid"}


def test_per_community_street_and_minimum_count(tracker, client):
    district = headers(tracker, "XX", "district")
    by_community = growing(client.get(f"/api/v1/hotspots?{WEEK}&level=community", headers=district).get_json())
    assert [(r[0], r[1]) for r in by_community] == [("QJ02", "safety"), ("QJ01", "facility"), ("QJ01", "dispute"),
                                                    ("QJ01", "sanitation")]
    at_ten = growing(client.get(f"/api/v1/hotspots?{WEEK}&level=street&min_count=10", headers=district).get_json())
    assert at_ten == [("QJ", "safety", 5, 20, 15, 1.5), ("QJ", "sanitation", 10, 15, 5, 0.5)]
    at_one = growing(client.get(f"/api/v1/hotspots?{WEEK}&min_count=1&limit=2", headers=district).get_json())
    # with a minimum of 1, a new category's growth is measured against 1 case: dispute 0 -> 5 is +500 %
    assert at_one == [("QJ01-G01", "dispute", 0, 5, 5, 5.0), ("QJ02-G01", "safety", 5, 20, 15, 3.0)]


def test_a_grid_token_sees_only_its_grid_and_a_unit_is_summed_from_its_cases(tracker, client):
    grid_a = headers(tracker, "QJ01-G01", "grid")
    rows = growing(client.get(f"/api/v1/hotspots?{WEEK}", headers=grid_a).get_json())
    assert [(r[0], r[1]) for r in rows] == [("QJ01-G01", "facility"), ("QJ01-G01", "dispute"),
                                            ("QJ01-G01", "sanitation")]
    unit_rows = growing(client.get(f"/api/v1/hotspots?{WEEK}&org={UNIT_A}", headers=grid_a).get_json())
    assert [r[1:] for r in unit_rows] == [r[1:] for r in rows] and {r[0] for r in unit_rows} == {UNIT_A}
    assert client.get(f"/api/v1/hotspots?{WEEK}&org=QJ02-G01", headers=grid_a).status_code == 404


def test_hotspots_csv(tracker, client):
    response = client.get(f"/api/v1/hotspots.csv?{WEEK}&level=community",
                          headers=headers(tracker, "XX", "district"))
    assert response.status_code == 200 and response.content_type.startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0][:8] == ["code", "name", "level", "category", "received", "previous", "growth", "growth_rate"]
    assert table[1][:8] == ["QJ02", tracker.store.get(ORG_UNITS, "QJ02")["name"], "community", "safety", "20", "5",
                            "15", "3.0"]
    assert table[1][8:] == ["2026-11-08", "2026-11-14", "2026-11-01", "2026-11-07"] and len(table) == 5


def test_bad_hotspot_queries_get_400(tracker, client):
    district = headers(tracker, "XX", "district")
    for query in ("level=unit", "min_count=0", "level=grid&person=x"):
        response = client.get(f"/api/v1/hotspots?{query}", headers=district)
        assert response.status_code == 400, query
        assert response.get_json()["error"]["code"] == "invalid_query"
