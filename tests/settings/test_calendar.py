"""Deadlines on the Chinese official calendar, and the escalation ladder's tick."""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from opinion.cases.deadlines import compute_deadlines
from opinion.settings.calendar import add_duration, add_working_days
from opinion.settings.district import Duration
from tests.conftest import at

BEIJING = ZoneInfo("Asia/Shanghai")


def test_hour_deadlines_ignore_the_calendar(district):
    start = at("2026-10-01 10:00")  # National Day
    due = compute_deadlines(district, "urgent", start)
    assert due["acknowledge"] == start + timedelta(minutes=30)
    assert due["respond"] == start + timedelta(hours=5)
    assert due["resolve"] == start + timedelta(hours=24)


@pytest.mark.parametrize("start,days,expected", [
    ("2026-11-20 15:00", 1, "2026-11-23 15:00"),   # Friday -> Monday
    ("2026-09-30 10:00", 1, "2026-10-08 10:00"),   # over 国庆: Oct 1-7 off
    ("2026-09-30 10:00", 3, "2026-10-10 10:00"),   # Oct 10 is a make-up Saturday (调休)
    ("2026-10-03 20:00", 1, "2026-10-09 09:00"),   # started on a holiday: counts from Oct 8 09:00
    ("2026-02-13 11:00", 1, "2026-02-14 11:00"),   # 春节: Saturday Feb 14 is a workday
    ("2026-02-14 11:00", 1, "2026-02-24 11:00"),   # then Feb 15-23 off
    ("2026-02-24 11:00", 4, "2026-02-28 11:00"),   # Saturday Feb 28 is a workday
])
def test_working_days_follow_the_official_calendar(start, days, expected):
    assert add_working_days(at(start).astimezone(BEIJING), days) == at(expected)


def test_working_days_are_counted_in_beijing_time():
    # 2026-11-20 23:30 Beijing is Friday 15:30 UTC; one working day later is Monday 23:30 Beijing.
    assert add_duration(at("2026-11-20 23:30"), Duration(1, "working_days"), "Asia/Shanghai") == \
        at("2026-11-23 23:30")


def test_normal_case_deadlines(district):
    due = compute_deadlines(district, "normal", at("2026-09-30 10:00"))
    assert due["acknowledge"] == at("2026-10-08 10:00")
    # 48 h by the clock would be Oct 2, in the holiday, before the case is due to be acknowledged.
    assert due["respond"] == at("2026-10-08 10:00")
    assert due["resolve"] == at("2026-10-13 10:00")  # Oct 8, 9, 10(Sat), 12, 13


@pytest.mark.parametrize("start,acknowledge,respond", [
    ("2026-11-20 15:00", "2026-11-23 15:00", "2026-11-23 15:00"),  # Friday: 48 h is Sunday, signed Monday
    ("2026-11-19 15:00", "2026-11-20 15:00", "2026-11-21 15:00"),  # Thursday: 48 h (Saturday) is later
])
def test_a_response_is_never_due_before_the_acknowledgement(district, start, acknowledge, respond):
    due = compute_deadlines(district, "normal", at(start))
    assert (due["acknowledge"], due["respond"]) == (at(acknowledge), at(respond))
    assert due["acknowledge"] <= due["respond"] <= due["resolve"]


def test_an_opened_case_gets_deadlines_in_order(session, district):
    from dataclasses import replace

    from opinion.cases.deadlines import set_deadlines
    from opinion.models import Case
    from opinion.settings.district import parse_duration
    table = {clock: parse_duration(text) for clock, text in
             (("acknowledge", "2 working_days"), ("respond", "24 h"), ("resolve", "12 h"))}
    quick = replace(district, deadlines={**district.deadlines, "normal": table})
    case = Case(priority="normal", created_at=at("2026-11-20 15:00"))
    set_deadlines(case, quick)
    assert case.acknowledge_due_at == case.respond_due_at == case.resolve_due_at == at("2026-11-24 15:00")


def _with_calendar(district, holidays=(), workdays=()):
    from dataclasses import replace
    from datetime import date
    return replace(district, holidays=frozenset(date.fromisoformat(d) for d in holidays),
                   workdays=frozenset(date.fromisoformat(d) for d in workdays))


def test_a_year_the_package_does_not_know_counts_the_districts_dates(district):
    """chinese_calendar 1.11.0 stops at 2026. Without entered dates 2027 counts Monday-Friday and a
    gap is reported; with them, a holiday is skipped and a make-up Saturday counts."""
    from datetime import date

    from opinion.settings.calendar import calendar_gaps, package_knows
    assert package_knows(2026) and not package_knows(2027)
    start = at("2026-12-31 10:00").astimezone(BEIJING)            # Thursday
    assert add_working_days(start, 1, district) == at("2027-01-01 10:00")  # guessed: Friday counts
    assert calendar_gaps(district, date(2026, 11, 23)) == [2027]
    assert calendar_gaps(district, date(2026, 10, 1)) == []       # 2027 is more than 60 days off

    entered = _with_calendar(district, holidays=["2027-01-01"], workdays=["2027-01-02"])
    assert add_working_days(start, 1, entered) == at("2027-01-02 10:00")  # Jan 1 off, Saturday Jan 2 worked
    assert add_working_days(start, 2, entered) == at("2027-01-04 10:00")
    assert calendar_gaps(entered, date(2026, 11, 23)) == []
    # Case deadlines use the district's dates: a normal case's resolve clock skips the holiday.
    due = compute_deadlines(entered, "normal", at("2026-12-31 10:00"))
    assert due["resolve"] == at("2027-01-07 10:00")   # Jan 2 (Sat, worked), 4, 5, 6, 7
    assert compute_deadlines(district, "normal", at("2026-12-31 10:00"))["resolve"] == at("2027-01-07 10:00")


def test_entered_dates_win_over_the_package(district):
    # Pretend the State Council moved a day in a year the package knows: the district's word counts.
    entered = _with_calendar(district, holidays=["2026-11-23"])
    assert add_working_days(at("2026-11-20 15:00").astimezone(BEIJING), 1, entered) == at("2026-11-24 15:00")
