"""Alerts the rule engine raises and the notifications that carry them (and the ladder's) to people."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opinion.models.accounts import User
from opinion.models.base import UTCDateTime, db, utcnow
from opinion.models.topics import Topic

__all__ = ["Alert", "Notification", "WebhookDelivery"]


class Alert(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # sensitive_word | negative_surge | burst | ...
    severity: Mapped[str] = mapped_column(String(16), default="warning")  # info|warning|critical
    message: Mapped[str] = mapped_column(Text)
    # The condition's identity: the same condition does not fire again until it clears.
    dedup_key: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open|acknowledged|cleared
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The rule engine (opinion.alerts.engine): when the condition stopped holding, every post it covers
    # (post_id is the first), and the figures behind the reason.
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # dedup_key while the alert is open or acknowledged, NULL once cleared: the database itself
    # keeps one live alert per condition when the ingest and the scheduler evaluate at once.
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    post_ids: Mapped[list | None] = mapped_column(JSON)
    details: Mapped[dict | None] = mapped_column(JSON)
    topic: Mapped[Topic | None] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()


class Notification(db.Model):
    """One message to one person (or address) over one channel: in-app, e-mail, webhook robot, SMS.

    Written first, delivered after (opinion.notify.deliver_pending), so a gateway that is down
    loses nothing: the row stays `pending` or `failed` with its error and is retried.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)  # inapp | email | webhook | sms
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(300))  # e-mail, phone, URL
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alert.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # retry back-off
    user: Mapped[User | None] = relationship()


class WebhookDelivery(db.Model):
    """One case event (an audit event) for one partner system's webhook URL (opinion.notify.webhooks).

    The body is fixed when the event is queued, so every retry sends the same bytes; the pair
    (event, url) is unique, so an event is queued for a URL once.
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("event_id", "url", name="uq_webhook_delivery_event_url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("audit_event.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    event: Mapped[str] = mapped_column(String(40))  # case.created | case.escalated | case.replied | …
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
