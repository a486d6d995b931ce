"""Turning routing decisions into events: a case's assignments for its tier (owner, parallel
parties, department), each with its acknowledgement and resolution deadlines. Event and assignment
ids derive from the cause, so the same decision always yields the same ids."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.events.contracts import DEADLINES, department_topic
from shared.events.envelope import Envelope, derived_id
from shared.publisher import Publishable
from shared.working_time import WorkingCalendar
from services.router import assignment
from services.router.assignment import Assignment, Lookup, Placement
from services.router.routing_rules import RoutingRules

SOURCE = "/griddesk/router"


@dataclass(frozen=True)
class CaseFacts:
    """What every assignment of one case repeats."""
    placement: Placement
    category: str
    tier: str
    summary: str
    text: str  # normalised report text: words in it pick the department


@dataclass(frozen=True)
class Planner:
    rules: RoutingRules
    calendar: WorkingCalendar
    lookup: Lookup

    def assigned(self, cause: Envelope, facts: CaseFacts, choice: Assignment, now: datetime, purpose: str, *,
                 parallel: bool = False, department: str | None = None) -> Envelope:
        deadline_level = "department" if department else choice.level
        due = {kind: self.rules.deadlines.due(self.calendar, now, facts.tier, deadline_level, kind).isoformat()
               for kind in DEADLINES}
        return cause.caused("CaseAssigned", SOURCE, {
            "assignee": choice.assignee, "level": "department" if department else choice.level,
            "tier": facts.tier, "category": facts.category, "org": facts.placement.chain,
            "location_resolved": facts.placement.resolved, "reason": choice.reason, "summary": facts.summary,
            "assignment_id": derived_id(cause.id, f"CaseAssigned/{purpose}"), "parallel": parallel,
            "department": department, "acknowledge_due": due["acknowledge"], "resolve_due": due["resolve"],
        }, purpose=purpose, time=now)

    def informed(self, cause: Envelope, person: dict, reason: str, now: datetime, purpose: str) -> Envelope:
        return cause.caused("CaseInformed", SOURCE, {"person": person, "reason": reason}, purpose=purpose, time=now)

    def department_person(self, code: str) -> dict:
        return {"id": f"{code}/department", "name": self.rules.department_names[code], "role": "department",
                "phone": "", "org_code": code, "level": "department"}

    def dispatch(self, cause: Envelope, facts: CaseFacts, owner: Assignment, now: datetime,
                 prefix: str) -> list[Publishable]:
        """The owner's assignment and, by tier, the parallel parties, the department and who is informed."""
        events: list[Publishable] = [self.assigned(cause, facts, owner, now, f"{prefix}owner")]
        if facts.tier == "emergency":
            for party in assignment.emergency_parallel(facts.placement, self.lookup):
                if party.assignee["id"] != owner.assignee["id"]:
                    events.append(self.assigned(cause, facts, party, now, f"{prefix}parallel/{party.level}",
                                                parallel=True))
        department = (self.rules.department_for(facts.category, facts.text)
                      if facts.tier in ("emergency", "coordination", "concentrated") else None)
        if department:
            choice = Assignment(self.department_person(department), "department",
                                f"{facts.category} needs the {self.rules.department_names[department]} ({department})")
            copy = self.assigned(cause, facts, choice, now, f"{prefix}department/{department}", parallel=True,
                                 department=department)
            events += [copy, (department_topic(department), copy)]
        if facts.tier == "coordination":
            branch = assignment.person_at(facts.placement, "branch", self.lookup)
            if branch and branch["id"] != owner.assignee["id"]:
                events.append(self.informed(cause, branch, "coordination case: the branch coordinates "
                                            f"(four-in-one); the {owner.assignee['role'].replace('_', ' ')} "
                                            "owns it", now, f"{prefix}informed/branch"))
        return events
