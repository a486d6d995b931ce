"""Governance indicators, kept incrementally (docs/indicators.md holds the definitions).

Each case contributes *facts* (small counts) to counter buckets keyed by (report day, scope, category,
tier); a scope is ``*`` (the whole deployment) or the case's street, community or grid. When a case changes, the difference between its new and its
old contribution is added to the buckets, so reading an indicator sums a few buckets instead of scanning
cases (branch, compound, building, unit and person have few cases each, so their indicators are summed from
the facts stored on each case instead). Resolution times are kept exactly, as {minutes: count} maps, so percentiles are exact to the
minute. Standard library only.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable

COUNTS = ("received", "accepted", "dispatched", "misrouted", "response_due", "responded_on_time",
          "resolve_due", "resolved_on_time", "resolved", "closed", "reworked", "extended", "feedbacks",
          "satisfied", "breaches_total", "breaches_open", "escalations", "merged")
NAMES = ("received", "accepted", "dispatch_accuracy", "response_rate", "on_time_rate", "closure_rate",
         "rework_rate", "extension_rate", "satisfaction_rate", "resolution_time_p50", "resolution_time_p90",
         "breaches_open", "breaches_total", "escalations", "merged")
REPORT_ZONE = timezone(timedelta(hours=8))  # the day a case counts for is its report day in China


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def facts(case: dict[str, Any]) -> dict[str, Any]:
    """What one case contributes: counts, its resolution minutes, and where it counts (its buckets)."""
    if not case.get("reported_at"):
        return {"counts": {}, "minutes": None, "keys": []}
    owners = [a for a in case.get("assignments", []) if not a["parallel"]]
    acked = [a for a in owners if a["acknowledge_due"] and a["acknowledged_at"]]
    breached_ack = {b["assignment_id"] for b in case.get("breaches", []) if b["deadline"] == "acknowledge"}
    response_due = acked + [a for a in owners if a["assignment_id"] in breached_ack and not a["acknowledged_at"]]
    resolved = bool(case.get("resolved_at"))
    first_resolved = case.get("first_resolved_at")
    resolve_due = _resolve_due(case, owners)
    resolve_breached = any(b["deadline"] == "resolve" for b in case.get("breaches", []))
    state = case["state"]
    counts = {
        "received": 1,
        "accepted": int(case.get("dispatches", 0) > 0 and state != "rejected"),
        "dispatched": case.get("dispatches", 0),
        "misrouted": case.get("returns", 0),
        "response_due": len(response_due),
        "responded_on_time": sum(1 for a in acked if _not_after(a["acknowledged_at"], a["acknowledge_due"])),
        "resolve_due": int(bool(resolve_due) and (bool(first_resolved) or resolve_breached)),
        "resolved_on_time": int(bool(resolve_due) and bool(first_resolved) and _not_after(first_resolved, resolve_due)),
        "resolved": int(resolved or case.get("reopens", 0) > 0),
        "closed": int(state == "closed"),
        "reworked": int(case.get("reopens", 0) > 0),
        "extended": int(bool(case.get("extended"))),
        "feedbacks": int(case.get("feedback") is not None),
        "satisfied": int(bool(case.get("feedback") and case["feedback"]["satisfied"])),
        "breaches_total": len(case.get("breaches", [])),
        "breaches_open": len(case.get("breaches_open", [])),
        "escalations": case.get("escalations", 0),
        "merged": int(state == "merged"),  # merged into another case: received, never accepted on its own
    }
    minutes = None
    if resolved:
        minutes = max(0, int((parse_time(case["resolved_at"]) - parse_time(case["reported_at"])).total_seconds()
                             // 60))
    return {"counts": {k: v for k, v in counts.items() if v}, "minutes": minutes, "keys": bucket_keys(case)}


def _resolve_due(case: dict, owners: list[dict]) -> str | None:
    """The resolution deadline that applies: the approved extension, else the last owner's."""
    if case.get("extension_until"):
        return case["extension_until"]
    dues = [a["resolve_due"] for a in owners if a["resolve_due"]]
    return dues[-1] if dues else None


def _not_after(moment: str, due: str) -> bool:
    return parse_time(moment) <= parse_time(due)


def report_day(case: dict) -> str:
    return parse_time(case["reported_at"]).astimezone(REPORT_ZONE).date().isoformat()


BUCKET_LEVELS = ("street", "community", "grid")  # kept in buckets; lower levels are summed from cases


def bucket_keys(case: dict) -> list[str]:
    day, category, tier = report_day(case), case.get("category") or "none", case.get("tier") or "none"
    org = case.get("org") or {}
    scopes = ["*", *(org[level] for level in BUCKET_LEVELS if org.get(level))]
    return [bucket_id(day, scope, category, tier) for scope in scopes]


def bucket_id(day: str, scope: str, category: str, tier: str) -> str:
    return f"{day}|{scope}|{category}|{tier}"


