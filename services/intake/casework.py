"""Intake's view of a case, and the rules of who may do what to it. Pure: standard library only.

A *case file* is intake's own read model: the case's state (from the events intake itself produced) and
its owner and parallel assignments (from the router's CaseAssigned and CaseEscalated). An *actor* is
whoever asks: a staff token (an org post), a department's API key, or the resident holding the token.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Rank on the chain, bottom up. A functional department stands outside the chain; its results are
# checked from the street up (the street office coordinates departments).
RANK = {"unit": 0, "building": 1, "grid": 2, "compound": 3, "branch": 4, "community": 5, "street": 6,
        "district": 7, "department": 5}
WORKING = ("assigned", "acknowledged", "in_progress", "reopened")
WAITING = "waiting_for_resident"  # the owner needs the resident; the SLA clock stands still (docs/tracker.md)
OPEN = ("reported", *WORKING, "returned", WAITING)
AFTER_RESOLUTION = ("resolved", "verified", "closed")

# who: owner (the case's owner) · assignee (owner or a parallel assignment's holder) · above (a staff
# member covering the case, above the owner's level) · owner_or_above · branch_up (branch level or
# higher, covering the case: "the branch blows the whistle") · resident (the follow-up token)
OWNER, ASSIGNEE, ABOVE, OWNER_OR_ABOVE, BRANCH_UP, RESIDENT = (
    "owner", "assignee", "above", "owner_or_above", "branch_up", "resident")


@dataclass(frozen=True)
class Rule:
    event: str
    who: str
    states: tuple[str, ...]
    departments: bool = False  # may a department's key do it (on its own assignment)?


ACTIONS: dict[str, Rule] = {
    "acknowledge": Rule("CaseAcknowledged", ASSIGNEE, WORKING, departments=True),
    "start": Rule("CaseStarted", OWNER, ("assigned", "acknowledged", "reopened"), departments=True),
    "progress": Rule("ProgressNoted", ASSIGNEE, WORKING, departments=True),
    "call_party_members": Rule("PartyMembersCalled", BRANCH_UP, WORKING),
    "arrive": Rule("ArrivedOnSite", ASSIGNEE, WORKING, departments=True),
    "await_resident": Rule("CaseAwaitingResident", OWNER, ("acknowledged", "in_progress", "reopened")),
    "resume": Rule("CaseResumed", OWNER, (WAITING,)),
    "request_extension": Rule("ExtensionRequested", OWNER, WORKING, departments=True),
    "decide_extension": Rule("ExtensionDecided", ABOVE, WORKING),
    "return": Rule("CaseReturned", OWNER, WORKING, departments=True),
    "reclassify": Rule("CaseReclassified", OWNER_OR_ABOVE, ("reported", *WORKING, "returned")),
    "resolve": Rule("CaseResolved", ASSIGNEE, WORKING, departments=True),
    "verify": Rule("CaseVerified", ABOVE, ("resolved",)),
    "close": Rule("CaseClosed", ABOVE, ("verified",)),
    "reject": Rule("CaseRejected", OWNER_OR_ABOVE, ("reported", "assigned", "acknowledged", "returned")),
    "merge": Rule("CaseMerged", OWNER_OR_ABOVE, OPEN),
    "feedback": Rule("FeedbackGiven", RESIDENT, AFTER_RESOLUTION),
    "withdraw": Rule("CaseWithdrawn", RESIDENT, OPEN),
    "reply": Rule("CaseResumed", RESIDENT, (WAITING,)),
}
STAFF_ACTIONS = tuple(name for name, rule in ACTIONS.items() if rule.who != RESIDENT)
RESIDENT_ACTIONS = tuple(name for name, rule in ACTIONS.items() if rule.who == RESIDENT)


@dataclass(frozen=True)
class Actor:
    kind: str  # "staff", "department" or "resident"
    person: dict = field(default_factory=dict)  # PersonSchema shape; empty for a resident
    level: str = ""
    org_code: str = ""
    department: str = ""

    @property
    def credential(self) -> str:
        """Scopes Idempotency-Keys: two posts never share one."""
        return f"{self.kind}:{self.level}:{self.org_code}:{self.department}:{self.person.get('role', '')}"


class Refused(Exception):
    """The action is not allowed: ``status`` 404 (not yours to see), 403 (not yours to do), 409 (not now)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def staff_person(org_code: str, level: str, role: str, name: str) -> dict:
    return {"id": f"{org_code}/{role}", "name": name, "role": role, "org_code": org_code, "level": level}


