"""A stop flag wired to SIGTERM/SIGINT, which every long-running loop checks."""
from __future__ import annotations

import signal
import threading


class StopFlag:
    """Set by SIGTERM or SIGINT; long-running loops check it and wind down cleanly."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def install(self) -> "StopFlag":
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self._event.set())
        return self

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        return self._event.wait(seconds)
