"""The audit log: every action on cases, routing, users and configuration, append-only."""
from __future__ import annotations

from datetime import datetime

from opinion.models import AuditEvent, User, utcnow


def record(session, action: str, object_type: str, object_id: int | None, *,
           actor: User | None = None, before: dict | None = None, after: dict | None = None,
           reason: str | None = None, at: datetime | None = None) -> AuditEvent:
    """Add one audit event to the session (committed with the change it describes)."""
    event = AuditEvent(action=action, object_type=object_type, object_id=object_id,
                       actor_id=actor.id if actor else None,
                       actor=actor.username if actor else "system",
                       before=before, after=after, reason=reason, at=at or utcnow())
    session.add(event)
    return event
