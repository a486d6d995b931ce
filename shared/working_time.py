"""Deadlines counted in working time on the Chinese calendar (statutory holidays and make-up working
days), or in wall-clock time (emergencies). Shared by the router (setting deadlines) and the tracker
(the SLA sweep), so both always agree.

Sources, in order: an operator-supplied calendar file (YAML, per year: ``holidays`` and ``workdays``
lists of dates) — it wins, so a new year's State Council schedule can be added before the library
knows it; then the ``chinese-calendar`` package (2004–2026 in 1.11); then, for a year nobody supplied,
plain weekends, with a warning logged and counted (``griddesk_calendar_unknown_year_total``) — never an
exception in the sweep. Working time counts whole working days (00:00–24:00 in the configured zone).
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml

from shared.observability.metrics import CALENDAR_UNKNOWN_YEAR

log = logging.getLogger(__name__)
MAX_DAYS = 3660  # no deadline is ten years away; a bound keeps a bad configuration from looping forever


class WorkingCalendar:
    def __init__(self, *, timezone: str = "Asia/Shanghai", holidays: Iterable[date] = (),
                 workdays: Iterable[date] = (), supplied_years: Iterable[int] = ()):
        self.zone = ZoneInfo(timezone)
        self._holidays = set(holidays)
        self._workdays = set(workdays)
        self._supplied_years = set(supplied_years)
        # answers per date, kept for the process's life: chinese-calendar's lookup validates its
        # argument on every call, and a deadline or an SLA check asks about the same few days again and
        # again (it was 5–12 % of the router's and the tracker's samples); a few thousand dates at most
        self._answers: dict[date, bool] = {}
        self._unknown_years: set[int] = set()  # asked about, without calendar data: counted, warned once

    @classmethod
    def from_file(cls, path: str | None, *, timezone: str = "Asia/Shanghai") -> "WorkingCalendar":
        if not path:
            return cls(timezone=timezone)
        with open(path, encoding="utf-8") as handle:
            return cls.from_mapping(yaml.safe_load(handle) or {}, timezone=timezone)

    @classmethod
    def from_mapping(cls, years: Mapping, *, timezone: str = "Asia/Shanghai") -> "WorkingCalendar":
        """``{2027: {"holidays": ["2027-01-01", …], "workdays": ["2027-02-07", …]}, …}``"""
        holidays, workdays = [], []
        for year, lists in years.items():
            for key, target in (("holidays", holidays), ("workdays", workdays)):
                for value in (lists or {}).get(key, []) or []:
                    day = value if isinstance(value, date) else date.fromisoformat(str(value))
                    if day.year != int(year):
                        raise ValueError(f"{day} is listed under year {year}")
                    target.append(day)
        return cls(timezone=timezone, holidays=holidays, workdays=workdays, supplied_years=map(int, years))

    def is_working_day(self, day: date) -> bool:
        answer = self._answers.get(day)
        if answer is None:
            answer = self._answers[day] = self._look_up(day)
        if day.year in self._unknown_years:
            CALENDAR_UNKNOWN_YEAR.labels(str(day.year)).inc()  # every question, as the metric says
        return answer

    def _look_up(self, day: date) -> bool:
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        if day.year not in self._supplied_years:
            try:
                return chinese_calendar.is_workday(day)
            except NotImplementedError:
                self._unknown_year(day.year)
        return day.weekday() < 5

    def _unknown_year(self, year: int) -> None:
        if year not in self._unknown_years:
            self._unknown_years.add(year)
            log.warning("no calendar data for %d: counting weekends only; supply the year's holidays "
                        "in the calendar file (GRIDDESK_CALENDAR_FILE)", year)

    def add(self, start: datetime, duration: timedelta, *, working_time: bool) -> datetime:
        """The moment ``duration`` after ``start``: wall-clock, or counting only working days."""
        if not working_time or duration <= timedelta(0):
            return start + duration
        cursor = start.astimezone(self.zone)
        remaining = duration
        for _ in range(MAX_DAYS):
            next_midnight = datetime.combine(cursor.date() + timedelta(days=1), time(), self.zone)
            if self.is_working_day(cursor.date()):
                available = next_midnight - cursor
                if remaining <= available:
                    return (cursor + remaining).astimezone(start.tzinfo)
                remaining -= available
            cursor = next_midnight
        raise ValueError(f"no deadline within {MAX_DAYS} days of {start}")

    def elapsed(self, start: datetime, end: datetime, *, working_time: bool) -> timedelta:
        """How much (working) time lies between ``start`` and ``end``."""
        if not working_time or end <= start:
            return max(end - start, timedelta(0)) if working_time else end - start
        cursor, total = start.astimezone(self.zone), timedelta(0)
        end = end.astimezone(self.zone)
        for _ in range(MAX_DAYS):
            next_midnight = datetime.combine(cursor.date() + timedelta(days=1), time(), self.zone)
            stop = min(next_midnight, end)
            if self.is_working_day(cursor.date()):
                total += stop - cursor
            if stop >= end:
                return total
            cursor = next_midnight
        return total
