"""The report archive: generate a report's files under the instance folder and keep one Report row
per kind and period, so leaders find last Monday's summary where they found the one before.

Files are written to a temporary name and renamed, so a crash never leaves half a document in the
archive; a format that fails (a PDF without Pango) is recorded and the other formats are kept.
"""
from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from opinion.errors import ReportError
from opinion.models import Report, utcnow
from opinion.reports.document import FORMATS, ReportDocument, periodic_document, special_document
from opinion.reports.periods import Period

log = logging.getLogger(__name__)
ARCHIVE_DIR = "reports"


def archive_root() -> Path:
    return Path(current_app.instance_path) / ARCHIVE_DIR


def store(session, document: ReportDocument, *, formats=None, trigger: str = "manual",
          user=None, now: datetime | None = None) -> Report:
    """Write `document` into the archive in `formats` (default: the REPORT_FORMATS setting) and
    record it; returns the Report row."""
    now = now or utcnow()
    formats = formats or current_app.config.get("REPORT_FORMATS") or FORMATS
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ReportError(f"不支持的报告格式 {', '.join(unknown)}（OPINION_REPORT_FORMATS 可选 {', '.join(FORMATS)}）")
    # Render and write the files before the row is touched: a PDF takes seconds, and a pending row
    # would be flushed by the next query, so SQLite's write lock would be held for all that time
    # and a log-in's write would meet "database is locked".
    folder = archive_root() / document.kind
    folder.mkdir(parents=True, exist_ok=True)
    files, errors = {}, []
    for fmt in formats:
        try:
            data = document.render(fmt)
        except ReportError as exc:
            errors.append(f"{fmt}: {exc}")
            continue
        path = folder / f"{document.key}.{fmt}"
        tmp = path.with_suffix(f".{fmt}.part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        files[fmt] = str(path.relative_to(current_app.instance_path))
    report = session.execute(select(Report).where(Report.kind == document.kind,
                                                  Report.period == document.key)).scalar_one_or_none()
    if report is None:
        report = Report(kind=document.kind, period=document.key)
        session.add(report)
    report.title = document.title[:200]
    report.period_start = document.period.start if document.period else None
    report.period_end = document.period.end if document.period else None
    report.case_id, report.topic_id = document.case_id, document.topic_id
    report.files = files
    report.error = "；".join(errors) or None
    report.status = "ready" if not errors else ("partial" if files else "failed")
    report.trigger, report.generated_at = trigger, now
    report.generated_by_id = user.id if user is not None else None
    session.flush()
    return report


def file_path(report: Report, fmt: str) -> Path:
    """The stored file of `report` in `fmt`; ReportError if it was never made or has gone."""
    relative = (report.files or {}).get(fmt)
    if not relative:
        raise ReportError(f"该报告没有 {fmt.upper()} 版本" + (f"（{report.error}）" if report.error else ""))
    path = (Path(current_app.instance_path) / relative).resolve()
    if archive_root().resolve() not in path.parents or not path.is_file():
        raise ReportError(f"报告文件 {relative} 已不存在，请重新生成")
    return path


def generate_periodic(session, period: Period, *, trigger: str = "manual", user=None,
                      now: datetime | None = None) -> Report:
    district = current_app.extensions["district"]
    return store(session, periodic_document(session, district, period, now), trigger=trigger,
                 user=user, now=now)


def generate_special(session, *, case_id: int | None = None, topic_id: int | None = None,
                     trigger: str = "manual", user=None, now: datetime | None = None) -> Report:
    district = current_app.extensions["district"]
    document = special_document(session, district, case_id=case_id, topic_id=topic_id, now=now)
    return store(session, document, trigger=trigger, user=user, now=now)


def archive(session, kind: str | None = None, limit: int = 50) -> list[Report]:
    query = select(Report).order_by(Report.generated_at.desc(), Report.id.desc()).limit(limit)
    if kind:
        query = query.where(Report.kind == kind)
    return session.execute(query).scalars().all()
