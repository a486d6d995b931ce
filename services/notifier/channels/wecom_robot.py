"""A WeCom (企业微信) group robot: POST ``{"msgtype": "text", "text": {"content", "mentioned_mobile_list"}}``
to ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``; the answer's ``errcode`` must be 0."""
from __future__ import annotations

from services.notifier.channels import ChannelError, Outgoing
from services.notifier.channels.http_client import post_json


class WecomRobot:
    name = "wecom"

    def __init__(self, webhook_url: str, *, timeout_s: float = 10.0):
        self._url, self._timeout_s = webhook_url, timeout_s

    def can_reach(self, recipient: dict) -> bool:
        return True  # the group is the address; the person is @-mentioned by phone when known

    def send(self, message: Outgoing) -> None:
        text = {"content": message.text}
        if message.recipient.get("phone"):
            text["mentioned_mobile_list"] = [message.recipient["phone"]]
        answer = post_json(self._url, {"msgtype": "text", "text": text}, timeout_s=self._timeout_s)
        if not isinstance(answer, dict) or answer.get("errcode") != 0:
            raise ChannelError(f"WeCom robot refused: {answer}")
