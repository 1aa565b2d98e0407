"""A batch of collected posts through every stage, in one transaction.

ingest (check, store once, link copies) → nlp, topics, routing (the analysis, opinion.pipeline.analysis)
→ topics (topic rows) → cases (open or attach) → alerts (right after the commit). Each stage does its
own part; this module only calls them in order. Posts, their analysis, topics and cases are written
together or not at all, so a crash mid-run loses nothing that was committed and leaves no
half-written rows; running the same input again stores nothing twice (unique source + external id).
"""
from __future__ import annotations

import copy
import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from collectors.base import NormalisedPost
from opinion.alerts.engine import evaluate_batch
from opinion.cases.lifecycle import follow_topic_merge, open_or_attach
from opinion.ingest.dedup import NearDuplicateIndex
from opinion.ingest.store import Copies, IngestReport, is_stored, new_items, new_post
from opinion.models import CaseCoUnit, Post, Source, Topic, Unit, db, utcnow
from opinion.nlp.doc import Doc
from opinion.pipeline.analysis import ANALYSIS_STAGES, TOPIC_STAGES, Entry, Pipeline
from opinion.routing import Router
from opinion.settings.district import District
from opinion.topics.edit import close_quiet_topics, merge_converged, sync_edits
from opinion.topics.store import TopicStore, cool_down, route_topic

log = logging.getLogger(__name__)
# One pipeline, one clusterer and one duplicate index per process: batches and the topic upkeep take
# turns on them.
_turns = threading.Lock()
# The analysis-only pipeline of a worker (no topic store): its threads take turns on it, since the
# retrained classifier may be swapped under a running batch otherwise.
_analysing = threading.Lock()
# Posts given their late vectors per upkeep (every 5 minutes): ~20 s of encoder time on two cores,
# while the batches wait; a backlog larger than this is worked off over several upkeeps.
REFINE_PER_UPKEEP = 300


def get_pipeline(app) -> tuple[Pipeline, TopicStore]:
    """The app's one pipeline and topic store, built on first use (models and jieba load once per
    process, the open topics are read back from the database)."""
    cached = app.extensions.get("opinion.pipeline")
    if cached is None:
        pipeline = _build_pipeline(app)
        store = TopicStore(pipeline.clusterer, db.session, timedelta(hours=app.config["TOPIC_DORMANT_HOURS"]),
                           stats_path=Path(app.instance_path) / "topics" / "stats.json")
        cached = app.extensions["opinion.pipeline"] = (pipeline, store)
    return cached


def _build_pipeline(app) -> Pipeline:
    # lazy: the classifier needs NumPy and SciPy; loaded with the pipeline
    from opinion.routing.classifier import MATTER_DIR
    from opinion.routing.retrain import InstanceClassifier
    district = app.extensions["district"]
    # Routing uses the model retrained from monitors' corrections when the instance has one.
    router = Router(district, classifier=InstanceClassifier(app.instance_path),
                    matter_classifier=InstanceClassifier(app.instance_path, matters=True)
                    if (MATTER_DIR / "model.npz").exists() else False,
                    min_confidence=app.config["ROUTING_MIN_CONFIDENCE"])
    return Pipeline(district, app.config["SENTIMENT_ENGINE"], router=router,
                    min_confidence=app.config["ROUTING_MIN_CONFIDENCE"])


def analyse(app, items: list[NormalisedPost], now: datetime | None = None) -> list[Entry]:
    """The per-post analysis of a batch (clean … routing, priority), without topic assignment and
    without the database: what a worker does in parallel before the batch goes to the one ingest
    consumer (`ingest(..., analysed=…)`). Its own pipeline, so a worker that never holds the
    ingest lock never loads the open topics."""
    now = now or utcnow()
    pipeline = get_analyser(app)
    entries = [_entry(i, now) for i in items]
    with _analysing:
        pipeline.run(entries, ANALYSIS_STAGES)
    return entries


def get_analyser(app) -> Pipeline:
    """The worker's analysis pipeline, built on first use (a worker calls it at start, so the models
    load before the first batch waits for them)."""
    with _analysing:
        pipeline = app.extensions.get("opinion.analyser")
        if pipeline is None:
            pipeline = app.extensions["opinion.analyser"] = _build_pipeline(app)
    return pipeline


def _entry(item: NormalisedPost, now: datetime) -> Entry:
    return Entry(id=item.external_id, doc=Doc(raw=item.text), created_at=item.created_at or now,
                 author_followers=item.author_followers)


