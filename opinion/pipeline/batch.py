"""Ingest: store collected posts once, run the pipeline on them, and persist what it found.

A batch is one transaction: posts, their analysis, topics and cases are written together or not at
all, so a crash mid-run loses nothing that was committed and leaves no half-written rows; running
the same input again stores nothing twice (unique source + external id).
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from collectors.base import NormalisedPost
from opinion.cases.lifecycle import open_or_attach
from opinion.errors import BadItemError
from opinion.ingest.dedup import link_duplicate
from opinion.models import Post, Source, Topic, Unit, utcnow
from opinion.pipeline.analysis import Entry, Pipeline
from opinion.settings.district import District

log = logging.getLogger(__name__)
MAX_TEXT = 100_000          # longer posts are refused, not truncated: nothing is silently cut
FUTURE_TOLERANCE = timedelta(hours=1)
_lock = threading.Lock()    # one pipeline (and one clusterer) per process


@dataclass
class IngestReport:
    accepted: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (external id or line, reason)
    analysis_failed: list[tuple[str, str]] = field(default_factory=list)
    cases_opened: int = 0
    history: list[str] = field(default_factory=list)   # too old to answer: stored, but no case
    post_ids: list[int] = field(default_factory=list)  # stored this batch, for the alert rules

    def merge(self, other: "IngestReport") -> None:
        self.accepted += other.accepted
        self.duplicate += other.duplicate
        self.rejected += other.rejected
        self.analysis_failed += other.analysis_failed
        self.cases_opened += other.cases_opened
        self.history += other.history
        self.post_ids += other.post_ids


def validate(item: NormalisedPost, now: datetime) -> NormalisedPost:
    """Check one item; raise BadItemError naming the field. Returns the item, times made aware."""
    if not isinstance(item.external_id, str) or not item.external_id.strip():
        raise BadItemError("缺少 id（external_id）")
    if len(item.external_id) > 128:
        raise BadItemError("id 过长（最多 128 个字符）")
    if not isinstance(item.text, str) or not item.text.strip():
        raise BadItemError("正文为空")
    if len(item.text) > MAX_TEXT:
        raise BadItemError(f"正文过长（{len(item.text)} 字，上限 {MAX_TEXT} 字）")
    if item.created_at is not None:
        if item.created_at.tzinfo is None:
            raise BadItemError("created_at 缺少时区")
        if item.created_at > now + FUTURE_TOLERANCE:
            raise BadItemError(f"created_at 在未来（{item.created_at.isoformat()}）")
    return item


def text_hash(text: str) -> str:
    """Exact-duplicate key: the cleaned text without spaces and punctuation."""
    key = re.sub(r"[\s\W_]+", "", text).lower()
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


class TopicStore:
    """Keeps the process's clusterer in step with the topic rows.

    Topics loaded from the database keep their database key inside the clusterer; topics the
    clusterer creates get a process-unique prefix so two processes never mint the same key.
    """

    STATS_EVERY = 300.0  # seconds between saves of the clusterer's word statistics

    def __init__(self, pipeline: Pipeline, session, dormant_after: timedelta, stats_path=None):

        from opinion.models import AuditEvent
        from opinion.topics.persist import load_stats
        self.pipeline = pipeline
        self.token = hashlib.sha1(f"{id(self)}{utcnow().isoformat()}".encode()).hexdigest()[:8]
        self.stats_path = stats_path
        self._stats_saved = time.monotonic()
        if stats_path:
            load_stats(pipeline.clusterer, stats_path)
        # Monitors' edits up to now are in the states loaded below; later ones are replayed
        # (opinion.topics.edit.sync_edits) before each batch.
        self.edits_seen = session.execute(select(func.max(AuditEvent.id))).scalar() or 0
        since = utcnow() - dormant_after
        for topic in session.execute(select(Topic).where(Topic.status == "open",
                                                         Topic.last_seen_at >= since)).scalars():
            if topic.state:
                pipeline.clusterer.load_topic(topic.key, topic.state, recheck=True)

    def db_key(self, key: str, known: set[str]) -> str:
        return key if key in known else f"{self.token}-{key}"

    def cluster_key(self, db_key: str) -> str:
        """The clusterer's key of a topic row (this process's own topics carry its token)."""
        prefix = f"{self.token}-"
        return db_key[len(prefix):] if db_key.startswith(prefix) else db_key

    def maybe_save_stats(self) -> None:
        from opinion.topics.persist import save_stats
        if self.stats_path and time.monotonic() - self._stats_saved >= self.STATS_EVERY:
            save_stats(self.pipeline.clusterer, self.stats_path)
            self._stats_saved = time.monotonic()


def get_pipeline(app) -> tuple[Pipeline, TopicStore]:
    """The app's one pipeline, built on first use (models and jieba load once per process)."""
    cached = app.extensions.get("opinion.pipeline")
    if cached is None:
        from opinion.models import db
        from opinion.routing import Router
        from opinion.routing.retrain import InstanceClassifier
        district = app.extensions["district"]
        # Routing uses the model retrained from monitors' corrections when the instance has one.
        router = Router(district, classifier=InstanceClassifier(app.instance_path),
                        min_confidence=app.config["ROUTING_MIN_CONFIDENCE"])
        pipeline = Pipeline(district, app.config["SENTIMENT_ENGINE"], router=router,
                            min_confidence=app.config["ROUTING_MIN_CONFIDENCE"])
        store = TopicStore(pipeline, db.session, timedelta(hours=app.config["TOPIC_DORMANT_HOURS"]),
                           stats_path=Path(app.instance_path) / "topics" / "stats.json")
        cached = app.extensions["opinion.pipeline"] = (pipeline, store)
    return cached


