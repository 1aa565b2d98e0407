"""What monitors and leaders do to a case's clock and priority: extensions (延期), priority
changes, and leaders' instructions (批示) on escalated cases.

An extension moves the resolve deadline by working days; the total is capped (default 15 working
days, `extension_cap_working_days` in district.yaml, from the provincial 12345 rules). A
priority change recomputes all three deadlines from the table.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from opinion import audit
from opinion.cases.deadlines import extension_target, set_deadlines
from opinion.cases.lifecycle import check_lead, check_monitor
from opinion.cases.transfers import monitors
from opinion.errors import CaseStateError, PermissionDenied
from opinion.labels import PRIORITY_NAMES
from opinion.models import Case, CaseExtension, Instruction, User
from opinion.notify import notify
from opinion.settings.district import PRIORITIES, District


def _iso(value: datetime) -> str:
    return value.isoformat()


def request_extension(session, district: District, case: Case, user: User, working_days: int | str,
                      reason: str, now: datetime) -> CaseExtension:
    """The lead unit asks for more working days to resolve, with a reason."""
    check_lead(user, case)
    if not case.is_open:
        raise CaseStateError("工单已办结或关闭，不能申请延期")
    try:
        days = int(working_days)
    except (TypeError, ValueError):
        raise CaseStateError("延期天数应为整数个工作日") from None
    reason = (reason or "").strip()
    if days < 1:
        raise CaseStateError("延期天数至少为 1 个工作日")
    if not reason:
        raise CaseStateError("申请延期须填写理由")
    left = district.extension_cap_working_days - case.extended_working_days
    if days > left:
        raise CaseStateError(f"延期累计不得超过 {district.extension_cap_working_days} 个工作日，"
                             f"本工单最多还可申请 {max(left, 0)} 个工作日")
    if session.execute(select(CaseExtension.id).where(CaseExtension.case_id == case.id,
                                                      CaseExtension.status == "pending")).first():
        raise CaseStateError("该工单已有一份待审批的延期申请")
    request = CaseExtension(case_id=case.id, working_days=days, reason=reason[:2000],
                            requested_by_id=user.id, requested_at=now)
    session.add(request)
    session.flush()
    audit.record(session, "case.extension_requested", "case", case.id, actor=user, at=now,
                 reason=reason[:2000], after={"extension_id": request.id, "working_days": days})
    notify(session, monitors(session), f"【延期申请】工单 #{case.id}「{case.title}」",
           f"{case.unit.name}申请延期 {days} 个工作日：{reason}", case=case, now=now)
    return request


def decide_extension(session, district: District, request: CaseExtension, user: User, approve: bool,
                     note: str, now: datetime) -> str:
    """A monitor approves (the resolve deadline moves) or refuses (with a reason) an extension;
    returns the decision in words, as the requester is told it."""
    check_monitor(user, "审批延期申请")
    if request.status != "pending":
        raise CaseStateError("该延期申请已处理过")
    case = session.get(Case, request.case_id)
    note = (note or "").strip()
    if not approve and not note:
        raise CaseStateError("不予延期须说明理由")
    if approve and not case.is_open:
        raise CaseStateError("工单已办结或关闭，无需延期")
    if approve and case.extended_working_days + request.working_days > district.extension_cap_working_days:
        raise CaseStateError(f"批准后延期累计将超过 {district.extension_cap_working_days} 个工作日")
    request.status = "approved" if approve else "refused"
    request.decided_by_id, request.decided_at, request.decision_note = user.id, now, note[:2000] or None
    before = {"resolve_due_at": _iso(case.resolve_due_at), "extended_working_days": case.extended_working_days}
    if approve:
        target = extension_target(district, case, request.working_days, now)
        if target <= now:  # a calendar with no working day ahead; refuse rather than approve the past
            raise CaseStateError(f"延期 {request.working_days} 个工作日后办结时限仍早于现在，无法批准；请核对工作日历")
        case.extended_working_days += request.working_days
        set_deadlines(case, district)
        if case.resolve_due_at < target:  # overdue when approved: the days count from now
            case.extended_until = target
            set_deadlines(case, district)
    verdict = (f"已批准延期，办结时限延至 {case.resolve_due_at.astimezone(ZoneInfo(district.timezone)):%Y-%m-%d %H:%M}"
               if approve else f"已驳回延期申请，办结时限不变：{note}")
    if request.requested_by is not None:
        notify(session, [request.requested_by], f"【延期审批】工单 #{case.id}「{case.title}」", verdict,
               case=case, kind="extension_decided", now=now)
    audit.record(session, f"case.extension_{request.status}", "case", case.id, actor=user, at=now,
                 reason=note or None, before=before,
                 after={"extension_id": request.id, "resolve_due_at": _iso(case.resolve_due_at),
                        "extended_working_days": case.extended_working_days})
    return verdict


def change_priority(session, district: District, case: Case, user: User, priority: str, reason: str,
                    now: datetime) -> None:
    """A monitor changes the priority; the three deadlines are recomputed from the table."""
    check_monitor(user, "调整工单优先级")
    if priority not in PRIORITIES:
        raise CaseStateError("优先级应为紧急、重要或一般")
    if not case.is_open:
        raise CaseStateError("工单已办结或关闭，不能调整优先级")
    if priority == case.priority:
        raise CaseStateError(f"工单已是“{PRIORITY_NAMES[priority]}”优先级")
    reason = (reason or "").strip()
    if not reason:
        raise CaseStateError("调整优先级须说明理由")
    before = {"priority": case.priority, "acknowledge_due_at": _iso(case.acknowledge_due_at),
              "respond_due_at": _iso(case.respond_due_at), "resolve_due_at": _iso(case.resolve_due_at)}
    case.priority = priority
    set_deadlines(case, district)
    audit.record(session, "case.priority_changed", "case", case.id, actor=user, at=now, reason=reason,
                 before=before,
                 after={"priority": priority, "acknowledge_due_at": _iso(case.acknowledge_due_at),
                        "respond_due_at": _iso(case.respond_due_at), "resolve_due_at": _iso(case.resolve_due_at)})


def write_instruction(session, case: Case, user: User, text: str, now: datetime) -> Instruction:
    """A leader's 批示 on a case: kept on it and sent to the unit (its head, spokespersons and
    the assignee) and to the monitors who follow it up."""
    if user.role != "leader":
        raise PermissionDenied("只有领导可以作出批示")
    text = (text or "").strip()
    if not text:
        raise CaseStateError("批示内容不能为空")
    if len(text) > 2000:
        raise CaseStateError("批示内容过长（最多 2000 字）")
    instruction = Instruction(case_id=case.id, author_id=user.id, text=text, at=now)
    session.add(instruction)
    session.flush()
    people = session.execute(select(User).where(User.active.is_(True), (User.unit_id == case.unit_id)
                                                | (User.role == "monitor")).order_by(User.id)).scalars().all()
    notify(session, people, f"【领导批示】工单 #{case.id}「{case.title}」", f"{user.name}批示：{text}",
           case=case, kind="instruction", now=now)
    audit.record(session, "case.instruction", "case", case.id, actor=user, at=now, reason=text,
                 after={"instruction_id": instruction.id, "notified": [p.username for p in people]})
    return instruction
