"""The OpenAPI 3 description of every intake endpoint, served at ``/openapi.json``. Request bodies come
from the marshmallow schemas the API validates with (apispec), so the two cannot drift apart."""
from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from services.intake import casework
from services.intake.schemas import ACTION_SCHEMAS, ReportIn

ERROR = {"$ref": "#/components/schemas/Error"}
_DESCRIPTIONS = {400: "invalid or unknown fields", 401: "missing or invalid credentials",
                 403: "not allowed for these credentials", 404: "no such case (or not yours to see)",
                 409: "not possible in the case's current state", 413: "request body too large",
                 415: "not an accepted file type (judged by the bytes)",
                 422: "Idempotency-Key reused for a different request", 429: "rate limited (see Retry-After)",
                 503: "a backend is down; retry later (see Retry-After)"}
IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                   "description": "a retry with the same key and body returns the first answer",
                   "schema": {"type": "string", "maxLength": 255}}
CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"}}
CASE_TOKEN = {"name": "X-Case-Token", "in": "header", "required": True,
              "description": "the follow-up token the resident received with the case id",
              "schema": {"type": "string"}}
ACCEPTED_CASE = {"type": "object", "required": ["case_id", "token"], "properties": {
    "case_id": {"type": "string"}, "token": {"type": "string"}}}
ACTION_RESULT = {"type": "object", "required": ["case_id", "state", "events"], "properties": {
    "case_id": {"type": "string"}, "state": {"type": "string"},
    "events": {"type": "array", "items": {"type": "object", "required": ["id", "type"],
                                          "properties": {"id": {"type": "string"}, "type": {"type": "string"}}}}}}