def loaded_topic_store(app) -> TopicStore | None:
    """This process's topic store if it has loaded one (a web process that never ingested has none);
    edits reach other processes' stores through the audit log before their next batch."""
    cached = app.extensions.get("opinion.pipeline")
    return cached[1] if cached else None


def _copy_index(app) -> NearDuplicateIndex:
    return app.extensions.setdefault("opinion.near_duplicates", NearDuplicateIndex())


def ingest(session, app, source: Source, items: list[NormalisedPost], now: datetime | None = None,
           analysed: dict[str, Entry] | None = None) -> IngestReport:
    """Store and process one batch for one source, committing once at the end; then the alert
    rules on what it stored. `analysed`: entries a worker already analysed (by external id), so
    only topic assignment and storing are left to do here; an item without one is analysed here."""
    now = now or utcnow()
    report = IngestReport()
    fresh = new_items(session, source, items, now, report)
    if not fresh:
        return report
    with _turns:
        pipeline, store = get_pipeline(app)
        sync_edits(session, store)  # monitors' merges and moves, from any process, first
        try:
            report.merge(_store_batch(session, app, pipeline, store, source, fresh, now, analysed))
            session.commit()
        except SQLAlchemyError as exc:
            # Another process stored some of these in the meantime (IntegrityError), or the
            # database refused a value validation let through: the batch is tried again item by
            # item, so what is there stays and only the offender is refused, with the reason.
            session.rollback()
            log.warning("batch of %d for %s failed (%s); storing item by item", len(fresh), source.code,
                        type(exc).__name__)
            for item in fresh:
                report.merge(_store_alone(session, app, pipeline, store, source, item, now, analysed))
        store.maybe_save_stats()
    _raise_alerts(session, app, report.post_ids, now)
    return report


def _store_alone(session, app, pipeline: Pipeline, store: TopicStore, source: Source,
                 item: NormalisedPost, now: datetime, analysed: dict[str, Entry] | None = None) -> IngestReport:
    """One item in its own transaction: stored, a duplicate (another process was first), or
    refused with the database's reason in words."""
    if is_stored(session, source, item.external_id):
        return IngestReport(duplicate=[item.external_id])
    try:
        report = _store_batch(session, app, pipeline, store, source, [item], now, analysed)
        session.commit()
        return report
    except SQLAlchemyError as exc:
        session.rollback()
        if isinstance(exc, IntegrityError) and is_stored(session, source, item.external_id):
            return IngestReport(duplicate=[item.external_id])
        log.warning("item %s of %s refused by the database: %s", item.external_id, source.code, exc)
        return IngestReport(rejected=[(item.external_id, f"数据库拒收此条（{_db_reason(exc)}），"
                                                          "请检查其字段取值后重新发送")])


def _db_reason(exc: SQLAlchemyError) -> str:
    """The database's complaint, first line only, without the SQL or the values."""
    cause = getattr(exc, "orig", None) or exc.__cause__ or exc
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return f"{type(cause).__name__}: {text[:200]}"


def _raise_alerts(session, app, post_ids: list[int], now: datetime) -> None:
    """Post rules right after the batch is safe in the database, so an alert follows its post
    within seconds; a failure here is logged and left to the scheduler's pass, never lost posts."""
    if not post_ids:
        return
    try:
        evaluate_batch(session, app, post_ids, now)
        session.commit()
    except Exception:  # noqa: BLE001 - the posts are committed; the scheduler evaluates again
        session.rollback()
        log.exception("alert rules failed after ingest")


def history_before(app, now: datetime) -> datetime:
    """Posts made before this are history: stored, analysed and clustered, but never a case (the
    post alert rules have their own, shorter window)."""
    return now - timedelta(hours=float(app.config.get("CASE_MAX_POST_AGE_HOURS", 168)))


