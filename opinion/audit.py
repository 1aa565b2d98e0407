"""The audit log: every action on cases, routing, users and configuration, append-only.

Accountability (考核/问责) rests on it, so it is written in the same transaction as the change it
describes and can never be changed afterwards: the session refuses to update or delete an
AuditEvent, and the web offers only reading, filtering and a CSV export.
"""
from __future__ import annotations

import json
from datetime import datetime
from operator import eq, ge, lt
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from opinion.labels import ACTION_NAMES
from opinion.models import AuditEvent, User, utcnow, where_given
from opinion.spreadsheet import csv_text


class AuditLogImmutable(Exception):
    """Raised when code tries to change or delete an audit record: that is a bug."""


@event.listens_for(Session, "before_flush")
def _refuse_changes(session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogImmutable("审计日志只能追加，不能修改或删除")


def record(session, action: str, object_type: str, object_id: int | None, *,
           actor: User | None = None, before: dict | None = None, after: dict | None = None,
           reason: str | None = None, at: datetime | None = None) -> AuditEvent:
    """Add one audit event to the session (committed with the change it describes)."""
    event_ = AuditEvent(action=action, object_type=object_type, object_id=object_id,
                        actor_id=actor.id if actor else None,
                        actor=actor.username if actor else "system",
                        before=before, after=after, reason=reason, at=at or utcnow())
    session.add(event_)
    return event_


def query(*, object_type: str | None = None, object_id: int | None = None, actor: str | None = None,
          action: str | None = None, since: datetime | None = None, until: datetime | None = None):
    """A select of audit events, newest first, filtered by whatever is given."""
    q = where_given(select(AuditEvent), (AuditEvent.object_type, eq, object_type),
                    (AuditEvent.object_id, eq, object_id), (AuditEvent.actor, eq, actor),
                    (AuditEvent.action, eq, action), (AuditEvent.at, ge, since), (AuditEvent.at, lt, until))
    return q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def filter_choices(session) -> tuple[list[str], list[str]]:
    """The actors and the object types that occur in the log, for the filter's drop-downs."""
    return tuple(session.execute(select(column).distinct().order_by(column)).scalars().all()
                 for column in (AuditEvent.actor, AuditEvent.object_type))


CSV_HEADER = ["编号", "时间", "操作人", "操作", "操作代码", "对象类型", "对象编号", "原因", "变更前", "变更后"]


def to_csv(events, tz: str = "Asia/Shanghai") -> str:
    """The events as CSV (UTF-8 with BOM, so Excel opens the Chinese text right), no cell a formula."""
    zone = ZoneInfo(tz)
    dump = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    return csv_text(CSV_HEADER, ([e.id, e.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), e.actor,
                                  ACTION_NAMES.get(e.action, e.action), e.action, e.object_type,
                                  "" if e.object_id is None else e.object_id, e.reason or "",
                                  dump(e.before), dump(e.after)] for e in events))
