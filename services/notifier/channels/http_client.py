"""The one home of ``requests``: a JSON POST with a timeout, answering ChannelError for anything but 2xx."""
from __future__ import annotations

import json
from typing import Any, Mapping

import requests

from services.notifier.channels import ChannelError


def post_json(url: str, body: Mapping[str, Any], *, headers: Mapping[str, str] | None = None,
              timeout_s: float = 10.0, raw: bytes | None = None) -> Any:
    """POST ``body`` (or the exact bytes ``raw``, when a signature covers them) and return the decoded
    JSON answer (None when the answer is not JSON)."""
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    try:
        response = requests.post(url, data=data, timeout=timeout_s,
                                 headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})
    except requests.RequestException as error:
        raise ChannelError(f"POST {_safe(url)} failed: {type(error).__name__}") from error
    if not 200 <= response.status_code < 300:
        raise ChannelError(f"POST {_safe(url)} answered {response.status_code}: {response.text[:200]}")
    try:
        return response.json()
    except ValueError:
        return None


def _safe(url: str) -> str:
    """The URL without its query: robot keys and tokens travel there and must not reach logs or events."""
    return url.split("?", 1)[0]
