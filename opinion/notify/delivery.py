"""Sending queued notifications: the scheduler's `deliver_pending`, with retries and back-off.

A row is committed after each attempt, so a crash mid-run neither loses a message nor sends one
twice that the server already took. A failure is written on the row (`error`, `attempts`) and the
row is retried after 1, 2, 4 … minutes (capped at an hour) until NOTIFY_MAX_ATTEMPTS; then it is
`failed` and shows on the admin's list with its last error.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from opinion.errors import DeliveryError
from opinion.models import Notification, utcnow
from opinion.notify.channels import build_channels

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """Wait before attempt number `attempts + 1`."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


def deliver_pending(session, app, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send the pending e-mail, webhook and SMS rows that are due; returns counts by outcome."""
    now = now or utcnow()
    max_attempts = int(app.config.get("NOTIFY_MAX_ATTEMPTS", 6))
    channels = build_channels(app.config)
    rows = session.execute(select(Notification).where(
        Notification.status == "pending", Notification.channel != "inapp",
        or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now))
        .order_by(Notification.created_at, Notification.id).limit(limit)).scalars().all()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for row in rows:
        row.attempts = (row.attempts or 0) + 1
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
                row.next_attempt_at = now + backoff(row.attempts)
                counts["retry"] += 1
        else:
            row.status, row.sent_at, row.next_attempt_at, row.error = "sent", now, None, None
            counts["sent"] += 1
        session.commit()
    return counts
