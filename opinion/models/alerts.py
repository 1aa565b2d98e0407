"""Alerts the rule engine raises and the notifications that carry them (and the ladder's) to people."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opinion.models.accounts import User
from opinion.models.base import UTCDateTime, db, utcnow
from opinion.models.topics import Topic

__all__ = ["Alert", "FailedJob", "Notification", "NotificationSetting", "NOTIFICATION_KINDS", "WebhookDelivery"]


class Alert(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # sensitive_word | negative_surge | burst | ...
    severity: Mapped[str] = mapped_column(String(16), default="warning")  # info|warning|critical
    message: Mapped[str] = mapped_column(Text)
    # The condition's identity: the same condition does not fire again until it clears.
    dedup_key: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open|acknowledged|cleared
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"), index=True)  # archiving checks it
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
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alert.id"))
    # What happened (NOTIFICATION_KINDS); NULL for rows written before kinds were recorded.
    kind: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # retry back-off
    user: Mapped[User | None] = relationship()


class FailedJob(db.Model):
    """A queued task (collection, ingest batch, report, delivery, retraining) that failed its last
    retry: kept for the admin's 失败任务 page instead of vanishing into the broker's dead letters.
    `message_id` is the broker's, so a message recorded twice (a redelivery) is one row."""

    __tablename__ = "failed_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    task: Mapped[str] = mapped_column(String(64), index=True)
    queue: Mapped[str] = mapped_column(String(32))
    arguments: Mapped[dict] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str] = mapped_column(Text, default="")
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# The events a person is told about in the notification centre (通知中心), by name.
NOTIFICATION_KINDS = {
    "instruction": "领导批示", "reply_rejected": "回复被退回", "reassigned": "工单改派",
    "transfer_decided": "退回申请结果", "extension_decided": "延期审批结果", "case_assigned": "新工单",
    "deadline": "时限提醒", "rumour_check": "疑似谣言待核实",
    "interview_started": "在线访谈开始", "interview_question": "在线访谈新提问",
}


class NotificationSetting(db.Model):
    """Which events a person also wants outside the system (e-mail, a webhook robot), beside the
    in-app notification centre that always gets every one."""

    __tablename__ = "notification_setting"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    channels: Mapped[list] = mapped_column(JSON, default=list)  # e.g. ["email", "webhook"]
    kinds: Mapped[list] = mapped_column(JSON, default=list)  # NOTIFICATION_KINDS keys; empty: none
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


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
