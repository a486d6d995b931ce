"""SMS through an HTTP gateway (docs/notifier.md, "SMS gateway"): POST JSON
``{"to", "text", "reference", "urgent"}`` with an optional bearer token; any 2xx is accepted, and an
answer ``{"ok": false, "error": …}`` is a failure. Provider-specific adapters can follow this one."""
from __future__ import annotations

from services.notifier.channels import ChannelError, Outgoing
from services.notifier.channels.http_client import post_json


class HttpSmsGateway:
    name = "sms"

    def __init__(self, url: str, *, token: str = "", signature: str = "", timeout_s: float = 10.0):
        self._url, self._token, self._signature, self._timeout_s = url, token, signature, timeout_s

    def can_reach(self, recipient: dict) -> bool:
        return bool(recipient.get("phone"))

    def send(self, message: Outgoing) -> None:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        text = f"{self._signature}{message.text}" if self._signature else message.text
        answer = post_json(self._url, {"to": message.recipient["phone"], "text": text,
                                       "reference": message.notification_id, "urgent": message.urgent},
                           headers=headers, timeout_s=self._timeout_s)
        if isinstance(answer, dict) and answer.get("ok") is False:
            raise ChannelError(f"SMS gateway refused: {answer.get('error', 'no reason given')}")
