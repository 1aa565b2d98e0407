"""The archive of generated reports for leaders (日报, 周报, 专报)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opinion.models.base import UTCDateTime, db

__all__ = ["Report", "SpecialReportNote"]


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


class SpecialReportNote(db.Model):
    """What the analyst writes into a 专报 before it goes to leaders: 研判意见 (the assessment) and
    处置建议 (the recommended handling). One per subject (`case-12` or `topic-7`, the report's key);
    the rest of the report is computed from the records each time it is made."""

    __tablename__ = "special_report_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # case-12 | topic-7
    assessment: Mapped[str] = mapped_column(Text, default="")
    recommendation: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
