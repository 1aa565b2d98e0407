"""Deadlines and the escalation ladder (五级督办).

Deadlines come from the district's table; "working days" follow the official Chinese calendar with
its holidays and make-up workdays (调休), from the chinese_calendar package. The tick is a pure
function of the records and `now`, so replaying it at the same time changes nothing.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from opinion.district import District, Duration

log = logging.getLogger(__name__)
OFFICE_OPENS = time(9, 0)


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # The package covers the years the State Council has published; beyond them, the plain
        # Monday-to-Friday week is the best guess until the package is updated.
        log.warning("chinese_calendar has no data for %s; counting Monday-Friday", day.year)
        return day.weekday() < 5


def add_working_days(start: datetime, days: float) -> datetime:
    """`days` working days after `start`, at the same time of day; a start on a rest day counts
    from the next working day's office opening."""
    day = start.date()
    if not is_working_day(day):
        while not is_working_day(day):
            day += timedelta(days=1)
        start = datetime.combine(day, OFFICE_OPENS, tzinfo=start.tzinfo)
    whole, fraction = int(days), days - int(days)
    for _ in range(whole):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    result = datetime.combine(day, start.timetz())
    return result + timedelta(hours=24 * fraction) if fraction else result


def add_duration(start: datetime, duration: Duration, tz: str) -> datetime:
    if duration.unit == "min":
        return start + timedelta(minutes=duration.amount)
    if duration.unit == "h":
        return start + timedelta(hours=duration.amount)
    local = start.astimezone(ZoneInfo(tz))
    return add_working_days(local, duration.amount).astimezone(start.tzinfo)


def compute_deadlines(district: District, priority: str, start: datetime) -> dict[str, datetime]:
    """The three deadlines (acknowledge, respond, resolve) of a case opened at `start`."""
    row = district.deadlines[priority]
    return {clock: add_duration(start, row[clock], district.timezone) for clock in row}


LEVEL_NAMES = {1: "电子催办", 2: "人工交办", 3: "现场督办", 4: "短信督办", 5: "专报批办"}


def _pending(case) -> list[tuple[str, datetime, datetime | None]]:
    return [("acknowledge", case.acknowledge_due_at, case.acknowledged_at),
            ("respond", case.respond_due_at, case.first_response_at),
            ("resolve", case.resolve_due_at, case.resolved_at)]


def target_level(case, district: District, now: datetime) -> tuple[int, str]:
    """The ladder level a case has earned at `now`, and why (levels 2-5; 1 is the reminders)."""
    overdue = [clock for clock, due, done in _pending(case) if done is None and due <= now]
    step4 = next((s for s in district.escalation if s["level"] == 4), {})
    after = step4.get("after")
    if "resolve" in overdue:
        return 5, "办结时限已过"
    if case.priority == "urgent" and overdue:
        return 5, "紧急工单超时"
    if "respond" in overdue:
        if after is not None and now >= add_duration(case.respond_due_at, after, district.timezone):
            return 4, f"回应超时已逾 {after}，仍未回应"
        return 3, "首次回应时限已过"
    if "acknowledge" in overdue:
        return 2, "签收时限已过"
    return 0, ""


def tick(session, district: District, now: datetime) -> list[str]:
    """One pass of the ladder over every open case. Each firing is recorded once: ticking again at
    the same `now` finds nothing new. Returns a line per firing."""
    from sqlalchemy import select

    from opinion import audit
    from opinion.models import OPEN_CASE_STATUSES, Alert, AuditEvent, Case

    cases = session.execute(select(Case).where(Case.status.in_(OPEN_CASE_STATUSES))).scalars().all()
    reminded = {(e.object_id, (e.after or {}).get("key")) for e in session.execute(
        select(AuditEvent).where(AuditEvent.action == "case.reminded",
                                 AuditEvent.object_id.in_([c.id for c in cases] or [-1]))).scalars()}
    fractions = next((s.get("at", [0.5, 0.8]) for s in district.escalation if s["level"] == 1), [])
    fired: list[str] = []
    for case in cases:
        for clock, due, done in _pending(case):
            if done is not None or due <= now:
                continue
            span = (due - case.created_at).total_seconds()
            for fraction in fractions:
                key = f"{clock}@{fraction:g}"
                if span > 0 and (now - case.created_at).total_seconds() >= fraction * span \
                        and (case.id, key) not in reminded:
                    audit.record(session, "case.reminded", "case", case.id, at=now,
                                 after={"key": key, "level": 1},
                                 reason=f"{LEVEL_NAMES[1]}：{clock} 时限已过 {fraction:.0%}")
                    fired.append(f"#{case.id} {LEVEL_NAMES[1]} {key}")
                    case.escalation_level = max(case.escalation_level, 1)
            break  # remind only about the deadline the case is racing now
        level, why = target_level(case, district, now)
        steps = range(max(case.escalation_level, 1) + 1, level + 1)
        for step in steps:
            audit.record(session, "case.escalated", "case", case.id, at=now,
                         before={"level": step - 1}, after={"level": step},
                         reason=f"{LEVEL_NAMES[step]}：{why}")
            fired.append(f"#{case.id} 第{step}级 {LEVEL_NAMES[step]}：{why}")
        if steps:
            # Levels skipped in one tick are all on record, but monitors get one alert: the highest.
            top = steps[-1]
            session.add(Alert(kind="escalation", severity="critical" if top >= 4 else "warning",
                              message=f"工单 #{case.id}「{case.title}」升级为{LEVEL_NAMES[top]}（{why}）",
                              dedup_key=f"case:{case.id}:level:{top}", case_id=case.id,
                              topic_id=case.topic_id, created_at=now))
        if level > case.escalation_level:
            case.escalation_level = level
    return fired
