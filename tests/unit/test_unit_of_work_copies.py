"""The unit of work's private copies: what a JSON round trip gave, only cheaper for plain documents."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from shared.document_copies import private_copy


def test_a_plain_document_is_copied_all_the_way_down():
    document = {"_id": "GD-1", "_v": 3, "score": 0.5, "open": True, "owner": None,
                "timeline": [{"type": "CaseReported", "levels": ["grid", "street"]}], "facts": {"tier": {"a": [1]}}}
    copied = private_copy(document)
    assert copied == document == json.loads(json.dumps(document))
    copied["timeline"][0]["levels"].append("district")
    copied["facts"]["tier"]["a"].append(2)
    copied["timeline"].append({})
    assert document["timeline"] == [{"type": "CaseReported", "levels": ["grid", "street"]}]
    assert document["facts"] == {"tier": {"a": [1]}}


def test_values_a_json_round_trip_would_change_are_changed_as_before():
    assert private_copy({"pair": (1, 2), "nested": [{"t": ("a",)}]}) == {"pair": [1, 2], "nested": [{"t": ["a"]}]}
    assert private_copy({"by_number": {1: "one"}}) == {"by_number": {"1": "one"}}


def test_values_json_cannot_hold_are_deep_copied():
    when = datetime(2026, 11, 29, tzinfo=timezone.utc)
    document = {"at": when, "list": [1]}
    copied = private_copy(document)
    assert copied == document and copied["list"] is not document["list"]
    assert private_copy(None) is None
