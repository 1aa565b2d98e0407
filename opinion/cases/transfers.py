"""Transfer-back (退回) and reassignment between units; lead and co-handling units (主办/协办).

首单负责制: the unit a case was routed to owns it until the monitoring centre accepts a transfer.
A unit that thinks it was wrongly routed returns the case with a reason within a deadline (default
2 working days from opening); the centre either reassigns it — kept as a RoutingCorrection that
routing retrains from — or sends it back, and the unit carries on with its clocks still running.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from opinion import audit
from opinion.accounts.queries import unit_spokespersons
from opinion.cases.deadlines import set_deadlines
from opinion.cases.duty import pick_assignee
from opinion.cases.lifecycle import check_lead, check_monitor, claim_open_key, transition
from opinion.errors import CaseStateError
from opinion.models import Case, CaseCoUnit, CaseTransfer, Post, RoutingCorrection, Unit, User
from opinion.notify import notify
from opinion.settings.calendar import add_duration
from opinion.settings.district import District, Duration


def monitors(session) -> list[User]:
    return session.execute(select(User).where(User.role == "monitor", User.active.is_(True))
                           .order_by(User.id)).scalars().all()


def transfer_deadline(district: District, case: Case) -> datetime:
    return add_duration(case.received_at or case.created_at, Duration(district.transfer_back_working_days, "working_days"),
                        district.timezone, district)


def pending_transfer(session, case: Case) -> CaseTransfer | None:
    return session.execute(select(CaseTransfer).where(CaseTransfer.case_id == case.id,
                                                      CaseTransfer.status == "pending")).scalar_one_or_none()


def transfer_back(session, district: District, case: Case, user: User, reason: str, now: datetime, *,
                  suggested_unit: Unit | None = None) -> CaseTransfer:
    """The unit returns a misrouted case to the monitoring centre, with its reason."""
    check_lead(user, case)
    reason = (reason or "").strip()
    if not reason:
        raise CaseStateError("退回工单须填写退回理由（为什么不属于本单位职责）")
    due = transfer_deadline(district, case)
    if now > due:
        raise CaseStateError(f"已超过退回时限（立案后 {district.transfer_back_working_days} 个工作日），"
                             "首单负责制下须由本单位继续办理")
    if suggested_unit is not None and suggested_unit.id == case.unit_id:
        raise CaseStateError("建议承办单位不能是本单位")
    transition(session, case, "transfer_back", user, now, reason=reason,
               extra={"suggested_unit": suggested_unit.code if suggested_unit else None})
    request = CaseTransfer(case_id=case.id, from_unit_id=case.unit_id, reason=reason[:2000],
                           suggested_unit_id=suggested_unit.id if suggested_unit else None,
                           requested_by_id=user.id, requested_at=now)
    session.add(request)
    notify(session, monitors(session), f"【退回申请】工单 #{case.id}「{case.title}」",
           f"{case.unit.name}申请退回：{reason}", case=case, now=now)
    return request


def send_back(session, case: Case, user: User, note: str, now: datetime) -> None:
    """The centre finds the routing right: the unit keeps the case (its clocks never stopped)."""
    check_monitor(user, "处理退回申请")
    note = (note or "").strip()
    if not note:
        raise CaseStateError("驳回退回申请须说明理由，以便承办单位理解")
    request = pending_transfer(session, case)
    if request is None:
        raise CaseStateError("该工单没有待处理的退回申请")
    transition(session, case, "transfer_sent_back", user, now, reason=note,
               to="replied" if case.first_response_at else "acknowledged" if case.acknowledged_at else "new")
    request.status, request.decided_by_id, request.decided_at = "sent_back", user.id, now
    request.decision_note = note[:2000]
    if request.requested_by is not None:
        notify(session, [request.requested_by], f"【退回驳回】工单 #{case.id}「{case.title}」",
               f"监测中心决定仍由{case.unit.name}办理：{note}", case=case, kind="transfer_decided", now=now)


def reassign_unit(session, district: District, case: Case, user: User, to_unit: Unit, note: str,
                  now: datetime) -> RoutingCorrection:
    """Give the case to another unit, with fresh deadlines from now, and record the correction
    for routing. Settles a pending transfer request if there is one; a monitor may also correct
    a routing on their own (the triage queue)."""
    check_monitor(user, "改派工单到其他单位")
    if to_unit.id == case.unit_id:
        raise CaseStateError(f"工单已在{to_unit.name}，无需改派")
    if not to_unit.active:
        raise CaseStateError(f"{to_unit.name} 已停用，不能接收工单")
    note = (note or "").strip()
    from_unit = case.unit
    request = pending_transfer(session, case)
    transition(session, case, "transfer_reassigned", user, now, reason=note or None,
               extra={"from_unit": from_unit.code, "to_unit": to_unit.code})
    case.open_key = None
    case.unit_id, case.unit = to_unit.id, to_unit
    if case.topic_id is not None:  # the new unit takes the topic's slot unless it has it open already
        claim_open_key(session, case)
    case.received_at = now  # the new unit's clocks start at the reassignment
    case.acknowledged_at = case.first_response_at = None
    # The ladder's marks belong to the unit that let the case slip: the new unit starts clean
    # (no 专报批办 or 现场督办 badge, no 查看专报 link for a report about someone else's delay).
    case.escalation_level, case.extended_working_days, case.extended_until = 0, 0, None
    case.supervised = case.special_report = False
    set_deadlines(case, district)
    case.assignee = pick_assignee(session, to_unit, priority=case.priority, now=now)
    if request is not None:
        request.status, request.to_unit_id = "reassigned", to_unit.id
        request.decided_by_id, request.decided_at, request.decision_note = user.id, now, note[:2000] or None
    correction = RoutingCorrection(case_id=case.id, topic_id=case.topic_id, from_unit_id=from_unit.id,
                                   to_unit_id=to_unit.id, category=case.category,
                                   text=_routing_text(session, case), by_id=user.id, at=now)
    session.add(correction)
    # The new unit hears of it (its assignee, else its spokespersons), and whoever asked to return
    # it hears where it went.
    receivers = [case.assignee] if case.assignee is not None else unit_spokespersons(session, to_unit.id)
    notify(session, receivers, f"【改派】工单 #{case.id}「{case.title}」",
           f"监测中心将此工单由{from_unit.name}改派至{to_unit.name}，请及时签收。", case=case,
           kind="reassigned", now=now)
    if request is not None and request.requested_by is not None:
        notify(session, [request.requested_by], f"【退回同意】工单 #{case.id}「{case.title}」",
               f"监测中心已将此工单改派至{to_unit.name}" + (f"：{note}" if note else "。"), case=case,
               kind="transfer_decided", now=now)
    return correction


def _routing_text(session, case: Case) -> str:
    """What routing saw: the topic's label and its first posts, as training text."""
    posts = []
    if case.topic_id is not None:
        posts = session.execute(select(Post.text).where(Post.topic_id == case.topic_id)
                                .order_by(Post.created_at).limit(5)).scalars().all()
    return "\n".join([case.title, *[p for p in posts if p]])[:5000]


def add_co_unit(session, case: Case, user: User, unit: Unit, now: datetime) -> CaseCoUnit:
    """A co-handling unit (协办) can see and reply to the case; the lead unit (主办) stays in charge."""
    check_monitor(user, "指定协办单位")
    if not case.is_open:
        raise CaseStateError("工单已办结或关闭，不能增加协办单位")
    if unit.id == case.unit_id:
        raise CaseStateError(f"{unit.name} 已是主办单位")
    if any(c.unit_id == unit.id for c in case.co_units):
        raise CaseStateError(f"{unit.name} 已是协办单位")
    co = CaseCoUnit(case=case, unit_id=unit.id, added_by_id=user.id, added_at=now)
    session.add(co)
    audit.record(session, "case.co_unit_added", "case", case.id, actor=user, at=now,
                 after={"co_unit": unit.code})
    return co
