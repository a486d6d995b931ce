"""Scheduled messages: digests for community secretaries (daily) and street offices (weekly), and
reminders of the quarterly four-in-one joint meeting (branch secretaries) and of grid workers' monthly
visit days. Each takes ``now`` (the scheduler passes the injected clock's time), and each message's id
derives from (kind, org unit, period): running a job twice in one period sends nothing twice."""
from __future__ import annotations

from datetime import datetime, timedelta

from shared.events.envelope import derived_id
from shared.org.registry import ORG_UNITS
from services.notifier.domain import stamp
from services.notifier.planning import CASE_ACTIVITY, Cause, NotifierDeps, plan_message

SCHEDULED = "scheduled"


def _cause(kind: str, unit: dict, period: str) -> Cause:
    basis = derived_id(SCHEDULED, f"{kind}/{unit['_id']}/{period}")
    return Cause(basis=basis, about_event_id=basis, about_event_type=kind, case_org=unit.get("chain") or {})


def digest_counts(deps: NotifierDeps, level: str, code: str, start: datetime, end: datetime) -> dict[str, int]:
    where = {f"org.{level}": code}
    window = {"$gte": stamp(start), "$lt": stamp(end)}
    return {
        "new": deps.store.count(CASE_ACTIVITY, {**where, "first_assigned_at": window}),
        "breached": deps.store.count(CASE_ACTIVITY, {**where, "breached_at": window}),
        "resolved": deps.store.count(CASE_ACTIVITY, {**where, "resolved_at": window}),
        "overdue": deps.store.count(CASE_ACTIVITY, {**where, "breached_at": {"$gt": ""}, "resolved_at": ""}),
    }


def _digests(deps: NotifierDeps, now: datetime, *, kind: str, level: str, role: str, days: int) -> int:
    local = now.astimezone(deps.zone)
    planned = 0
    for unit in deps.store.find(ORG_UNITS, {"level": level}):
        person = (unit.get("people") or {}).get(role)
        if not person:
            continue
        facts = {"org_name": unit.get("name", unit["_id"]), "date": local.date().isoformat(),
                 **digest_counts(deps, level, unit["_id"], now - timedelta(days=days), now)}
        planned += len(plan_message(deps, _cause(kind, unit, local.date().isoformat()), person, kind, facts))
    return planned


def send_daily_digests(deps: NotifierDeps, now: datetime) -> int:
    return _digests(deps, now, kind="DailyDigest", level="community", role="community_secretary", days=1)


def send_weekly_digests(deps: NotifierDeps, now: datetime) -> int:
    return _digests(deps, now, kind="WeeklyDigest", level="street", role="street_office", days=7)


def _reminders(deps: NotifierDeps, *, kind: str, level: str, role: str, period: str, facts: dict) -> int:
    planned = 0
    for unit in deps.store.find(ORG_UNITS, {"level": level}):
        person = (unit.get("people") or {}).get(role)
        if person:
            planned += len(plan_message(deps, _cause(kind, unit, period), person, kind, facts))
    return planned


def send_meeting_reminders(deps: NotifierDeps, now: datetime) -> int:
    local = now.astimezone(deps.zone)
    quarter = f"{local.year}Q{(local.month - 1) // 3 + 1}"
    return _reminders(deps, kind="MeetingReminder", level="branch", role="branch_secretary", period=quarter,
                      facts={"quarter": quarter})


def send_visit_reminders(deps: NotifierDeps, now: datetime) -> int:
    local = now.astimezone(deps.zone)
    return _reminders(deps, kind="VisitReminder", level="grid", role="grid_worker",
                      period=f"{local.year}-{local.month:02d}", facts={"month": local.month})


JOBS = {
    "daily_digest": send_daily_digests,
    "weekly_digest": send_weekly_digests,
    "meeting_reminder": send_meeting_reminders,
    "visit_reminder": send_visit_reminders,
}
