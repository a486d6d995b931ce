"""The Flask application every service starts from: JSON errors in one shape, request metrics and
logs, ``/healthz``, ``/readyz`` and ``/metrics``, and the credential checks the APIs use."""
from __future__ import annotations

import logging
import time
from functools import wraps
from typing import Callable, Mapping

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from shared import auth, json_codec
from shared.errors import BackendUnavailable
from shared.observability import metrics
from shared.observability.logs import log_context

log = logging.getLogger(__name__)

Check = Callable[[], None]


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "fields"}}`` with its HTTP status."""

    def __init__(self, status: int, code: str, message: str, fields: Mapping | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, dict(fields or {})


def json_response(value: object, status: int = 200) -> Response:
    """What ``jsonify`` answers (compact JSON, a final newline) for plain JSON values, in a third of the
    time (~7 µs instead of ~22 µs): orjson instead of the standard library, none of jsonify's dispatch.
    Plain values only: a datetime or a dataclass, which jsonify would format, raises here (a 500)."""
    return current_app.response_class(json_codec.to_bytes(value) + b"\n", status=status,
                                      mimetype="application/json")


def error_response(status: int, code: str, message: str, fields: Mapping | None = None) -> Response:
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


def create_service_app(service: str, readiness: Mapping[str, Check], *, max_body_bytes: int = 1 << 20) -> Flask:
    app = Flask(service)
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        method = request.method
        metrics.labelled(metrics.HTTP_REQUESTS, service, route, method, str(response.status_code)).inc()
        metrics.labelled(metrics.HTTP_LATENCY, service, route, method).observe(
            time.perf_counter() - g.get("started", time.perf_counter()))
        return response

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.code, error.message, error.fields)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        response = error_response(error.code or 500, (error.name or "error").lower().replace(" ", "_"),
                                  error.description or error.name)
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(BackendUnavailable)
    def _unavailable(error: BackendUnavailable):
        log.warning("backend unavailable: %s", error)
        response = error_response(503, "backend_unavailable", "a backend is not answering; retry later")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unexpected error")
        return error_response(500, "internal_error", "unexpected error; it has been logged")

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok", "service": service})

    @app.get("/readyz")
    def readyz():
        failures = {}
        for name, check in readiness.items():
            try:
                check()
            except Exception as error:
                failures[name] = str(error) or type(error).__name__
        if failures:
            return jsonify({"status": "unavailable", "service": service, "failures": failures}), 503
        return jsonify({"status": "ready", "service": service, "checks": sorted(readiness)})

    @app.get("/metrics")
    def prometheus_metrics():
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    return app


def store_of_app():
    return current_app.extensions["griddesk"].store


def require_api_key(view):
    """Admit a request only with a valid ``X-API-Key``; the client is then ``g.api_client``."""

    @wraps(view)
    def guarded(*args, **kwargs):
        client = auth.api_client_for(store_of_app(), request.headers.get("X-API-Key"))
        if client is None:
            raise ApiError(401, "unauthorized", "a valid X-API-Key header is required")
        g.api_client = client
        return view(*args, **kwargs)

    return guarded


def require_staff(view):
    """Admit a request only with a valid staff bearer token; its scope is then ``g.scope``."""

    @wraps(view)
    def guarded(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        scope = auth.scope_for(store_of_app(), token)
        if scope is None:
            response = error_response(401, "unauthorized", "a valid staff bearer token is required")
            response.headers["WWW-Authenticate"] = 'Bearer realm="griddesk"'
            return response
        g.scope = scope
        with log_context(staff=scope.name):
            return view(*args, **kwargs)

    return guarded
