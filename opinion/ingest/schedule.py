"""When each pull source runs: its interval and jitter, the back-off of a failing source, and
the period after which a source that brings nothing new counts as silent.

A failing source is retried later with a growing, capped back-off (or when the source's Retry-After
says); one success brings it back to normal by itself. Pure functions of the source row: the
scheduler (opinion.jobs), the source page and the alert rules read them alike.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from collectors import PUSH_KINDS
from opinion.models import Source

MAX_BACKOFF = timedelta(hours=6)


def jitter_seconds(source: Source) -> int:
    """The source's jitter: configured, or a tenth of its interval (at most a minute)."""
    configured = (source.config or {}).get("jitter_seconds")
    return int(configured) if configured is not None else min(60, max(1, source.interval_seconds // 10))


def expected_period(source: Source) -> timedelta | None:
    seconds = (source.config or {}).get("expected_period_seconds")
    return timedelta(seconds=int(seconds)) if seconds else None


def backoff(source: Source) -> timedelta:
    """The wait after the last run: the interval, doubled per consecutive failure, capped."""
    interval = timedelta(seconds=source.interval_seconds)
    if source.failure_count:
        interval = max(interval, min(interval * 2 ** min(source.failure_count, 16), MAX_BACKOFF))
    return interval


def next_run_at(source: Source) -> datetime | None:
    """When the source is next collected (None: at the next scheduler pass); push sources never."""
    if source.kind in PUSH_KINDS or not source.enabled:
        return None
    if source.last_run_at is None:
        return None
    due = source.last_run_at + backoff(source)
    retry_at = (source.state or {}).get("retry_at")
    if retry_at:
        due = max(due, datetime.fromisoformat(retry_at))
    return due


def is_due(source: Source, now: datetime) -> bool:
    if not source.enabled or source.kind in PUSH_KINDS:
        return False
    due = next_run_at(source)
    return due is None or due <= now
