"""Cases (工单): one unit's duty to answer one topic, from opening to the first reply.

One open case per topic and unit: new posts on the topic attach to it. The assignee is the unit's
least-loaded active spokesperson (first-receiver responsibility, 首单负责制, starts there).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from opinion import audit
from opinion.district import District
from opinion.errors import CaseStateError, PermissionDenied
from opinion.models import OPEN_CASE_STATUSES, Case, Reply, Topic, Unit, User
from opinion.routing.priority import higher
from opinion.sla import compute_deadlines


def open_key(topic_id: int, unit_id: int) -> str:
    return f"{topic_id}:{unit_id}"


def pick_assignee(session, unit: Unit) -> User | None:
    """The unit's active spokesperson with the fewest open cases."""
    load = (select(Case.assignee_id, func.count().label("n"))
            .where(Case.status.in_(OPEN_CASE_STATUSES)).group_by(Case.assignee_id).subquery())
    row = session.execute(
        select(User).outerjoin(load, load.c.assignee_id == User.id)
        .where(User.unit_id == unit.id, User.role == "spokesperson", User.active.is_(True))
        .order_by(func.coalesce(load.c.n, 0), User.id).limit(1)).scalar_one_or_none()
    return row


def open_or_attach(session, district: District, topic: Topic, unit: Unit, *, priority: str,
                   category: str | None, reason: str, now: datetime) -> tuple[Case, bool]:
    """Return the topic's open case for `unit`, opening one if there is none; the bool says
    whether it is new. A more urgent post raises the case's priority and its deadlines."""
    case = session.execute(select(Case).where(Case.open_key == open_key(topic.id, unit.id))
                           ).scalar_one_or_none()
    if case is not None:
        raised = higher(priority, case.priority)
        if raised != case.priority:
            before = {"priority": case.priority}
            case.priority = raised
            _set_deadlines(case, district, case.created_at)
            audit.record(session, "case.priority_raised", "case", case.id, before=before,
                         after={"priority": raised}, reason="新帖子触发更高优先级", at=now)
        return case, False
    case = Case(topic_id=topic.id, unit_id=unit.id, open_key=open_key(topic.id, unit.id),
                title=(topic.label or "未命名话题")[:200], category=category, priority=priority,
                status="new", routing_reason=reason, created_at=now, updated_at=now)
    _set_deadlines(case, district, now)
    case.assignee = pick_assignee(session, unit)
    session.add(case)
    session.flush()
    audit.record(session, "case.opened", "case", case.id, at=now, reason=reason,
                 after={"unit": unit.code, "priority": priority,
                        "assignee": case.assignee.username if case.assignee else None})
    return case, True


def _set_deadlines(case: Case, district: District, start: datetime) -> None:
    due = compute_deadlines(district, case.priority, start)
    case.acknowledge_due_at, case.respond_due_at, case.resolve_due_at = (
        due["acknowledge"], due["respond"], due["resolve"])


def check_can_act(user: User, case: Case) -> None:
    """Spokespersons act on their own unit's cases; monitors on any; leaders only read."""
    if user.role == "spokesperson" and user.unit_id != case.unit_id:
        raise PermissionDenied("该工单不属于您的单位")
    if user.role not in ("spokesperson", "monitor", "admin"):
        raise PermissionDenied("您的角色只能查看，不能办理工单")


def acknowledge(session, case: Case, user: User, now: datetime) -> None:
    check_can_act(user, case)
    if case.status != "new":
        raise CaseStateError(f"工单当前状态为“{case.status}”，不能签收")
    case.status, case.acknowledged_at = "acknowledged", now
    if case.assignee_id is None and user.role == "spokesperson":
        case.assignee_id = user.id
    audit.record(session, "case.acknowledged", "case", case.id, actor=user, at=now,
                 before={"status": "new"}, after={"status": "acknowledged"})


def add_reply(session, case: Case, user: User, text: str, now: datetime, *,
              channel: str = "web", external_url: str | None = None,
              reply: Reply | None = None) -> Reply:
    """Record a published reply; the first one stops the first-response clock (and counts as 签收
    too). `reply` is a composer draft being published (opinion.replies): it becomes the reply."""
    check_can_act(user, case)
    text = (text or "").strip()
    if not text:
        raise CaseStateError("回复内容不能为空")
    if len(text) > 5000:
        raise CaseStateError("回复内容过长（最多 5000 字）")
    if not case.is_open:
        raise CaseStateError("工单已办结或关闭，不能再回复")
    before = {"status": case.status}
    if reply is None:
        reply = Reply(case=case, author_id=user.id, created_at=now)
        session.add(reply)
    reply.text, reply.channel, reply.external_url = text, channel, external_url
    reply.status, reply.published_at = "published", now
    if case.acknowledged_at is None:
        case.acknowledged_at = now
    if case.first_response_at is None:
        case.first_response_at = now
    if case.status in ("new", "acknowledged", "reopened"):
        case.status = "replied"
    session.flush()
    audit.record(session, "case.replied", "case", case.id, actor=user, at=now, before=before,
                 after={"status": case.status, "reply_id": reply.id, "channel": channel})
    return reply


def visible_cases(user: User):
    """A select of the cases this user may see, enforced in the query itself."""
    query = select(Case)
    if user.role == "spokesperson":
        query = query.where(Case.unit_id == user.unit_id)
    return query


def resolve(session, case: Case, user: User, note: str, now: datetime) -> None:
    """办结: the matter is dealt with. Needs a public reply first and a note of what was done."""
    check_can_act(user, case)
    note = (note or "").strip()
    if case.status != "replied":
        raise CaseStateError("工单须先签收并首次回应，才能办结")
    if not note:
        raise CaseStateError("办结须填写办理结果说明")
    case.status, case.resolved_at, case.open_key = "resolved", now, None
    audit.record(session, "case.resolved", "case", case.id, actor=user, at=now, reason=note[:2000],
                 before={"status": "replied"}, after={"status": "resolved"})
