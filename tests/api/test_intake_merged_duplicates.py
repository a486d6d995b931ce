"""A duplicate the router merged (DuplicateMerged on router.events): intake's case file is over, the
resident's follow-up and Open311 name the surviving case, and nobody can act on it any more."""
from __future__ import annotations

from shared.events.contracts import validated_data
from shared.events.envelope import Envelope
from services.intake import handlers
from tests.api.test_intake_actions import CHAIN, REPORT, bearer, registry, reported  # noqa: F401


def merge(intake, case_id, into="GD-20261124-SURVIV"):
    data = {"into_case_id": into, "match": "unit", "matched": ["楼道"], "reason": "same problem",
            "window_hours": 168.0, "category": "safety", "tier": "coordination", "org": CHAIN}
    event = Envelope(type="DuplicateMerged", source="/griddesk/router", subject=case_id,
                     data=validated_data("DuplicateMerged", data))
    handlers.record_router_event(event, store=intake.store)
    handlers.record_router_event(event, store=intake.store)  # a redelivery changes nothing
    return into


def test_a_merged_duplicate_is_closed_for_open311_and_names_the_surviving_case(intake, intake_client, api_key,
                                                                                registry):
    case = reported(intake_client, api_key)
    into = merge(intake, case["case_id"])

    follow_up = intake_client.get(f"/api/v1/follow-up/{case['case_id']}", headers={"X-Case-Token": case["token"]})
    body = follow_up.get_json()
    assert body["state"] == "merged" and body["merged_into"] == into and into in body["state_text"]
    assert [entry["text"] for entry in body["timeline"]][-1] == "与同一问题的其他反映合并处理"

    read = intake_client.get(f"/open311/v2/requests/{case['case_id']}.json").get_json()[0]
    assert read["status"] == "closed" and into in read["status_notes"]

    withdrawn = intake_client.post(f"/api/v1/follow-up/{case['case_id']}/withdraw", json={},
                                   headers={"X-Case-Token": case["token"]})
    assert withdrawn.status_code == 409
    above = bearer(intake, "grid", CHAIN["grid"], "grid_worker")
    rejected = intake_client.post(f"/api/v1/cases/{case['case_id']}/reject", json={"reason": "重复"}, headers=above)
    assert rejected.status_code in (403, 409)
    assert len(intake.store.get(handlers.CASE_FILES, case["case_id"])["timeline"]) == 2


def test_a_case_the_resident_withdrew_first_stays_withdrawn(intake, intake_client, api_key, registry):
    case = reported(intake_client, api_key)
    response = intake_client.post(f"/api/v1/follow-up/{case['case_id']}/withdraw", json={"reason": "已自行解决"},
                                  headers={"X-Case-Token": case["token"]})
    assert response.status_code == 202
    merge(intake, case["case_id"])
    assert intake.store.get(handlers.CASE_FILES, case["case_id"])["state"] == "withdrawn"
