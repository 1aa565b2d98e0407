"""Topics: the hot issues posts are clustered into, each with its label, keywords and hot score."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opinion.models.accounts import Unit
from opinion.models.base import UTCDateTime, db, utcnow

__all__ = ["Topic"]


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
