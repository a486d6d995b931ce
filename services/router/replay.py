"""``griddesk route --replay --config NEW --days N``: how the last N days of reports would have been
routed under other rules, next to how they were routed. Reads the log with a throwaway consumer group
that never commits, and the store; writes nothing and publishes nothing."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from shared import json_codec
from shared.events.contracts import INTAKE_EVENTS
from shared.events.envelope import Envelope
from shared.events.wire import decode
from shared.errors import PoisonMessage
from shared.publisher import envelope_of
from services.router import assignment
from services.router.bootstrap import Router
from services.router.dispatch import CaseFacts, Planner
from services.router.records import ROUTED_CASES
from services.router.routing_rules import RoutingRules

IDLE_POLLS = 3


@dataclass(frozen=True)
class Replayed:
    case_id: str
    before: str  # "tier owner-level [department]" as routed, or "not routed"
    after: str  # the same under the new rules
    acknowledge_due: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def reported_since(router: Router, since: datetime) -> list[Envelope]:
    subscription = router.log.subscribe(f"route-replay-{uuid.uuid4().hex[:8]}", [INTAKE_EVENTS])
    found, idle = [], 0
    try:
        while idle < IDLE_POLLS:
            records = subscription.poll(1.0, 500)
            idle = 0 if records else idle + 1
            for record in records:
                try:
                    event = decode(record.message)
                except PoisonMessage:
                    continue
                if event.type == "CaseReported" and event.time >= since:
                    found.append(event)
    finally:
        subscription.close()  # never committed: the replay leaves no trace in the log
    return sorted(found, key=lambda e: e.time)


def replay(router: Router, rules: RoutingRules, days: float, now: datetime | None = None) -> list[Replayed]:
    deps = router.deps()
    planner = Planner(rules, router.calendar, deps.directory.get)
    since = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    results = []
    for event in reported_since(router, since):
        report = event.data
        text = deps.normalise(report["text"])
        verdict = deps.classifier.classify(text, report.get("category_hint"))
        placement = assignment.place(report["location"], deps.directory.get, deps.directory.district(),
                                     deps.locator.locate(report["location"]))
        triage = verdict.tier != "emergency" and verdict.confidence < rules.triage_below
        try:
            owner = assignment.assign(placement, "coordination" if triage else verdict.tier, deps.directory.get)
        except LookupError:
            results.append(Replayed(event.subject, _before(router, event.subject), "nobody staffed", ""))
            continue
        facts = CaseFacts(placement, verdict.category, verdict.tier, report["text"][:80], text)
        events = [envelope_of(e) for e in planner.dispatch(event, facts, owner, event.time, "")]
        departments = sorted({e.data["department"] for e in events if e.type == "CaseAssigned" and e.data["department"]})
        after = _describe(verdict.tier, owner.level, departments, triage)
        results.append(Replayed(event.subject, _before(router, event.subject), after, events[0].data["acknowledge_due"]))
    return results


def _before(router: Router, case_id: str) -> str:
    record = router.store.get(ROUTED_CASES, case_id)
    if record is None:
        return "not routed"
    effects = [e for e in _first_effects(record) if e.get("type") == "CaseAssigned"]
    departments = sorted({e["data"]["department"] for e in effects if e["data"].get("department")})
    owner_level = (record.get("owner_levels") or [record["owner"]["level"]])[0]
    triage = bool(effects) and "manual triage" in effects[0]["data"]["reason"]
    return _describe(effects[0]["data"]["tier"] if effects else record["tier"], owner_level, departments, triage)


def _first_effects(record: dict) -> list[dict]:
    """The events of the case's first routing (its CaseReported), as stored with the record."""
    done = json_codec.from_text(record.get("effects") or "{}")
    first = next(iter(done.values()), [])
    return [item["event"] for item in first if not item["topic"]]


def _describe(tier: str, level: str, departments: list[str], triage: bool) -> str:
    text = f"{tier} -> {level}" + (" (triage)" if triage else "")
    return text + (f" + {', '.join(departments)}" if departments else "")
