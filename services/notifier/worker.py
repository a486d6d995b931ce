"""The notifier's worker process: the consume loop (plans messages) in the main thread, the delivery
step (sends them) in a second thread, and the scheduler of the scheduled messages (APScheduler's own
thread). One process: never run the scheduler elsewhere.

The delivery step runs as soon as a consumed batch has stored its planned deliveries (the consume loop
wakes it), and otherwise every ``delivery_interval_s`` — the timer is what picks up retries, emergency
repeats and deliveries held in quiet hours. It stays one thread, so waking it early never makes two
steps run at once: the at-most-once rules (claim before send) are unchanged."""
from __future__ import annotations

import logging
import threading

from shared.process import StopFlag
from services.notifier.bootstrap import Notifier
from services.notifier.delivery import DeliveryStep

log = logging.getLogger(__name__)


def deliver_until_stopped(step: DeliveryStep, stop: StopFlag, interval_s: float,
                          wake: threading.Event | None = None) -> None:
    """Run the step until ``stop``; between runs wait ``interval_s`` or until ``wake`` is set."""
    wake = wake or threading.Event()
    pause = interval_s
    while not stop.is_set():
        wake.clear()  # a wake-up from now on runs the step again; earlier ones are covered by this run
        try:
            busy = step.run_once()
            pause = 0.0 if busy >= step.batch else interval_s
        except Exception:  # a backend outage or a bug: keep the thread alive, back off, try again
            log.exception("delivery step failed; retrying")
            pause = min(max(pause * 2, interval_s), 30.0)
            stop.wait(pause)  # backing off: a wake-up does not cut the pause short
            continue
        if pause:
            wake.wait(pause)


def run(notifier: Notifier, stop: StopFlag) -> None:
    from services.notifier.scheduler import start_scheduler

    deps = notifier.deps()
    step = notifier.delivery_step(deps)
    wake = threading.Event()
    sender_thread = threading.Thread(target=deliver_until_stopped, name="notifier-delivery",
                                     args=(step, stop, notifier.settings.delivery_interval_s, wake), daemon=True)
    sender_thread.start()
    scheduler = start_scheduler(notifier.settings, deps) if notifier.settings.schedule else None
    try:
        notifier.consume_loop(deps, after_batch=wake.set).run(stop)
    finally:
        stop.set()
        wake.set()
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        sender_thread.join(timeout=30)