def department_person(department: str, name: str) -> dict:
    return {"id": f"{department}/department", "name": name, "role": "department", "org_code": department,
            "level": "department"}


def new_case_file(case_id: str, report: dict) -> dict:
    return {"_id": case_id, "state": "reported", "tier": None, "category": None, "org": {},
            "owner": None, "assignments": {}, "pending_extension": None, "resolve_due": None, "awaiting": None,
            "feedback_round": 0, "feedback_given": -1, "reported_at": report.get("reported_at", ""),
            "location": report.get("location", {}), "text": report.get("text", ""),
            "timeline": [{"time": report.get("reported_at", ""), "type": "CaseReported"}],
            "applied": [], "outbox": [], "pending": False, "requests": {},
            "attachments": list(report.get("attachments", []))}


# --- the router's events -------------------------------------------------------------------------

def record_assignment(case: dict, data: dict, event_id: str, time: str) -> dict:
    case = {**case, "assignments": dict(case["assignments"])}
    assignment_id = data.get("assignment_id") or event_id
    assignment = {"assignment_id": assignment_id, "assignee": data["assignee"], "level": data["level"],
                  "department": data.get("department") or "", "parallel": bool(data.get("parallel")),
                  "acknowledged": False, "resolved": False}
    case["assignments"][assignment_id] = assignment
    case["tier"], case["category"] = data["tier"], data["category"]
    case["org"] = data.get("org") or case["org"]
    if not assignment["parallel"]:
        case["owner"] = assignment
        case["resolve_due"] = data.get("resolve_due")
        if case["state"] in ("reported", "returned"):
            case["state"] = "assigned"
    case["timeline"] = case["timeline"] + [{"time": time, "type": "CaseAssigned", "level": data["level"]}]
    return case


def record_escalation(case: dict, data: dict, time: str) -> dict:
    """The owner moves up a level. Who holds the post there follows in the router's next CaseAssigned;
    until then the post itself (the org unit at that level) owns the case."""
    level = data["to_level"]
    code = (case.get("org") or {}).get(level, "")
    owner = {"assignment_id": data.get("assignment_id") or "", "level": level, "department": "",
             "assignee": {"id": "", "org_code": code, "level": level}, "parallel": False,
             "acknowledged": False, "resolved": False}
    return {**case, "owner": owner,
            "timeline": case["timeline"] + [{"time": time, "type": "CaseEscalated", "level": level}]}


def record_duplicate_merged(case: dict, data: dict, time: str) -> dict:
    """The router found the report a duplicate of an open case and merged it instead of dispatching it:
    it is over here too (no owner, nothing to act on); the resident follows the surviving case."""
    if case["state"] not in OPEN:
        return case  # a person acted on it first (e.g. the resident withdrew it): that stands
    return {**case, "state": "merged", "merged_into": data["into_case_id"], "category": data["category"],
            "tier": data["tier"], "org": data.get("org") or case["org"],
            "timeline": case["timeline"] + [{"time": time, "type": "DuplicateMerged"}]}


# --- who may act ---------------------------------------------------------------------------------

def covers(actor: Actor, case: dict) -> bool:
    if actor.kind != "staff":
        return False
    return actor.level == "district" or (case.get("org") or {}).get(actor.level) == actor.org_code


