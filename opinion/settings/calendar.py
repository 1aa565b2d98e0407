"""The district's working calendar: which days are working days, and time counted in them.

"Working days" follow the official Chinese calendar with its holidays and make-up workdays (调休),
from the chinese_calendar package, and, for the years the package does not know yet, the dates the
district enters from the State Council's notice (the district file's `calendar`, or 系统管理 →
节假日安排). Pure arithmetic on dates: deadlines, transfer windows and the ladder all count with it.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from opinion.settings.district import District, Duration

log = logging.getLogger(__name__)
OFFICE_OPENS = time(9, 0)


@lru_cache(maxsize=64)
def package_knows(year: int) -> bool:
    """Whether chinese_calendar has the State Council's holidays for `year`; says so once if not."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
        return True
    except NotImplementedError:
        # Beyond the published years, the plain Monday-to-Friday week is the best guess until the
        # district enters the year's dates or the package is updated (calendar_gaps says so).
        log.warning("chinese_calendar has no data for %s: days the district lists none for count Monday-Friday",
                    year)
        return False


@lru_cache(maxsize=4096)
def _official_working_day(day: date) -> bool:
    return chinese_calendar.is_workday(day) if package_knows(day.year) else day.weekday() < 5


def is_working_day(day: date, district: District | None = None) -> bool:
    if district is not None:
        if day in district.holidays:
            return False
        if day in district.workdays:
            return True
    return _official_working_day(day)


def calendar_gaps(district: District, today: date, ahead_days: int = 60) -> list[int]:
    """Years from `today` to `ahead_days` later whose holidays neither the package nor the district
    knows: their deadlines count Monday-Friday and will be wrong around 元旦, 春节 and the rest."""
    years = range(today.year, (today + timedelta(days=ahead_days)).year + 1)
    return [y for y in years if not package_knows(y) and not any(d.year == y for d in district.holidays)]


def add_working_days(start: datetime, days: float, district: District | None = None) -> datetime:
    """`days` working days after `start`, at the same time of day; a start on a rest day counts
    from the next working day's office opening."""
    day = start.date()
    if not is_working_day(day, district):
        while not is_working_day(day, district):
            day += timedelta(days=1)
        start = datetime.combine(day, OFFICE_OPENS, tzinfo=start.tzinfo)
    whole, fraction = int(days), days - int(days)
    for _ in range(whole):
        day += timedelta(days=1)
        while not is_working_day(day, district):
            day += timedelta(days=1)
    result = datetime.combine(day, start.timetz())
    return result + timedelta(hours=24 * fraction) if fraction else result


def add_duration(start: datetime, duration: Duration, tz: str, district: District | None = None) -> datetime:
    """`start` plus `duration`; working days on the district's calendar when it is given."""
    if duration.unit == "min":
        return start + timedelta(minutes=duration.amount)
    if duration.unit == "h":
        return start + timedelta(hours=duration.amount)
    local = start.astimezone(ZoneInfo(tz))
    return add_working_days(local, duration.amount, district).astimezone(start.tzinfo)
