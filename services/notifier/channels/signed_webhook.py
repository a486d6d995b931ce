"""A signed generic webhook for functional departments' systems. POST JSON; headers
``X-Griddesk-Timestamp`` (unix seconds), ``X-Griddesk-Notification`` (the id, for deduplication) and
``X-Griddesk-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``; any 2xx is accepted."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Callable, Mapping

from services.notifier.channels import Outgoing
from services.notifier.channels.http_client import post_json


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                                hashlib.sha256).hexdigest()


class SignedWebhook:
    """``endpoints`` maps a department code (the assignee's org code) to ``{"url", "secret"}``;
    ``default`` serves departments without their own entry."""
    name = "webhook"

    def __init__(self, endpoints: Mapping[str, Mapping[str, str]], *, default: Mapping[str, str] | None = None,
                 timeout_s: float = 10.0, seconds: Callable[[], float] = time.time):
        self._endpoints, self._default, self._timeout_s, self._seconds = endpoints, default, timeout_s, seconds

    def _endpoint(self, recipient: dict) -> Mapping[str, str] | None:
        endpoint = self._endpoints.get(recipient.get("org_code", "")) or self._default
        return endpoint if endpoint and endpoint.get("url") else None

    def can_reach(self, recipient: dict) -> bool:
        return recipient.get("level") == "department" and self._endpoint(recipient) is not None

    def send(self, message: Outgoing) -> None:
        endpoint = self._endpoint(message.recipient)
        body = json.dumps({"notification_id": message.notification_id, "case_id": message.case_id,
                           "department": message.recipient.get("org_code"), "urgent": message.urgent,
                           "subject": message.subject, "text": message.text, **message.facts},
                          ensure_ascii=False, sort_keys=True).encode("utf-8")
        timestamp = str(int(self._seconds()))
        headers = {"X-Griddesk-Timestamp": timestamp, "X-Griddesk-Notification": message.notification_id,
                   "X-Griddesk-Signature": webhook_signature(endpoint.get("secret", ""), timestamp, body)}
        post_json(endpoint["url"], {}, raw=body, headers=headers, timeout_s=self._timeout_s)
