"""The notification centre's reads and marks: a person's in-app notifications, unread first.

In-app rows are the centre (通知中心); e-mail and webhook rows are copies sent out, not listed.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from opinion.models import Notification, NotificationSetting, User

_MINE = lambda user: (Notification.user_id == user.id) & (Notification.channel == "inapp")  # noqa: E731


def unread_count(session, user: User) -> int:
    return session.execute(select(func.count(Notification.id))
                           .where(_MINE(user), Notification.read_at.is_(None))).scalar() or 0


def notifications_page(session, user: User, *, unread_only: bool = False, page: int = 1,
                       per_page: int = 30) -> tuple[list[Notification], int]:
    query = select(Notification).where(_MINE(user))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar() or 0
    rows = session.execute(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return rows, total


def my_notification(session, user: User, notification_id: int) -> Notification | None:
    return session.execute(select(Notification).where(_MINE(user), Notification.id == notification_id)
                           ).scalar_one_or_none()


def mark_read(session, user: User, now: datetime, *, case_id: int | None = None) -> int:
    """Mark the person's unread notifications read (those about `case_id` only, if given)."""
    query = update(Notification).where(_MINE(user), Notification.read_at.is_(None))
    if case_id is not None:
        query = query.where(Notification.case_id == case_id)
    return session.execute(query.values(read_at=now).execution_options(synchronize_session=False)).rowcount


def setting_for(session, user: User) -> NotificationSetting:
    """The person's notification settings, a blank one (nothing beyond in-app) if never saved."""
    return session.get(NotificationSetting, user.id) or NotificationSetting(user_id=user.id, channels=[], kinds=[])
