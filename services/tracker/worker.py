"""The tracker's worker process: the consume loop over every case event, which also adds the cases'
pending indicator changes to the buckets between two polls, and one APScheduler job that runs the SLA
sweep and refreshes the gauges. Only this process schedules (never the gunicorn workers), so there is
exactly one sweeper per deployment's worker."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from shared.errors import BackendUnavailable
from shared.process import StopFlag
from shared.unit_of_work import in_one_batch
from services.tracker import handlers, metrics
from services.tracker.bootstrap import Tracker
from services.tracker.handlers import CASES

log = logging.getLogger(__name__)


def run(tracker: Tracker, stop: StopFlag) -> None:
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    scheduler.add_job(sweep_and_measure, "interval", args=[tracker], id="sla-sweep",
                      seconds=tracker.settings.sla_sweep_interval_s, max_instances=1, coalesce=True,
                      next_run_time=datetime.now(timezone.utc))
    scheduler.start()
    try:  # the loop runs a pass before its first poll: one a crash interrupted is finished first
        tracker.consume_loop(between_polls=BucketPasses(tracker)).run(stop)
    finally:
        scheduler.shutdown(wait=True)


class BucketPasses:
    """Adds the cases' pending indicator changes to the buckets in the consume loop's own thread, between
    two polls, so that no other writer rewrites the case documents the loop is writing (a timer thread
    did, and under load both went stale and fell back to write by write). A pass is due every
    ``bucket_interval_s`` — changes of several batches are added together, each bucket and case written
    once — and at once again while the last pass was full, so a backlog drains one bounded pass per poll."""

    def __init__(self, tracker: Tracker, clock: Callable[[], float] = time.monotonic):
        self.tracker, self.clock = tracker, clock
        self.due = clock()

    def __call__(self) -> None:
        if self.clock() < self.due:
            return
        done = update_buckets(self.tracker)
        full = done >= handlers.BUCKET_PASS_CASES
        self.due = self.clock() + (0 if full else self.tracker.settings.bucket_interval_s)


PASS_ATTEMPTS = 8  # a pass the backend keeps refusing stops the worker (its supervisor restarts it)
PASS_BACKOFF_S = 0.5


def update_buckets(tracker: Tracker, *, sleep: Callable[[float], None] = time.sleep) -> int:
    """One pass: the pending changes of up to ``BUCKET_PASS_CASES`` cases (in case id order), stored as one
    unit of work (a bucket touched by many cases is written once). Returns the cases done.

    A backend that is down is waited for here, with the loop held, rather than skipped: a pass cut off
    between its bucket and case writes must be repeated before the loop adds pending changes to other
    cases, so that the repeat finds its changes within the buckets' window (docs/indicators.md)."""
    work = lambda: handlers.add_pending_to_buckets(tracker.store, batch=handlers.BUCKET_PASS_CASES)  # noqa: E731
    for attempt in range(1, PASS_ATTEMPTS + 1):
        try:
            return in_one_batch(tracker.store, work)
        except BackendUnavailable as error:
            if attempt == PASS_ATTEMPTS:
                log.critical("indicator buckets: backend still unavailable after %d attempts; stopping", attempt)
                raise
            log.warning("indicator buckets not updated, backend unavailable (%s); retrying", error)
            sleep(PASS_BACKOFF_S * 2 ** (attempt - 1))
        except Exception:  # a bug, or a write refused ATTEMPTS times over: the next pass repeats the pass
            log.exception("updating the indicator buckets failed; retrying at the next pass")
            return 0
    return 0


def sweep_and_measure(tracker: Tracker) -> None:
    """One timer tick; a backend that is down only delays the sweep to the next tick."""
    try:
        tracker.sweep()
        metrics.refresh_gauges(tracker.store, CASES)
    except BackendUnavailable as error:
        log.warning("SLA sweep skipped, backend unavailable: %s", error)
    except Exception:
        log.exception("SLA sweep failed; retrying at the next tick")
