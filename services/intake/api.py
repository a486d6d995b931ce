"""Intake's HTTP API: parse → command → JSON. Reports (channel keys), handlers' actions (staff tokens,
departments' keys) and residents' follow-ups (the case token)."""
from __future__ import annotations

import hmac
import logging
import re

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import ValidationError

from shared import auth, json_codec
from shared.observability.logs import log_context
from shared.web import ApiError, error_response, json_response, require_api_key
from services.intake import attachments, casework, domain, handlers, plain_language
from services.intake.metrics import RATE_LIMITED, REPORTS_RECEIVED
from services.intake.schemas import load_action, load_report

blueprint = Blueprint("intake", __name__)
CASE_ID = "<case_id>"
_CASE_ID_PATTERN = re.compile(r"^GD-[0-9]{8}-[A-Z0-9]{6}$")


class RateLimited(Exception):
    def __init__(self, scope: str, retry_after: int):
        super().__init__(scope)
        self.scope, self.retry_after = scope, retry_after


@blueprint.errorhandler(RateLimited)
def _rate_limited(error: RateLimited):
    response = error_response(429, "rate_limited", f"too many requests ({error.scope}); retry later")
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def _known_case_id(case_id: str) -> None:
    if not _CASE_ID_PATTERN.match(case_id):
        raise ApiError(404, "not_found", "no such case")


def _intake():
    return current_app.extensions["griddesk"]


def _json_body() -> dict:
    body = None
    if request.is_json:
        try:  # orjson reads a report body in ~0.6 µs, the standard library in ~5 µs
            body = json_codec.from_text(request.get_data())
        except ValueError:  # what orjson refuses (NaN, UTF-16, a BOM) Flask's own reading decides, as before
            body = _unicode_only(request.get_json(silent=True))
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object (Content-Type: application/json)")
    return body


def _unicode_only(body):
    """A body Flask read whose strings all are Unicode text: JSON may escape a lone surrogate ("\\ud800"),
    which no store or event can hold (it once answered 500)."""
    try:
        json_codec.to_text(body)
    except (TypeError, ValueError):
        raise ApiError(400, "invalid_json", "the body's strings must be Unicode text (a lone surrogate is not)")
    return body


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > 255:
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key is at most 255 characters")
    return key


def _limit(scope: str, subject: str) -> None:
    retry_after = _intake().rate_limiter.allow(scope, subject)
    if retry_after is not None:
        RATE_LIMITED.labels(scope).inc()
        raise RateLimited(scope, retry_after)


@blueprint.get("/openapi.json")
def openapi_document():
    intake = _intake()
    if intake.openapi is None:
        from services.intake.openapi import build_spec

        intake.openapi = build_spec()
    return jsonify(intake.openapi)


@blueprint.post("/api/v1/reports")
@require_api_key
def submit_report():
    _limit("key", g.api_client.key_id)
    body = _json_body()
    try:
        submission = load_report(body)
    except ValidationError as error:
        raise ApiError(400, "invalid_report", "the report has invalid or unknown fields", error.messages)
    if submission["channel"] not in g.api_client.channels:
        raise ApiError(403, "channel_not_allowed", f"this key may not report on channel {submission['channel']!r}")
    if submission["channel"] == "mini_program":
        _limit("phone", submission["reporter"].get("phone", ""))
    intake = _intake()
    _check_attachments(submission["attachments"], None)
    command = handlers.SubmitReport(submission, g.api_client.key_id, _idempotency_key())
    try:
        accepted = handlers.submit_report(command, clock=intake.clock,
                                          secret_key=intake.secret_key, store_report=intake.store_report)
    except handlers.IdempotencyMismatch:
        raise ApiError(422, "idempotency_key_reused",
                       "this Idempotency-Key was already used for a different report")
    _log_accepted(accepted)
    if not accepted.replayed:
        REPORTS_RECEIVED.labels(submission["channel"]).inc()
    attachments.link(intake.store, submission["attachments"], accepted.case_id)
    response = json_response({"case_id": accepted.case_id, "token": accepted.token}, 202)
    if accepted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _log_accepted(accepted: handlers.Accepted) -> None:
    """A replay at INFO; a new report at DEBUG only: its group's writer logs the reports it stored in one
    line (``report_groups``), as a worker logs a consumed batch."""
    logger = current_app.logger
    if accepted.replayed or logger.isEnabledFor(logging.DEBUG):
        with log_context(case_id=accepted.case_id, correlation_id=accepted.correlation_id):
            logger.log(logging.INFO if accepted.replayed else logging.DEBUG,
                       "report accepted" + (" (replay)" if accepted.replayed else ""))


# --- handlers' and departments' actions ----------------------------------------------------------

def _actor() -> casework.Actor:
    """The staff token's post, or the department of an X-API-Key; 401 without either."""
    intake = _intake()
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        scope = auth.scope_for(intake.store, header[7:].strip())
        if scope is not None:
            holder = intake.directory.person(scope.org_code, scope.role) or {}
            person = casework.staff_person(scope.org_code, scope.level, scope.role, holder.get("name") or scope.name)
            return casework.Actor("staff", person, scope.level, scope.org_code)
    client = auth.api_client_for(intake.store, request.headers.get("X-API-Key"))
    if client is not None and client.department:
        return casework.Actor("department", casework.department_person(client.department, client.name),
                              "department", client.department, client.department)
    raise ApiError(401, "unauthorized", "a valid staff bearer token or department X-API-Key is required")


