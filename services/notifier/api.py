"""The notifier's HTTP API: the in-app inbox for handlers' apps (list, mark read) and the dead-letter
list of messages no channel could deliver."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from shared.errors import Conflict
from shared.web import ApiError, require_staff
from services.notifier.domain import DEAD_LETTER_STATES, SENT
from services.notifier.planning import NOTIFICATIONS

blueprint = Blueprint("notifier", __name__)
HIDDEN = ("_id", "_v", "facts", "outbox", "outbox_pending", "basis")  # internals, and residents' raw contact


def _store():
    return current_app.extensions["griddesk"].store


def _public(notification: dict) -> dict:
    return {k: v for k, v in notification.items() if k not in HIDDEN} | {"id": notification["_id"]}


def _limit() -> int:
    raw = request.args.get("limit", "200")
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise ApiError(400, "bad_request", "limit must be an integer from 1 to 500", {"limit": [raw]})
    return int(raw)


@blueprint.get("/api/v1/inbox")
@require_staff
def list_inbox():
    filter = dict(g.scope.case_filter(prefix="case_org"))
    filter.update({"channel": "inbox", "state": SENT})
    if request.args.get("recipient"):
        filter["recipient.id"] = request.args["recipient"]
    if request.args.get("case_id"):
        filter["case_id"] = request.args["case_id"]
    if request.args.get("unread") in ("1", "true"):
        filter["read"] = False
    items = _store().find(NOTIFICATIONS, filter, sort=[("created_at", -1)], limit=_limit())
    return jsonify({"items": [_public(n) for n in items]})


@blueprint.get("/api/v1/dead-letters")
@require_staff
def list_dead_letters():
    """Messages that no channel delivered (``dead_lettered``) or whose send was interrupted so that
    nobody knows whether it arrived (``uncertain``)."""
    filter = dict(g.scope.case_filter(prefix="case_org"))
    filter["state"] = {"$in": list(DEAD_LETTER_STATES)}
    if request.args.get("case_id"):
        filter["case_id"] = request.args["case_id"]
    store = _store()
    items = store.find(NOTIFICATIONS, filter, sort=[("created_at", -1)], limit=_limit())
    return jsonify({"items": [_public(n) for n in items], "total": store.count(NOTIFICATIONS, filter)})


@blueprint.post("/api/v1/inbox/<notification_id>/read")
@require_staff
def mark_read(notification_id: str):
    store = _store()
    for _ in range(5):
        notification = store.get(NOTIFICATIONS, notification_id)
        if (notification is None or notification.get("channel") != "inbox"
                or not g.scope.covers(notification.get("case_org") or {})):
            raise ApiError(404, "not_found", f"no message {notification_id} in your area")
        if notification["read"]:
            return jsonify({"id": notification_id, "read": True})
        try:
            store.replace(NOTIFICATIONS, {**notification, "read": True})
            return jsonify({"id": notification_id, "read": True})
        except Conflict:
            continue
    raise ApiError(409, "conflict", "the message kept changing; retry")