def ingest(session, app, source: Source, items: list[NormalisedPost], now: datetime | None = None
           ) -> IngestReport:
    """Store and process one batch for one source, committing once at the end."""
    now = now or utcnow()
    report = IngestReport()
    fresh: dict[str, NormalisedPost] = {}
    for item in items:
        try:
            validate(item, now)
        except BadItemError as exc:
            report.rejected.append((str(item.external_id or "?"), str(exc)))
            continue
        if item.external_id in fresh:
            report.duplicate.append(item.external_id)
        else:
            fresh[item.external_id] = item
    if fresh:
        known = set(session.execute(select(Post.external_id).where(
            Post.source_id == source.id, Post.external_id.in_(list(fresh)))).scalars())
        for ext in known:
            report.duplicate.append(ext)
            del fresh[ext]
    if not fresh:
        return report
    with _lock:
        pipeline, store = get_pipeline(app)
        from opinion.topics.edit import sync_edits
        sync_edits(session, store)  # monitors' merges and moves, from any process, first
        try:
            report.merge(_store_batch(session, app.extensions["district"], pipeline, store, source,
                                      list(fresh.values()), now, history_before(app, now)))
            session.commit()
        except IntegrityError:
            # Another process stored some of these in the meantime: what is there stays, the rest
            # is tried again one by one.
            session.rollback()
            for item in fresh.values():
                report.merge(_retry_one(session, app, source, item, now))
        store.maybe_save_stats()
    _raise_alerts(session, app, report.post_ids, now)
    return report


def _raise_alerts(session, app, post_ids: list[int], now: datetime) -> None:
    """Post rules right after the batch is safe in the database, so an alert follows its post
    within seconds; a failure here is logged and left to the scheduler's pass, never lost posts."""
    from opinion.alerts.engine import evaluate_batch
    if not post_ids:
        return
    try:
        evaluate_batch(session, app, post_ids, now)
        session.commit()
    except Exception:  # noqa: BLE001 - the posts are committed; the scheduler evaluates again
        session.rollback()
        log.exception("alert rules failed after ingest")


