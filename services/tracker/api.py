"""The tracker's HTTP API for staff: cases and the org registry, limited to the token's subtree."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import ValidationError

from shared.org.registry import ORG_UNITS
from shared.web import ApiError, require_staff
from services.tracker import domain
from services.tracker.handlers import CASES
from services.tracker.schemas import CaseQuery

blueprint = Blueprint("tracker", __name__)

LEVEL_OF_PLURAL = {"districts": "district", "streets": "street", "communities": "community",
                   "branches": "branch", "compounds": "compound", "grids": "grid", "buildings": "building",
                   "units": "unit"}


def _store():
    return current_app.extensions["griddesk"].store


@blueprint.get("/api/v1/cases")
@require_staff
def list_cases():
    try:
        query = CaseQuery().load(request.args.to_dict())
    except ValidationError as error:
        raise ApiError(400, "invalid_query", "invalid query parameters", error.messages)
    filter = dict(g.scope.case_filter())
    for key in ("state", "tier", "category"):
        if query.get(key):
            filter[key] = query[key]
    store = _store()
    skip = (query["page"] - 1) * query["per_page"]
    items = store.find(CASES, filter, sort=[("reported_at", -1)], skip=skip, limit=query["per_page"])
    return jsonify({"items": [domain.summary_view(c) for c in items], "page": query["page"],
                    "per_page": query["per_page"], "total": store.count(CASES, filter)})


@blueprint.get("/api/v1/cases/<case_id>")
@require_staff
def get_case(case_id: str):
    case = _store().get(CASES, case_id)
    if case is None or not g.scope.covers(case.get("org") or {}):
        raise ApiError(404, "not_found", f"no case {case_id} in your area")  # never confirm others' cases
    return jsonify(domain.public_view(case))


@blueprint.get("/api/v1/org/<plural>")
@require_staff
def list_org_units(plural: str):
    level = LEVEL_OF_PLURAL.get(plural)
    if level is None:
        raise ApiError(404, "not_found", f"no org level {plural!r}; one of {', '.join(LEVEL_OF_PLURAL)}")
    filter = {"level": level, **g.scope.case_filter(prefix="chain")}
    units = _store().find(ORG_UNITS, filter, sort=[("code", 1)])
    return jsonify({"items": [{k: v for k, v in u.items() if k not in ("_id", "_v")} for u in units]})
