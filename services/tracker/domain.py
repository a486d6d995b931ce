"""The case projection: a case is the fold of its events in causal order.

Events of one case come from several topics, so they can arrive in any order and more than once.
The projection keeps every event once (by id) in a timeline sorted by (time, causal rank) and
recomputes the state from the whole timeline on each change: arrival order never matters.
The state machine (``TRANSITIONS``) refuses impossible transitions: such an event stays in the
timeline, marked ``refused``, and changes nothing. Standard library only.
"""
from __future__ import annotations

from typing import Any

# Causal rank breaks ties between events stamped with the same time.
RANK = {"CaseReported": 0, "CaseClassified": 1, "CaseAssigned": 2, "NotificationSent": 3}

OPEN_WORK = ("assigned", "acknowledged", "in_progress", "extended", "reopened")
TERMINAL = ("closed", "rejected", "withdrawn", "merged")
STATES = ("reported", "classified", "assigned", "acknowledged", "in_progress", "waiting_for_resident",
          "resolved", "verified", "closed", "returned", "reopened", "extended", "merged", "rejected", "withdrawn")
# event type -> (states it may happen in, state after it; None keeps the state)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "CaseClassified": (("reported", "classified", "returned"), "classified"),
    "CaseAcknowledged": (("assigned",), "acknowledged"),
    "CaseStarted": (("assigned", "acknowledged", "extended", "reopened"), "in_progress"),
    "ArrivedOnSite": (("assigned", "acknowledged", "extended", "reopened"), "in_progress"),
    "CaseReturned": (("assigned", "acknowledged", "in_progress"), "returned"),
    "CaseAwaitingResident": (OPEN_WORK, "waiting_for_resident"),
    "CaseResumed": (("waiting_for_resident",), None),  # back to the state the case waited in
    "CaseResolved": (OPEN_WORK, "resolved"),
    "CaseClosed": (("resolved", "verified"), "closed"),
    # "reopened" too: a refused CaseVerified has moved the state already; its CaseReopened still counts
    "CaseReopened": (("resolved", "verified", "reopened", "closed"), "reopened"),
    "CaseRejected": (("reported", "classified", "assigned", "acknowledged", "returned"), "rejected"),
    "CaseWithdrawn": (("reported", "classified", "assigned", "acknowledged", "in_progress", "returned",
                       "extended", "reopened", "resolved", "verified", "waiting_for_resident"), "withdrawn"),
    "CaseMerged": (("reported", "classified", "assigned", "acknowledged", "in_progress", "returned",
                    "extended", "reopened", "waiting_for_resident"), "merged"),
    "DuplicateMerged": (("reported", "classified"), "merged"),  # the router merged it instead of dispatching
}
# Events the fold records and nothing more (no transition, no field of the case): adding one changes the
# case's timeline and updated_at only, so its facts, deadlines and breaches stay as they were.
TIMELINE_ONLY = frozenset({"ProgressNoted", "PartyMembersCalled", "ExtensionRequested", "CaseInformed",
                           "DeliberationRequested", "NotificationSent", "NotificationFailed"})


def new_case(case_id: str) -> dict[str, Any]:
    return {"_id": case_id, "case_id": case_id, "state": "reported", "timeline": [], "event_ids": [],
            "owner": None, "org": {}, "category": None, "tier": None, "channel": None, "assignments": []}


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
    added = {**case, "timeline": timeline, "event_ids": [*case["event_ids"], event["id"]]}
    if only_in_timeline(case, event):  # the fold from the start would give the same case: skip it
        added["updated_at"] = timeline[-1]["time"]
        return added
    return _folded(added)