FOLLOW_UP = {"type": "object", "required": ["case_id", "state", "state_text", "timeline", "can_give_feedback"],
             "properties": {"case_id": {"type": "string"}, "state": {"type": "string"},
                            "state_text": {"type": "string"}, "can_give_feedback": {"type": "boolean"},
                            "awaiting_you": {"type": "object", "nullable": True, "properties": {
                                "reason": {"type": "string"}, "since": {"type": "string"}}},
                            "merged_into": {"type": "string", "nullable": True,
                                            "description": "the case a merged duplicate was merged into"},
                            "timeline": {"type": "array", "items": {
                                "type": "object", "required": ["time", "text"],
                                "properties": {"time": {"type": "string"}, "text": {"type": "string"}}}}}}
ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "fields": {"type": "object", "additionalProperties": True}}}}}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    responses = {str(s): _json(ERROR, _DESCRIPTIONS[s]) for s in (*statuses, 413, 503) if s in _DESCRIPTIONS}
    for status in ("429", "503"):
        if status in responses:
            responses[status]["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    return responses


def _body(schema_name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


def build_spec() -> dict:
    spec = APISpec(title="griddesk intake", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Residents' reports, handlers' and departments' actions, follow-ups."})
    spec.components.security_scheme("apiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    spec.components.security_scheme("staffToken", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", ERROR_SCHEMA)
    spec.components.schema("ReportIn", schema=ReportIn)
    spec.path(path="/api/v1/reports", operations={"post": {
        "summary": "Report a problem (a channel's client)", "security": [{"apiKey": []}],
        "parameters": [IDEMPOTENCY_KEY], "requestBody": _body("ReportIn"),
        "responses": {"202": _json(ACCEPTED_CASE, "stored durably; published now or by the relay"),
                      **_errors(400, 401, 403, 422, 429)}}})
    for action in casework.STAFF_ACTIONS:
        name = f"{ACTION_SCHEMAS[action].__name__}"
        spec.components.schema(name, schema=ACTION_SCHEMAS[action])
        spec.path(path=f"/api/v1/cases/{{case_id}}/{action}", operations={"post": {
            "summary": f"{action.replace('_', ' ')} (records {casework.ACTIONS[action].event})",
            "security": [{"staffToken": []}, {"apiKey": []}], "parameters": [CASE_ID, IDEMPOTENCY_KEY],
            "requestBody": _body(name),
            "responses": {"202": _json(ACTION_RESULT, "recorded"), **_errors(400, 401, 403, 404, 409, 422, 429)}}})
    spec.path(path="/api/v1/follow-up/{case_id}", operations={"get": {
        "summary": "The resident's view: state and a plain-language timeline", "parameters": [CASE_ID, CASE_TOKEN],
        "responses": {"200": _json(FOLLOW_UP, "the case as the resident sees it"), **_errors(404, 429)}}})
    for action in casework.RESIDENT_ACTIONS:
        name = ACTION_SCHEMAS[action].__name__
        spec.components.schema(name, schema=ACTION_SCHEMAS[action])
        spec.path(path=f"/api/v1/follow-up/{{case_id}}/{action}", operations={"post": {
            "summary": f"the resident's {action}", "parameters": [CASE_ID, CASE_TOKEN, IDEMPOTENCY_KEY],
            "requestBody": _body(name),
            "responses": {"202": _json(ACTION_RESULT, "recorded"), **_errors(400, 404, 409, 422, 429)}}})
    spec.path(path="/api/v1/files", operations={"post": {
        "summary": "Upload a photo or file (JPEG, PNG, GIF, WebP, PDF); attach its id to a report or an action",
        "security": [{"apiKey": []}, {"staffToken": []}],
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}}}}}},
        "responses": {"201": _json({"type": "object", "required": ["file_id", "content_type", "size"], "properties": {
            "file_id": {"type": "string"}, "content_type": {"type": "string"}, "size": {"type": "integer"}}},
            "stored"), **_errors(400, 401, 415, 429)}}})
    spec.path(path="/api/v1/files/{file_id}", operations={"get": {
        "summary": "A stored file, for staff (or a department) who may see its case",
        "security": [{"staffToken": []}, {"apiKey": []}],
        "parameters": [{"name": "file_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "the file", "content": {
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")}},
            **_errors(401, 404)}}})
    for path, summary in (("/healthz", "the process is up"), ("/readyz", "the store and the event log answer")):
        responses = {"200": _json({"type": "object"}, summary)}
        if path == "/readyz":
            responses["503"] = _json({"type": "object"}, "a backend does not answer")
        spec.path(path=path, operations={"get": {"summary": summary, "responses": responses}})
    spec.path(path="/metrics", operations={"get": {"summary": "Prometheus metrics", "responses": {
        "200": {"description": "text format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}})
    spec.path(path="/openapi.json", operations={"get": {"summary": "this document", "responses": {
        "200": _json({"type": "object"}, "OpenAPI 3")}}})
    document = spec.to_dict()
    document["paths"].update(open311_paths())
    return document


# --- Open311 GeoReport v2 ------------------------------------------------------------------------

FORMAT = {"name": "format", "in": "path", "required": True, "schema": {"type": "string", "enum": ["json", "xml"]}}
OPEN311_ERRORS = {"type": "array", "items": {"type": "object", "required": ["code", "description"], "properties": {
    "code": {"type": "integer"}, "description": {"type": "string"}}}}
SERVICE_REQUEST = {"type": "object", "required": ["service_request_id", "status"], "properties": {
    "service_request_id": {"type": "string"}, "status": {"type": "string", "enum": ["open", "closed"]},
    "status_notes": {"type": "string"}, "service_name": {"type": "string"}, "service_code": {"type": "string"},
    "description": {"type": "string"}, "agency_responsible": {"type": "string"},
    "requested_datetime": {"type": "string"}, "updated_datetime": {"type": "string"},
    "expected_datetime": {"type": "string"}, "address": {"type": "string"}, "address_id": {"type": "string"},
    "lat": {"type": "number", "nullable": True}, "long": {"type": "number", "nullable": True},
    "media_url": {"type": "string"}}}


def _open311(schema: dict, description: str, *errors: int) -> dict:
    responses = {"200": {"description": description, "content": {
        "application/json": {"schema": schema}, "text/xml": {"schema": {"type": "string"}}}}}
    for status in sorted({*errors, 404, 429}):
        # 404 also answers a format other than json/xml, in the service-wide error shape
        schema = {"oneOf": [OPEN311_ERRORS, ERROR]} if status == 404 else OPEN311_ERRORS
        responses[str(status)] = {"description": _DESCRIPTIONS.get(status, "error"), "content": {
            "application/json": {"schema": schema}, "text/xml": {"schema": {"type": "string"}}}}
    for status in (413, 503):
        responses[str(status)] = _json(ERROR, _DESCRIPTIONS[status])
    return responses


def open311_paths() -> dict:
    text = {"type": "string"}
    form = {"type": "object", "required": ["api_key", "service_code", "description"], "properties": {
        "api_key": text, "jurisdiction_id": text, "service_code": text, "lat": text, "long": text,
        "address_string": text, "address_id": text, "email": text, "device_id": text, "account_id": text,
        "first_name": text, "last_name": text, "phone": text, "description": text, "media_url": text}}
    query = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
             for n in ("service_request_id", "service_code", "start_date", "end_date", "status", "jurisdiction_id")]
    any_object, any_list = {"type": "object"}, {"type": "array", "items": {"type": "object"}}
    return {
        "/open311/v2/discovery.{format}": {"get": {"summary": "Open311 discovery", "parameters": [FORMAT],
                                                   "responses": _open311(any_object, "endpoints")}},
        "/open311/v2/services.{format}": {"get": {"summary": "one service per category code",
                                                  "parameters": [FORMAT], "responses": _open311(any_list, "services")}},
        "/open311/v2/services/{service_code}.{format}": {"get": {
            "summary": "a service definition (attributes)", "parameters": [
                {"name": "service_code", "in": "path", "required": True, "schema": text}, FORMAT],
            "responses": _open311(any_object, "definition", 404)}},
        "/open311/v2/requests.{format}": {
            "get": {"summary": "service requests (default: the last 90 days, at most 1000)",
                    "parameters": [FORMAT, *query],
                    "responses": _open311({"type": "array", "items": SERVICE_REQUEST}, "requests", 400)},
            "post": {"summary": "report (form-encoded; api_key required)", "parameters": [FORMAT, IDEMPOTENCY_KEY],
                     "requestBody": {"required": True, "content": {
                         "application/x-www-form-urlencoded": {"schema": form}}},
                     "responses": _open311(any_list, "stored; service_request_id and token", 400, 403)}},
        "/open311/v2/requests/{service_request_id}.{format}": {"get": {
            "summary": "one service request", "parameters": [
                {"name": "service_request_id", "in": "path", "required": True, "schema": text}, FORMAT],
            "responses": _open311({"type": "array", "items": SERVICE_REQUEST}, "the request", 404)}},
        "/open311/v2/tokens/{token}.{format}": {"get": {
            "summary": "the request id for a token", "parameters": [
                {"name": "token", "in": "path", "required": True, "schema": text}, FORMAT],
            "responses": _open311(any_list, "the request id", 404)}},
    }
