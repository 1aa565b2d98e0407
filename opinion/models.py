"""The records: units, people, sources, posts, topics, cases and what happened to them.

Times are stored as UTC and always come back time-zone aware (UTCDateTime), so the same code is
right on SQLite, which keeps no zone, and on PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        TypeDecorator, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

db = SQLAlchemy()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware one")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


ROLES = ("spokesperson", "monitor", "leader", "admin")
ROLE_NAMES = {"spokesperson": "新闻发言人", "monitor": "舆情监测员", "leader": "领导", "admin": "系统管理员"}
PRIORITY_NAMES = {"urgent": "紧急", "high": "重要", "normal": "一般"}
CASE_STATUSES = ("new", "acknowledged", "replied", "resolved", "verified", "closed",
                 "transferred_back", "reopened", "merged")
CASE_STATUS_NAMES = {"new": "待签收", "acknowledged": "已签收", "replied": "已回应", "resolved": "已办结",
                     "verified": "已回访", "closed": "已关闭", "transferred_back": "退回待定",
                     "reopened": "重新办理", "merged": "已合并"}
ACTION_NAMES = {"case.opened": "立案", "case.acknowledged": "签收", "case.replied": "回复",
                "case.resolved": "办结", "case.reminded": "电子催办", "case.escalated": "升级督办",
                "case.priority_raised": "提高优先级"}
OPEN_CASE_STATUSES = ("new", "acknowledged", "replied", "transferred_back", "reopened")


class Unit(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # department | street | centre
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    places: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(UserMixin, db.Model):
    __tablename__ = "users"  # "user" is reserved in PostgreSQL
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    is_unit_head: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unit: Mapped[Unit | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active


class Source(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # rss | weibo_api | webhook | file | manual | demo
    url: Mapped[str | None] = mapped_column(String(500))
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=600)
    status: Mapped[str] = mapped_column(String(16), default="never")  # never | ok | failing | silent
    state: Mapped[dict] = mapped_column(JSON, default=dict)  # cursors, ETag, Last-Modified
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Topic(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # the clusterer's id for it
    label: Mapped[str] = mapped_column(String(200), default="")
    label_locked: Mapped[bool] = mapped_column(Boolean, default=False)  # renamed by a monitor
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[dict] = mapped_column(JSON, default=dict)  # centroid, for rebuilding the clusterer
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open|dormant|merged
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    negative_count: Mapped[int] = mapped_column(Integer, default=0)
    hot_score: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    category: Mapped[str | None] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    unit: Mapped[Unit | None] = relationship()


class Post(db.Model):
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_post_source_external"),
        Index("ix_post_topic_created", "topic_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    author: Mapped[str | None] = mapped_column(String(100))
    author_followers: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(String(1000))
    raw_text: Mapped[str] = mapped_column(Text)  # exactly as received
    text: Mapped[str] = mapped_column(Text, default="")  # cleaned, for display
    text_hash: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reposts: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict | None] = mapped_column(JSON)  # the raw item, for re-parsing later
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"), index=True)
    tokens: Mapped[list | None] = mapped_column(JSON)
    keywords: Mapped[list | None] = mapped_column(JSON)
    sentiment: Mapped[float | None] = mapped_column(Float)
    polarity: Mapped[str | None] = mapped_column(String(16))
    emotion: Mapped[str | None] = mapped_column(String(16))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))
    category: Mapped[str | None] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    priority: Mapped[str | None] = mapped_column(String(16))
    analysis_error: Mapped[str | None] = mapped_column(Text)  # set when a stage failed; retryable
    analyzed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    source: Mapped[Source] = relationship()
    topic: Mapped[Topic | None] = relationship()


class Case(db.Model):
    """A 工单: one unit's duty to answer one topic, with its deadlines and ladder level."""

    __tablename__ = "cases"  # "case" is an SQL keyword
    __table_args__ = (
        Index("ix_case_unit_status_due", "unit_id", "status", "respond_due_at"),
        Index("ix_case_status_resolve_due", "status", "resolve_due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # "topic:unit" while the case is open, NULL after: the database itself keeps one open case
    # per topic and unit, even when two collectors race.
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(20), default="new")
    routing_reason: Mapped[str | None] = mapped_column(Text)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    acknowledge_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    respond_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolve_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}  # optimistic locking: two editors, one wins

    topic: Mapped[Topic | None] = relationship()
    unit: Mapped[Unit] = relationship()
    assignee: Mapped[User | None] = relationship()
    replies: Mapped[list["Reply"]] = relationship(back_populates="case", order_by="Reply.created_at")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CASE_STATUSES


class Reply(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(32), default="web")
    external_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    case: Mapped[Case] = relationship(back_populates="replies")
    author: Mapped[User | None] = relationship()


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
    topic: Mapped[Topic | None] = relationship()


class AuditEvent(db.Model):
    """Append-only: who did what to which record, when, before and after."""

    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64), default="system")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)


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
    user: Mapped[User | None] = relationship()
