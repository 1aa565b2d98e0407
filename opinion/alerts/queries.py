"""What the monitoring console and the read API read about alerts: the open ones, as a feed, and
which topics have a burst alert live.

Reading only; engine.py is the one writer of alerts.
"""
from __future__ import annotations

from datetime import datetime
from operator import eq, ge, lt

from sqlalchemy import func, select

from opinion.models import Alert, where_given


def open_alerts(session, after_id: int = 0, limit: int = 50, *, oldest_first: bool = False) -> list[Alert]:
    """Open alerts with an id above `after_id`: the newest first for the console's feed, the
    oldest first for a poller that passes back the last id it saw and must miss none."""
    order = Alert.id if oldest_first else Alert.id.desc()
    return session.execute(select(Alert).where(Alert.status == "open", Alert.id > after_id)
                           .order_by(order).limit(limit)).scalars().all()


def open_alert_count(session) -> int:
    """How many alerts are open."""
    return session.execute(select(func.count()).select_from(Alert).where(Alert.status == "open")).scalar()


def bursting_topics(session, topic_ids: list[int]) -> set[int]:
    """Those of the topics with a volume_burst alert still live (the rule engine's Poisson test)."""
    return set(session.execute(select(Alert.topic_id).where(
        Alert.topic_id.in_(topic_ids), Alert.kind == "volume_burst", Alert.open_key.is_not(None))).scalars())


def _contains(column, text):
    return column.contains(text, autoescape=True)


def alert_history(session, *, status: str = "", kind: str = "", severity: str = "", q: str = "",
                  since: datetime | None = None, until: datetime | None = None, page: int = 1,
                  per_page: int = 50) -> tuple[list[Alert], int]:
    """One page of every alert ever raised that matches the monitor's filters, the gravest and
    then the newest first among the open ones, newest first otherwise; and how many match."""
    query = where_given(select(Alert), (Alert.status, eq, status), (Alert.kind, eq, kind),
                        (Alert.severity, eq, severity), (Alert.message, _contains, (q or "").strip()),
                        (Alert.created_at, ge, since), (Alert.created_at, lt, until))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(Alert.created_at.desc(), Alert.id.desc())
                           .offset((max(page, 1) - 1) * per_page).limit(per_page)).scalars().all()
    return rows, total


def alerts_by_ids(session, ids: list[int]) -> list[Alert]:
    """The alerts with these ids (unknown ids are left out)."""
    return session.execute(select(Alert).where(Alert.id.in_(ids))).scalars().all() if ids else []
