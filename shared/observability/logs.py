"""Structured JSON logs. Every line written while an event or request about a case is handled carries
its case id, correlation id and event id, so a case can be followed across all four services."""
from __future__ import annotations

import contextvars
import logging
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from shared import json_codec

_context: contextvars.ContextVar[dict] = contextvars.ContextVar("griddesk_log_context", default={})


@contextmanager
def log_context(**fields: str) -> Iterator[None]:
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
            **_context.get(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            line.update(extra)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json_codec.to_text(line, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stderr at ``level`` (the services pass ``shared.config.log_level()``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("kafka", "pymongo", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
