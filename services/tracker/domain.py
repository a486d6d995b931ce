"""The case projection: a case is the fold of its events in causal order.

Events of one case come from several topics, so they can arrive in any order and more than once.
The projection keeps every event once (by id) in a timeline sorted by (time, causal rank) and
recomputes the state from the whole timeline on each change: arrival order never matters.
Standard library only.
"""
from __future__ import annotations

from typing import Any

# Causal rank breaks ties between events stamped with the same time.
RANK = {"CaseReported": 0, "CaseClassified": 1, "CaseAssigned": 2, "NotificationSent": 3}
STATE_AFTER = {"CaseReported": "reported", "CaseClassified": "classified", "CaseAssigned": "assigned"}


def new_case(case_id: str) -> dict[str, Any]:
    return {"_id": case_id, "case_id": case_id, "state": "reported", "timeline": [], "event_ids": [],
            "owner": None, "org": {}, "category": None, "tier": None, "channel": None}


def already_applied(case: dict, event_id: str) -> bool:
    return event_id in case["event_ids"]


def apply(case: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The case with ``event`` (an envelope document) added; a case that already has it is returned as is."""
    if already_applied(case, event["id"]):
        return case
    entry = {"event_id": event["id"], "type": event["type"], "time": event["time"], "source": event["source"],
             "correlation_id": event["correlation_id"], "causation_id": event["causation_id"],
             "data": event["data"]}
    timeline = _causal_order([*case["timeline"], entry])
    return _folded({**case, "timeline": timeline, "event_ids": [*case["event_ids"], event["id"]]})


def _causal_order(entries: list[dict]) -> list[dict]:
    """Sort by time, except that an event never precedes the event that caused it, whatever the
    producers' clocks say (services on different hosts may disagree by a few milliseconds)."""
    by_id = {e["event_id"]: e for e in entries}
    effective: dict[str, str] = {}

    def time_of(entry: dict, depth: int = 0) -> str:
        if entry["event_id"] not in effective:
            cause = by_id.get(entry.get("causation_id", ""))
            own = entry["time"]
            if cause is not None and cause is not entry and depth < 50:
                own = max(own, time_of(cause, depth + 1))
            effective[entry["event_id"]] = own
        return effective[entry["event_id"]]

    return sorted(entries, key=lambda e: (time_of(e), RANK.get(e["type"], 99)))


def _folded(case: dict[str, Any]) -> dict[str, Any]:
    folded = {**case, "state": "reported"}
    for entry in case["timeline"]:
        data = entry["data"]
        kind = entry["type"]
        if kind in STATE_AFTER:
            folded["state"] = STATE_AFTER[kind]
        if kind == "CaseReported":
            folded.update(channel=data["channel"], text=data["text"], reporter=data.get("reporter", {}),
                          location=data.get("location", {}), reported_at=data["reported_at"])
        elif kind == "CaseClassified":
            folded.update(category=data["category"], tier=data["tier"], confidence=data["confidence"])
        elif kind == "CaseAssigned":
            folded.update(owner={**data["assignee"], "since": entry["time"]}, org=data["org"],
                          category=data["category"], tier=data["tier"], assigned_at=entry["time"])
    folded["updated_at"] = case["timeline"][-1]["time"] if case["timeline"] else None
    return folded


def public_view(case: dict[str, Any]) -> dict[str, Any]:
    """The case as the API shows it to staff."""
    keys = ("case_id", "state", "channel", "category", "tier", "confidence", "text", "reporter", "location",
            "org", "owner", "reported_at", "assigned_at", "updated_at")
    view = {k: case.get(k) for k in keys}
    view["timeline"] = case["timeline"]
    return view


def summary_view(case: dict[str, Any]) -> dict[str, Any]:
    view = public_view(case)
    view.pop("timeline")
    return view
