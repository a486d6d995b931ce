"""Intake's worker process: the outbox relay (publishing stored reports and actions the requests could
not), the rate counters' sweep, and the consume loop that keeps case files' owners from router.events."""
from __future__ import annotations

import logging
import threading

from shared.errors import BackendUnavailable
from shared.observability import metrics
from shared.process import StopFlag
from services.intake import handlers
from services.intake.bootstrap import SERVICE, Intake

log = logging.getLogger(__name__)


def relay(intake: Intake, stop: StopFlag) -> None:
    failures = 0
    while not stop.is_set():
        try:
            handlers.relay_unpublished(store=intake.store, publisher=intake.publisher, clock=intake.clock,
                                       grace_s=intake.settings.relay_grace_s)
            metrics.OUTBOX_BACKLOG.labels(SERVICE).set(handlers.unpublished_count(intake.store))
            intake.rate_limiter.sweep()
            failures = 0
        except BackendUnavailable as error:
            failures += 1
            log.warning("relay paused: %s (attempt %d)", error, failures)
        except Exception:  # a bug must not silently end the relay while the consume loop runs on
            failures += 1
            log.exception("relay step failed (attempt %d); retrying", failures)
        stop.wait(min(intake.settings.relay_interval_s * 2 ** failures, 30.0))


def run(intake: Intake, stop: StopFlag) -> None:
    """The relay in a thread beside the consume loop; when the loop stops (or fails loudly), so does the relay."""
    relay_thread = threading.Thread(target=relay, args=(intake, stop), name="intake-relay", daemon=True)
    relay_thread.start()
    try:
        intake.consume_loop().run(stop)
    finally:
        stop.set()
        relay_thread.join(timeout=30)
