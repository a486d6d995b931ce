"""The read side: what the API and the dashboard ask of the case documents and indicator buckets.
Every query is bounded by indexes (``handlers.CASE_INDEXES``, ``BUCKET_INDEXES``)."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from shared.ports import DocumentStore
from services.tracker import indicators
from services.tracker.handlers import BUCKETS, CASES

DEFAULT_DAYS = 30


def period(query: dict, now: datetime) -> tuple[date, date]:
    today = now.astimezone(indicators.REPORT_ZONE).date()
    end = query.get("to") or today
    start = query.get("from_") or end - timedelta(days=DEFAULT_DAYS - 1)
    return start, end


def buckets(store: DocumentStore, scope: str, start: date, end: date, *, category: str | None = None,
            tier: str | None = None, level: str | None = None) -> list[dict]:
    """The rows to sum for a scope: its indicator buckets, or, for an org level the buckets do not keep
    (branch, compound, building, unit: few cases each), the facts stored on its cases."""
    if scope.startswith("person:"):
        return _case_rows(store, {"owner.id": scope[len("person:"):]}, start, end, category=category, tier=tier)
    if level and level not in indicators.BUCKET_LEVELS and level != "district":
        return _case_rows(store, {f"org.{level}": scope}, start, end, category=category, tier=tier)
    filter: dict[str, Any] = {"scope": scope, "day": {"$gte": start.isoformat(), "$lte": end.isoformat()}}
    if category:
        filter["category"] = category
    if tier:
        filter["tier"] = tier
    return store.find(BUCKETS, filter)


def _case_rows(store: DocumentStore, filter: dict, start: date, end: date, *, category: str | None,
               tier: str | None) -> list[dict]:
    filter = case_filter({"from_": start, "to": end, "category": category, "tier": tier}, filter)
    return [{"day": indicators.report_day(c), "category": c.get("category") or "none",
             "tier": c.get("tier") or "none", **indicators.facts_as_bucket(c.get("facts") or {})}
            for c in store.find(CASES, filter)]


def summary(store: DocumentStore, scope: str, start: date, end: date, **dimensions) -> dict:
    """The indicators of a scope over a period, and the previous period of the same length."""
    before_start, before_end = indicators.previous_period(start, end)
    current = indicators.indicators(*indicators.summed(buckets(store, scope, start, end, **dimensions)))
    previous = indicators.indicators(*indicators.summed(buckets(store, scope, before_start, before_end,
                                                                **dimensions)))
    return {"scope": scope, "period": {"from": start.isoformat(), "to": end.isoformat()},
            "previous_period": {"from": before_start.isoformat(), "to": before_end.isoformat()},
            "indicators": indicators.with_change(current, previous), "previous": previous}


def series(store: DocumentStore, scope: str, start: date, end: date, every: str, **dimensions) -> list[dict]:
    """The indicators per day, week (Monday), month or quarter within the range."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for bucket in buckets(store, scope, start, end, **dimensions):
        grouped[period_start(date.fromisoformat(bucket["day"]), every)].append(bucket)
    result, cursor = [], date.fromisoformat(period_start(start, every))
    while cursor <= end:
        key = cursor.isoformat()
        result.append({"period": key, "indicators": indicators.indicators(*indicators.summed(grouped.get(key, [])))})
        cursor = _next_period(cursor, every)
    return result


def period_start(day: date, every: str) -> str:
    if every == "week":
        day = day - timedelta(days=day.weekday())
    elif every == "month":
        day = day.replace(day=1)
    elif every == "quarter":
        day = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.isoformat()


def _next_period(day: date, every: str) -> date:
    if every == "day":
        return day + timedelta(days=1)
    if every == "week":
        return day + timedelta(days=7)
    months = 1 if every == "month" else 3
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def case_filter(query: dict, base: dict) -> dict:
    filter = dict(base)
    for key in ("state", "tier", "category"):
        if query.get(key):
            filter[key] = query[key]
    if query.get("person"):
        filter["owner.id"] = query["person"]
    if query.get("breached") is not None:
        filter["breaches_open_count"] = {"$gt": 0} if query["breached"] else 0
    if query.get("from_") or query.get("to"):
        # reported_at is UTC; the day boundaries are China's (UTC+8)
        window = {}
        if query.get("from_"):
            window["$gte"] = _china_midnight(query["from_"])
        if query.get("to"):
            window["$lt"] = _china_midnight(query["to"] + timedelta(days=1))
        filter["reported_at"] = window
    return filter


