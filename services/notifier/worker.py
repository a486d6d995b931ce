"""The notifier's worker process: the consume loop (plans messages) in the main thread, the delivery
step (sends them) in a second thread every ``delivery_interval_s``, and the scheduler of the
scheduled messages (APScheduler's own thread). One process: never run the scheduler elsewhere."""
from __future__ import annotations

import logging
import threading

from shared.process import StopFlag
from services.notifier.bootstrap import Notifier
from services.notifier.delivery import DeliveryStep

log = logging.getLogger(__name__)


def deliver_until_stopped(step: DeliveryStep, stop: StopFlag, interval_s: float) -> None:
    pause = interval_s
    while not stop.is_set():
        try:
            busy = step.run_once()
            pause = 0.0 if busy >= step.batch else interval_s
        except Exception:  # a backend outage or a bug: keep the thread alive, back off, try again
            log.exception("delivery step failed; retrying")
            pause = min(max(pause * 2, interval_s), 30.0)
        stop.wait(pause)


def run(notifier: Notifier, stop: StopFlag) -> None:
    from services.notifier.scheduler import start_scheduler

    deps = notifier.deps()
    step = notifier.delivery_step(deps)
    sender_thread = threading.Thread(target=deliver_until_stopped, name="notifier-delivery",
                                     args=(step, stop, notifier.settings.delivery_interval_s), daemon=True)
    sender_thread.start()
    scheduler = start_scheduler(notifier.settings, deps) if notifier.settings.schedule else None
    try:
        notifier.consume_loop(deps).run(stop)
    finally:
        stop.set()
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        sender_thread.join(timeout=30)