def bucket_fields(key: str) -> dict[str, str]:
    day, scope, category, tier = key.rsplit("|", 3) if key.count("|") > 3 else key.split("|")
    return {"day": day, "scope": scope, "category": category, "tier": tier}


def deltas(old: dict, new: dict) -> dict[str, dict]:
    """Per bucket: what to add (negative to take away) to move from ``old`` facts to ``new`` facts.
    Plain dicts, not Counters: this runs on every projected event."""
    result: dict[str, tuple[dict, dict]] = {}

    def add(fact: dict, sign: int) -> None:
        counts, minute = fact["counts"], fact["minutes"]
        for key in fact["keys"]:
            change = result.get(key)
            if change is None:
                change = result[key] = ({}, {})
            for name, value in counts.items():
                change[0][name] = change[0].get(name, 0) + sign * value
            if minute is not None:
                change[1][str(minute)] = change[1].get(str(minute), 0) + sign

    add(old, -1)
    add(new, +1)
    changed = {}
    for key, (counts, minutes) in result.items():
        counts = {k: v for k, v in counts.items() if v}
        minutes = {k: v for k, v in minutes.items() if v}
        if counts or minutes:
            changed[key] = {"counts": counts, "minutes": minutes}
    return changed


def facts_as_bucket(fact: dict) -> dict:
    """A case's own facts in the shape of a bucket, to sum the cases of a small org unit directly."""
    minutes = {} if fact.get("minutes") is None else {str(fact["minutes"]): 1}
    return {"counts": fact.get("counts", {}), "minutes": minutes}


def summed(buckets: Iterable[dict]) -> tuple[Counter, Counter]:
    counts, minutes = Counter(), Counter()
    for bucket in buckets:
        counts.update(bucket.get("counts", {}))
        minutes.update(bucket.get("minutes", {}))
    return counts, minutes


def indicators(counts: Counter, minutes: Counter) -> dict[str, Any]:
    """The named indicators from summed buckets (rates are 0–1, or None with nothing to divide by)."""
    return {
        "received": counts["received"],
        "accepted": counts["accepted"],
        "dispatch_accuracy": _ratio(counts["dispatched"] - counts["misrouted"], counts["dispatched"]),
        "response_rate": _ratio(counts["responded_on_time"], counts["response_due"]),
        "on_time_rate": _ratio(counts["resolved_on_time"], counts["resolve_due"]),
        "closure_rate": _ratio(counts["closed"], counts["accepted"]),
        "rework_rate": _ratio(counts["reworked"], counts["resolved"]),
        "extension_rate": _ratio(counts["extended"], counts["accepted"]),
        "satisfaction_rate": _ratio(counts["satisfied"], counts["feedbacks"]),
        "resolution_time_p50": percentile_hours(minutes, 0.5),
        "resolution_time_p90": percentile_hours(minutes, 0.9),
        "breaches_open": counts["breaches_open"],
        "breaches_total": counts["breaches_total"],
        "escalations": counts["escalations"],
        "merged": counts["merged"],
    }


def with_change(current: dict, previous: dict) -> dict:
    """Add ``<name>_previous`` and ``<name>_change`` for the resolution times (the issue's comparison)."""
    result = dict(current)
    for name in ("resolution_time_p50", "resolution_time_p90"):
        result[f"{name}_previous"] = previous[name]
        result[f"{name}_change"] = (None if current[name] is None or previous[name] is None
                                    else round(current[name] - previous[name], 3))
    return result


def previous_period(start: date, end: date) -> tuple[date, date]:
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


GROWTH_MIN_COUNT = 5  # a category must have received this many cases in the period to be a hot spot


def category_growth(now: Counter, before: Counter, min_count: int = GROWTH_MIN_COUNT) -> list[dict[str, Any]]:
    """The categories that grew, fastest first, from cases received per key (e.g. (org unit, category)) in
    a period (``now``) and the previous period of the same length (``before``).

    A key counts only with at least ``min_count`` cases now and more than before. Its relative growth is
    measured against the previous count or ``min_count``, whichever is larger, so a category going from
    0 to 1 case is not "infinite growth" and a new category ranks as if it had had ``min_count`` before."""
    rows = []
    for key, received in now.items():
        previous = before.get(key, 0)
        if received < min_count or received <= previous:
            continue
        growth = received - previous
        rows.append({"key": key, "received": received, "previous": previous, "growth": growth,
                     "growth_rate": round(growth / max(previous, min_count), 4)})
    rows.sort(key=lambda r: (-r["growth_rate"], -r["growth"], -r["received"], str(r["key"])))
    return rows


def percentile_hours(minutes: Counter, share: float) -> float | None:
    """The nearest-rank percentile of resolution times, in hours (3 decimals)."""
    total = sum(minutes.values())
    if total <= 0:
        return None
    rank = max(1, -(-int(share * total * 1000) // 1000))  # ceil(share × total) without float drift
    seen = 0
    for value in sorted(minutes, key=int):
        seen += minutes[value]
        if seen >= rank:
            return round(int(value) / 60, 3)
    return None


def _ratio(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(part / whole, 4)
