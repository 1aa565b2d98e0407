"""Deadlines and the escalation ladder (五级督办).

Deadlines come from the district's table; "working days" follow the official Chinese calendar with
its holidays and make-up workdays (调休), from the chinese_calendar package, and, for the years the
package does not know yet, the dates the district enters from the State Council's notice (the
district file's `calendar`, or 系统管理 → 节假日安排). The ladder's levels
(trigger, recipients, message, channel) are the district file's `escalation` list. The tick is a
pure function of the records and `now`: each firing is written once, with its audit record and its
notifications, so replaying a tick at the same time changes nothing.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from opinion.labels import CLOCK_NAMES, LEVEL_NAMES
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


CLOCK_ORDER = ("acknowledge", "respond", "resolve")


def compute_deadlines(district: District, priority: str, start: datetime) -> dict[str, datetime]:
    """The three deadlines (acknowledge, respond, resolve) of a case opened at `start`.

    Each is at least the one before it: a table that mixes clock hours and working days (respond
    in 48 h, acknowledge in 1 working day) would otherwise ask for a response over a weekend
    before the case is due to be acknowledged, on Monday.
    """
    row = district.deadlines[priority]
    due = {clock: add_duration(start, row[clock], district.timezone, district) for clock in row}
    for earlier, later in zip(CLOCK_ORDER, CLOCK_ORDER[1:]):
        if earlier in due and later in due:
            due[later] = max(due[later], due[earlier])
    return due


def resolve_deadline(district: District, case) -> datetime:
    """The resolve deadline: from the opening by the priority's table (never before the response
    deadline), or from the reopening after an unsatisfied callback, plus the working days of every
    approved extension."""
    if case.reopened_at:
        due = add_duration(case.reopened_at, district.deadlines[case.priority]["resolve"], district.timezone,
                           district)
    else:
        due = compute_deadlines(district, case.priority, case.received_at or case.created_at)["resolve"]
    if case.extended_working_days:
        due = add_duration(due, Duration(case.extended_working_days, "working_days"), district.timezone, district)
    return due


DEFAULT_MESSAGE = "工单 #{case_id}「{title}」（{unit}）{level_name}：{reason}"


def _pending(case) -> list[tuple[str, datetime, datetime | None]]:
    return [("acknowledge", case.acknowledge_due_at, case.acknowledged_at),
            ("respond", case.respond_due_at, case.first_response_at),
            ("resolve", case.resolve_due_at, case.resolved_at)]


def triggered(case, step: dict, district: District, now: datetime) -> str | None:
    """Why ladder `step` applies to `case` at `now`, or None if it does not."""
    overdue = {clock for clock, due, done in _pending(case) if done is None and due <= now}
    trigger = step["trigger"]
    if trigger == "acknowledge_overdue" and "acknowledge" in overdue:
        return "签收时限已过"
    if trigger == "respond_overdue" and "respond" in overdue:
        return "首次回应时限已过"
    if trigger == "still_open_after" and "respond" in overdue:
        after = step.get("after") or Duration(24, "h")
        if now >= add_duration(case.respond_due_at, after, district.timezone, district):
            return f"回应超时已逾 {after}，仍未回应"
    if trigger == "resolve_overdue":
        if "resolve" in overdue:
            return "办结时限已过"
        if case.priority == "urgent" and overdue:
            return "紧急工单超时"
    return None


def target_level(case, district: District, now: datetime) -> tuple[int, str]:
    """The highest ladder level (2-5) a case has earned at `now`, and why; (0, "") if none."""
    for step in reversed(district.escalation):
        if step["level"] >= 2:
            why = triggered(case, step, district, now)
            if why:
                return step["level"], why
    return 0, ""


def recipients(session, case, who: list[str]) -> list:
    """The people a ladder step names: assignee, monitors, unit_head, leader (the unit's
    supervising leader: a leader registered on that unit), leaders (every leader)."""
    from sqlalchemy import select

    from opinion.models import User
    active = select(User).where(User.active.is_(True)).order_by(User.id)
    people: dict[int, object] = {}

    def add(users):
        for user in users:
            people.setdefault(user.id, user)

    for kind in who:
        if kind == "assignee":
            add([case.assignee] if case.assignee else session.execute(
                active.where(User.unit_id == case.unit_id, User.role == "spokesperson")).scalars())
        elif kind == "monitors":
            add(session.execute(active.where(User.role == "monitor")).scalars())
        elif kind == "unit_head":
            heads = session.execute(active.where(User.unit_id == case.unit_id,
                                                 User.is_unit_head.is_(True))).scalars().all()
            # A unit with no head registered: its spokespersons hear it rather than nobody.
            add(heads or session.execute(active.where(User.unit_id == case.unit_id,
                                                      User.role == "spokesperson")).scalars())
        elif kind in ("leader", "leaders"):
            everyone = session.execute(active.where(User.role == "leader")).scalars().all()
            mine = [u for u in everyone if u.unit_id == case.unit_id]
            add(mine if kind == "leader" and mine else everyone)
    return list(people.values())


def _message(step: dict, case, reason: str, district: District) -> tuple[str, str]:
    from zoneinfo import ZoneInfo
    due = next((d for _, d, done in _pending(case) if done is None), case.resolve_due_at)
    fields = {"case_id": case.id, "title": case.title, "unit": case.unit.name if case.unit else "",
              "level": step["level"], "level_name": step.get("name", LEVEL_NAMES[step["level"]]),
              "reason": reason, "due": due.astimezone(ZoneInfo(district.timezone)).strftime("%m-%d %H:%M"),
              "assignee": case.assignee.name if case.assignee else "未分配"}
    body = str(step.get("message") or DEFAULT_MESSAGE).format_map(_Blank(fields))
    return f"【{fields['level_name']}】工单 #{case.id}", body


class _Blank(dict):
    """Leaves an unknown {placeholder} in a configured message as it is instead of failing."""

    def __missing__(self, key):
        return "{" + key + "}"


def _fire(session, district: District, case, step: dict, reason: str, now: datetime) -> list[str]:
    """Notify the step's recipients on its channels; the names of who was told, for the audit."""
    from opinion.notify import notify
    channels = step.get("channel", "inapp")
    channels = (channels,) if isinstance(channels, str) else tuple(channels)
    if "inapp" not in channels:
        channels = ("inapp", *channels)  # the case page and the inbox show every step too
    people = recipients(session, case, step.get("notify", []))
    subject, body = _message(step, case, reason, district)
    notify(session, people, subject, body, channels=channels, case=case, now=now)
    return [p.username for p in people]


