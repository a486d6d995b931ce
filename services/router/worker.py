"""The router's worker process: the consume loop over intake's and the tracker's events."""
from __future__ import annotations

from shared.process import StopFlag
from services.router.bootstrap import Router


def run(router: Router, stop: StopFlag) -> None:
    router.consume_loop().run(stop)
