"""The in-app inbox over HTTP: handlers' apps list their messages and mark them read."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from shared.errors import Conflict
from shared.web import ApiError, require_staff
from services.notifier.handlers import NOTIFICATIONS

blueprint = Blueprint("notifier", __name__)


def _store():
    return current_app.extensions["griddesk"].store


@blueprint.get("/api/v1/inbox")
@require_staff
def list_inbox():
    filter = dict(g.scope.case_filter(prefix="case_org"))
    if request.args.get("recipient"):
        filter["recipient.id"] = request.args["recipient"]
    if request.args.get("case_id"):
        filter["case_id"] = request.args["case_id"]
    if request.args.get("unread") in ("1", "true"):
        filter["read"] = False
    items = _store().find(NOTIFICATIONS, filter, sort=[("created_at", -1)], limit=200)
    return jsonify({"items": [{k: v for k, v in n.items() if k not in ("_id", "_v")} | {"id": n["_id"]}
                              for n in items]})


@blueprint.post("/api/v1/inbox/<notification_id>/read")
@require_staff
def mark_read(notification_id: str):
    store = _store()
    for _ in range(5):
        notification = store.get(NOTIFICATIONS, notification_id)
        if notification is None or not g.scope.covers(notification.get("case_org") or {}):
            raise ApiError(404, "not_found", f"no message {notification_id} in your area")
        if notification["read"]:
            return jsonify({"id": notification_id, "read": True})
        try:
            store.replace(NOTIFICATIONS, {**notification, "read": True})
            return jsonify({"id": notification_id, "read": True})
        except Conflict:
            continue
    raise ApiError(409, "conflict", "the message kept changing; retry")