def _china_midnight(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=indicators.REPORT_ZONE).astimezone(
        indicators.parse_time("2000-01-01T00:00:00+00:00").tzinfo).isoformat()


def breach_list(store: DocumentStore, filter: dict, now: datetime, limit: int) -> list[dict]:
    """Open breaches, most overdue first, with how long each is overdue."""
    rows = []
    for case in store.find(CASES, {**filter, "breaches_open_count": {"$gt": 0}}, sort=[("reported_at", 1)],
                           limit=limit * 5):
        for breach in case.get("breaches_open") or []:
            overdue = now - indicators.parse_time(breach["due"])
            rows.append({"case_id": case["case_id"], "state": case["state"], "tier": case.get("tier"),
                         "category": case.get("category"), "org": case.get("org"), "owner": case.get("owner"),
                         "summary": (case.get("text") or "")[:80], "deadline": breach["deadline"],
                         "level": breach["level"], "due": breach["due"], "assignment_id": breach["assignment_id"],
                         "overdue_hours": round(max(overdue.total_seconds(), 0) / 3600, 2)})
    return sorted(rows, key=lambda r: r["due"])[:limit]


def hotspots(store: DocumentStore, filter: dict, units: list[dict], start: date, end: date, *, limit: int,
             min_count: int) -> dict:
    """Concentrated problems (clusters, concentrated-tier cases) and the categories growing fastest in
    each of ``units`` (docs/indicators.md, "Hot spots")."""
    clusters: dict[str, dict] = {}
    for case in store.find(CASES, {**filter, "tier": "concentrated"}, sort=[("reported_at", -1)], limit=limit * 10):
        key = (case.get("cluster") or {}).get("cluster_id") or case["case_id"]
        entry = clusters.setdefault(key, {"cluster_id": key, "cases": [], "category": case.get("category"),
                                          "org": case.get("org"), "size": 0})
        entry["cases"].append(case["case_id"])
        entry["size"] = max(entry["size"], (case.get("cluster") or {}).get("size") or len(entry["cases"]))
    before_start, before_end = indicators.previous_period(start, end)
    return {"period": {"from": start.isoformat(), "to": end.isoformat()},
            "previous_period": {"from": before_start.isoformat(), "to": before_end.isoformat()},
            "min_count": min_count,
            "concentrated": sorted(clusters.values(), key=lambda c: -c["size"])[:limit],
            "growing_categories": growing_categories(store, units, start, end, min_count)[:limit]}


def growing_categories(store: DocumentStore, units: list[dict], start: date, end: date,
                       min_count: int) -> list[dict]:
    """Per org unit and category, cases received in the period against the previous period of the same
    length, fastest-growing first (``indicators.category_growth`` holds the rule)."""
    before_start, before_end = indicators.previous_period(start, end)
    now = _received_by_unit(store, units, start, end)
    before = _received_by_unit(store, units, before_start, before_end)
    named = {u["code"]: {"code": u["code"], "name": u.get("name"), "level": u["level"]} for u in units}
    rows = []
    for row in indicators.category_growth(now, before, min_count):
        code, category = row.pop("key")
        rows.append({"org": named[code], "category": category, **row})
    return rows


def _received_by_unit(store: DocumentStore, units: list[dict], start: date, end: date) -> Counter:
    """Cases received per (org unit, category): one read of the buckets for the levels they keep, the
    cases' own facts for a unit below them. Cases never classified (category ``none``) are left out."""
    result: Counter = Counter()
    kept = [u["code"] for u in units if u["level"] in indicators.BUCKET_LEVELS]
    rows = [] if not kept else store.find(BUCKETS, {"scope": {"$in": kept},
                                                    "day": {"$gte": start.isoformat(), "$lte": end.isoformat()}})
    for bucket in rows:
        result[(bucket["scope"], bucket["category"])] += bucket.get("counts", {}).get("received", 0)
    for unit in units:
        if unit["level"] not in indicators.BUCKET_LEVELS:
            for row in buckets(store, unit["code"], start, end, level=unit["level"]):
                result[(unit["code"], row["category"])] += row.get("counts", {}).get("received", 0)
    return Counter({key: n for key, n in result.items() if n and key[1] != "none"})
