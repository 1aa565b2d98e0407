"""在线访谈: a leader of a unit meets netizens live, and the questions they sent.

An interview has a public address (`slug`, random, so interviews cannot be counted through the
URL) and moves 预告 → 进行中 → 已结束 → 已发布. A question keeps what the netizen wrote
(`original_text`, for staff only: it may hold a phone or ID number) beside the masked `text`
that every page and the transcript show; the monitors' screening (采用/不采用/合并) and the
leader's office's answer are on the same row, and a question that needs follow-up points at the
case opened for it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opinion.models.accounts import Unit, User
from opinion.models.base import UTCDateTime, db, utcnow
from opinion.models.cases import Case
from opinion.models.posts import Post

__all__ = ["INTERVIEW_STATUSES", "QUESTION_SOURCES", "SCREENING_STATUSES", "Interview", "InterviewQuestion"]

# As stored -> as shown.
INTERVIEW_STATUSES = {"scheduled": "预告", "live": "进行中", "ended": "已结束", "published": "已发布"}
QUESTION_SOURCES = {"form": "公开表单", "webhook": "接口推送", "post": "采集的帖子"}
SCREENING_STATUSES = {"pending": "待筛选", "adopted": "采用", "rejected": "不采用", "merged": "已合并"}


class Interview(db.Model):
    __tablename__ = "interview"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)  # the public page's address
    title: Mapped[str] = mapped_column(String(200))
    guest_name: Mapped[str] = mapped_column(String(64))   # 嘉宾
    guest_title: Mapped[str] = mapped_column(String(100))  # 局长, 街道党工委书记
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    theme: Mapped[str] = mapped_column(Text, default="")   # 主题
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unit: Mapped[Unit] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def status_name(self) -> str:
        return INTERVIEW_STATUSES.get(self.status, self.status)

    @property
    def guest(self) -> str:
        """嘉宾 as the transcript names them: 区住房和城乡建设局局长 王某某."""
        return f"{self.unit.name}{self.guest_title} {self.guest_name}"


class InterviewQuestion(db.Model):
    __tablename__ = "interview_question"
    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interview.id"), index=True)
    text: Mapped[str] = mapped_column(Text)            # masked: what pages and the transcript show
    original_text: Mapped[str] = mapped_column(Text)   # as sent; staff only
    nickname: Mapped[str] = mapped_column(String(64), default="网友")
    source: Mapped[str] = mapped_column(String(16), default="form")  # a key of QUESTION_SOURCES
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))  # source "post"
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    simhash: Mapped[str | None] = mapped_column(String(16))  # for merging near-identical questions
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # SCREENING_STATUSES
    screening_note: Mapped[str | None] = mapped_column(Text)  # why not adopted, or why merged
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("interview_question.id"))
    screened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)  # the follow-up
    interview: Mapped[Interview] = relationship()
    post: Mapped[Post | None] = relationship()
    merged_into: Mapped["InterviewQuestion | None"] = relationship(remote_side=[id])
    screened_by: Mapped[User | None] = relationship(foreign_keys=[screened_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    case: Mapped[Case | None] = relationship()

    @property
    def status_name(self) -> str:
        return SCREENING_STATUSES.get(self.status, self.status)

    @property
    def source_name(self) -> str:
        return QUESTION_SOURCES.get(self.source, self.source)