def _store_batch(session, app, pipeline: Pipeline, store: TopicStore, source: Source,
                 items: list[NormalisedPost], now: datetime, analysed: dict[str, Entry] | None = None
                 ) -> IngestReport:
    district = app.extensions["district"]
    history_cutoff = history_before(app, now)
    report = IngestReport()
    if analysed is None:
        entries = [_entry(i, now) for i in items]
        pipeline.run(entries)
    else:
        # Analysed on a worker already: a retried batch (item by item) reuses a fresh copy, since
        # the topic stage of the failed try marked nothing the database kept.
        entries = [copy.deepcopy(analysed[i.external_id]) if i.external_id in analysed else _entry(i, now)
                   for i in items]
        pipeline.run([e for e in entries if e.id not in analysed], ANALYSIS_STAGES)
        pipeline.run(entries, TOPIC_STAGES)
    units = {u.code: u for u in session.execute(select(Unit)).scalars()}
    topics: dict[str, Topic] = {}
    rows = store.rows_for(session, {e.topic_key for e in entries if not e.error and e.topic_key})
    open_cases: dict[str, object] = {}
    stored: list[Post] = []
    copies = Copies(session, _copy_index(app), [e.doc.text for e in entries if not e.error])
    # No flush per post: the batch's posts go in as one INSERT at the end (or when a later post of
    # the batch needs an earlier one's id: a copy of it, a new topic or case), in the order they
    # came, so ids and results are those of one flush per post, with a fraction of the statements.
    with session.no_autoflush:
        for item, entry in zip(items, entries):
            post = new_post(session, source, item, entry.created_at, now)
            stored.append(post)
            report.accepted.append(item.external_id)
            if entry.error:
                post.text = entry.doc.text or item.text
                post.analysis_error = entry.error
                report.analysis_failed.append((item.external_id, entry.error))
                continue
            _record_analysis(post, entry, units, now)
            copies.link(post, entry.doc.tokens, now)
            topic = store.topic_for(session, topics, entry.topic_key, post, rows)
            post.topic = topic
            copies.stored(post)
            if entry.created_at < history_cutoff:
                report.history.append(item.external_id)
                continue
            report.cases_opened += _open_case(session, district, topic, entry, units, now, open_cases)
        session.flush()
    report.post_ids = [p.id for p in stored]
    store.refresh_batch(session, topics, now)
    return report


def _record_analysis(post: Post, entry: Entry, units: dict[str, Unit], now: datetime) -> None:
    doc = entry.doc
    post.text, post.tokens, post.keywords = doc.text, doc.tokens, doc.keywords
    post.sentiment, post.polarity, post.emotion = doc.sentiment, doc.polarity, doc.emotion
    post.category, post.priority, post.analyzed_at = entry.category, entry.priority, now
    unit = units.get(entry.unit or "")
    post.unit_id = unit.id if unit else None


def _open_case(session, district: District, topic: Topic, entry: Entry, units: dict[str, Unit],
               now: datetime, open_cases: dict | None = None) -> int:
    """A topic becomes a case for its unit once a post on it is not plainly positive (praise and
    thanks are watched, not answered) or is urgent."""
    if entry.doc.polarity == "positive" and entry.priority != "urgent":
        return 0
    unit = units.get(entry.unit or "")
    if topic.unit_id is not None:
        unit = session.get(Unit, topic.unit_id)  # the topic keeps the unit it was first routed to
    if unit is None:
        return 0
    route_topic(topic, unit.id, entry.category)
    if topic.id is None:
        session.flush()  # a topic new in this batch: the case is keyed by its id
    reason = f"{entry.routing_reason}；优先级：{entry.priority_reason}"
    case, new = open_or_attach(session, district, topic, unit, priority=entry.priority or "normal",
                               category=entry.category, reason=reason, now=now, open_cases=open_cases)
    if new and unit.code == entry.unit:
        # The catalogue's co-handlers (协办) see the case in their inbox and may reply; the lead
        # unit stays in charge. A topic kept with an earlier unit keeps that case's co-handlers.
        for code in entry.co_units:
            co = units.get(code)
            if co is not None and co.id != unit.id and all(c.unit_id != co.id for c in case.co_units):
                session.add(CaseCoUnit(case=case, unit_id=co.id, added_by_id=None, added_at=now))
    return int(new)


def upkeep_topics(session, app, now: datetime) -> list[tuple[int, int]]:
    """Merge topics whose centroids converged (their cases follow), take quiet topics off the hot
    list and let the others' hot scores cool as of now; committed while the batches wait, since the
    clusterer is theirs too. Returns (kept id, merged id) pairs."""
    with _turns:
        pipeline, store = get_pipeline(app)
        # Posts the live stream placed by words while the encoder was behind get their vectors now.
        store.move_refined(session, pipeline.refine_topics(REFINE_PER_UPKEEP), now)
        merged = merge_converged(session, store, now)
        for keep_id, gone_id in merged:
            follow_topic_merge(session, session.get(Topic, keep_id), session.get(Topic, gone_id), None, now)
        close_quiet_topics(session, timedelta(hours=app.config["TOPIC_DORMANT_HOURS"]), now)
        cool_down(session, now)  # hot means now: scores of topics gone quiet fall
        session.commit()
    return merged
