"""The records: units, people, sources, posts, topics, cases and what happened to them.

Times are stored as UTC and always come back time-zone aware (UTCDateTime), so the same code is
right on SQLite, which keeps no zone, and on PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    cast,
)
from sqlalchemy.dialects.postgresql import JSONB
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
CASE_STATUSES = ("new", "acknowledged", "replied", "resolved", "verified", "closed",
                 "transferred_back", "reopened", "merged")
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
    email: Mapped[str | None] = mapped_column(String(200))  # alert and ladder e-mails
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when an administrator gives the password (a new account, a reset): only its owner should
    # know it, so the next log-in asks for a new one.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unit: Mapped[Unit | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active


class ApiToken(db.Model):
    """A personal API token (API 令牌): a program reading /api/v1 as this user, with their role and unit.

    Only the SHA-256 of the secret is kept; the secret is shown once, when the token is made.
    `prefix` (the secret's first characters) lets the owner tell their tokens apart.
    """

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_api_token_token_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))  # 用途: what the token is for
    token_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship()


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
    # Near-duplicate detection (opinion.dedup): the SimHash of the tokens, in hex, and on an
    # original the number of reposts and copies linked to it.
    simhash: Mapped[str | None] = mapped_column(String(16))
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
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


# Post search (opinion.search) on PostgreSQL: JSONB containment over the jieba tokens, answered by
# this inverted index; SQLite has no equivalent and scans.
Index("ix_post_tokens_gin", cast(Post.tokens, JSONB), postgresql_using="gin").ddl_if(dialect="postgresql")


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
    # The lifecycle (opinion.cases): what was done, the callback, supervision marks, merges.
    resolution_note: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(16))  # satisfied | basic | unsatisfied
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the new resolve clock starts
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by this unit, if reassigned
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    extended_working_days: Mapped[int] = mapped_column(Integer, default=0)  # approved 延期, in all
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)  # 现场督办 mark (level 3)
    special_report: Mapped[bool] = mapped_column(Boolean, default=False)  # 专报批办 mark (level 5)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}  # optimistic locking: two editors, one wins

    topic: Mapped[Topic | None] = relationship()
    unit: Mapped[Unit] = relationship()
    assignee: Mapped[User | None] = relationship()
    replies: Mapped[list["Reply"]] = relationship(back_populates="case", order_by="Reply.created_at")
    co_units: Mapped[list["CaseCoUnit"]] = relationship(back_populates="case", order_by="CaseCoUnit.id")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CASE_STATUSES

    @property
    def published_replies(self) -> list["Reply"]:
        """The public replies; drafts and replies awaiting approval are not shown as answers."""
        return [r for r in self.replies if r.status == "published"]


class Reply(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(32), default="web")
    external_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The composer's workflow (opinion.replies): draft -> pending_approval -> published | rejected.
    # Only a published reply is public and stops the first-response clock.
    status: Mapped[str] = mapped_column(String(20), default="published", index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("reply_template.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)  # why an approver rejected it
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    publish_error: Mapped[str | None] = mapped_column(Text)  # the channel refused; kept to retry
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    case: Mapped[Case] = relationship(back_populates="replies")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])


class ReplyTemplate(db.Model):
    """口径库: an approved reply wording for one unit (or every unit) and one category (or all)."""

    __tablename__ = "reply_template"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)  # NULL: all units
    category: Mapped[str | None] = mapped_column(String(32), index=True)  # NULL: every category
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)  # placeholders {称呼} {话题} {单位} {日期} {承办单位}
    origin: Mapped[str] = mapped_column(String(16), default="manual")  # manual | learned
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    unit: Mapped[Unit | None] = relationship()


class CaseEditLock(db.Model):
    """Who is composing a reply on a case right now; one person at a time, until `expires_at`.

    A row of its own (not a column on Case) so taking and renewing the lock never bumps the case's
    optimistic-locking version under another editor.
    """

    __tablename__ = "case_edit_lock"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship()


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
    # The rule engine (opinion.alerts): when the condition stopped holding, every post it covers
    # (post_id is the first), and the figures behind the reason.
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # dedup_key while the alert is open or acknowledged, NULL once cleared: the database itself
    # keeps one live alert per condition when the ingest and the scheduler evaluate at once.
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    post_ids: Mapped[list | None] = mapped_column(JSON)
    details: Mapped[dict | None] = mapped_column(JSON)
    topic: Mapped[Topic | None] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()


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
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # retry back-off
    user: Mapped[User | None] = relationship()


class Report(db.Model):
    """One generated document for leaders (日报, 周报, 专报), kept as an archive.

    The files live under the instance folder (reports/...); `files` maps a format (html, docx, pdf)
    to its path relative to the instance folder. One row per kind and period: generating the
    same period again replaces the files, so the archive never lists a week twice.
    """

    __table_args__ = (UniqueConstraint("kind", "period", name="uq_report_kind_period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # daily | weekly | special
    period: Mapped[str] = mapped_column(String(32))  # 2026-11-22 | 2026-W47 | case-12 | topic-7
    title: Mapped[str] = mapped_column(String(200), default="")
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|ready|partial|failed
    files: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)  # why a format (or the whole report) failed
    trigger: Mapped[str] = mapped_column(String(16), default="manual")  # manual | schedule | ladder
    generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CaseCoUnit(db.Model):
    """A co-handling unit (协办单位) on a case; the case's own unit is the lead (主办)."""

    __tablename__ = "case_co_unit"
    __table_args__ = (UniqueConstraint("case_id", "unit_id", name="uq_case_co_unit"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    case: Mapped[Case] = relationship(back_populates="co_units")
    unit: Mapped[Unit] = relationship()


class CaseTransfer(db.Model):
    """A unit returning a case it thinks was misrouted (退回), and the monitoring centre's decision.

    Under 首单负责制 the receiving unit keeps the case until the centre reassigns it.
    """

    __tablename__ = "case_transfer"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    from_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    suggested_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|reassigned|sent_back
    to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    from_unit: Mapped[Unit] = relationship(foreign_keys=[from_unit_id])
    suggested_unit: Mapped[Unit | None] = relationship(foreign_keys=[suggested_unit_id])
    to_unit: Mapped[Unit | None] = relationship(foreign_keys=[to_unit_id])
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])


class RoutingCorrection(db.Model):
    """A monitor's decision that a post, topic or case belonged to another unit.

    Routing retrains from these rows (text → to_unit, category), so keep them as decided.
    """

    __tablename__ = "routing_correction"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    from_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    to_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    category: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")  # what routing saw: topic label and posts
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    from_unit: Mapped[Unit | None] = relationship(foreign_keys=[from_unit_id])
    to_unit: Mapped[Unit] = relationship(foreign_keys=[to_unit_id])
    by: Mapped[User | None] = relationship()


class CaseExtension(db.Model):
    """An extension request (延期申请): a unit asks for more working days, a monitor decides."""

    __tablename__ = "case_extension"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    working_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|refused
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])


class Instruction(db.Model):
    """A leader's instruction (批示) on an escalated case; shown on the case, sent to the unit."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author: Mapped[User | None] = relationship()


class DutyShift(db.Model):
    """值班表: who of a unit is on duty from `start_at` to `end_at`.

    `urgent_cover` marks the 24-hour cover: urgent cases go to those people first, at any hour.
    """

    __tablename__ = "duty_shift"
    __table_args__ = (Index("ix_duty_unit_time", "unit_id", "start_at", "end_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    urgent_cover: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit: Mapped[Unit] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Setting(db.Model):
    """An administrator's change to one section of the district file (deadlines, escalation, units…).

    The file stays the shipped default; these rows are laid over it when the app starts and whenever
    `updated_at` moves (opinion.overrides), so configuration changes need no file edit and no restart.
    """

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # a top-level key of district.yaml
    value: Mapped[dict | list] = mapped_column(JSON)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
