"""Telling people: one interface for every channel (in-app, e-mail, webhook robots, SMS).

Callers say who and what; this module writes one Notification row per recipient and channel.
In-app messages are delivered by being written. The other channels are sent by
opinion.notify.delivery.deliver_pending, run by the scheduler, so a slow or broken gateway never blocks the caller
and never loses a message.
"""
from __future__ import annotations

from datetime import datetime

from opinion.models import Notification, User, utcnow

CHANNELS = ("inapp", "email", "webhook", "sms")


def _address(user: User, channel: str) -> str | None:
    if channel == "sms":
        return user.phone
    if channel == "email":
        return getattr(user, "email", None)
    return None


def notify(session, recipients, subject: str, body: str, *, channels=("inapp",), case=None,
           alert=None, now: datetime | None = None) -> list[Notification]:
    """Queue `subject`/`body` for each recipient on each channel; returns the rows written.

    A recipient is a User or a plain address (phone number, e-mail, webhook URL) for channels
    that reach people outside the system. A user with no address for a channel gets an in-app
    row instead, marked with why, so nobody is silently skipped.
    """
    now = now or utcnow()
    rows = []
    for channel in channels:
        if channel not in CHANNELS:
            raise ValueError(f"未知的通知渠道：{channel}")
        for recipient in recipients:
            user = recipient if isinstance(recipient, User) else None
            address = _address(user, channel) if user else str(recipient)
            row = Notification(channel=channel, user_id=user.id if user else None, address=address,
                               subject=subject[:200], body=body, created_at=now,
                               case_id=getattr(case, "id", None), alert_id=getattr(alert, "id", None))
            if channel == "inapp":
                row.status, row.sent_at = "sent", now
            elif user is not None and not address:
                row.channel, row.status, row.sent_at = "inapp", "sent", now
                row.error = f"{user.name} 没有登记{ {'sms': '手机号', 'email': '电子邮箱'}.get(channel, '地址') }，改为站内通知"
            session.add(row)
            rows.append(row)
    return rows