def _act(case_id: str, action: str, actor: casework.Actor):
    _known_case_id(case_id)
    if actor.kind != "resident":  # residents are limited by address in _resident_case
        _limit("key", actor.credential)
    try:
        payload = load_action(action, _json_body())
    except ValidationError as error:
        raise ApiError(400, "invalid_action", "the request has invalid or unknown fields", error.messages)
    intake = _intake()
    _check_attachments(payload.get("attachments", []), case_id)
    command = handlers.Act(case_id, action, actor, payload, _idempotency_key())
    try:
        acted = handlers.act(command, store=intake.store, publisher=intake.publisher, clock=intake.clock)
    except handlers.CaseNotFound:
        raise ApiError(404, "not_found", "no such case")
    except casework.Refused as refused:
        raise ApiError(refused.status, refused.code, refused.message)
    except handlers.IdempotencyMismatch:
        raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was already used for another request")
    attachments.link(intake.store, payload.get("attachments", []), case_id)
    with log_context(case_id=case_id):
        current_app.logger.info(f"{action} by {actor.person.get('id', 'resident')}")
    response = json_response(acted.response, 202)
    if acted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _staff_action_view(action: str):
    def view(case_id: str):
        return _act(case_id, action, _actor())

    view.__name__ = f"action_{action}"
    return view


for _action in casework.STAFF_ACTIONS:
    blueprint.add_url_rule(f"/api/v1/cases/{CASE_ID}/{_action}", view_func=_staff_action_view(_action),
                           methods=["POST"])


# --- residents: follow-up by token ---------------------------------------------------------------

def _resident_case(case_id: str) -> dict:
    _limit("ip", request.remote_addr or "")
    _known_case_id(case_id)
    token = request.headers.get("X-Case-Token", "")
    expected = domain.follow_up_token(_intake().secret_key, case_id)
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise ApiError(404, "not_found", "no case with this id and token")
    try:
        return handlers.case_file(_intake().store, case_id)
    except handlers.CaseNotFound:
        raise ApiError(404, "not_found", "no case with this id and token")


@blueprint.get(f"/api/v1/follow-up/{CASE_ID}")
def follow_up(case_id: str):
    return jsonify(plain_language.follow_up(_resident_case(case_id)))


@blueprint.post(f"/api/v1/follow-up/{CASE_ID}/feedback")
def give_feedback(case_id: str):
    _resident_case(case_id)
    return _act(case_id, "feedback", casework.Actor("resident"))


@blueprint.post(f"/api/v1/follow-up/{CASE_ID}/reply")
def reply(case_id: str):
    """The resident answers while the case waits for them: the note is recorded and work resumes."""
    _resident_case(case_id)
    return _act(case_id, "reply", casework.Actor("resident"))


@blueprint.post(f"/api/v1/follow-up/{CASE_ID}/withdraw")
def withdraw(case_id: str):
    _resident_case(case_id)
    return _act(case_id, "withdraw", casework.Actor("resident"))


# --- photos and files ----------------------------------------------------------------------------

def _check_attachments(file_ids: list[str], case_id: str | None) -> None:
    bad = attachments.check_attachable(_intake().store, file_ids, case_id)
    if bad:
        raise ApiError(400, "unknown_attachment", "attachments must be files uploaded to /api/v1/files, "
                       "not yet attached to another case", {"attachments": bad})


@blueprint.post("/api/v1/files")
def upload_file():
    intake = _intake()
    client = auth.api_client_for(intake.store, request.headers.get("X-API-Key"))
    uploader = f"key:{client.key_id}" if client else None
    if client is None:
        uploader = _actor().credential  # a staff token (401 without any credential)
    _limit("key", uploader)
    request.max_content_length = intake.settings.max_file_bytes + 64 * 1024  # the form's own overhead
    upload = request.files.get("file")
    if upload is None or set(request.files) != {"file"} or request.form:
        raise ApiError(400, "invalid_upload", "send one multipart/form-data field named 'file'")
    try:
        stored = attachments.store_upload(
            attachments.Upload(upload.read(intake.settings.max_file_bytes + 1), upload.mimetype or "",
                               upload.filename or "", uploader),
            files=intake.files, store=intake.store, clock=intake.clock, max_bytes=intake.settings.max_file_bytes)
    except attachments.FileRefused as refused:
        raise ApiError(refused.status, refused.code, refused.message)
    response = jsonify(stored)
    response.status_code = 201
    return response


@blueprint.get("/api/v1/files/<file_id>")
def download_file(file_id: str):
    """Only for staff (or a department) who may see the case the file belongs to."""
    actor = _actor()
    intake = _intake()
    case_id = attachments.case_of(intake.store, file_id)
    case = intake.store.get(handlers.CASE_FILES, case_id) if case_id else None
    stored = attachments.fetch(intake.files, file_id) if case and casework.visible_to(actor, case) else None
    if stored is None:
        raise ApiError(404, "not_found", "no such file")
    return current_app.response_class(stored.data, content_type=stored.content_type,
                                      headers={"X-Content-Type-Options": "nosniff",
                                               "Content-Disposition": "attachment",
                                               "Cache-Control": "private, no-store"})
