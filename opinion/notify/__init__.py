"""Telling people: one interface for every channel (in-app, e-mail, webhook robots, SMS).

Callers say who and what; this module writes one Notification row per recipient and channel.
In-app messages are delivered by being written. The other channels are sent by
opinion.notify.delivery.deliver_pending, run by the scheduler, so a slow or broken gateway never blocks the caller
and never loses a message.
"""
from __future__ import annotations

from datetime import datetime

from opinion.models import Notification, NotificationSetting, User, utcnow

CHANNELS = ("inapp", "email", "webhook", "sms")


def _address(user: User, channel: str, setting: NotificationSetting | None = None) -> str | None:
    if channel == "sms":
        return user.phone
    if channel == "email":
        return getattr(user, "email", None)
    if channel == "webhook" and setting is not None:
        return setting.webhook_url or None
    return None


def personal_channels(session, user: User, kind: str | None) -> tuple[tuple[str, ...], NotificationSetting | None]:
    """The channels beyond in-app that `user` asked for this kind of event (通知设置)."""
    setting = session.get(NotificationSetting, user.id) if kind else None
    if setting is None or kind not in (setting.kinds or []):
        return (), setting
    return tuple(c for c in (setting.channels or []) if c in CHANNELS and c != "inapp"), setting


def notify(session, recipients, subject: str, body: str, *, channels=("inapp",), case=None,
           alert=None, kind: str | None = None, now: datetime | None = None) -> list[Notification]:
    """Queue `subject`/`body` for each recipient on each channel; returns the rows written.

    A recipient is a User or a plain address (phone number, e-mail, webhook URL) for channels
    that reach people outside the system. A user with no address for a channel gets an in-app
    row instead, marked with why, so nobody is silently skipped. `kind` (NOTIFICATION_KINDS) names
    the event: a person whose settings ask for it by e-mail or webhook gets it there too.
    """
    now = now or utcnow()
    for channel in channels:
        if channel not in CHANNELS:
            raise ValueError(f"未知的通知渠道：{channel}")
    plan = []  # (recipient, channel, setting)
    for recipient in recipients:
        own, setting = personal_channels(session, recipient, kind) if isinstance(recipient, User) else ((), None)
        for channel in dict.fromkeys((*channels, *own)):
            plan.append((recipient, channel, setting))
    rows = []
    for channel in dict.fromkeys(c for _, c, _ in plan):  # rows in channel order, as before
        for recipient, _, setting in (p for p in plan if p[1] == channel):
            user = recipient if isinstance(recipient, User) else None
            address = _address(user, channel, setting) if user else str(recipient)
            if user is not None and not address and channel not in channels:
                continue  # a personal channel with no address: the in-app row tells them already
            row = Notification(channel=channel, user_id=user.id if user else None, address=address,
                               subject=subject[:200], body=body, created_at=now, kind=kind,
                               case_id=getattr(case, "id", None), alert_id=getattr(alert, "id", None))
            if channel == "inapp":
                row.status, row.sent_at = "sent", now
            elif user is not None and not address:
                row.channel, row.status, row.sent_at = "inapp", "sent", now
                row.error = f"{user.name} 没有登记{ {'sms': '手机号', 'email': '电子邮箱'}.get(channel, '地址') }，改为站内通知"
            session.add(row)
            rows.append(row)
    return rows

