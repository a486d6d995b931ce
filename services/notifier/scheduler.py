"""The notifier's home of APScheduler: the scheduled messages' timetable, run in the notifier's worker
process only (one process — a job store cannot be shared, and gunicorn workers never schedule).
Jobs read the time from the injected clock, so tests call them with any time and never wait."""
from __future__ import annotations

import logging
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from services.notifier.planning import NotifierDeps
from services.notifier.scheduled_messages import JOBS
from services.notifier.settings import NotifierSettings

log = logging.getLogger(__name__)


def triggers(settings: NotifierSettings) -> dict[str, CronTrigger]:
    """When each scheduled message goes out, in the notifier's time zone."""
    daily_h, daily_m = (int(p) for p in settings.daily_digest_at.split(":"))
    remind_h, remind_m = (int(p) for p in settings.reminders_at.split(":"))
    zone = settings.timezone
    return {
        "daily_digest": CronTrigger(hour=daily_h, minute=daily_m, timezone=zone),
        "weekly_digest": CronTrigger(day_of_week=settings.weekly_digest_day, hour=daily_h, minute=daily_m,
                                     timezone=zone),
        "meeting_reminder": CronTrigger(month="1,4,7,10", day=1, hour=remind_h, minute=remind_m, timezone=zone),
        "visit_reminder": CronTrigger(day=1, hour=remind_h, minute=remind_m, timezone=zone),
    }


def _job(name: str, deps: NotifierDeps) -> Callable[[], None]:
    def run() -> None:
        try:
            planned = JOBS[name](deps, deps.clock.now())
            log.info("scheduled %s: %d messages planned", name, planned)
        except Exception:
            log.exception("scheduled %s failed; it runs again at its next time", name)
    return run


def start_scheduler(settings: NotifierSettings, deps: NotifierDeps) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=settings.timezone)
    for name, trigger in triggers(settings).items():
        scheduler.add_job(_job(name, deps), trigger, id=name, name=name, coalesce=True, max_instances=1,
                          misfire_grace_time=3600)
    scheduler.start()
    return scheduler
