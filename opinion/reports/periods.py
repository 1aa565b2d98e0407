"""Report periods: an ISO week (2026-W47), a calendar day, a month (2026-11), a quarter (2026-Q4),
or a free range, in the district's zone.

Leaders think in Beijing weeks and days, so every period starts and ends at local midnight and is
turned into UTC instants only for the queries.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opinion.errors import ReportError

_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)
# What people type: 第49周, 2026年第49周, 2026 年 第 49 周 (a week without a year is this year's).
_WEEK_ZH = re.compile(r"^\s*(?:(\d{4})\s*年)?\s*第?\s*(\d{1,2})\s*周\s*$")


@dataclass(frozen=True)
class Period:
    kind: str          # week | day | month | quarter | range
    label: str         # 2026-W47 | 2026-11-22 | 2026-11-01..2026-11-30
    start: datetime    # aware, local midnight
    end: datetime      # exclusive

    @property
    def days(self) -> list[date]:
        return [(self.start + timedelta(days=i)).date() for i in range((self.end - self.start).days)]

    def previous(self) -> "Period":
        """The period of the same length just before this one (last week, yesterday)."""
        if self.kind in ("month", "quarter"):  # calendar months differ in length: the one before
            return containing(self.kind, self.start - timedelta(days=1), str(self.start.tzinfo))
        span = self.end - self.start
        start = self.start - span
        if self.kind == "week":
            iso = start.isocalendar()
            return Period("week", f"{iso.year}-W{iso.week:02d}", start, self.start)
        if self.kind == "day":
            return Period("day", start.date().isoformat(), start, self.start)
        return Period("range", f"{start.date()}..{(self.start - timedelta(days=1)).date()}", start,
                      self.start)

    def describe(self) -> str:
        """The period in Chinese, as a report's subtitle shows it."""
        last = (self.end - timedelta(days=1)).date()
        first = self.start.date()
        if self.kind == "day":
            return f"{first.year}年{first.month}月{first.day}日"
        if self.kind == "month":
            return f"{first.year}年{first.month}月"
        if self.kind == "quarter":
            return f"{first.year}年第{(first.month - 1) // 3 + 1}季度"
        return f"{first.year}年{first.month}月{first.day}日至{last.month}月{last.day}日"


def _midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


def week_period(text: str, tz: str = "Asia/Shanghai") -> Period:
    """'2026-W47' (or '2026W47', '第47周', '2026年第47周') → Monday 00:00 to the next Monday 00:00,
    local time."""
    m = _WEEK.match(text or "") or _WEEK_ZH.match(text or "")
    if not m:
        raise ReportError(f"周次 “{text}” 无法识别，请在周选择器中选择，或写成 “第49周”、“2026年第49周”")
    year = int(m.group(1)) if m.group(1) else datetime.now(ZoneInfo(tz)).isocalendar().year
    week = int(m.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ReportError(f"{year} 年没有第 {week} 周") from None
    start = _midnight(monday, tz)
    return Period("week", f"{year}-W{week:02d}", start, _midnight(monday + timedelta(days=7), tz))


def day_period(text: str, tz: str = "Asia/Shanghai") -> Period:
    """'2026-11-22' → that calendar day, local midnight to midnight."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        raise ReportError(f"日期 “{text}” 无法识别，应写成 “2026-11-22”") from None
    return Period("day", day.isoformat(), _midnight(day, tz), _midnight(day + timedelta(days=1), tz))


def range_period(first: str, last: str, tz: str = "Asia/Shanghai") -> Period:
    """From the first day to the last day, both included."""
    a, b = day_period(first, tz), day_period(last, tz)
    if b.end <= a.start:
        raise ReportError(f"结束日期 {last} 早于开始日期 {first}")
    return Period("range", f"{a.label}..{b.label}", a.start, b.end)


def week_of(moment: datetime, tz: str = "Asia/Shanghai") -> Period:
    """The week that contains `moment`."""
    iso = moment.astimezone(ZoneInfo(tz)).isocalendar()
    return week_period(f"{iso.year}-W{iso.week}", tz)


def last_days(moment: datetime, days: int = 7, tz: str = "Asia/Shanghai") -> Period:
    """The `days` calendar days up to and including the day of `moment` (the dashboard's window:
    on a Monday morning the calendar week is still empty, the last seven days are not)."""
    today = moment.astimezone(ZoneInfo(tz)).date()
    first = today - timedelta(days=days - 1)
    return Period("range", f"{first}..{today}", _midnight(first, tz), _midnight(today + timedelta(days=1), tz))


def last_complete(kind: str, moment: datetime, tz: str = "Asia/Shanghai") -> Period:
    """The last whole week ("week") or day ("day") before the one containing `moment`: what the
    Monday-morning summary and the morning brief cover, and the command line's default."""
    if kind == "week":
        return week_of(moment - timedelta(days=7), tz)
    if kind in ("month", "quarter"):
        return containing(kind, moment, tz).previous()
    return day_of(moment - timedelta(days=1), tz)


def parse_period(kind: str, text: str | None, moment: datetime, tz: str = "Asia/Shanghai") -> Period:
    """A week ("2026-W47") or a day ("2026-11-22") from `text`; without text, the last complete one."""
    if not text:
        return last_complete(kind, moment, tz)
    if kind in ("month", "quarter"):
        return month_period(text, tz) if kind == "month" else quarter_period(text, tz)
    return week_period(text, tz) if kind == "week" else day_period(text, tz)


def day_of(moment: datetime, tz: str = "Asia/Shanghai") -> Period:
    return day_period(moment.astimezone(ZoneInfo(tz)).date().isoformat(), tz)


_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})-?Q([1-4])\s*$", re.IGNORECASE)


def _months(year: int, first_month: int, count: int, kind: str, label: str, tz: str) -> Period:
    end_year, end_month = year + (first_month + count - 1) // 12, (first_month + count - 1) % 12 + 1
    return Period(kind, label, _midnight(date(year, first_month, 1), tz), _midnight(date(end_year, end_month, 1), tz))


def month_period(text: str, tz: str = "Asia/Shanghai") -> Period:
    """'2026-11' → the calendar month, local midnight of the 1st to the 1st of the next."""
    m = _MONTH.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ReportError(f"月份 “{text}” 无法识别，应写成 “2026-11”")
    year, month = int(m.group(1)), int(m.group(2))
    return _months(year, month, 1, "month", f"{year}-{month:02d}", tz)


def quarter_period(text: str, tz: str = "Asia/Shanghai") -> Period:
    """'2026-Q4' → October to December."""
    m = _QUARTER.match(text or "")
    if not m:
        raise ReportError(f"季度 “{text}” 无法识别，应写成 “2026-Q4”")
    year, quarter = int(m.group(1)), int(m.group(2))
    return _months(year, 3 * quarter - 2, 3, "quarter", f"{year}-Q{quarter}", tz)


def containing(kind: str, moment: datetime, tz: str = "Asia/Shanghai") -> Period:
    """The month or quarter that contains `moment`."""
    local = moment.astimezone(ZoneInfo(tz))
    if kind == "month":
        return month_period(f"{local.year}-{local.month}", tz)
    return quarter_period(f"{local.year}-Q{(local.month - 1) // 3 + 1}", tz)
