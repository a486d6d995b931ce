"""The tracker's worker process: the consume loop over every case event."""
from __future__ import annotations

from shared.process import StopFlag
from services.tracker.bootstrap import Tracker


def run(tracker: Tracker, stop: StopFlag) -> None:
    tracker.consume_loop().run(stop)
