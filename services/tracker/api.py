"""The tracker's HTTP API for staff: cases, indicators, breaches, hot spots and the org registry, all
limited to the token's org subtree (a case or unit outside it answers 404, never 403)."""
from __future__ import annotations

import csv
import io
from typing import Iterable

from flask import Blueprint, Response, current_app, g, jsonify, request
from marshmallow import Schema, ValidationError

from shared.events.contracts import ORG_LEVELS
from shared.org.registry import ORG_UNITS
from shared.web import ApiError, require_staff
from services.tracker import domain, queries
from services.tracker.handlers import CASES
from services.tracker.indicators import NAMES
from services.tracker.schemas import BreakdownQuery, CaseQuery, HotspotQuery, IndicatorQuery, ListQuery, SeriesQuery

blueprint = Blueprint("tracker", __name__)

LEVEL_OF_PLURAL = {"districts": "district", "streets": "street", "communities": "community",
                   "branches": "branch", "compounds": "compound", "grids": "grid", "buildings": "building",
                   "units": "unit"}
CSV_LIMIT = 100_000
CSV_GROWTH_COLUMNS = ("code", "name", "level", "category", "received", "previous", "growth", "growth_rate", "from",
                      "to", "previous_from", "previous_to")
CSV_CASE_COLUMNS = ("case_id", "state", "channel", "category", "tier", "reported_at", "assigned_at", "resolved_at",
                    "closed_at", "street", "community", "grid", "owner", "escalations", "breaches_open", "summary")


def _tracker():
    return current_app.extensions["griddesk"]


def _store():
    return _tracker().store


def _parsed(schema: Schema) -> dict:
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as error:
        raise ApiError(400, "invalid_query", "invalid query parameters", error.messages)


def _unit_in_scope(code: str) -> dict:
    unit = _store().get(ORG_UNITS, code)
    if unit is None or not g.scope.covers(unit.get("chain") or {}):
        raise ApiError(404, "not_found", f"no org unit {code} in your area")
    return unit


def _bucket_scope(query: dict) -> tuple[str, str | None]:
    """Whose indicators a query reads, as (scope, org level): a person's, an org unit's, or the token's."""
    if query.get("person"):
        _unit_in_scope(query["person"].split("/", 1)[0])
        return f"person:{query['person']}", None
    if query.get("org"):
        unit = _unit_in_scope(query["org"])
        return unit["code"], unit["level"]
    return ("*", None) if g.scope.level == "district" else (g.scope.org_code, g.scope.level)


def _scope_unit(query: dict) -> dict | None:
    """The org unit a query is about: its ``org``, else the token's own (None for the whole district)."""
    code = query.get("org") or (None if g.scope.level == "district" else g.scope.org_code)
    return _unit_in_scope(code) if code else None


def _case_filter(query: dict) -> dict:
    base = dict(g.scope.case_filter())
    if query.get("org"):
        unit = _unit_in_scope(query["org"])
        base[f"org.{unit['level']}"] = unit["code"]
    if query.get("person"):
        _unit_in_scope(query["person"].split("/", 1)[0])
    return queries.case_filter(query, base)


def _sort(key: str) -> list[tuple[str, int]]:
    return [(key.lstrip("-"), -1 if key.startswith("-") else 1)]


@blueprint.get("/api/v1/cases")
@require_staff
def list_cases():
    query = _parsed(CaseQuery())
    filter, store = _case_filter(query), _store()
    skip = (query["page"] - 1) * query["per_page"]
    items = store.find(CASES, filter, sort=_sort(query["sort"]), skip=skip, limit=query["per_page"])
    return jsonify({"items": [domain.summary_view(c) for c in items], "page": query["page"],
                    "per_page": query["per_page"], "total": store.count(CASES, filter)})


@blueprint.get("/api/v1/cases.csv")
@require_staff
def export_cases():
    query = _parsed(CaseQuery())
    cases = _store().find(CASES, _case_filter(query), sort=_sort(query["sort"]), limit=CSV_LIMIT)
    rows = ([c["case_id"], c["state"], c.get("channel"), c.get("category"), c.get("tier"), c.get("reported_at"),
             c.get("assigned_at"), c.get("resolved_at"), c.get("closed_at"), *(
                 (c.get("org") or {}).get(level, "") for level in ("street", "community", "grid")),
             (c.get("owner") or {}).get("name", ""), c.get("escalations", 0), c.get("breaches_open_count", 0),
             (c.get("text") or "")[:80]] for c in cases)
    return _csv("cases.csv", CSV_CASE_COLUMNS, rows)


@blueprint.get("/api/v1/cases/<case_id>")
@require_staff
def get_case(case_id: str):
    case = _store().get(CASES, case_id)
    if case is None or not g.scope.covers(case.get("org") or {}):
        raise ApiError(404, "not_found", f"no case {case_id} in your area")  # never confirm others' cases
    return jsonify(domain.public_view(case))


@blueprint.get("/api/v1/indicators")
@require_staff
def get_indicators():
    query = _parsed(IndicatorQuery())
    start, end = queries.period(query, _tracker().clock.now())
    scope, level = _bucket_scope(query)
    return jsonify(queries.summary(_store(), scope, start, end, level=level, category=query.get("category"),
                                   tier=query.get("tier")))