def holds(actor: Actor, assignment: dict | None) -> bool:
    if not assignment:
        return False
    if actor.kind == "department":
        return actor.department in (assignment.get("department"), assignment["assignee"].get("org_code")) \
            and assignment["level"] == "department"
    return actor.kind == "staff" and assignment["level"] == actor.level \
        and assignment["assignee"].get("org_code") == actor.org_code


def is_above_owner(actor: Actor, case: dict) -> bool:
    owner = case.get("owner")
    if not owner or not covers(actor, case):
        return False
    rank = RANK.get(actor.level, -1)
    return rank > RANK[owner["level"]] or (rank == RANK["district"] and owner["level"] == "district")


def visible_to(actor: Actor, case: dict) -> bool:
    """Whether the actor may know the case exists (else 404, as the tracker does)."""
    return covers(actor, case) or any(holds(actor, a) for a in case["assignments"].values())


def assignment_for(actor: Actor, case: dict, rule: Rule, assignment_id: str = "") -> dict:
    """The assignment the actor acts on; Refused when it has none that this rule allows."""
    if actor.kind == "department" and not rule.departments:
        raise Refused(403, "not_for_departments", "a department's key cannot do this")
    owner = case.get("owner")
    if rule.who in (OWNER, OWNER_OR_ABOVE) and holds(actor, owner):
        return owner
    if rule.who == ASSIGNEE:
        if assignment_id:
            chosen = case["assignments"].get(assignment_id)
            if chosen is not None and holds(actor, chosen):
                return chosen
            raise Refused(403, "not_your_assignment", "this assignment is not yours")
        if holds(actor, owner):
            return owner
        mine = [a for a in case["assignments"].values() if holds(actor, a) and a["parallel"]]
        if mine:
            return min(mine, key=lambda a: (a["resolved"], a["acknowledged"]))
    if rule.who in (ABOVE, OWNER_OR_ABOVE) and is_above_owner(actor, case):
        return owner
    if rule.who == BRANCH_UP and covers(actor, case) and RANK.get(actor.level, -1) >= RANK["branch"]:
        return owner or {}
    raise Refused(403, "not_allowed", f"this action is for the {rule.who.replace('_', ' ')} of the case")


def check(action: str, actor: Actor, case: dict, payload: dict) -> dict:
    """The assignment acted on, after every rule holds; Refused otherwise."""
    rule = ACTIONS[action]
    if rule.who == RESIDENT:
        assignment = {}
    else:
        if not visible_to(actor, case):
            raise Refused(404, "not_found", "no such case")
        assignment = assignment_for(actor, case, rule, payload.get("assignment_id", ""))
    if case["state"] not in rule.states:
        raise Refused(409, "wrong_state", f"cannot {action.replace('_', ' ')} a case that is {case['state']}")
    if action == "arrive" and case.get("tier") != "emergency":
        raise Refused(409, "not_an_emergency", "arrival on site is recorded for emergencies only")
    if action == "request_extension" and case.get("pending_extension"):
        raise Refused(409, "extension_pending", "an extension request is already waiting for a decision")
    if action == "decide_extension" and not case.get("pending_extension"):
        raise Refused(409, "no_extension_pending", "no extension request is waiting for a decision")
    if action == "feedback" and case["feedback_given"] >= case["feedback_round"]:
        raise Refused(409, "feedback_given", "feedback on this result was already given")
    if action == "merge" and payload.get("into_case_id") == case["_id"]:
        raise Refused(409, "merge_into_itself", "a case cannot be merged into itself")
    return assignment


# --- what an action records ----------------------------------------------------------------------

