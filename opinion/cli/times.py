"""Time options (--now, --since, --until): the one place the command line reads a time.

An ISO time without a zone is the district's time (TIMEZONE, Beijing), as an operator types it.
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app

from opinion.models import utcnow


def parse_time(value: str | None) -> datetime | None:
    """`value` as an aware UTC datetime; None when it is empty. Raises ValueError if it is not ISO time."""
    if not value:
        return None
    t = datetime.fromisoformat(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
    return t.astimezone(timezone.utc)


def time_or_now(value: str | None) -> datetime:
    """A --now option: `value` parsed, or the present when it is empty. Raises ValueError as parse_time."""
    return parse_time(value) or utcnow()
