"""A case's three deadlines (签收, 首次回应, 办结) from the district's table and its working calendar.

Counted from the case's opening (or its arrival at this unit after a reassignment), the resolve
clock from a reopening after an unsatisfied callback, plus every approved extension (延期).
"""
from __future__ import annotations

from datetime import datetime

from opinion.models import Case
from opinion.settings.calendar import add_duration
from opinion.settings.district import District, Duration

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
    floor = getattr(case, "extended_until", None)
    return max(due, floor) if floor else due


def extension_target(district: District, case, days: int, now: datetime) -> datetime:
    """Where `days` more working days take the resolve deadline: counted from the later of now and
    the current deadline, so an extension on an overdue case never ends in the past."""
    return add_duration(max(now, case.resolve_due_at), Duration(days, "working_days"), district.timezone, district)


def set_deadlines(case: Case, district: District) -> None:
    """The three deadlines from the case's priority: counted from its opening (or its arrival at
    this unit after a reassignment), the resolve clock from a reopening if there was one, plus the
    approved extensions."""
    due = compute_deadlines(district, case.priority, case.received_at or case.created_at)
    case.acknowledge_due_at, case.respond_due_at = due["acknowledge"], due["respond"]
    case.resolve_due_at = resolve_deadline(district, case)
