from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.observability.metrics import CALENDAR_UNKNOWN_YEAR as UNKNOWN_YEAR
from shared.working_time import WorkingCalendar

CST = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=CST)


def test_statutory_holidays_and_make_up_days_come_from_the_library():
    calendar = WorkingCalendar()
    assert not calendar.is_working_day(date(2026, 10, 1))  # National Day
    assert calendar.is_working_day(date(2026, 10, 10))  # a Saturday made a working day
    assert not calendar.is_working_day(date(2026, 11, 28))  # an ordinary Saturday


def test_working_time_skips_weekends_and_holidays():
    calendar = WorkingCalendar()
    friday_noon = at(2026, 11, 27, 12)
    assert calendar.add(friday_noon, timedelta(hours=24), working_time=True) == at(2026, 11, 30, 12)
    assert calendar.add(friday_noon, timedelta(hours=24), working_time=False) == at(2026, 11, 28, 12)
    before_national_day = at(2026, 9, 30, 18)
    due = calendar.add(before_national_day, timedelta(hours=12), working_time=True)
    assert due.date() > date(2026, 10, 7) and calendar.is_working_day(due.date())


def test_elapsed_is_the_inverse_of_add():
    calendar = WorkingCalendar()
    start = at(2026, 11, 27, 9, 30)
    for hours in (1, 8, 30, 100):
        due = calendar.add(start, timedelta(hours=hours), working_time=True)
        assert calendar.elapsed(start, due, working_time=True) == timedelta(hours=hours)


def test_an_unknown_year_falls_back_to_weekends_with_a_warning_metric():
    calendar = WorkingCalendar()
    before = UNKNOWN_YEAR.labels("2027")._value.get()
    assert calendar.is_working_day(date(2027, 1, 4))  # a Monday
    assert not calendar.is_working_day(date(2027, 1, 9))  # a Saturday
    assert UNKNOWN_YEAR.labels("2027")._value.get() > before
    crossing = calendar.add(at(2026, 12, 31, 12), timedelta(hours=48), working_time=True)
    # 12 h left of 31 Dec, then 1 Jan 2027 (a Friday, unknown year: counted as working), weekend skipped
    assert crossing == at(2027, 1, 4, 12)


def test_answers_are_kept_per_date_and_an_unknown_year_is_still_counted_per_question(monkeypatch):
    import chinese_calendar

    calendar = WorkingCalendar()
    asked = []
    real = chinese_calendar.is_workday
    monkeypatch.setattr(chinese_calendar, "is_workday", lambda day: asked.append(day) or real(day))
    assert [calendar.is_working_day(date(2026, 10, 1)) for _ in range(3)] == [False] * 3
    assert asked == [date(2026, 10, 1)]  # the library was asked once
    before = UNKNOWN_YEAR.labels("2027")._value.get()
    for _ in range(3):
        assert calendar.is_working_day(date(2027, 1, 4))
    assert UNKNOWN_YEAR.labels("2027")._value.get() == before + 3


def test_an_operator_file_supplies_a_year_and_wins():
    calendar = WorkingCalendar.from_mapping({2027: {"holidays": ["2027-01-01"], "workdays": ["2027-01-09"]}})
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 9))
    assert calendar.add(at(2026, 12, 31, 12), timedelta(hours=24), working_time=True) == at(2027, 1, 4, 12)


def test_a_file_with_a_date_under_the_wrong_year_is_refused():
    with pytest.raises(ValueError):
        WorkingCalendar.from_mapping({2027: {"holidays": ["2026-01-01"]}})
