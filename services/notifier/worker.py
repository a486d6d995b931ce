"""The notifier's worker process: the consume loop over the router's events."""
from __future__ import annotations

from shared.process import StopFlag
from services.notifier.bootstrap import Notifier


def run(notifier: Notifier, stop: StopFlag) -> None:
    notifier.consume_loop().run(stop)