def _retry_one(session, app, source, item, now) -> IngestReport:
    exists = session.execute(select(Post.id).where(Post.source_id == source.id,
                                                   Post.external_id == item.external_id)).first()
    if exists:
        return IngestReport(duplicate=[item.external_id])
    pipeline, store = get_pipeline(app)
    report = _store_batch(session, app.extensions["district"], pipeline, store, source, [item], now,
                           history_before(app, now))
    session.commit()
    return report


def history_before(app, now: datetime) -> datetime:
    """Posts made before this are history: stored, analysed and clustered, but never a case (the
    post alert rules have their own, shorter window)."""
    return now - timedelta(hours=float(app.config.get("CASE_MAX_POST_AGE_HOURS", 168)))


def _store_batch(session, district: District, pipeline: Pipeline, store: TopicStore,
                 source: Source, items: list[NormalisedPost], now: datetime,
                 history_cutoff: datetime | None = None) -> IngestReport:
    report = IngestReport()
    entries = [Entry(id=i.external_id, doc=_doc(i.text), created_at=i.created_at or now,
                     author_followers=i.author_followers) for i in items]
    pipeline.run(entries)
    units = {u.code: u for u in session.execute(select(Unit)).scalars()}
    topics: dict[str, Topic] = {}
    stored: list[Post] = []
    # Exact copies (same cleaned text, any source) point at the first post with that text: one
    # query for the whole batch, and copies inside the batch are found as they are stored.
    digests = [None if e.error else text_hash(e.doc.text) for e in entries]
    wanted = {d for d in digests if d}
    first_with = dict(session.execute(select(Post.text_hash, func.min(Post.id))
                                      .where(Post.text_hash.in_(wanted))
                                      .group_by(Post.text_hash)).all()) if wanted else {}
    for item, entry, digest in zip(items, entries, digests):
        post = Post(source_id=source.id, external_id=item.external_id, author=item.author,
                    author_followers=item.author_followers, url=item.url, raw_text=item.text,
                    created_at=entry.created_at, collected_at=now, reposts=item.reposts,
                    comments=item.comments, likes=item.likes, payload=item.payload or None)
        session.add(post)
        stored.append(post)
        report.accepted.append(item.external_id)
        if entry.error:
            post.text = entry.doc.text or item.text
            post.analysis_error = entry.error
            report.analysis_failed.append((item.external_id, entry.error))
            continue
        _fill_analysis(post, entry, units, now)
        post.duplicate_of_id = first_with.get(digest)
        post.text_hash = digest
        link_duplicate(session, store, post, entry.doc.tokens, now)
        topic = _topic_for(session, pipeline, store, topics, entry, post)
        post.topic = topic
        session.flush()
        first_with.setdefault(digest, post.id)
        if history_cutoff is not None and entry.created_at < history_cutoff:
            report.history.append(item.external_id)
            continue
        report.cases_opened += _maybe_open_case(session, district, topic, entry, units, now)
    session.flush()
    report.post_ids = [p.id for p in stored]
    for key, topic in topics.items():
        _refresh_topic(session, pipeline, key, topic, now)
    return report


def _doc(text: str):
    from opinion.nlp.doc import Doc
    return Doc(raw=text)


def _fill_analysis(post: Post, entry: Entry, units: dict[str, Unit], now: datetime) -> None:
    doc = entry.doc
    post.text, post.tokens, post.keywords = doc.text, doc.tokens, doc.keywords
    post.sentiment, post.polarity, post.emotion = doc.sentiment, doc.polarity, doc.emotion
    post.category, post.priority, post.analyzed_at = entry.category, entry.priority, now
    unit = units.get(entry.department or "")
    post.unit_id = unit.id if unit else None


