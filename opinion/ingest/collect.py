"""A source's runs on record: fetching through its collector, and its health afterwards.

Each run fetches the source's new items (bounded by the HTTP timeouts, so one slow source never
holds the others); the pipeline (opinion.pipeline.runs) stores them. A failing source is marked
failing with the error in words, secrets taken out; a source whose expected update period passes
with nothing new is marked silent (the alert engine's source_silent rule raises the alert).
"""
from __future__ import annotations

import logging
import traceback
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from collectors import CollectorError, RateLimited, SourceNotConfigured, make_collector
from collectors.base import BaseCollector, NormalisedPost
from collectors.redact import redact, secret_values
from opinion.ingest.schedule import expected_period
from opinion.ingest.store import IngestReport
from opinion.models import Post, Source, db

log = logging.getLogger(__name__)
KEEP_REJECTED = 20   # rejected items and warnings shown on the source page, per run


class RunFailed(Exception):
    """The source could not be read this time; the message is for its page, in words."""

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def fetch(source: Source, state: dict) -> tuple[BaseCollector, list[NormalisedPost]]:
    """The source's new items since its last good run, and the collector (for its warnings).
    Raises RunFailed with the reason for anything the source did wrong; `state` is the source's
    cursor, which the collector moves."""
    try:
        collector = make_collector(source.kind, source.config or {}, state)
        return collector, list(collector.collect(source.last_success_at))
    except SourceNotConfigured as exc:
        raise RunFailed(f"未配置：{exc}") from exc
    except RateLimited as exc:
        raise RunFailed(str(exc), retry_after=exc.retry_after) from exc
    except CollectorError as exc:
        raise RunFailed(str(exc)) from exc


def internal_error(source: Source, exc: Exception) -> RunFailed:
    """An unexpected fault during a run: logged with its traceback (secrets taken out), shown in
    words."""
    log.error("source %s failed\n%s", source.code,
              redact("".join(traceback.format_exception(exc)), secret_values(source.config)))
    return RunFailed(f"内部错误 {type(exc).__name__}: {exc}")


def record_success(source: Source, now: datetime, report: IngestReport, state: dict,
                   warnings: list[str]) -> str:
    """Write a good run on the source (committed); returns the line for the operator."""
    source = db.session.merge(source)
    secrets = secret_values(source.config)
    warnings = [redact(w, secrets) for w in warnings]
    state["last_run"] = _run_record(now, report, warnings)
    if report.accepted:
        state["last_new_at"] = now.isoformat()
    source.state, source.status, source.last_success_at, source.last_run_at = state, "ok", now, now
    source.failure_count, source.last_error = 0, None
    _check_silent(source, now)
    db.session.commit()
    line = (f"{source.name}：新增 {len(report.accepted)}，重复 {len(report.duplicate)}，"
            f"拒收 {len(report.rejected)}")
    return line + (f"；注意：{'；'.join(warnings[:3])}" if warnings else "")


def record_received(source: Source, now: datetime, report: IngestReport | None = None) -> None:
    """Write on a push, manual or file source that items arrived (a webhook push, an entry, an
    import): it is working, and the page shows what the last delivery brought. Not committed."""
    source.last_run_at = source.last_success_at = now
    source.status, source.failure_count, source.last_error = "ok", 0, None
    if report is not None:
        state = dict(source.state or {})
        state["last_run"] = _run_record(now, report, [])
        if report.accepted:
            state["last_new_at"] = now.isoformat()
        source.state = state


def record_refusal(source: Source, now: datetime, message: str) -> None:
    """A delivery the source's sender got wrong (bad signature, too big): on its page, where its
    operators look. Not committed."""
    source.last_error = f"{local_time(now)} 拒收推送：{message}"


def _run_record(now: datetime, report: IngestReport, warnings: list[str]) -> dict:
    return {"at": now.isoformat(), "new": len(report.accepted), "duplicate": len(report.duplicate),
            "rejected": [list(r) for r in report.rejected[:KEEP_REJECTED]],
            "rejected_count": len(report.rejected), "warnings": warnings[:KEEP_REJECTED]}


def record_failure(source: Source, now: datetime, message: str, report: IngestReport,
                   retry_after: int | None = None) -> str:
    """Write a failed run on the source (committed): failing, with the error in words and a
    longer back-off; what the source held before stays. Returns the line for the operator."""
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
