"""人工分拨: a monitor hands a case that routing left at the monitoring centre to the right unit.

The decision is also a training example for routing (RoutingCorrection), and the audit log keeps
who moved it, from where, to where and why.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from opinion import audit
from opinion.cases.duty import pick_assignee
from opinion.cases.lifecycle import open_key
from opinion.errors import CaseStateError, PermissionDenied
from opinion.models import Case, Post, RoutingCorrection, Unit, User
from opinion.topics.store import route_topic


def reassign_to_unit(session, case: Case, unit: Unit, user: User, reason: str, now: datetime) -> None:
    """Move an open case to `unit`, pick its spokesperson from the duty roster, record why."""
    if user.role not in ("monitor", "admin"):
        raise PermissionDenied("只有舆情监测员可以人工分拨工单")
    reason = (reason or "").strip()
    if not case.is_open:
        raise CaseStateError("工单已办结或关闭，不能改派")
    if not unit.active:
        raise CaseStateError(f"{unit.name}已停用，不能接收工单")
    if unit.id == case.unit_id:
        raise CaseStateError(f"工单已在{unit.name}，无需改派")
    if not reason:
        raise CaseStateError("请填写分拨理由")
    key = open_key(case.topic_id, unit.id) if case.topic_id is not None else None
    if key is not None:
        holder = session.execute(select(Case.id).where(Case.open_key == key)).scalar_one_or_none()
        if holder is not None:
            raise CaseStateError(f"{unit.name}已有该话题的在办工单 #{holder}，请改为合并工单")
    before = {"unit": case.unit.code if case.unit else None, "assignee_id": case.assignee_id,
              "escalation_level": case.escalation_level, "supervised": case.supervised,
              "special_report": case.special_report}
    from_unit_id = case.unit_id
    # The ladder's marks were earned by the unit that had the case; the new unit starts clean.
    case.escalation_level, case.supervised, case.special_report = 0, False, False
    case.unit_id, case.unit = unit.id, unit
    case.open_key = key
    assignee = pick_assignee(session, unit, priority=case.priority, now=now)
    case.assignee_id = assignee.id if assignee else None
    case.routing_reason = f"{user.name}人工分拨：{reason}"
    if case.topic is not None and case.topic.unit_id in (None, from_unit_id):
        route_topic(case.topic, unit.id)
    sample = session.execute(select(Post.text).where(Post.topic_id == case.topic_id)
                             .order_by(Post.created_at).limit(5)).scalars().all() if case.topic_id else []
    session.add(RoutingCorrection(topic_id=case.topic_id, case_id=case.id, from_unit_id=from_unit_id,
                                  to_unit_id=unit.id, category=case.category, by_id=user.id, at=now,
                                  text="\n".join([case.title, *sample])))
    audit.record(session, "case.transfer_reassigned", "case", case.id, actor=user, at=now, reason=reason,
                 before=before, after={"unit": unit.code, "assignee_id": case.assignee_id})
