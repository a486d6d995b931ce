"""Open311 GeoReport v2 under ``/open311/v2/``, in JSON and XML (docs/open311.md).

Reports come in as form posts with an ``api_key`` (a channel key allowed on ``mini_program``) and go
through the same durable path as native reports. Reads need no key, so they show no personal data.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from flask import Blueprint, Response, current_app, jsonify, request

from shared import auth
from services.intake import domain, handlers
from services.intake import open311_format as fmt
from services.intake.metrics import RATE_LIMITED, REPORTS_RECEIVED

blueprint = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORMAT = "<any(json, xml):format>"
CHANNEL = "mini_program"  # third-party apps report for residents themselves, as the mini program does
MAX_RESULTS, MAX_DAYS = 1000, 90
_POST_FIELDS = {"api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
                "email", "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url"}
_ATTRIBUTE = re.compile(r"^attribute\[([a-z_]{1,30})\]$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")
_URL = re.compile(r"^https?://[^\s]{1,490}$")


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


def _intake():
    return current_app.extensions["griddesk"]


def _answer(format: str, root: str, item: str, rows, status: int = 200) -> Response:
    if format == "xml":
        return Response(fmt.to_xml(root, item, rows), status=status, content_type="text/xml; charset=utf-8")
    response = jsonify(rows)
    response.status_code = status
    return response


@blueprint.errorhandler(Open311Error)
def _error(error: Open311Error):
    format = (request.view_args or {}).get("format", "json")
    return _answer(format, "errors", "error", [{"code": error.status, "description": error.description}],
                   error.status)


def _limit(scope: str, subject: str) -> None:
    retry_after = _intake().rate_limiter.allow(scope, subject)
    if retry_after is not None:
        RATE_LIMITED.labels(scope).inc()
        raise Open311Error(429, f"too many requests ({scope}); retry in {retry_after}s")


@blueprint.get(f"/discovery.{FORMAT}")
def discovery(format: str):
    base = request.host_url.rstrip("/") + "/open311/v2/"
    return _answer(format, "discovery", "", {
        "changeset": "2026-11-28T00:00:00Z", "contact": "the district command center",
        "key_service": "API keys: `griddesk credentials api-key --channel mini_program`",
        "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                       "changeset": "2026-11-28T00:00:00Z", "type": "production",
                       "formats": ["application/json", "text/xml"]}]})


@blueprint.get(f"/services.{FORMAT}")
def services(format: str):
    _limit("ip", request.remote_addr or "")
    return _answer(format, "services", "service", fmt.service_list())


@blueprint.get(f"/services/<service_code>.{FORMAT}")
def service_definition(service_code: str, format: str):
    _limit("ip", request.remote_addr or "")
    if service_code not in fmt.SERVICES:
        raise Open311Error(404, f"no service {service_code!r}")
    return _answer(format, "service_definition", "", fmt.service_definition(service_code))


@blueprint.post(f"/requests.{FORMAT}")
def create_request(format: str):
    _limit("ip", request.remote_addr or "")
    form = request.form
    client = auth.api_client_for(_intake().store, form.get("api_key"))
    if client is None or CHANNEL not in client.channels:
        raise Open311Error(403, "api_key is missing or invalid")
    _limit("key", client.key_id)
    submission, media_url = _submission(form)
    command = handlers.SubmitReport(submission, client.key_id,
                                    request.headers.get("Idempotency-Key", "").strip()[:255] or None, media_url)
    try:
        accepted = handlers.submit_report(command, clock=_intake().clock,
                                          secret_key=_intake().secret_key, store_report=_intake().store_report)
    except handlers.IdempotencyMismatch:
        raise Open311Error(400, "this Idempotency-Key was already used for a different request")
    if not accepted.replayed:
        REPORTS_RECEIVED.labels(CHANNEL).inc()
    return _answer(format, "service_requests", "request", [{
        "service_request_id": accepted.case_id, "token": accepted.token,
        "service_notice": "已受理：请保存编号和凭证，用于查询进度", "account_id": ""}])


def _submission(form) -> tuple[dict, str]:
    problems = []
    unknown = [k for k in form if k not in _POST_FIELDS and not _ATTRIBUTE.match(k)]
    if unknown:
        problems.append(f"unknown fields: {', '.join(sorted(unknown))[:200]}")
    code = form.get("service_code", "")
    if code not in fmt.SERVICES:
        problems.append("service_code: missing or unknown")
    description = _clean(form.get("description", ""))
    if not 2 <= len(description) <= 2000:
        problems.append("description: 2 to 2000 characters")
    lines, attribute_errors = fmt.attribute_lines(code, {_ATTRIBUTE.match(k).group(1): v for k, v in form.items()
                                                         if _ATTRIBUTE.match(k)})
    problems += [f"attribute[{k}]: {v}" for k, v in attribute_errors.items()]
    location = _location(form, problems)
    name = _clean(form.get("first_name", "") + " " + form.get("last_name", ""))
    phone = form.get("phone", "").strip()
    if len(name) > 50:
        problems.append("first_name, last_name: at most 50 characters together")
    if phone and not _PHONE.match(phone):
        problems.append("phone: digits, optional +")
    media_url = form.get("media_url", "").strip()
    if media_url and not _URL.match(media_url):
        problems.append("media_url: an http(s) URL")
    if problems:
        raise Open311Error(400, "; ".join(problems))
    reporter = {k: v for k, v in (("name", name), ("phone", phone)) if v}
    return {"channel": CHANNEL, "text": "".join([description, *lines]), "reporter": reporter,
            "location": location, "category_hint": code, "via": "open311"}, media_url


def _location(form, problems: list[str]) -> dict:
    location: dict = {}
    address_id = form.get("address_id", "").strip()
    if address_id:
        unit = _intake().directory.get(address_id)
        if unit is None or unit["level"] not in ("unit", "building"):
            problems.append("address_id: not a known unit or building code")
        else:
            location[f"{unit['level']}_code"] = address_id
    if form.get("lat") or form.get("long"):
        try:
            lat, lng = float(form.get("lat", "")), float(form.get("long", ""))
            if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                raise ValueError
            location.update(lat=lat, lng=lng)
        except ValueError:
            problems.append("lat, long: both, as decimal degrees")
    address = _clean(form.get("address_string", ""))
    if len(address) > 200:
        problems.append("address_string: at most 200 characters")
    elif address:
        location["address"] = address
    if not location and not any(p.startswith(("address_id", "lat")) for p in problems):
        problems.append("give lat and long, address_string or address_id")
    return location


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return re.sub(r"[ \t]+", " ", text).strip()


@blueprint.get(f"/requests.{FORMAT}")
def list_requests(format: str):
    _limit("ip", request.remote_addr or "")
    ids = [i for i in request.args.get("service_request_id", "").split(",") if i.strip()]
    store = _intake().store
    if ids:
        reports = [r for r in (store.get(handlers.REPORTS, i.strip()) for i in ids[:MAX_RESULTS]) if r]
    else:
        end = _date(request.args.get("end_date"), "end_date") or _intake().clock.now()
        start = _date(request.args.get("start_date"), "start_date") or end - timedelta(days=MAX_DAYS)
        if end < start or end - start > timedelta(days=MAX_DAYS):
            raise Open311Error(400, f"start_date must precede end_date, at most {MAX_DAYS} days apart")
        reports = store.find(handlers.REPORTS, {"received_at": {"$gte": start.isoformat(),
                                                                "$lte": end.isoformat()}},
                             sort=[("received_at", -1)], limit=MAX_RESULTS)
    rows = [_request_row(r) for r in reports]
    codes = {c for c in request.args.get("service_code", "").split(",") if c}
    statuses = {s for s in request.args.get("status", "").split(",") if s}
    if not ids:
        rows = [r for r in rows if (not codes or r["service_code"] in codes)
                and (not statuses or r["status"] in statuses)]
    return _answer(format, "service_requests", "request", rows)


@blueprint.get(f"/requests/<service_request_id>.{FORMAT}")
def get_request(service_request_id: str, format: str):
    _limit("ip", request.remote_addr or "")
    report = _intake().store.get(handlers.REPORTS, service_request_id)
    if report is None:
        raise Open311Error(404, f"no service request {service_request_id!r}")
    return _answer(format, "service_requests", "request", [_request_row(report)])


@blueprint.get(f"/tokens/<token>.{FORMAT}")
def token_lookup(token: str, format: str):
    _limit("ip", request.remote_addr or "")
    found = _intake().store.find(handlers.REPORTS, {"token_digest": domain.token_digest(token)}, limit=1)
    if not found:
        raise Open311Error(404, "no service request with this token")
    return _answer(format, "service_requests", "request",
                   [{"service_request_id": found[0]["_id"], "token": token}])


def _date(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name}: a W3C datetime such as 2026-01-01T00:00:00Z") from None
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name}: give a time zone (Z or +08:00)")
    return parsed


def _request_row(report: dict) -> dict:
    intake = _intake()
    case = intake.store.get(handlers.CASE_FILES, report["_id"])
    location = report["event"]["data"].get("location", {})
    place = intake.directory.get(location.get("unit_code") or location.get("building_code"))
    building = intake.directory.get((place or {}).get("chain", {}).get("building"))
    owner_code = (((case or {}).get("owner") or {}).get("assignee") or {}).get("org_code")
    return fmt.service_request(report, case, building, intake.directory.get(owner_code))
