"""Emergencies are repeated until acknowledged. Each (assignment, recipient) of an emergency has an
alert; the delivery step re-sends due alerts every ``emergency_repeat_s`` (at most
``emergency_max_repeats`` times), and CaseAcknowledged or ArrivedOnSite for the assignment stops them.
A repeat is a new message (its own delivery ids, derived from the alert and the repeat number), so it
obeys the same at-most-once rule as any other."""
from __future__ import annotations

from typing import Mapping

from shared.errors import BackendUnavailable, Conflict
from shared.events.envelope import derived_id
from services.notifier.domain import parse_stamp, stamp
from services.notifier.planning import EMERGENCY_ALERTS, Cause, NotifierDeps, later, plan_message


def open_alert(deps: NotifierDeps, cause: Cause, recipient: dict, facts: Mapping, assignment_id: str,
               parallel: bool) -> None:
    now = deps.clock.now()
    try:
        deps.store.insert(EMERGENCY_ALERTS, {
            "_id": derived_id(cause.basis, f"alert/{recipient['id']}"), "case_id": cause.case_id,
            "assignment_id": assignment_id, "parallel": parallel, "recipient": recipient, "facts": dict(facts),
            "about_event_id": cause.about_event_id, "correlation_id": cause.correlation_id,
            "case_org": dict(cause.case_org), "acknowledged": False, "acknowledged_at": "", "repeats": 0,
            "next_repeat_at": stamp(later(now, deps.emergency_repeat_s)), "created_at": stamp(now),
        })
    except Conflict:
        pass  # opened before this redelivery


def acknowledge_alerts(deps: NotifierDeps, case_id: str, assignment_id: str, by: dict) -> int:
    """Stop the repeats of the acknowledged assignment: by its id, or — when the event names none — the
    case's main assignment and whatever was addressed to the person who acknowledged."""
    alerts = deps.store.find(EMERGENCY_ALERTS, {"case_id": case_id, "acknowledged": False})
    if assignment_id:
        chosen = [a for a in alerts if a["assignment_id"] == assignment_id]
    else:
        chosen = [a for a in alerts if not a["parallel"] or a["recipient"]["id"] == by.get("id")]
    return sum(_acknowledge(deps, alert["_id"]) for alert in chosen)


def _acknowledge(deps: NotifierDeps, alert_id: str) -> int:
    for _ in range(5):
        alert = deps.store.get(EMERGENCY_ALERTS, alert_id)
        if alert is None or alert["acknowledged"]:
            return 0
        try:
            deps.store.replace(EMERGENCY_ALERTS, {**alert, "acknowledged": True,
                                                  "acknowledged_at": stamp(deps.clock.now())})
            return 1
        except Conflict:
            continue  # the delivery step planned a repeat meanwhile; read it again
    raise BackendUnavailable(f"emergency alert {alert_id} kept changing; the batch will be retried")


def repeat_due_alerts(deps: NotifierDeps, *, limit: int = 100) -> int:
    """Plan the next repeat of every unacknowledged alert that is due; the number of repeats planned."""
    now = deps.clock.now()
    due = deps.store.find(EMERGENCY_ALERTS, {"acknowledged": False, "next_repeat_at": {"$lte": stamp(now)},
                                             "repeats": {"$lt": deps.emergency_max_repeats}},
                          sort=[("next_repeat_at", 1)], limit=limit)
    planned = 0
    for alert in due:
        repeat = alert["repeats"] + 1
        following = max(parse_stamp(alert["next_repeat_at"]), now)
        try:  # claim this repeat first: a second process (or a retry) then cannot plan it again
            deps.store.replace(EMERGENCY_ALERTS, {**alert, "repeats": repeat,
                                                  "next_repeat_at": stamp(later(following, deps.emergency_repeat_s))})
        except Conflict:
            continue
        cause = Cause(basis=derived_id(alert["_id"], f"repeat/{repeat}"), about_event_id=alert["about_event_id"],
                      about_event_type="CaseAssigned", case_id=alert["case_id"],
                      correlation_id=alert["correlation_id"], case_org=alert["case_org"])
        plan_message(deps, cause, alert["recipient"], "CaseAssigned", alert["facts"], urgent=True, repeat=repeat)
        planned += 1
    return planned
