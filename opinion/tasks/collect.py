"""Collection on a worker: fetch a source here, analyse its new items here, and hand them,
analysed, to the ingest queue in batches.

Fetching and the per-post analysis (cleaning, segmentation, sentiment, emotion, routing,
priority) run on many workers at once: they read one post and nothing else. Topic assignment is
the one stage with shared state (the clusterer holds the open topics in memory), so it and storing
run on the ingest queue, which has exactly one consumer at a time (the worker holding the ingest
lock, opinion.tasks.lock); see README "Scale-out". The analysed entries travel in the message
rather than being stored first: the consumer then writes a post, its analysis, its topic and its
case in one transaction as in process, with no half-done "analysed, not assigned" rows to find
again after a crash, and a redelivered message is simply analysed work done twice, never a post
stored twice (unique per source and external id).
"""
from __future__ import annotations

import dataclasses
from datetime import datetime

from collectors.base import NormalisedPost
from opinion.ingest.schedule import is_due
from opinion.ingest.store import IngestReport, new_items
from opinion.models import Source, utcnow
from opinion.nlp.doc import Doc
from opinion.pipeline.analysis import Entry
from opinion.pipeline.batch import analyse, ingest
from opinion.pipeline.runs import BATCH, run_source
from opinion.tasks.queue import plain


def to_message(item: NormalisedPost) -> dict:
    return plain(dataclasses.asdict(item))


def from_message(data: dict) -> NormalisedPost:
    data = dict(data)
    if data.get("created_at"):
        data["created_at"] = datetime.fromisoformat(data["created_at"])
    return NormalisedPost(**data)


def entry_to_message(entry: Entry) -> dict:
    return plain(dataclasses.asdict(entry))


def entry_from_message(data: dict) -> Entry:
    data = dict(data)
    doc = dict(data.pop("doc"))
    doc["repost_chain"] = [tuple(pair) for pair in doc.get("repost_chain") or []]
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    return Entry(doc=Doc(**doc), **data)


def analyse_and_send(app, session, source: Source, items: list[NormalisedPost], send) -> int:
    """Analyse the items not stored yet (in parallel, on this worker) and send them with their
    analysis to the ingest queue, BATCH at a time; returns how many were sent. Stored or invalid
    items are left out here (the consumer checks again, so a race only costs work)."""
    now = utcnow()
    sent = 0
    for start in range(0, len(items), BATCH):
        fresh = new_items(session, source, items[start:start + BATCH], now, IngestReport())
        if not fresh:
            continue
        entries = analyse(app, fresh, now)
        send(source_id=source.id, items=[to_message(i) for i in fresh],
             entries=[entry_to_message(e) for e in entries])
        sent += len(fresh)
    return sent


def analyse_batch(app, session, source_id: int, items: list[dict]) -> None:
    """The task `analyse_batch` (a webhook push in queue mode): analyse here, on any worker, and
    hand the batch to the ingest queue."""
    source = session.get(Source, source_id)
    if source is None:
        raise LookupError(f"数据源 #{source_id} 已不存在，这批 {len(items)} 条无法入库")
    analyse_and_send(app, session, source, [from_message(i) for i in items],
                     lambda **batch: app.extensions["opinion.task_queue"].send("ingest_batch", **batch))


def collect_source(app, session, source_id: int, send) -> str | None:
    """The task `collect_source`: fetch one due source and send each batch of items to `send`
    (the ingest queue), analysed. A source fault is written on the source page, as in process, and not
    retried here: the source's own back-off decides when it runs again."""
    source = session.get(Source, source_id)
    now = utcnow()
    if source is None or not is_due(source, now):
        return None

    def deliver(items) -> str:
        sent = analyse_and_send(app, session, source, items, send)
        return f"已分析并交给入库队列 {sent} 条（共取到 {len(items)} 条）"
    return run_source(app, source, now, session=session, deliver=deliver)


def ingest_batch(app, session, source_id: int, items: list[dict], entries: list[dict] | None = None
                 ) -> IngestReport:
    """The task `ingest_batch`: assign topics to one analysed batch and store it (idempotent: a
    post is unique per source and external id, so a redelivered batch stores nothing twice). A
    batch sent without `entries` is analysed here too, as before."""
    source = session.get(Source, source_id)
    if source is None:
        raise LookupError(f"数据源 #{source_id} 已不存在，这批 {len(items)} 条无法入库")
    analysed = None if entries is None else {e.id: e for e in map(entry_from_message, entries)}
    return ingest(session, app, source, [from_message(i) for i in items], analysed=analysed)