def tick(session, district: District, now: datetime) -> list[str]:
    """One pass of the ladder over every open case, then the auto-close of finished cases.

    Each firing is recorded once: ticking again at the same `now` finds nothing new. A level is
    fired when its own trigger holds and the case has not reached it yet; a case that gets
    moving stops climbing. Returns a line per firing."""
    from sqlalchemy import select

    from opinion import audit
    from opinion.cases.lifecycle import close_finished
    from opinion.models import OPEN_CASE_STATUSES, Alert, AuditEvent, Case

    cases = session.execute(select(Case).where(Case.status.in_(OPEN_CASE_STATUSES))
                            .order_by(Case.id)).scalars().all()
    reminded = {(e.object_id, (e.after or {}).get("key")) for e in session.execute(
        select(AuditEvent).where(AuditEvent.action == "case.reminded",
                                 AuditEvent.object_id.in_([c.id for c in cases] or [-1]))).scalars()}
    steps = {s["level"]: s for s in district.escalation}
    fired: list[str] = []
    for case in cases:
        for clock, due, done in _pending(case):
            if done is not None:
                continue
            if due > now:  # remind only about the deadline the case is racing now
                fired += _remind(session, district, case, steps[1], clock, due, now, reminded)
            break
        new_levels = [(level, why) for level in range(max(case.escalation_level, 1) + 1, 6)
                      if (why := triggered(case, steps[level], district, now))]
        for level, why in new_levels:
            told = _fire(session, district, case, steps[level], why, now)
            audit.record(session, "case.escalated", "case", case.id, at=now,
                         before={"level": case.escalation_level}, after={"level": level, "notified": told,
                                                                         "channel": steps[level].get("channel", "inapp")},
                         reason=f"{LEVEL_NAMES[level]}：{why}")
            case.escalation_level = level
            case.supervised = case.supervised or level >= 3
            case.special_report = case.special_report or level >= 5
            fired.append(f"#{case.id} 第{level}级 {LEVEL_NAMES[level]}：{why}")
        if new_levels:
            # Levels passed in one tick are all on record, but monitors get one alert: the highest.
            top, why = new_levels[-1]
            session.add(Alert(kind="escalation", severity="critical" if top >= 4 else "warning",
                              message=f"工单 #{case.id}「{case.title}」升级为{LEVEL_NAMES[top]}（{why}）",
                              dedup_key=f"case:{case.id}:level:{top}", case_id=case.id,
                              topic_id=case.topic_id, created_at=now))
    fired += close_finished(session, district, now)
    return fired


def _remind(session, district, case, step, clock, due, now, reminded) -> list[str]:
    """Level 1 (电子催办): a reminder at each configured fraction of the running deadline."""
    from opinion import audit
    start = case.received_at or case.created_at
    if clock == "resolve" and case.reopened_at:
        start = case.reopened_at
    span = (due - start).total_seconds()
    lines = []
    for fraction in step.get("at", [0.5, 0.8]):
        # The key names the deadline itself, so a moved deadline (extension, new priority,
        # reopening) is reminded about afresh.
        key = f"{clock}@{fraction:g}@{due.isoformat()}"
        if span <= 0 or (now - start).total_seconds() < fraction * span or (case.id, key) in reminded:
            continue
        why = f"{CLOCK_NAMES[clock]}时限已过 {fraction:.0%}"
        told = _fire(session, district, case, step, why, now)
        audit.record(session, "case.reminded", "case", case.id, at=now, reason=f"{LEVEL_NAMES[1]}：{why}",
                     after={"key": key, "level": 1, "notified": told})
        reminded.add((case.id, key))
        lines.append(f"#{case.id} {LEVEL_NAMES[1]} {key}")
        case.escalation_level = max(case.escalation_level, 1)
    return lines
