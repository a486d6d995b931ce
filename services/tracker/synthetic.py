"""Plausible case histories for the replay tests and ``griddesk bench tracker``: every event type the
tracker projects, in the shapes of the contracts, deterministic for a seed. Not used in production."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Iterator, Sequence

from shared.events.envelope import Envelope

CATEGORIES = ("sanitation", "facility", "utility", "safety", "dispute", "parking", "property")
START = datetime(2026, 10, 1, tzinfo=timezone.utc)


def person(org_code: str, role: str, level: str) -> dict:
    return {"id": f"{org_code}/{role}", "name": f"{role}-{org_code}", "role": role, "org_code": org_code,
            "level": level}


def case_events(case_id: str, chain: dict, rng: random.Random, *, start: datetime = START,
                spread_days: int = 60) -> list[Envelope]:
    """One case's events, from the report to wherever its dice take it."""
    t0 = start + timedelta(minutes=rng.randrange(spread_days * 1440))
    clock = {"t": t0}

    def at(minutes: float) -> datetime:
        clock["t"] = clock["t"] + timedelta(minutes=minutes)
        return clock["t"]

    reported = Envelope(type="CaseReported", source="/griddesk/intake", subject=case_id, time=t0,
                        data={"case_id": case_id, "channel": rng.choice(("hotline", "mini_program", "visit")),
                              "text": "合成案件", "reporter": {}, "location": {}, "reported_at": t0.isoformat()})
    events = [reported]
    handler = person(chain.get("unit") or chain["grid"], "unit_steward", "unit")
    worker = person(chain["grid"], "grid_worker", "grid")
    if rng.random() < 0.04:
        events.append(reported.caused("CaseRejected", "/griddesk/intake", {"by": worker, "reason": "无效"},
                                      time=at(5)))
        return events
    tier = rng.choice(("general", "general", "coordination", "emergency"))
    category = rng.choice(CATEGORIES)
    events.append(reported.caused("CaseClassified", "/griddesk/router", {
        "category": category, "tier": tier, "confidence": 0.8, "explanation": {}}, time=at(0.01)))

    ack_dues: dict[str, str] = {}

    def assign(who: dict, n: int, parallel: bool = False) -> Envelope:
        ack, resolve = (10, 240) if tier == "emergency" else (240, 3 * 1440)
        base = clock["t"]
        ack_dues[f"{case_id}-a{n}"] = (base + timedelta(minutes=ack)).isoformat()
        return reported.caused("CaseAssigned", "/griddesk/router", {
            "assignee": who, "level": who["level"], "tier": tier, "category": category, "org": chain,
            "location_resolved": True, "reason": "synthetic", "assignment_id": f"{case_id}-a{n}",
            "parallel": parallel, "acknowledge_due": (base + timedelta(minutes=ack)).isoformat(),
            "resolve_due": (base + timedelta(minutes=resolve)).isoformat()}, purpose=str(n), time=at(0.01))

    events.append(assign(handler, 1))
    owner = handler
    if tier == "emergency":
        events.append(assign(person("police", "department", "department"), 2, parallel=True))
        events.append(reported.caused("CaseAcknowledged", "/griddesk/intake", {
            "by": events[-1].data["assignee"], "assignment_id": f"{case_id}-a2"}, purpose="dept", time=at(3)))
    if rng.random() < 0.1:
        events.append(reported.caused("CaseReturned", "/griddesk/intake", {"by": owner, "reason": "不归我管"},
                                      time=at(20)))
        owner = worker
        events.append(assign(worker, 3))
    late = rng.random() < 0.2
    if late:
        limit = 10 if tier == "emergency" else 240
        assignment = f"{case_id}-a{3 if owner is worker else 1}"
        events.append(reported.caused("SlaBreached", "/griddesk/tracker", {
            "assignment_id": assignment, "deadline": "acknowledge", "due": ack_dues[assignment], "level": owner["level"]},
            time=at(limit + 1)))
        events.append(reported.caused("CaseEscalated", "/griddesk/router", {
            "from_level": owner["level"], "to_level": "grid", "deadline": "acknowledge", "reason": "超时",
            "assignment_id": assignment}, time=at(1)))
        if rng.random() < 0.5:
            return events  # still open, breach open
    events.append(reported.caused("NotificationSent", "/griddesk/notifier", {
        "notification_id": f"{case_id}-n", "recipient": owner, "channel": "inbox", "message": "新案件",
        "about_event_id": events[2].id}, time=at(1)))
    events.append(reported.caused("CaseAcknowledged", "/griddesk/intake", {"by": owner}, time=at(rng.randrange(5, 300))))
    if rng.random() < 0.1:
        events.append(reported.caused("ExtensionDecided", "/griddesk/intake", {
            "by": worker, "approved": True, "until": (clock["t"] + timedelta(days=5)).isoformat()}, time=at(60)))
    if rng.random() < 0.15:
        return events  # in hand
    events.append(reported.caused("CaseResolved", "/griddesk/intake", {"by": owner, "result": "已处理"},
                                  time=at(rng.randrange(30, 6000))))
    satisfied = rng.random() < 0.85
    events.append(reported.caused("FeedbackGiven", "/griddesk/intake", {"satisfied": satisfied}, time=at(600)))
    if not satisfied:
        events.append(reported.caused("CaseReopened", "/griddesk/intake", {"reason": "不满意", "cause": "feedback"},
                                      time=at(1)))
        return events
    events.append(reported.caused("CaseVerified", "/griddesk/intake", {"by": worker, "accepted": True}, time=at(60)))
    events.append(reported.caused("CaseClosed", "/griddesk/intake", {"by": worker}, time=at(60)))
    return events


def histories(count: int, chains: Sequence[dict], *, seed: int = 11, prefix: str = "GD-S") -> Iterator[list[Envelope]]:
    rng = random.Random(seed)
    for n in range(count):
        yield case_events(f"{prefix}{n:07d}", rng.choice(chains), rng)
