"""Intake's worker process: the outbox relay, publishing stored reports the requests could not."""
from __future__ import annotations

import logging

from shared.errors import BackendUnavailable
from shared.observability import metrics
from shared.process import StopFlag
from services.intake import handlers
from services.intake.bootstrap import SERVICE, Intake

log = logging.getLogger(__name__)


def run(intake: Intake, stop: StopFlag) -> None:
    failures = 0
    while not stop.is_set():
        try:
            handlers.relay_unpublished(store=intake.store, publisher=intake.publisher, clock=intake.clock,
                                       grace_s=intake.settings.relay_grace_s)
            metrics.OUTBOX_BACKLOG.labels(SERVICE).set(handlers.unpublished_count(intake.store))
            failures = 0
        except BackendUnavailable as error:
            failures += 1
            log.warning("relay paused: %s (attempt %d)", error, failures)
        stop.wait(min(intake.settings.relay_interval_s * 2 ** failures, 30.0))