def apply(action: str, actor: Actor, case: dict, payload: dict, assignment: dict,
          time: str) -> tuple[dict, list[tuple[str, dict]]]:
    """The case file after the action, and the events (type, data) it records, in order."""
    case = {**case, "assignments": {k: dict(v) for k, v in case["assignments"].items()}}
    mine = case["assignments"].get(assignment.get("assignment_id", ""), {})
    is_owner = bool(case.get("owner")) and assignment.get("assignment_id") == case["owner"].get("assignment_id") \
        and not assignment.get("parallel")
    by = actor.person
    data = {"by": by} if actor.kind != "resident" else {}
    events: list[tuple[str, dict]] = []
    rule = ACTIONS[action]
    text = {k: payload[k] for k in ("note", "reason", "result", "comment") if payload.get(k)}
    data.update(text)
    if action in ("acknowledge", "arrive", "resolve"):
        data["assignment_id"] = assignment.get("assignment_id", "")
    if action in ("progress", "resolve"):
        data["attachments"] = list(payload.get("attachments", []))
        case["attachments"] = sorted(set(case.get("attachments", [])) | set(data["attachments"]))
    if action == "acknowledge":
        mine["acknowledged"] = True
        if is_owner and case["state"] == "assigned":
            case["state"] = "acknowledged"
    elif action == "start" and is_owner:
        case["state"] = "in_progress"
    elif action == "call_party_members":
        data["members"] = [{"id": m.get("id") or f"{actor.org_code}/party_member/{i}", "name": m["name"],
                            "role": "party_member", "phone": m.get("phone", ""), "org_code": actor.org_code,
                            "level": actor.level} for i, m in enumerate(payload.get("members", []), 1)]
    elif action == "await_resident":
        case["awaiting"] = {"reason": payload["reason"], "since": time, "waited_in": case["state"]}
        case["state"] = WAITING
    elif action in ("resume", "reply"):
        data.update(by=by or None, cause="handler" if action == "resume" else "resident")
        case["state"], case["awaiting"] = (case.get("awaiting") or {}).get("waited_in") or "in_progress", None
    elif action == "request_extension":
        data["until"] = payload["until"]
        case["pending_extension"] = {"until": payload["until"], "reason": payload["reason"]}
    elif action == "decide_extension":
        data["approved"] = payload["approved"]
        data["until"] = payload.get("until") or case["pending_extension"]["until"]
        if payload["approved"]:
            case["resolve_due"] = data["until"]
        case["pending_extension"] = None
    elif action == "return":
        case["state"], case["owner"] = "returned", None
    elif action == "reclassify":
        data["category"], data["tier"] = payload["category"], payload["tier"]
        case["category"], case["tier"] = payload["category"], payload["tier"]
    elif action == "resolve":
        mine["resolved"] = True
        if is_owner:
            case["state"] = "resolved"
            case["feedback_round"] += 1
    elif action == "verify":
        data["accepted"] = payload["accepted"]
        case["state"] = "verified" if payload["accepted"] else "reopened"
    elif action == "close":
        case["state"] = "closed"
    elif action == "feedback":
        data["satisfied"] = payload["satisfied"]
        case["feedback_given"] = case["feedback_round"]
        if not payload["satisfied"]:
            case["state"] = "reopened"
    elif action == "merge":
        data["into_case_id"] = payload["into_case_id"]
        case["state"], case["merged_into"] = "merged", payload["into_case_id"]
    elif action in ("reject", "withdraw"):
        case["state"] = {"reject": "rejected", "withdraw": "withdrawn"}[action]
    if mine:
        case["assignments"][mine["assignment_id"]] = mine
        if is_owner:
            case["owner"] = mine if case.get("owner") else None
    events.append((rule.event, data))
    if action == "verify" and not payload["accepted"]:
        events.append(("CaseReopened", {"reason": payload.get("note") or "the result was not accepted",
                                        "cause": "verification", "by": by}))
    if action == "feedback" and not payload["satisfied"]:
        events.append(("CaseReopened", {"reason": payload.get("comment") or "the resident is not satisfied",
                                        "cause": "feedback", "by": None}))
    for event_type, _ in events:
        entry = {"time": time, "type": event_type}
        if actor.kind != "resident":
            entry["level"] = actor.level
        case["timeline"] = case["timeline"] + [entry]
    return case, events
