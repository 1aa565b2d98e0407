"""Runs that feed the pipeline: a source's collection run and a file import.

Both hand their items to opinion.pipeline.batch in batches, each one transaction, so a run killed
halfway and run again ends with every item stored exactly once.
"""
from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Iterator

from sqlalchemy import select
from tqdm import tqdm

from collectors import PUSH_KINDS
from collectors.base import NormalisedPost
from opinion.ingest.collect import RunFailed, fetch, internal_error, record_failure, record_received, record_success
from opinion.ingest.importer import ImportSummary, RejectedRows, get_or_create_source, read_rows, row_to_post
from opinion.ingest.schedule import is_due
from opinion.ingest.store import IngestReport
from opinion.models import Source, db, utcnow
from opinion.pipeline.batch import ingest

log = logging.getLogger(__name__)
BATCH = 500          # one transaction per batch: a kill mid-feed keeps every finished batch
# ...and at most this much text: analysis holds a batch's tokens and vectors at once, so 500 whole
# articles (a 15 MB feed of long items) took a collection run to ~900 MB. 500 posts of ordinary
# length stay one batch.
BATCH_CHARS = 250_000


def batches(items: list[NormalisedPost], size: int = BATCH, chars: int = BATCH_CHARS
            ) -> Iterator[list[NormalisedPost]]:
    """The items in batches of at most `size` items and about `chars` characters of text (a single
    longer item is a batch of its own). Each batch is taken off `items` as it is handed out, so a
    stored batch's items are freed while the next one is analysed."""
    items.reverse()
    while items:
        batch, total = [], 0
        while items and len(batch) < size and (not batch or total + len(items[-1].text or "") <= chars):
            batch.append(items.pop())
            total += len(batch[-1].text or "")
        yield batch


def run_source(app, source: Source, now: datetime | None = None, *, session=None, deliver=None) -> str:
    """Collect one source once; returns a line for the operator. Never raises for source faults.

    The fetched items are ingested here, batch by batch; a worker passes `deliver(items)` instead,
    which hands them on (analysed, to the ingest queue) and returns a note for the source page."""
    session = session or db.session
    now = now or utcnow()
    state = dict(source.state or {})
    state.pop("retry_at", None)
    source.last_run_at = now
    report = IngestReport()
    try:
        collector, items = fetch(source, state)
        if deliver is None:
            for batch in batches(items):
                report.merge(ingest(session, app, source, batch, now=now))
        else:
            collector.warnings.append(deliver(items))
    except RunFailed as exc:
        session.rollback()
        return record_failure(source, now, str(exc), report, retry_after=exc.retry_after)
    except Exception as exc:  # noqa: BLE001 - the job boundary: a source's fault is shown, not raised
        session.rollback()
        return record_failure(source, now, str(internal_error(source, exc)), report)
    return record_success(source, now, report, state, collector.warnings)


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


def collect_one(app, source_id: int) -> None:
    """The scheduler job of one source: run it if it is due (a failing source waits its back-off)."""
    with app.app_context():
        source = db.session.get(Source, source_id)
        if source is None or not is_due(source, utcnow()):
            return
        log.info(run_source(app, source))


def import_file(app, path: str, source_code: str = "import", fmt: str = "auto",
                mapping: dict[str, str] | None = None, batch: int = 200,
                rejected_path: str | None = None) -> ImportSummary:
    """Import one file into a source (created if missing); returns the summary to show."""
    path_ = Path(path)
    mapping = mapping or {}
    rows, encoding, warning = read_rows(path_, fmt, mapping)
    source = get_or_create_source(source_code)
    summary = ImportSummary(file=path_.name, encoding=encoding, warnings=[warning] if warning else [])
    rejected = RejectedRows(Path(rejected_path) if rejected_path else
                            Path(app.instance_path) / "imports" / f"{path_.stem}.rejected.csv")
    pending: dict[str, tuple[NormalisedPost, int, dict]] = {}
    bar = tqdm(desc="导入", unit="行", file=sys.stderr, disable=None)

    def flush() -> None:
        report = ingest(db.session, app, source, [p for p, _, _ in pending.values()])
        for ext, reason in report.rejected:
            _, line, row = pending[ext]
            rejected.add(line, reason, row)
        report.rejected = [(f"第 {pending[ext][1]} 行（id {ext}）", reason) for ext, reason in report.rejected]
        summary.report.merge(report)
        bar.update(len(pending))
        pending.clear()

    chars = 0
    try:
        for n, row in rows:
            summary.lines += 1
            post = row if isinstance(row, str) else row_to_post(row, mapping)
            if isinstance(post, str):
                summary.report.rejected.append((f"第 {n} 行", post))
                rejected.add(n, post, row if isinstance(row, dict) else None)
                bar.update(1)
                continue
            if post.external_id in pending:  # the same id twice in one batch: the first is kept
                summary.report.duplicate.append(post.external_id)
                continue
            if pending and chars + len(post.text) > BATCH_CHARS:  # long rows: see BATCH_CHARS
                flush()
                chars = 0
            pending[post.external_id] = (post, n, row)
            chars += len(post.text)
            if len(pending) >= batch:
                flush()
                chars = 0
        if pending:
            flush()
    finally:
        bar.close()
        summary.rejected_file = rejected.close()
    record_received(source, utcnow())
    db.session.commit()
    return summary