@blueprint.get("/api/v1/indicators/series")
@require_staff
def get_indicator_series():
    query = _parsed(SeriesQuery())
    start, end = queries.period(query, _tracker().clock.now())
    scope, level = _bucket_scope(query)
    items = queries.series(_store(), scope, start, end, query["period"], level=level,
                           category=query.get("category"), tier=query.get("tier"))
    return jsonify({"period": query["period"], "items": items})


def _breakdown_rows(query: dict) -> list[dict]:
    if query.get("person"):
        raise ApiError(400, "invalid_query", "a breakdown is per org unit, not per person", {"person": ["not here"]})
    unit = _scope_unit(query)
    filter = {"level": query["level"]}
    if unit:
        filter[f"chain.{unit['level']}"] = unit["code"]
    start, end = queries.period(query, _tracker().clock.now())
    rows = []
    for unit in _store().find(ORG_UNITS, filter, sort=[("code", 1)]):
        summary = queries.summary(_store(), unit["code"], start, end, level=unit["level"],
                                  category=query.get("category"), tier=query.get("tier"))
        rows.append({"code": unit["code"], "name": unit["name"], "level": unit["level"],
                     "polygon_geojson": unit.get("polygon_geojson"), "indicators": summary["indicators"],
                     "period": summary["period"]})
    return rows


@blueprint.get("/api/v1/indicators/breakdown")
@require_staff
def get_indicator_breakdown():
    return jsonify({"items": _breakdown_rows(_parsed(BreakdownQuery()))})


@blueprint.get("/api/v1/indicators.csv")
@require_staff
def export_indicators():
    args = request.args.to_dict()
    args.setdefault("level", "grid")
    try:
        query = BreakdownQuery().load(args)
    except ValidationError as error:
        raise ApiError(400, "invalid_query", "invalid query parameters", error.messages)
    rows = ([r["code"], r["name"], r["level"], r["period"]["from"], r["period"]["to"],
             *(r["indicators"][name] for name in NAMES)] for r in _breakdown_rows(query))
    return _csv("indicators.csv", ("code", "name", "level", "from", "to", *NAMES), rows)


@blueprint.get("/api/v1/breaches")
@require_staff
def list_breaches():
    query = _parsed(ListQuery())
    items = queries.breach_list(_store(), _case_filter(query), _tracker().clock.now(), query["limit"])
    return jsonify({"items": items})


def _hotspots(query: dict) -> dict:
    start, end = queries.period(query, _tracker().clock.now())
    return queries.hotspots(_store(), _case_filter(query), _growth_units(query), start, end,
                            limit=min(query["limit"], 50), min_count=query["min_count"])


def _growth_units(query: dict) -> list[dict]:
    """The org units whose categories are compared: every unit of ``level`` in the scope, or the scope
    itself when it is at or below that level (a grid worker's hot spots are their grid's)."""
    unit, level = _scope_unit(query), query["level"]
    if unit is None:
        return _store().find(ORG_UNITS, {"level": level}, sort=[("code", 1)])
    if ORG_LEVELS.index(unit["level"]) >= ORG_LEVELS.index(level):
        return [unit]
    return _store().find(ORG_UNITS, {"level": level, f"chain.{unit['level']}": unit["code"]}, sort=[("code", 1)])


@blueprint.get("/api/v1/hotspots")
@require_staff
def get_hotspots():
    return jsonify(_hotspots(_parsed(HotspotQuery())))


@blueprint.get("/api/v1/hotspots.csv")
@require_staff
def export_hotspots():
    result = _hotspots(_parsed(HotspotQuery()))
    now, before = result["period"], result["previous_period"]
    rows = ([r["org"]["code"], r["org"]["name"], r["org"]["level"], r["category"], r["received"], r["previous"],
             r["growth"], r["growth_rate"], now["from"], now["to"], before["from"], before["to"]]
            for r in result["growing_categories"])
    return _csv("hotspots.csv", CSV_GROWTH_COLUMNS, rows)


@blueprint.get("/api/v1/org/<plural>")
@require_staff
def list_org_units(plural: str):
    level = LEVEL_OF_PLURAL.get(plural)
    if level is None:
        raise ApiError(404, "not_found", f"no org level {plural!r}; one of {', '.join(LEVEL_OF_PLURAL)}")
    filter = {"level": level, **g.scope.case_filter(prefix="chain")}
    units = _store().find(ORG_UNITS, filter, sort=[("code", 1)])
    return jsonify({"items": [{k: v for k, v in u.items() if k not in ("_id", "_v")} for u in units]})


@blueprint.get("/api/v1/me")
@require_staff
def who_am_i():
    return jsonify({"name": g.scope.name, "role": g.scope.role, "org_code": g.scope.org_code,
                    "level": g.scope.level})


def _csv(filename: str, header: Iterable[str], rows: Iterable[Iterable]) -> Response:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # a BOM, so spreadsheet programs read the Chinese text as UTF-8
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return Response(buffer.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})
