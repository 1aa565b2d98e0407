"""Administrators' overrides of the district file, one row per section."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from opinion.models.base import UTCDateTime, db, utcnow

__all__ = ["Setting"]


class Setting(db.Model):
    """An administrator's change to one section of the district file (deadlines, escalation, units…).

    The file stays the shipped default; these rows are laid over it when the app starts and whenever
    `updated_at` moves (opinion.settings.overrides), so configuration changes need no file edit and no restart.
    """

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # a top-level key of district.yaml
    value: Mapped[dict | list] = mapped_column(JSON)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
