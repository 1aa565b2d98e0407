"""Running collectors: fetch a source, ingest what it yields, keep its health on record.

Each pull source runs as its own scheduler job at its own interval with jitter, so sources spread
out and one slow source (bounded by the HTTP timeouts) never holds the others. A failing source is
marked failing with the error in words and retried later with a growing, capped back-off (or when
the source's Retry-After says); one success brings it back to normal by itself. A source whose
expected update period passes with nothing new is marked silent (the alert engine's source_silent
rule raises the alert).
"""
from __future__ import annotations

import logging
import random
import traceback
from datetime import datetime, timedelta
from typing import Iterator
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from collectors import PUSH_KINDS, CollectorError, RateLimited, SourceNotConfigured, make_collector
from collectors.redact import redact, secret_values
from opinion.models import Post, Source, db, utcnow
from opinion.pipeline.batch import IngestReport, ingest

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)
BATCH = 500          # one transaction per batch: a kill mid-feed keeps every finished batch
KEEP_REJECTED = 20   # rejected items and warnings shown on the source page, per run


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


def run_source(app, source: Source, now: datetime | None = None) -> str:
    """Collect one source once; returns a line for the operator. Never raises for source faults."""
    now = now or utcnow()
    state = dict(source.state or {})
    state.pop("retry_at", None)
    source.last_run_at = now
    report = IngestReport()
    try:
        collector = make_collector(source.kind, source.config or {}, state)
        items = list(collector.collect(source.last_success_at))
        for start in range(0, len(items), BATCH):
            report.merge(ingest(db.session, app, source, items[start:start + BATCH], now=now))
    except SourceNotConfigured as exc:
        db.session.rollback()
        return _failed(source, now, f"未配置：{exc}", report)
    except RateLimited as exc:
        db.session.rollback()
        return _failed(source, now, str(exc), report, retry_after=exc.retry_after)
    except CollectorError as exc:
        db.session.rollback()
        return _failed(source, now, str(exc), report)
    except Exception as exc:  # noqa: BLE001 - the job boundary: a source's fault is shown, not raised
        db.session.rollback()
        log.error("source %s failed\n%s", source.code,
                  redact("".join(traceback.format_exception(exc)), secret_values(source.config)))
        return _failed(source, now, f"内部错误 {type(exc).__name__}: {exc}", report)
    source = db.session.merge(source)
    secrets = secret_values(source.config)
    warnings = [redact(w, secrets) for w in collector.warnings]
    state["last_run"] = _run_record(now, report, warnings)
    if report.accepted:
        state["last_new_at"] = now.isoformat()
    source.state, source.status, source.last_success_at = state, "ok", now
    source.failure_count, source.last_error = 0, None
    _check_silent(source, now)
    db.session.commit()
    line = (f"{source.name}：新增 {len(report.accepted)}，重复 {len(report.duplicate)}，"
            f"拒收 {len(report.rejected)}")
    return line + (f"；注意：{'；'.join(warnings[:3])}" if warnings else "")


def _run_record(now: datetime, report: IngestReport, warnings: list[str]) -> dict:
    return {"at": now.isoformat(), "new": len(report.accepted), "duplicate": len(report.duplicate),
            "rejected": [list(r) for r in report.rejected[:KEEP_REJECTED]],
            "rejected_count": len(report.rejected), "warnings": warnings[:KEEP_REJECTED]}


def _failed(source: Source, now: datetime, message: str, report: IngestReport,
            retry_after: int | None = None) -> str:
    source = db.session.merge(source)
    message = redact(message, secret_values(source.config))  # shown to monitors and logged
    state = dict(source.state or {})  # the cursor of the last good run stays as it was
    state["last_run"] = {**_run_record(now, report, []), "error": message}
    if retry_after:
        state["retry_at"] = (now + timedelta(seconds=retry_after)).isoformat()
    source.state = state
    source.last_run_at, source.status, source.last_error = now, "failing", message
    source.failure_count = (source.failure_count or 0) + 1
    db.session.commit()
    return f"{source.name}：失败（第 {source.failure_count} 次）— {message}"


