"""Cases (工单) and everything done on one: replies, co-units, transfers, extensions, instructions,
edit locks; the reply templates and duty roster they draw on; monitors' routing corrections."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opinion.models.accounts import Unit, User
from opinion.models.base import UTCDateTime, db, utcnow
from opinion.models.topics import Topic

__all__ = ["CASE_STATUSES", "OPEN_CASE_STATUSES", "Case", "Reply", "ReplyTemplate", "CaseEditLock", "CaseCoUnit", "CaseTransfer", "CaseExtension", "Instruction", "DutyShift", "RoutingCorrection", "CaseView", "SurveyLink", "LOOKUP_ALPHABET", "LOOKUP_LENGTH",
           "new_lookup_code"]

CASE_STATUSES = ("new", "acknowledged", "replied", "resolved", "verified", "closed",
                 "transferred_back", "reopened", "merged")
OPEN_CASE_STATUSES = ("new", "acknowledged", "replied", "transferred_back", "reopened")
# 查询码: Crockford's base32 (no I, L, O, U, so a code read out over the phone or copied from a
# screenshot is not mistyped); ten characters are 50 random bits, which nobody guesses at the
# rate the public lookup allows.
LOOKUP_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LOOKUP_LENGTH = 10


def new_lookup_code() -> str:
    return "".join(secrets.choice(LOOKUP_ALPHABET) for _ in range(LOOKUP_LENGTH))


class Case(db.Model):
    """A 工单: one unit's duty to answer one topic, with its deadlines and ladder level."""

    __tablename__ = "cases"  # "case" is an SQL keyword
    __table_args__ = (
        Index("ix_case_unit_status_due", "unit_id", "status", "respond_due_at"),
        Index("ix_case_status_resolve_due", "status", "resolve_due_at"),
        # the console's escalations nobody acknowledged and its count of open escalated cases: a few
        # among hundreds of thousands of cases, found without reading the table
        Index("ix_case_escalated_open", "acknowledge_due_at",
              postgresql_where=sql_text("escalation_level >= 2 AND closed_at IS NULL"),
              sqlite_where=sql_text("escalation_level >= 2 AND closed_at IS NULL")),
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
    # The lifecycle (opinion.cases.lifecycle): what was done, the callback, supervision marks, merges.
    resolution_note: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(16))  # satisfied | basic | unsatisfied
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the new resolve clock starts
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by this unit, if reassigned
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    extended_working_days: Mapped[int] = mapped_column(Integer, default=0)  # approved 延期, in all
    # An extension approved on an overdue case counts from its approval, not from the missed
    # deadline: the resolve deadline is never before this (None: no such extension).
    extended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)  # 现场督办 mark (level 3)
    special_report: Mapped[bool] = mapped_column(Boolean, default=False)  # 专报批办 mark (level 5)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # The citizen's side (opinion.cases.public): the code the reply carries for the public lookup,
    # and a phone number where one is known (an Open311 request, a hotline), for the survey's SMS.
    lookup_code: Mapped[str] = mapped_column(String(LOOKUP_LENGTH), unique=True, index=True,
                                             default=new_lookup_code)
    contact_phone: Mapped[str | None] = mapped_column(String(32))
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
    # The composer's workflow (opinion.cases.replies): draft -> pending_approval -> published | rejected.
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


class CaseView(db.Model):
    """When a person last opened a case: the inbox marks the cases they have not opened (未读)."""

    __tablename__ = "case_view"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, index=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SurveyLink(db.Model):
    """A link to the satisfaction survey (回访) given to the citizen when a case is resolved.

    It works once (`used_at`) and until `expires_at`; the answer is the case's callback, with
    the same effects as a monitor's (opinion.cases.survey).
    """

    __tablename__ = "survey_link"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    satisfaction: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    case: Mapped[Case] = relationship()
