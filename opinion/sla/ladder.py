"""The escalation ladder (五级督办): reminders and escalations of cases whose deadlines run out.

The ladder's levels (trigger, recipients, message, channel) are the district file's `escalation`
list. The tick is a pure function of the records and `now`: each firing is written once, with its
audit record and its notifications, so replaying a tick at the same time changes nothing. A case
about to fire is locked first (a row lock on PostgreSQL, the write lock on SQLite) and read again,
so two ticks running at once (two schedulers, a worker beside one) never fire one level twice. The ladder
decides and notifies; the case stage records the level on the case. The tick reports what it
escalated; the alert engine, the one writer of alerts, raises the monitors' alert
for it (opinion.alerts.engine.raise_escalations), and the case stage closes finished cases.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from opinion.cases.lifecycle import record_escalation, record_reminder
from opinion.labels import CLOCK_NAMES, LEVEL_NAMES
from opinion.models import OPEN_CASE_STATUSES, AuditEvent, Case, User
from opinion.notify import notify
from opinion.settings.calendar import add_duration
from opinion.settings.district import District, Duration

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
    channels = step.get("channel", "inapp")
    channels = (channels,) if isinstance(channels, str) else tuple(channels)
    if "inapp" not in channels:
        channels = ("inapp", *channels)  # the case page and the inbox show every step too
    people = recipients(session, case, step.get("notify", []))
    subject, body = _message(step, case, reason, district)
    notify(session, people, subject, body, channels=channels, case=case, kind="deadline", now=now)
    return [p.username for p in people]


@dataclass(frozen=True)
class Escalation:
    """A case that climbed the ladder in this tick: the highest level it reached and why."""

    case_id: int
    level: int
    reason: str


def tick(session, district: District, now: datetime) -> tuple[list[str], list[Escalation]]:
    """One pass of the ladder over every open case.

    Each firing is recorded once: ticking again at the same `now` finds nothing new. A level is
    fired when its own trigger holds and the case has not reached it yet; a case that gets
    moving stops climbing. Returns a line per firing, and per escalated case the highest level it
    reached in this pass (levels passed together are all on record, but monitors get one alert)."""
    cases = session.execute(select(Case).where(Case.status.in_(OPEN_CASE_STATUSES))
                            .order_by(Case.id)).scalars().all()
    reminded = {(e.object_id, (e.after or {}).get("key")) for e in session.execute(
        select(AuditEvent).where(AuditEvent.action == "case.reminded",
                                 AuditEvent.object_id.in_([c.id for c in cases] or [-1]))).scalars()}
    steps = {s["level"]: s for s in district.escalation}
    fired: list[str] = []
    escalations: list[Escalation] = []
    for case in cases:
        if not _has_work(case, district, steps, reminded, now):
            continue
        _lock_and_reread(session, case, reminded)
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
            record_escalation(session, case, level, why, told, steps[level].get("channel", "inapp"), now)
            fired.append(f"#{case.id} 第{level}级 {LEVEL_NAMES[level]}：{why}")
        if new_levels:
            escalations.append(Escalation(case.id, *new_levels[-1]))
    return fired, escalations


def _has_work(case, district: District, steps: dict, reminded: set, now: datetime) -> bool:
    """Whether the tick would fire anything for `case`, read without a lock (most cases: nothing)."""
    for clock, due, done in _pending(case):
        if done is not None:
            continue
        if due > now and _reminders_due(case, steps[1], clock, due, now, reminded):
            return True
        break
    return any(triggered(case, steps[level], district, now)
               for level in range(max(case.escalation_level, 1) + 1, 6))


def _lock_and_reread(session, case, reminded: set) -> None:
    """Lock the case's row until this tick commits (a no-op UPDATE: a row lock on PostgreSQL, the
    database's write lock on SQLite), then read it and its reminders again: another tick that
    fired meanwhile has committed, and what it fired is seen here and not fired again."""
    session.execute(update(Case).where(Case.id == case.id).values(escalation_level=Case.escalation_level)
                    .execution_options(synchronize_session=False))
    session.refresh(case)
    reminded.update((e.object_id, (e.after or {}).get("key")) for e in session.execute(
        select(AuditEvent).where(AuditEvent.action == "case.reminded", AuditEvent.object_id == case.id)
        .execution_options(populate_existing=True)).scalars())


def _reminders_due(case, step: dict, clock: str, due: datetime, now: datetime, reminded: set) -> list:
    """(fraction, key) of each level-1 reminder of the running deadline due at `now` and not sent."""
    start = case.received_at or case.created_at
    if clock == "resolve" and case.reopened_at:
        start = case.reopened_at
    span = (due - start).total_seconds()
    out = []
    for fraction in step.get("at", [0.5, 0.8]):
        # The key names the deadline itself, so a moved deadline (extension, new priority,
        # reopening) is reminded about afresh.
        key = f"{clock}@{fraction:g}@{due.isoformat()}"
        if span <= 0 or (now - start).total_seconds() < fraction * span or (case.id, key) in reminded:
            continue
        out.append((fraction, key))
    return out


def _remind(session, district, case, step, clock, due, now, reminded) -> list[str]:
    """Level 1 (电子催办): a reminder at each configured fraction of the running deadline."""
    lines = []
    for fraction, key in _reminders_due(case, step, clock, due, now, reminded):
        why = f"{CLOCK_NAMES[clock]}时限已过 {fraction:.0%}"
        told = _fire(session, district, case, step, why, now)
        record_reminder(session, case, key, why, told, now)
        reminded.add((case.id, key))
        lines.append(f"#{case.id} {LEVEL_NAMES[1]} {key}")
    return lines
