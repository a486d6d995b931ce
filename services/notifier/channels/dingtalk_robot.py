"""A DingTalk (钉钉) group robot: POST ``{"msgtype": "text", "text": {"content"}, "at": {"atMobiles",
"isAtAll"}}`` to ``https://oapi.dingtalk.com/robot/send?access_token=…``. With a signing secret
("加签"), ``timestamp`` (ms) and ``sign`` = urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")))
are added to the query. The answer's ``errcode`` must be 0."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from typing import Callable

from services.notifier.channels import ChannelError, Outgoing
from services.notifier.channels.http_client import post_json


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


class DingtalkRobot:
    name = "dingtalk"

    def __init__(self, webhook_url: str, *, secret: str = "", timeout_s: float = 10.0,
                 millis: Callable[[], int] = lambda: int(time.time() * 1000)):
        self._url, self._secret, self._timeout_s, self._millis = webhook_url, secret, timeout_s, millis

    def can_reach(self, recipient: dict) -> bool:
        return True

    def send(self, message: Outgoing) -> None:
        url = self._url
        if self._secret:
            timestamp = self._millis()
            url += f"{'&' if '?' in url else '?'}timestamp={timestamp}&sign={dingtalk_sign(self._secret, timestamp)}"
        phone = message.recipient.get("phone")
        answer = post_json(url, {"msgtype": "text", "text": {"content": message.text},
                                 "at": {"atMobiles": [phone] if phone else [], "isAtAll": False}},
                           timeout_s=self._timeout_s)
        if not isinstance(answer, dict) or answer.get("errcode") != 0:
            raise ChannelError(f"DingTalk robot refused: {answer}")