def only_in_timeline(case: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether adding ``event`` to the (folded) case changes its timeline and ``updated_at`` only: a
    ``TIMELINE_ONLY`` event that no entry names as its cause (an effect sorts after its cause, so a cause
    arriving late could reorder the fold). A third of a case's events at the tracker are notifications."""
    return (event["type"] in TIMELINE_ONLY and "breaches_open" in case  # folded at least once
            and not any(entry.get("causation_id") == event["id"] for entry in case["timeline"]))


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
    folded = {**case, "state": "reported", "assignments": [], "escalations": 0, "returns": 0, "reopens": 0,
              "dispatches": 0, "extension_until": None, "extended": False, "feedback": None, "resolved_at": None, "first_resolved_at": None,
              "closed_at": None, "breaches": [], "warnings": [], "cluster": None, "merged_into": None,
              "pauses": [], "waited_in": None, "duplicates": []}
    # entries are never changed in place (the case read before shares them): one whose mark changes is copied
    folded["timeline"] = [_marked(entry, refused=not _fold_one(folded, entry)) for entry in case["timeline"]]
    folded["owner"] = _owner_view(folded)
    folded["updated_at"] = case["timeline"][-1]["time"] if case["timeline"] else None
    folded["breaches_open"] = open_breaches(folded)
    return folded


def _marked(entry: dict, *, refused: bool) -> dict:
    """The entry with ``refused: true`` when the state machine refused it, without the key otherwise."""
    if refused:
        return entry if entry.get("refused") is True else {**entry, "refused": True}
    return entry if "refused" not in entry else {k: v for k, v in entry.items() if k != "refused"}


def _fold_one(case: dict, entry: dict) -> bool:
    """Fold one timeline entry into ``case`` in place; False when the state machine refuses it."""
    kind, data, time = entry["type"], entry["data"], entry["time"]
    state_before = case["state"]
    rule = TRANSITIONS.get(kind)
    assignment = _target_assignment(case, data.get("assignment_id") or "")
    on_parallel = assignment is not None and assignment["parallel"]
    if rule and not on_parallel:
        allowed, after = rule
        if case["state"] not in allowed:
            return False
        case["state"] = after or case["state"]
    if kind == "CaseReported":
        case.update(channel=data["channel"], text=data["text"], reporter=data.get("reporter", {}),
                    location=data.get("location", {}), reported_at=data["reported_at"])
    elif kind == "CaseClassified":
        case.update(category=data["category"], tier=data["tier"], confidence=data["confidence"])
    elif kind == "CaseReclassified":
        case.update(category=data["category"], tier=data["tier"])
    elif kind == "CaseAssigned":
        return _assign(case, entry)
    elif kind == "CaseAcknowledged" and assignment is not None:
        assignment["acknowledged_at"] = assignment["acknowledged_at"] or time
    elif kind == "ArrivedOnSite" and assignment is not None:
        assignment["arrived_at"] = assignment["arrived_at"] or time
    elif kind == "CaseResolved":
        if assignment is not None:
            assignment["resolved_at"] = time
        if not on_parallel:
            case["resolved_at"] = time
            case["first_resolved_at"] = case["first_resolved_at"] or time
    elif kind == "CaseReturned":
        case["returns"] += 1
        _end_owner(case)
    elif kind == "ExtensionDecided" and data.get("approved") and case["state"] in OPEN_WORK:
        case.update(extended=True, extension_until=data.get("until") or None, state="extended")
        owner = _current_owner(case)
        if owner is not None and data.get("until"):
            owner.update(resolve_due=data["until"], resolve_round=f"extension:{data['until']}")
    elif kind == "CaseAwaitingResident":
        case["pauses"].append({"from": time, "until": None, "reason": data["reason"]})
        case["waited_in"] = state_before
    elif kind == "CaseResumed":
        case["pauses"][-1]["until"] = time
        case["state"], case["waited_in"] = case["waited_in"] or "in_progress", None
    elif kind == "CaseVerified":
        if case["state"] != "resolved":
            return False
        case["state"] = "verified" if data["accepted"] else "reopened"
    elif kind == "CaseReopened":
        case["reopens"] += 1
        case["resolved_at"] = None
        owner = _current_owner(case)
        if owner is not None:  # rework: a fresh resolution limit from now (the SLA policy knows the limit)
            owner.update(resolve_restarted_at=time, resolve_round=f"reopen:{case['reopens']}")
    elif kind == "CaseClosed":
        case["closed_at"] = time
    elif kind == "FeedbackGiven":
        case["feedback"] = {"satisfied": data["satisfied"], "comment": data.get("comment", ""), "at": time}
    elif kind == "CaseEscalated":
        case["escalations"] += 1
    elif kind == "CaseClustered":
        case["cluster"] = {"cluster_id": data["cluster_id"], "size": data["size"]}
    elif kind == "CaseMerged":
        case["merged_into"] = data["into_case_id"]
    elif kind == "DuplicateMerged":
        # never assigned, so its place, category and tier come from here (scope and indicator buckets)
        case.update(merged_into=data["into_case_id"], org=data["org"], category=data["category"], tier=data["tier"])
    elif kind == "DuplicateLinked":
        case["duplicates"].append({"case_id": data["duplicate_case_id"], "match": data["match"], "at": time})
    elif kind in ("SlaWarning", "SlaBreached"):
        key = "warnings" if kind == "SlaWarning" else "breaches"
        mark = {"assignment_id": data["assignment_id"], "deadline": data["deadline"], "due": data["due"],
                "level": data["level"], "round": data.get("round", ""), "at": time}
        if _deadline_key(mark) not in {_deadline_key(m) for m in case[key]}:
            case[key].append(mark)
    return True


def _assign(case: dict, entry: dict) -> bool:
    data, time = entry["data"], entry["time"]
    if case["state"] in TERMINAL or case["state"] in ("resolved", "verified"):
        return False
    assignment = {"assignment_id": data.get("assignment_id") or entry["event_id"], "assignee": data["assignee"],
                  "level": data["level"], "parallel": bool(data.get("parallel")),
                  "department": data.get("department"), "assigned_at": time,
                  "acknowledge_due": data.get("acknowledge_due"), "resolve_due": data.get("resolve_due"),
                  "resolve_restarted_at": None, "resolve_round": "",
                  "acknowledged_at": None, "arrived_at": None, "resolved_at": None, "active": True}
    case["assignments"] = [a for a in case["assignments"] if a["assignment_id"] != assignment["assignment_id"]]
    if not assignment["parallel"]:
        _end_owner(case)
        case["dispatches"] += 1
        # a new owner (an escalation decided before the wait began) inherits the wait
        waiting = case["state"] == "waiting_for_resident"
        case.update(org=data["org"], category=data["category"], tier=data["tier"], assigned_at=time,
                    state="waiting_for_resident" if waiting else "assigned")
    elif not case.get("org"):
        case["org"] = data["org"]
    case["assignments"].append(assignment)
    return True


def _end_owner(case: dict) -> None:
    owner = _current_owner(case)
    if owner is not None:
        owner["active"] = False


def _current_owner(case: dict) -> dict | None:
    owners = [a for a in case["assignments"] if not a["parallel"] and a["active"]]
    return owners[-1] if owners else None


def _target_assignment(case: dict, assignment_id: str) -> dict | None:
    """The assignment an action names, or the current owner's when it names none."""
    if assignment_id:
        for assignment in case["assignments"]:
            if assignment["assignment_id"] == assignment_id:
                return assignment
    return _current_owner(case)


def _owner_view(case: dict) -> dict | None:
    owner = _current_owner(case)
    return None if owner is None else {**owner["assignee"], "since": owner["assigned_at"]}


def open_deadlines(case: dict) -> list[dict]:
    """The (assignment, deadline, round) triples still waiting for their action: what the SLA sweep watches.

    ``due`` is the stored due time, or None for a resolution clock restarted by a reopen (the SLA policy
    counts the tier and level's limit from ``start``). ``round`` tells a moved deadline from the first one,
    so each gets its own warning and breach. ``owner``: the case's pauses apply to it (not to parallel
    parties, who do not wait for the resident)."""
    if case["state"] in TERMINAL:
        return []
    result = []
    for a in case["assignments"]:
        if not a["active"]:
            continue
        common = {"assignment_id": a["assignment_id"], "level": a["level"], "owner": not a["parallel"]}
        if a["acknowledge_due"] and not a["acknowledged_at"] and not (not a["parallel"] and a["resolved_at"]):
            result.append({**common, "deadline": "acknowledge", "start": a["assigned_at"], "due": a["acknowledge_due"],
                           "round": ""})
        resolved = a["resolved_at"] if a["parallel"] else case.get("resolved_at")
        restarted = a.get("resolve_restarted_at")
        round_ = a.get("resolve_round", "")
        if (a["resolve_due"] or restarted) and not resolved:
            result.append({**common, "deadline": "resolve", "start": restarted or a["assigned_at"],
                           "due": None if round_.startswith("reopen:") else a["resolve_due"], "round": round_})
    return result


def open_breaches(case: dict) -> list[dict]:
    """Breaches whose action is still missing (the assignment neither acted nor was replaced, and the
    deadline was not moved since)."""
    waiting = {_deadline_key(d) for d in open_deadlines(case)}
    return [b for b in case["breaches"] if _deadline_key(b) in waiting]


def _deadline_key(mark: dict) -> tuple[str, str, str]:
    return mark["assignment_id"], mark["deadline"], mark.get("round", "")


def waiting_since(case: dict) -> str | None:
    """When the case began waiting for the resident, while it does."""
    pauses = case.get("pauses") or []
    return pauses[-1]["from"] if pauses and pauses[-1]["until"] is None else None


def public_view(case: dict[str, Any]) -> dict[str, Any]:
    """The case as the API shows it to staff."""
    view = summary_view(case)
    view["assignments"] = case.get("assignments", [])
    view["pauses"] = case.get("pauses", [])  # waiting for the resident: from, until (null while waiting), reason
    view["holders"] = [{"assignee": a["assignee"], "from": a["assigned_at"], "parallel": a["parallel"],
                        "active": a["active"]} for a in case.get("assignments", [])]
    view["timeline"] = case["timeline"]
    return view


def summary_view(case: dict[str, Any]) -> dict[str, Any]:
    keys = ("case_id", "state", "channel", "category", "tier", "confidence", "text", "reporter", "location",
            "org", "owner", "reported_at", "assigned_at", "resolved_at", "closed_at", "updated_at", "escalations",
            "breaches", "cluster", "merged_into", "duplicates", "feedback")
    view = {k: case.get(k) for k in keys}
    view["waiting_since"] = waiting_since(case)
    view["breaches_open"] = len(case.get("breaches_open") or [])
    return view
