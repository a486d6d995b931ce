"""The tracker's worker process: the consume loop over every case event, and one APScheduler job that
runs the SLA sweep and refreshes the gauges, and one that adds the cases' pending indicator changes to
the buckets. Only this process schedules (never the gunicorn workers),
so there is exactly one sweeper per deployment's worker."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

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
    scheduler.add_job(update_buckets, "interval", args=[tracker], id="indicator-buckets",
                      seconds=tracker.settings.bucket_interval_s, max_instances=1, coalesce=True)
    scheduler.start()
    try:
        tracker.consume_loop().run(stop)
    finally:
        scheduler.shutdown(wait=True)


def update_buckets(tracker: Tracker) -> None:
    """Bring the indicator buckets up to date with the cases' pending changes."""
    try:  # one bounded batch per tick, so the timer never crowds out the consume loop; its writes are
        # stored together (a bucket touched by many cases is written once)
        in_one_batch(tracker.store, lambda: handlers.add_pending_to_buckets(tracker.store, batch=200))
    except BackendUnavailable as error:
        log.warning("indicator buckets not updated, backend unavailable: %s", error)
    except Exception:
        log.exception("updating the indicator buckets failed; retrying at the next tick")


def sweep_and_measure(tracker: Tracker) -> None:
    """One timer tick; a backend that is down only delays the sweep to the next tick."""
    try:
        tracker.sweep()
        metrics.refresh_gauges(tracker.store, CASES)
    except BackendUnavailable as error:
        log.warning("SLA sweep skipped, backend unavailable: %s", error)
    except Exception:
        log.exception("SLA sweep failed; retrying at the next tick")
