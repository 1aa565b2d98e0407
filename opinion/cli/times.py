"""Time options (--now, --since, --until): the one place the command line reads a time.

An ISO time without a zone is the district's time (TIMEZONE, Beijing), as an operator types it.
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import click
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


class IsoTime(click.ParamType):
    """An option typed as ISO time: checked when the command line is read, so a wrong value gets
    the usage error in Chinese instead of a traceback; the zone is applied by parse_time later,
    inside the app (the district's zone is its configuration)."""
    name = "ISO 时间"

    def convert(self, value, param, ctx):
        try:
            datetime.fromisoformat(value)
        except (TypeError, ValueError):
            self.fail(f"“{value}” 不是 ISO 时间，应写成 2026-11-23T08:00 或 2026-11-23", param, ctx)
        return value


ISO_TIME = IsoTime()
