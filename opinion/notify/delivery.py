"""Sending queued notifications: the scheduler's `deliver_pending`, with retries and back-off.

Each row is claimed before it is sent: a conditional UPDATE from `pending` to `sending` that only
one deliverer can win (its row count says who), committed before the send, so two schedulers or
workers running this at once never send one message twice. The claim is a lease: a deliverer that
dies mid-send leaves the row `sending` until LEASE has passed, then it is due again (at least once
after a crash, exactly once otherwise). A row is committed after each attempt. A failure is written on the row (`error`, `attempts`) and the
row is retried after 1, 2, 4 … minutes (capped at an hour) until NOTIFY_MAX_ATTEMPTS; then it is
`failed` and shows on the admin's list with its last error.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update

from opinion.errors import DeliveryError
from opinion.models import Notification, utcnow
from opinion.notify.channels import build_channels

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)
LEASE = timedelta(minutes=5)   # longer than any channel's timeout


def _due(now: datetime):
    waiting = and_(Notification.status == "pending",
                   or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now))
    abandoned = and_(Notification.status == "sending", Notification.next_attempt_at <= now)
    return and_(Notification.channel != "inapp", or_(waiting, abandoned))


def claim(session, notification_id: int, now: datetime) -> bool:
    """Take one due row for this deliverer; False when another deliverer took it first."""
    result = session.execute(
        update(Notification).where(Notification.id == notification_id, _due(now))
        .values(status="sending", next_attempt_at=now + LEASE, attempts=func.coalesce(Notification.attempts, 0) + 1)
        .execution_options(synchronize_session=False))
    session.commit()
    return result.rowcount == 1


def backoff(attempts: int) -> timedelta:
    """Wait before attempt number `attempts + 1`."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


def deliver_pending(session, app, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send the pending e-mail, webhook and SMS rows that are due, each claimed first; returns
    counts by outcome."""
    now = now or utcnow()
    max_attempts = int(app.config.get("NOTIFY_MAX_ATTEMPTS", 6))
    channels = build_channels(app.config)
    ids = session.execute(select(Notification.id).where(_due(now))
                          .order_by(Notification.created_at, Notification.id).limit(limit)).scalars().all()
    session.commit()  # claim from fresh snapshots (SQLite in WAL mode cannot upgrade a stale one)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for notification_id in ids:
        if not claim(session, notification_id, now):
            continue  # another deliverer has it
        row = session.get(Notification, notification_id, populate_existing=True)
        channel = channels.get(row.channel)
        try:
            if channel is None:
                raise DeliveryError(f"未知的通知渠道：{row.channel}")
            if isinstance(channel, DeliveryError):
                raise channel
            channel.send(row)
        except DeliveryError as exc:
            row.error = f"第 {row.attempts} 次发送失败：{exc}"
            if row.attempts >= max_attempts:
                row.status, row.next_attempt_at = "failed", None
                counts["failed"] += 1
                log.warning("notification %s given up after %s attempts: %s", row.id, row.attempts, exc)
            else:
                row.status, row.next_attempt_at = "pending", now + backoff(row.attempts)
                counts["retry"] += 1
        else:
            row.status, row.sent_at, row.next_attempt_at, row.error = "sent", now, None, None
            counts["sent"] += 1
        session.commit()
    return counts
