"""Running collectors: fetch a source, ingest what it yields, keep its health on record.

A failing source is marked failing with the error in words and retried later with a growing,
capped back-off; one success brings it back to normal by itself.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Iterator

from sqlalchemy import select

from collectors import SourceNotConfigured, make_collector
from opinion.ingest import ingest
from opinion.models import Source, db, utcnow

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)


def next_run_at(source: Source) -> datetime | None:
    if source.last_run_at is None:
        return None
    interval = timedelta(seconds=source.interval_seconds)
    if source.failure_count:
        interval = min(interval * 2 ** min(source.failure_count, 10), MAX_BACKOFF)
    return source.last_run_at + interval


def is_due(source: Source, now: datetime) -> bool:
    due = next_run_at(source)
    return source.enabled and (due is None or due <= now)


def run_source(app, source: Source, now: datetime | None = None) -> str:
    """Collect one source once; returns a line for the operator. Never raises for source faults."""
    now = now or utcnow()
    state = dict(source.state or {})
    source.last_run_at = now
    try:
        collector = make_collector(source.kind, source.config or {}, state)
        items = list(collector.collect(source.last_success_at))
        report = ingest(db.session, app, source, items, now=now)
    except SourceNotConfigured as exc:
        db.session.rollback()
        return _failed(source, now, f"未配置：{exc}")
    except Exception as exc:  # noqa: BLE001 - the job boundary: a source's fault is shown, not raised
        db.session.rollback()
        log.exception("source %s failed", source.code)
        return _failed(source, now, f"{type(exc).__name__}: {exc}")
    source.state, source.status, source.last_success_at = state, "ok", now
    source.failure_count, source.last_error = 0, None
    db.session.commit()
    return (f"{source.code}: 新增 {len(report.accepted)}，重复 {len(report.duplicate)}，"
            f"拒收 {len(report.rejected)}")


def _failed(source: Source, now: datetime, message: str) -> str:
    source = db.session.merge(source)
    source.last_run_at, source.status, source.last_error = now, "failing", message
    source.failure_count = (source.failure_count or 0) + 1
    db.session.commit()
    return f"{source.code}: 失败（第 {source.failure_count} 次）— {message}"


def collect_sources(app, only: str | None = None, due_only: bool = False,
                    now: datetime | None = None) -> Iterator[str]:
    now = now or utcnow()
    query = select(Source).where(Source.enabled.is_(True)).order_by(Source.code)
    if only:
        query = select(Source).where(Source.code == only)
    sources = db.session.execute(query).scalars().all()
    if only and not sources:
        yield f"没有代码为“{only}”的数据源"
    for source in sources:
        if due_only and not is_due(source, now):
            continue
        yield run_source(app, source, now)