def _topic_for(session, pipeline, store, topics, entry: Entry, post: Post) -> Topic:
    key = entry.topic_key
    if key in topics:
        topic = topics[key]
    else:
        known = {key} if session.execute(select(Topic.id).where(Topic.key == key)).first() else set()
        db_key = store.db_key(key, known)
        topic = session.execute(select(Topic).where(Topic.key == db_key)).scalar_one_or_none()
        while topic is not None and topic.status == "merged" and topic.merged_into_id:
            topic = session.get(Topic, topic.merged_into_id)  # a monitor merged it: it stays merged
        if topic is None:
            topic = Topic(key=db_key, first_seen_at=entry.created_at, last_seen_at=entry.created_at,
                          post_count=0, negative_count=0, hot_score=0.0, status="open",
                          category=entry.category, unit_id=post.unit_id)
            session.add(topic)
            session.flush()
        topics[key] = topic
    topic.post_count = (topic.post_count or 0) + 1
    topic.negative_count = (topic.negative_count or 0) + (entry.doc.polarity == "negative")
    topic.last_seen_at = max(topic.last_seen_at, entry.created_at)
    topic.first_seen_at = min(topic.first_seen_at, entry.created_at)
    if topic.status == "dormant":
        topic.status = "open"
    if not topic.label_locked:
        topic.label = pipeline.clusterer.label(key)[:200]  # a case opened now takes its title from it
    return topic


def _refresh_topic(session, pipeline: Pipeline, key: str, topic: Topic, now: datetime) -> None:
    """Keywords, label, centroid and hot score of a topic after a batch touched it."""
    clusterer = pipeline.clusterer
    state = clusterer.topic(key)
    topic.keywords = list(getattr(state, "keywords", []) or [])[:10]
    if not topic.label_locked:
        topic.label = clusterer.label(key)[:200]
    topic.state = clusterer.export_state(key)
    refresh_hot_score(session, topic, now)


def refresh_hot_score(session, topic: Topic, now: datetime) -> None:
    """The hot score over the 24 hours before `now` (opinion.topics.hot): a topic that goes quiet
    cools down when the scheduler's upkeep recomputes it, instead of keeping its peak."""
    from opinion.topics.hot import hot_score
    # Never before the topic's last post: a batch of history scores as of when it happened.
    ref = max(now, topic.last_seen_at) if topic.last_seen_at else now
    day = timedelta(hours=24)
    recent = (Post.created_at > ref - day) & (Post.created_at <= ref)
    volume, reposts, comments = session.execute(
        select(func.count(), func.coalesce(func.sum(Post.reposts), 0), func.coalesce(func.sum(Post.comments), 0))
        .where(Post.topic_id == topic.id, recent)).one()
    previous = session.execute(select(func.count()).where(
        Post.topic_id == topic.id, Post.created_at <= ref - day, Post.created_at > ref - 2 * day)).scalar()
    followers = session.execute(select(Post.author_followers).where(
        Post.topic_id == topic.id, recent, Post.author_followers.is_not(None))
        .order_by(Post.author_followers.desc()).limit(20)).scalars().all()
    topic.hot_score = round(hot_score(volume, previous, topic.negative_count / max(topic.post_count, 1),
                                      followers, reposts, comments), 2)


def cool_down(session, now: datetime) -> int:
    """Recompute the hot score of every open topic as of `now` (the scheduler's upkeep, after
    quiet topics went dormant); returns how many were recomputed."""
    topics = session.execute(select(Topic).where(Topic.status == "open")).scalars().all()
    for topic in topics:
        refresh_hot_score(session, topic, now)
    return len(topics)


def _maybe_open_case(session, district, topic: Topic, entry: Entry, units, now) -> int:
    """A topic becomes a case for its unit once a post on it is not plainly positive (praise and
    thanks are watched, not answered) or is urgent."""
    if entry.doc.polarity == "positive" and entry.priority != "urgent":
        return 0
    unit = units.get(entry.department or "")
    if topic.unit_id is not None:
        unit = session.get(Unit, topic.unit_id)  # the topic keeps the unit it was first routed to
    if unit is None:
        return 0
    topic.unit_id = unit.id
    topic.category = topic.category or entry.category
    reason = f"{entry.routing_reason}；优先级：{entry.priority_reason}"
    _, new = open_or_attach(session, district, topic, unit, priority=entry.priority or "normal",
                            category=entry.category, reason=reason, now=now)
    return int(new)
