"""The duty roster (值班表) and who inside a unit gets a case.

A unit names who is on duty when; urgent cases go first to those with 24-hour cover, because an
urgent case's 30-minute acknowledge clock runs at night too. Among the people on duty the one with
the fewest open cases gets the new one. A unit with no roster at all falls back to all its
active spokespersons, so a case is never left without an owner for want of a roster.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from opinion import audit
from opinion.errors import CaseStateError, PermissionDenied
from opinion.models import OPEN_CASE_STATUSES, Case, DutyShift, Unit, User


def spokespersons(session, unit_id: int) -> list[User]:
    return session.execute(select(User).where(User.unit_id == unit_id, User.role == "spokesperson",
                                              User.active.is_(True)).order_by(User.id)).scalars().all()


def on_duty(session, unit_id: int, now: datetime, *, urgent_cover: bool = False) -> list[User]:
    """The unit's active spokespersons whose shift covers `now` (only 24-hour cover if asked)."""
    query = (select(User).join(DutyShift, DutyShift.user_id == User.id)
             .where(DutyShift.unit_id == unit_id, DutyShift.start_at <= now, DutyShift.end_at > now,
                    User.active.is_(True), User.role == "spokesperson"))
    if urgent_cover:
        query = query.where(DutyShift.urgent_cover.is_(True))
    return session.execute(query.distinct().order_by(User.id)).scalars().all()


def open_load(session, user_ids: list[int]) -> dict[int, int]:
    rows = session.execute(select(Case.assignee_id, func.count()).where(
        Case.assignee_id.in_(user_ids or [-1]), Case.status.in_(OPEN_CASE_STATUSES))
        .group_by(Case.assignee_id)).all()
    return {uid: n for uid, n in rows}


def pick_assignee(session, unit: Unit, *, priority: str = "normal",
                  now: datetime | None = None) -> User | None:
    """The least-loaded spokesperson of `unit` on duty at `now` (24-hour cover first for urgent
    cases); with nobody on duty, the least-loaded of the unit's spokespersons (its head last)."""
    pools = []
    if now is not None:
        if priority == "urgent":
            pools.append(on_duty(session, unit.id, now, urgent_cover=True))
        pools.append(on_duty(session, unit.id, now))
    # With nobody on duty, the unit's head answers only if the unit has no other spokesperson.
    everyone = spokespersons(session, unit.id)
    pools += [[u for u in everyone if not u.is_unit_head], everyone]
    pool = next((p for p in pools if p), [])
    if not pool:
        return None
    load = open_load(session, [u.id for u in pool])
    return min(pool, key=lambda u: (load.get(u.id, 0), u.id))


def reassign(session, case: Case, user: User, assignee: User, reason: str, now: datetime) -> None:
    """Hand a case to another spokesperson of the same unit (a monitor or the unit head decides)."""
    if not (user.role in ("monitor", "admin") or (user.is_unit_head and user.unit_id == case.unit_id)):
        raise PermissionDenied("只有监测员或本单位负责人可以在单位内改派工单")
    if not case.is_open:
        raise CaseStateError("工单已办结或关闭，不能改派")
    if assignee.unit_id != case.unit_id or assignee.role != "spokesperson" or not assignee.active:
        raise CaseStateError(f"{assignee.name} 不是{case.unit.name}在岗的新闻发言人，不能接办")
    if assignee.id == case.assignee_id:
        raise CaseStateError(f"工单已由 {assignee.name} 承办")
    before = {"assignee": case.assignee.username if case.assignee else None}
    case.assignee = assignee
    audit.record(session, "case.reassigned", "case", case.id, actor=user, at=now, before=before,
                 after={"assignee": assignee.username}, reason=(reason or "").strip() or None)


def add_shift(session, user: User, person: User, start: datetime, end: datetime, *,
              urgent_cover: bool, now: datetime) -> DutyShift:
    """Put `person` on the roster of their unit; the unit head, monitors or admins do this."""
    if not (user.role in ("monitor", "admin") or (user.is_unit_head and user.unit_id == person.unit_id)):
        raise PermissionDenied("只有监测员、管理员或本单位负责人可以排班")
    if person.role != "spokesperson" or person.unit_id is None:
        raise CaseStateError(f"{person.name} 不是单位的新闻发言人，不能排入值班表")
    if end <= start:
        raise CaseStateError("值班结束时间应晚于开始时间")
    if (end - start).days > 31:
        raise CaseStateError("一次排班最长 31 天，请分段排班")
    shift = DutyShift(unit_id=person.unit_id, user_id=person.id, start_at=start, end_at=end,
                      urgent_cover=urgent_cover, created_by_id=user.id)
    session.add(shift)
    session.flush()
    audit.record(session, "duty.shift_added", "duty_shift", shift.id, actor=user, at=now,
                 after={"user": person.username, "start": start.isoformat(), "end": end.isoformat(),
                        "urgent_cover": urgent_cover})
    return shift


def remove_shift(session, user: User, shift: DutyShift, now: datetime) -> None:
    if not (user.role in ("monitor", "admin") or (user.is_unit_head and user.unit_id == shift.unit_id)):
        raise PermissionDenied("只有监测员、管理员或本单位负责人可以修改值班表")
    if shift.end_at <= now:
        raise CaseStateError("已结束的值班是历史记录，不能删除")
    audit.record(session, "duty.shift_removed", "duty_shift", shift.id, actor=user, at=now,
                 before={"user": shift.user.username, "start": shift.start_at.isoformat(),
                         "end": shift.end_at.isoformat(), "urgent_cover": shift.urgent_cover})
    session.delete(shift)
