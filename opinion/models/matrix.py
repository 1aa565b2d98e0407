"""The 政务微博矩阵: each unit's own official accounts and what those accounts published.

The unit's own posts live in their own table, not in `post`: `post` is what netizens say, and every
row there goes through the pipeline (topics, routing, cases, alerts). A unit's announcement is not a
complaint to route or a topic to cluster; storing it there would open cases on the district's own
voice and swell every "negative share" and volume figure. Here a post belongs to one account, is
unique per account and platform id (a second run stores nothing twice), and keeps its latest
reposts/comments/likes, which the collector refreshes on each run.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opinion.models.accounts import Unit, User
from opinion.models.base import UTCDateTime, db, utcnow
from opinion.models.cases import Case
from opinion.models.topics import Topic

__all__ = ["ACCOUNT_PLATFORMS", "STATEMENT_KINDS", "STATEMENT_STATUSES", "OfficialAccount", "OfficialPost",
           "RUMOUR_VERDICTS", "RumourCheck", "UnitStatement"]

# platform -> the collector that reads it: Weibo through the open API's user_timeline, the
# others through the feed they publish (a 公众号 or Douyin account through an RSS bridge).
ACCOUNT_PLATFORMS = {"weibo": "weibo_api", "wechat": "rss", "douyin": "rss", "web": "rss"}


class OfficialAccount(db.Model):
    __tablename__ = "official_account"
    __table_args__ = (UniqueConstraint("platform", "handle", name="uq_official_account_platform_handle"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))  # weibo | wechat | douyin | web
    handle: Mapped[str] = mapped_column(String(100))   # screen name / 公众号 name / column name
    url: Mapped[str | None] = mapped_column(String(500))
    responsible: Mapped[str | None] = mapped_column(String(64))  # the person who keeps it alive
    responsible_phone: Mapped[str | None] = mapped_column(String(32))
    config: Mapped[dict] = mapped_column(JSON, default=dict)  # uid, access_token, base_url / feed url
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    # The schedule's fields, named as on Source, so opinion.ingest.schedule decides for both.
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="never")  # never | ok | failing
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    followers: Mapped[int | None] = mapped_column(Integer)      # as the platform last said
    posts_total: Mapped[int | None] = mapped_column(Integer)    # the platform's own count
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unit: Mapped[Unit] = relationship()

    @property
    def kind(self) -> str:
        """The collector kind, as a Source's `kind` (the schedule reads it)."""
        return ACCOUNT_PLATFORMS.get(self.platform, "rss")


class OfficialPost(db.Model):
    __tablename__ = "official_post"
    __table_args__ = (UniqueConstraint("account_id", "external_id", name="uq_official_post_account_external"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("official_account.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # figures last refreshed
    reposts: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    account: Mapped[OfficialAccount] = relationship()


# The unit's finding on a suspected rumour, as the 辟谣 forms name it.
RUMOUR_VERDICTS = {"true": "属实", "false": "不实", "partly_false": "部分不实"}


class RumourCheck(db.Model):
    """A topic a monitor suspects is a rumour (疑似谣言), the unit's verification (核实) and, when
    the rumour is untrue, the refutation (辟谣) it published: the link and the time, which is
    where the topic's posts are cut into before and after."""

    __tablename__ = "rumour_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | verified
    note: Mapped[str] = mapped_column(Text, default="")  # why the monitor suspects it
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verdict: Mapped[str | None] = mapped_column(String(16))  # RUMOUR_VERDICTS
    verdict_note: Mapped[str | None] = mapped_column(Text)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refutation_url: Mapped[str | None] = mapped_column(String(1000))
    refutation_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    official_post_id: Mapped[int | None] = mapped_column(ForeignKey("official_post.id"))
    # The published 辟谣 statement the refutation was; None where it was a post the unit's account
    # published on the platform directly (then only the link and official_post say which).
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("unit_statement.id"))
    topic: Mapped[Topic] = relationship()
    unit: Mapped[Unit] = relationship()
    case: Mapped[Case | None] = relationship()
    marked_by: Mapped[User | None] = relationship(foreign_keys=[marked_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    official_post: Mapped[OfficialPost | None] = relationship()
    statement: Mapped[UnitStatement | None] = relationship()


# A unit statement's kind and status, as stored -> as shown.
STATEMENT_KINDS = {"authoritative": "权威发布", "situation": "情况通报", "rumour": "辟谣", "notice": "通知"}
STATEMENT_STATUSES = {"draft": "草稿", "pending_approval": "待审核", "approved": "已审核待发布",
                      "published": "已发布", "failed": "发布失败", "rejected": "已退回"}


class UnitStatement(db.Model):
    """A 统一发布稿: what a unit says in its own voice from one of its accounts, drafted by a
    spokesperson, approved by the unit head or a monitor, then published (now or at `scheduled_at`)."""
    __tablename__ = "unit_statement"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("official_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # a key of STATEMENT_KINDS
    text: Mapped[str] = mapped_column(Text, default="")
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: as soon as approved
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_url: Mapped[str | None] = mapped_column(String(1000))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    account: Mapped[OfficialAccount] = relationship()
    author = relationship("User", foreign_keys=[author_id])
    approver = relationship("User", foreign_keys=[approver_id])

    @property
    def kind_name(self) -> str:
        return STATEMENT_KINDS.get(self.kind, self.kind)

    @property
    def status_name(self) -> str:
        return STATEMENT_STATUSES.get(self.status, self.status)
