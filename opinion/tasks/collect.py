"""Collection on a worker: fetch a source here, and hand its items to the ingest queue in batches.

Fetching is the part that runs on many workers at once (network, parsing). Storing and analysing
a batch includes topic assignment, the one stage with shared state (each process's clusterer holds
the open topics in memory), so the ingest queue has exactly one consumer at a time (the worker
holding the ingest lock, opinion.tasks.lock); see README "Scale-out".
"""
from __future__ import annotations

import dataclasses
from datetime import datetime

from collectors.base import NormalisedPost
from opinion.ingest.collect import RunFailed, fetch, internal_error, record_failure, record_success
from opinion.ingest.schedule import is_due
from opinion.ingest.store import IngestReport
from opinion.models import Source, utcnow
from opinion.pipeline.batch import ingest
from opinion.pipeline.runs import BATCH
from opinion.tasks.queue import plain


def to_message(item: NormalisedPost) -> dict:
    return plain(dataclasses.asdict(item))


def from_message(data: dict) -> NormalisedPost:
    data = dict(data)
    if data.get("created_at"):
        data["created_at"] = datetime.fromisoformat(data["created_at"])
    return NormalisedPost(**data)


def collect_source(app, session, source_id: int, send) -> str | None:
    """The task `collect_source`: fetch one due source and send each batch of items to `send`
    (the ingest queue). A source fault is written on the source page, as in process, and not
    retried here: the source's own back-off decides when it runs again."""
    source = session.get(Source, source_id)
    now = utcnow()
    if source is None or not is_due(source, now):
        return None
    state = dict(source.state or {})
    state.pop("retry_at", None)
    source.last_run_at = now
    report = IngestReport()
    try:
        collector, items = fetch(source, state)
        for start in range(0, len(items), BATCH):
            send(source_id=source.id, items=[to_message(i) for i in items[start:start + BATCH]])
    except RunFailed as exc:
        session.rollback()
        return record_failure(source, now, str(exc), report, retry_after=exc.retry_after)
    except Exception as exc:  # noqa: BLE001 - as in process: a source's fault is shown, not raised
        session.rollback()
        return record_failure(source, now, str(internal_error(source, exc)), report)
    collector.warnings.append(f"已交给入库队列 {len(items)} 条")
    return record_success(source, now, report, state, collector.warnings)


def ingest_batch(app, session, source_id: int, items: list[dict]) -> IngestReport:
    """The task `ingest_batch`: store and analyse one batch (idempotent: a post is unique per
    source and external id, so a redelivered batch stores nothing twice)."""
    source = session.get(Source, source_id)
    if source is None:
        raise LookupError(f"数据源 #{source_id} 已不存在，这批 {len(items)} 条无法入库")
    return ingest(session, app, source, [from_message(i) for i in items])
