"""The SLA sweep: find assignments whose warning point or deadline has passed without the action and
publish ``SlaWarning`` / ``SlaBreached`` once each.

Each case stores ``next_sla_check`` (the earliest moment one of its open deadlines needs attention), so
the sweep reads only the cases that are due. Event ids derive from (assignment, deadline, round, kind):
a sweep that publishes again after a crash repeats the same ids, which every consumer drops. After
publishing, a conditional update on the case records the marks, so the next sweep skips them.

Deadlines are counted on the working calendar the router uses (``shared.working_time``) and follow the
routing file's rules (``shared.deadline_rules``): which tiers count working time, and the resolution limit
a reopened case starts again. Time the case spends waiting for the resident does not count: the owner's
warning points and deadlines move later by the paused time (working time where the tier counts it), and
nothing is due while the case still waits.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from shared.deadline_rules import DeadlineRules
from shared.events.envelope import Envelope
from shared.working_time import WorkingCalendar
from services.tracker import domain
from services.tracker.indicators import parse_time

SOURCE = "/griddesk/tracker"
SLA_NAMESPACE = uuid.UUID("6f1d2c4e-37a0-4f0e-9b47-8c5a1f6e2d90")
FAR_FUTURE = "9999-12-31T00:00:00+00:00"  # no check due; a plain string keeps the index simple
FAR_FUTURE_ZONE = parse_time(FAR_FUTURE).tzinfo
# deadlines whose arithmetic a policy remembers: a case's deadlines are recomputed on every write of it
# (next_sla_check), always from the same (start, due) until a new round or assignment
REMEMBERED_DEADLINES = 4096


@dataclass(frozen=True)
class SlaPolicy:
    calendar: WorkingCalendar
    rules: DeadlineRules
    warning_share: float = 0.8
    _moments: object = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_moments", lru_cache(maxsize=REMEMBERED_DEADLINES)(self._deadline_moments))

    def checkpoints(self, case: dict) -> list[dict]:
        """Every (assignment, deadline, kind) still to announce, with the moment it becomes due."""
        done = set(case.get("sla_marks") or [])
        done |= {mark_id(m["assignment_id"], m["deadline"], "warning", m.get("round", ""))
                 for m in case.get("warnings", [])}
        done |= {mark_id(m["assignment_id"], m["deadline"], "breach", m.get("round", ""))
                 for m in case.get("breaches", [])}
        working = self.rules.counts_working_time(case["tier"]) if case.get("tier") else True
        result = []
        for deadline in domain.open_deadlines(case):
            start, due, warn_at = self._moments(deadline["start"], deadline["due"], case.get("tier"),
                                                deadline["level"], deadline["deadline"], working)
            pauses = case.get("pauses", []) if deadline["owner"] else []
            moved_due = self.after_pauses(due, start, pauses, working)
            due_text = deadline["due"] if deadline["due"] and moved_due == due else (moved_due or due).isoformat()
            for kind, at in (("warning", self.after_pauses(warn_at, start, pauses, working)), ("breach", moved_due)):
                mark = mark_id(deadline["assignment_id"], deadline["deadline"], kind, deadline["round"])
                if at is not None and mark not in done:
                    result.append({**deadline, "due": due_text, "kind": kind, "at": at, "mark": mark})
        return result

    def _deadline_moments(self, start_text: str, due_text: str | None, tier: str | None, level: str,
                          kind: str, working: bool) -> tuple[datetime, datetime, datetime]:
        """(start, due, warning point) of a deadline before any pause: pure, so remembered per argument
        (the calendar's walks over working days were ~5 % of the tracker's CPU, repeated on every write)."""
        start = parse_time(start_text)
        due = parse_time(due_text) if due_text else self.rules.due(self.calendar, start, tier, level, kind)
        limit = self.calendar.elapsed(start, due, working_time=working)
        return start, due, min(self.calendar.add(start, limit * self.warning_share, working_time=working), due)

    def after_pauses(self, moment: datetime, start: datetime, pauses: list[dict], working: bool) -> datetime | None:
        """When a clock started at ``start`` reaches ``moment`` if it stands still during the pauses;
        None while a pause that began before then has not ended."""
        for pause in pauses:
            begin = max(parse_time(pause["from"]), start)
            if begin >= moment:
                break  # the clock got there before this pause (and any later one)
            if pause["until"] is None:
                return None
            end = parse_time(pause["until"])
            if end > begin:
                paused = self.calendar.elapsed(begin, end, working_time=working)
                moment = self.calendar.add(moment, paused, working_time=working)
        return moment

    def next_check(self, case: dict) -> str:
        moments = [c["at"] for c in self.checkpoints(case)]
        return min(moments).astimezone(FAR_FUTURE_ZONE).isoformat() if moments else FAR_FUTURE


def mark_id(assignment_id: str, deadline: str, kind: str, round_: str = "") -> str:
    """A deadline as assigned keeps the ids it always had; a moved one (extension, reopen) adds its round."""
    return f"{assignment_id}:{deadline}:{kind}" + (f"@{round_}" if round_ else "")


def sla_event(case: dict, checkpoint: dict) -> Envelope:
    event_type = "SlaWarning" if checkpoint["kind"] == "warning" else "SlaBreached"
    return Envelope(
        type=event_type, source=SOURCE, subject=case["case_id"], time=checkpoint["at"],
        id=str(uuid.uuid5(SLA_NAMESPACE, f"{case['case_id']}/{checkpoint['mark']}")),
        correlation_id=_correlation(case), causation_id=_assignment_event(case, checkpoint["assignment_id"]),
        data={"assignment_id": checkpoint["assignment_id"], "deadline": checkpoint["deadline"],
              "due": checkpoint["due"], "level": checkpoint["level"], "round": checkpoint["round"]})


def _correlation(case: dict) -> str:
    return case["timeline"][0]["correlation_id"] if case.get("timeline") else case["case_id"]


def _assignment_event(case: dict, assignment_id: str) -> str:
    for entry in case.get("timeline", []):
        if entry["type"] == "CaseAssigned" and (entry["data"].get("assignment_id") or entry["event_id"]) == assignment_id:
            return entry["event_id"]
    return _correlation(case)
