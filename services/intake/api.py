"""Intake's HTTP API: parse → command → JSON."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import ValidationError

from shared.observability.logs import log_context
from shared.web import ApiError, require_api_key
from services.intake import handlers
from services.intake.schemas import ReportIn

blueprint = Blueprint("intake", __name__)


def _intake():
    return current_app.extensions["griddesk"]


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object (Content-Type: application/json)")
    return body


@blueprint.post("/api/v1/reports")
@require_api_key
def submit_report():
    body = _json_body()
    try:
        submission = ReportIn().load(body)
    except ValidationError as error:
        raise ApiError(400, "invalid_report", "the report has invalid or unknown fields", error.messages)
    if submission["channel"] not in g.api_client.channels:
        raise ApiError(403, "channel_not_allowed", f"this key may not report on channel {submission['channel']!r}")
    idempotency_key = request.headers.get("Idempotency-Key", "").strip() or None
    if idempotency_key is not None and len(idempotency_key) > 255:
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key is at most 255 characters")
    intake = _intake()
    command = handlers.SubmitReport(submission, g.api_client.key_id, idempotency_key)
    try:
        accepted = handlers.submit_report(command, store=intake.store, publisher=intake.publisher,
                                          clock=intake.clock, secret_key=intake.secret_key)
    except handlers.IdempotencyMismatch:
        raise ApiError(422, "idempotency_key_reused",
                       "this Idempotency-Key was already used for a different report")
    with log_context(case_id=accepted.case_id):
        current_app.logger.info("report accepted" + (" (replay)" if accepted.replayed else ""))
    response = jsonify({"case_id": accepted.case_id, "token": accepted.token})
    response.status_code = 202
    if accepted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
