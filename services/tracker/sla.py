"""The SLA sweep: find assignments whose warning point or deadline has passed without the action and
publish ``SlaWarning`` / ``SlaBreached`` once each.

Each case stores ``next_sla_check`` (the earliest moment one of its open deadlines needs attention), so
the sweep reads only the cases that are due. Event ids derive from (assignment, deadline, kind): a
sweep that publishes again after a crash repeats the same ids, which every consumer drops. After
publishing, a conditional update on the case records the marks, so the next sweep skips them.
Warning points are counted on the working calendar the router uses (``shared.working_time``).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.events.envelope import Envelope
from shared.working_time import WorkingCalendar
from services.tracker import domain
from services.tracker.indicators import parse_time

SOURCE = "/griddesk/tracker"
SLA_NAMESPACE = uuid.UUID("6f1d2c4e-37a0-4f0e-9b47-8c5a1f6e2d90")
FAR_FUTURE = "9999-12-31T00:00:00+00:00"  # no check due; a plain string keeps the index simple


@dataclass(frozen=True)
class SlaPolicy:
    calendar: WorkingCalendar
    warning_share: float = 0.8

    def checkpoints(self, case: dict) -> list[dict]:
        """Every (assignment, deadline, kind) still to announce, with the moment it becomes due."""
        done = set(case.get("sla_marks") or [])
        done |= {mark_id(m["assignment_id"], m["deadline"], "warning") for m in case.get("warnings", [])}
        done |= {mark_id(m["assignment_id"], m["deadline"], "breach") for m in case.get("breaches", [])}
        result = []
        for deadline in domain.open_deadlines(case):
            working = case.get("tier") != "emergency"
            start, due = parse_time(deadline["start"]), parse_time(deadline["due"])
            limit = self.calendar.elapsed(start, due, working_time=working)
            warn_at = self.calendar.add(start, limit * self.warning_share, working_time=working)
            for kind, at in (("warning", min(warn_at, due)), ("breach", due)):
                mark = mark_id(deadline["assignment_id"], deadline["deadline"], kind)
                if mark not in done:
                    result.append({**deadline, "kind": kind, "at": at, "mark": mark})
        return result

    def next_check(self, case: dict) -> str:
        moments = [c["at"] for c in self.checkpoints(case)]
        return min(moments).astimezone(parse_time(FAR_FUTURE).tzinfo).isoformat() if moments else FAR_FUTURE


def mark_id(assignment_id: str, deadline: str, kind: str) -> str:
    return f"{assignment_id}:{deadline}:{kind}"


def sla_event(case: dict, checkpoint: dict) -> Envelope:
    event_type = "SlaWarning" if checkpoint["kind"] == "warning" else "SlaBreached"
    return Envelope(
        type=event_type, source=SOURCE, subject=case["case_id"], time=checkpoint["at"],
        id=str(uuid.uuid5(SLA_NAMESPACE, f"{case['case_id']}/{checkpoint['mark']}")),
        correlation_id=_correlation(case), causation_id=_assignment_event(case, checkpoint["assignment_id"]),
        data={"assignment_id": checkpoint["assignment_id"], "deadline": checkpoint["deadline"],
              "due": checkpoint["due"], "level": checkpoint["level"]})


def _correlation(case: dict) -> str:
    return case["timeline"][0]["correlation_id"] if case.get("timeline") else case["case_id"]


def _assignment_event(case: dict, assignment_id: str) -> str:
    for entry in case.get("timeline", []):
        if entry["type"] == "CaseAssigned" and (entry["data"].get("assignment_id") or entry["event_id"]) == assignment_id:
            return entry["event_id"]
    return _correlation(case)