def local_time(at: datetime) -> str:
    """`at` as the district reads it (its time zone, to the minute), for messages on a source."""
    return at.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")


def last_new_at(source: Source) -> datetime | None:
    mark = (source.state or {}).get("last_new_at")
    if mark:
        return datetime.fromisoformat(mark)
    return db.session.execute(select(func.max(Post.collected_at)).where(Post.source_id == source.id)).scalar()


def _check_silent(source: Source, now: datetime) -> None:
    """Mark the source silent, in words, when its expected update period passed with nothing new.

    The "source silent" alert itself is raised (and cleared) by the alert engine's source_silent
    rule, the one place alerts are made, so it is never raised twice or left behind.
    """
    period = expected_period(source)
    since = last_new_at(source) or source.created_at
    if period and since and now - since > period:
        source.status = "silent"
        hours = period.total_seconds() / 3600
        source.last_error = (f"超过预期更新周期（{hours:g} 小时）没有新内容（上次新内容："
                             f"{local_time(since)}），请确认来源是否仍在更新")


def collect_sources(app, only: str | None = None, due_only: bool = False,
                    now: datetime | None = None) -> Iterator[str]:
    """Collect every enabled pull source (or the one named, enabled or not), one line each."""
    now = now or utcnow()
    query = select(Source).where(Source.enabled.is_(True)).order_by(Source.code)
    if only:
        query = select(Source).where(Source.code == only)
    sources = db.session.execute(query).scalars().all()
    if only and not sources:
        yield f"没有代码为“{only}”的数据源"
    for source in sources:
        if source.kind in PUSH_KINDS:
            if only:
                yield f"{source.code}: 推送或人工录入类数据源，无需采集"
            continue
        if due_only and not is_due(source, now):
            continue
        yield run_source(app, source, now)


# --- the scheduler side: one job per pull source ---------------------------------------------

def _job_id(source_id: int) -> str:
    return f"collect:{source_id}"


def collect_one(app, source_id: int) -> None:
    """The scheduler job of one source: run it if it is due (a failing source waits its back-off)."""
    with app.app_context():
        source = db.session.get(Source, source_id)
        if source is None or not is_due(source, utcnow()):
            return
        log.info(run_source(app, source))


def sync_source_jobs(app, scheduler, common: dict) -> None:
    """Give each enabled pull source a job at its own interval and jitter; drop the others.

    Runs every minute, so a source added, edited or disabled on the web page or the command line
    is picked up by the scheduler process without a restart.
    """
    with app.app_context():
        wanted = {}
        for source in db.session.execute(select(Source).where(Source.enabled.is_(True))).scalars():
            if source.kind not in PUSH_KINDS:
                wanted[_job_id(source.id)] = (source.id, source.interval_seconds, jitter_seconds(source))
        db.session.remove()
    for job in scheduler.get_jobs():
        if job.id.startswith("collect:") and job.id not in wanted:
            job.remove()
    for job_id, (source_id, interval, jitter) in wanted.items():
        job = scheduler.get_job(job_id)
        signature = (interval, jitter)
        if job is not None and getattr(job, "kwargs", {}).get("signature") == signature:
            continue
        # A random first delay spreads the sources so they do not all start at once.
        first = utcnow() + timedelta(seconds=random.uniform(0, min(interval, 30)))
        scheduler.add_job(_scheduled, "interval", seconds=max(interval, 10), jitter=jitter,
                          args=[app, source_id], kwargs={"signature": signature}, id=job_id,
                          next_run_time=first, replace_existing=True, **common)


def _scheduled(app, source_id: int, signature=None) -> None:
    try:
        collect_one(app, source_id)
    except Exception:  # noqa: BLE001 - job boundary: log, the next run retries
        log.exception("collection job for source %s failed", source_id)
