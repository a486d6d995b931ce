"""The OpenAPI 3 document of the tracker's API, generated from its marshmallow schemas (apispec)."""
from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from services.tracker import schemas

# path -> (summary, query schema or None, response schema, content type)
ENDPOINTS = {
    "/api/v1/cases": ("Cases in your area: filters, paging, sort", schemas.CaseQuery, schemas.CasePage, None),
    "/api/v1/cases.csv": ("The same cases as CSV (up to 100 000 rows)", schemas.CaseQuery, None, "text/csv"),
    "/api/v1/cases/{case_id}": ("One case with its timeline, assignments and who held it when", None,
                                schemas.CaseDetail, None),
    "/api/v1/indicators": ("The governance indicators (docs/indicators.md) with the previous period",
                           schemas.IndicatorQuery, schemas.Indicators, None),
    "/api/v1/indicators/series": ("The indicators per day, week, month or quarter", schemas.SeriesQuery,
                                  schemas.Breakdown, None),
    "/api/v1/indicators/breakdown": ("The indicators of every org unit of a level below the org",
                                     schemas.BreakdownQuery, schemas.Breakdown, None),
    "/api/v1/indicators.csv": ("The breakdown as CSV (level defaults to grid)", schemas.BreakdownQuery, None,
                               "text/csv"),
    "/api/v1/breaches": ("Open SLA breaches, most overdue first", schemas.ListQuery, schemas.BreachList, None),
    "/api/v1/hotspots": ("Concentrated problems and the categories growing fastest per org unit",
                         schemas.HotspotQuery, schemas.Hotspots, None),
    "/api/v1/hotspots.csv": ("The fastest-growing categories per org unit as CSV", schemas.HotspotQuery, None,
                             "text/csv"),
    "/api/v1/org/{plural}": ("Org units of a level in your area", None, schemas.Breakdown, None),
    "/api/v1/me": ("The token's name, role and org unit", None, None, None),
}


def openapi_document() -> dict:
    spec = APISpec(title="griddesk tracker", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Case history, governance indicators and the command-center API. "
                                        "Every endpoint needs a staff bearer token and answers only for the "
                                        "token's org subtree."})
    spec.components.security_scheme("staffToken", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=schemas.Error)
    for path, (summary, query, response, content_type) in ENDPOINTS.items():
        operation: dict = {"summary": summary, "security": [{"staffToken": []}], "responses": {
            "200": _ok(response, content_type),
            "400": _error("invalid query parameters"), "401": _error("no valid staff token"),
            "404": _error("not found in your area")}}
        parameters = [{"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
                      for name in ("case_id", "plural") if "{" + name + "}" in path]
        if query is not None:
            parameters.append({"in": "query", "schema": query})
        if parameters:
            operation["parameters"] = parameters
        spec.path(path=path, operations={"get": operation})
    return spec.to_dict()


def _ok(response, content_type: str | None) -> dict:
    if content_type:
        return {"description": "OK", "content": {content_type: {"schema": {"type": "string"}}}}
    if response is None:
        return {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    return {"description": "OK", "content": {"application/json": {"schema": response}}}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": "Error"}}}
