"""The command-center dashboard at ``/`` (plain HTML, CSS, JS and SVG, served from this package: no
CDN, no build step) and the OpenAPI document at ``/openapi.json``. The page holds no data: it signs in
with a staff token kept in the browser and reads the same API as every other client."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Blueprint, jsonify, send_from_directory

STATIC = Path(__file__).resolve().parent / "static"
dashboard = Blueprint("dashboard", __name__)


@dashboard.get("/")
def index():
    response = send_from_directory(STATIC, "index.html", max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:"
    return response


@dashboard.get("/assets/<path:name>")
def asset(name: str):
    return send_from_directory(STATIC, name, max_age=300)


@dashboard.get("/openapi.json")
def openapi():
    return jsonify(_document())


@lru_cache(maxsize=1)
def _document() -> dict:
    from services.tracker.openapi import openapi_document

    return openapi_document()
