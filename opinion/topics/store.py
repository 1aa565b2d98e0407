"""Topic rows kept in step with the process's clusterer: the one writer of the topic table outside
monitors' edits (opinion.topics.edit).

The clusterer (opinion.topics.cluster) works in memory with keys of its own; this module turns its
keys into topic rows, counts each post on its topic, keeps label, keywords, centroid and hot score
current, and reloads the open topics when a process starts.
"""
from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from opinion.models import AuditEvent, Post, Topic, utcnow
from opinion.topics.hot import hot_score
from opinion.topics.persist import load_stats, save_stats


class TopicStore:
    """Keeps the process's clusterer in step with the topic rows.

    Topics loaded from the database keep their database key inside the clusterer; topics the
    clusterer creates get a process-unique prefix so two processes never mint the same key.
    """

    STATS_EVERY = 300.0  # seconds between saves of the clusterer's word statistics

    def __init__(self, clusterer, session, dormant_after: timedelta, stats_path=None):
        self.clusterer = clusterer
        self.token = hashlib.sha1(f"{id(self)}{utcnow().isoformat()}".encode()).hexdigest()[:8]
        self.stats_path = stats_path
        self._stats_saved = time.monotonic()
        if stats_path:
            load_stats(clusterer, stats_path)
        # Monitors' edits up to now are in the states loaded below; later ones are replayed
        # (opinion.topics.edit.sync_edits) before each batch.
        self.edits_seen = session.execute(select(func.max(AuditEvent.id))).scalar() or 0
        since = utcnow() - dormant_after
        for topic in session.execute(select(Topic).where(Topic.status == "open",
                                                         Topic.last_seen_at >= since)).scalars():
            if topic.state:
                clusterer.load_topic(topic.key, topic.state, recheck=True)

    def db_key(self, key: str, known: set[str]) -> str:
        return key if key in known else f"{self.token}-{key}"

    def cluster_key(self, db_key: str) -> str:
        """The clusterer's key of a topic row (this process's own topics carry its token)."""
        prefix = f"{self.token}-"
        return db_key[len(prefix):] if db_key.startswith(prefix) else db_key

    def maybe_save_stats(self) -> None:
        if self.stats_path and time.monotonic() - self._stats_saved >= self.STATS_EVERY:
            save_stats(self.clusterer, self.stats_path)
            self._stats_saved = time.monotonic()

    def rows_for(self, session, keys) -> dict[str, Topic]:
        """The stored topic rows of clusterer keys (under either form of db_key), in one query:
        a batch looks its topics up once instead of twice per topic."""
        wanted = set(keys) | {f"{self.token}-{k}" for k in keys}
        return {t.key: t for t in session.execute(select(Topic).where(Topic.key.in_(wanted))).scalars()} if wanted else {}

    def topic_for(self, session, batch: dict[str, Topic], key: str, post: Post,
                  rows: dict[str, Topic] | None = None) -> Topic:
        """The topic row of clusterer topic `key` (made on its first post), with `post` counted on
        it. `batch` holds the rows this batch touched, for refresh_batch; `rows`, when given, the
        stored rows of the batch's keys (rows_for), read instead of the table. A topic a monitor
        merged stays merged: its posts go to the topic it went into."""
        topic = batch.get(key)
        if topic is None:
            if rows is None:
                rows = self.rows_for(session, [key])
            db_key = self.db_key(key, {key} if key in rows else set())
            topic = rows.get(db_key)
            while topic is not None and topic.status == "merged" and topic.merged_into_id:
                topic = session.get(Topic, topic.merged_into_id)
            if topic is None:
                topic = Topic(key=db_key, first_seen_at=post.created_at, last_seen_at=post.created_at,
                              post_count=0, negative_count=0, hot_score=0.0, status="open",
                              category=post.category, unit_id=post.unit_id)
                session.add(topic)  # inserted with the batch's next flush, before its posts
            batch[key] = topic
        topic.post_count = (topic.post_count or 0) + 1
        topic.negative_count = (topic.negative_count or 0) + (post.polarity == "negative")
        topic.last_seen_at = max(topic.last_seen_at, post.created_at)
        topic.first_seen_at = min(topic.first_seen_at, post.created_at)
        if topic.status == "dormant":
            topic.status = "open"
        if not topic.label_locked:
            topic.label = self.clusterer.label(key)[:200]  # a case opened now takes its title from it
        return topic

    def move_refined(self, session, moves, now: datetime) -> int:
        """Store the clusterer's late moves (TopicClusterer.refine): a post that the live stream
        placed by words while the encoder was behind, and that its vector puts clearly in another
        open topic, goes there; both topics' counts, state and hot scores follow. `moves` are
        (external id, from key, to key). Returns how many stored posts moved."""
        touched: dict[str, Topic] = {}
        moved = 0
        for external_id, from_key, to_key in moves:
            rows = self.rows_for(session, [from_key, to_key])
            source_row = rows.get(self.db_key(from_key, set(rows)))
            target = rows.get(self.db_key(to_key, set(rows)))
            if source_row is None or target is None or target.status == "merged":
                continue
            post = session.execute(select(Post).where(Post.topic_id == source_row.id,
                                                      Post.external_id == str(external_id))
                                   .limit(1)).scalar_one_or_none()
            if post is None:
                continue
            post.topic_id = target.id
            negative = post.polarity == "negative"
            source_row.post_count = max((source_row.post_count or 0) - 1, 0)
            source_row.negative_count = max((source_row.negative_count or 0) - negative, 0)
            target.post_count = (target.post_count or 0) + 1
            target.negative_count = (target.negative_count or 0) + negative
            target.last_seen_at = max(target.last_seen_at, post.created_at)
            touched[from_key], touched[to_key] = source_row, target
            moved += 1
        if touched:
            session.flush()
            self.refresh_batch(session, {k: t for k, t in touched.items()
                                         if k in self.clusterer.topics or k in self.clusterer.retired}, now)
        return moved

    def refresh_batch(self, session, batch: dict[str, Topic], now: datetime) -> None:
        """Keywords, label, centroid and hot score of the topics a batch touched."""
        for key, topic in batch.items():
            state = self.clusterer.topic(key)
            topic.keywords = list(getattr(state, "keywords", []) or [])[:10]
            if not topic.label_locked:
                topic.label = self.clusterer.label(key)[:200]
            topic.state = self.clusterer.export_state(key)
        refresh_hot_scores(session, list(batch.values()), now)


def route_topic(topic: Topic, unit_id: int, category: str | None = None) -> None:
    """The unit the topic was routed to (its first case's, or a monitor's choice in triage): the
    topic's later posts go to the same unit."""
    topic.unit_id = unit_id
    topic.category = topic.category or category


def refresh_hot_score(session, topic: Topic, now: datetime) -> None:
    """The hot score over the 24 hours before `now` (opinion.topics.hot): a topic that goes quiet
    cools down when the scheduler's upkeep recomputes it, instead of keeping its peak."""
    refresh_hot_scores(session, [topic], now)


def refresh_hot_scores(session, topics: list[Topic], now: datetime) -> None:
    """refresh_hot_score for many topics with one query per reference time (a batch's topics
    mostly share one), instead of three per topic: the ingest consumer's cost per batch."""
    day = timedelta(hours=24)
    by_ref: dict[datetime, list[Topic]] = {}
    for topic in topics:
        # Never before the topic's last post: a batch of history scores as of when it happened.
        by_ref.setdefault(max(now, topic.last_seen_at) if topic.last_seen_at else now, []).append(topic)
    for ref, group in by_ref.items():
        recent = (Post.created_at > ref - day) & (Post.created_at <= ref)
        previous = (Post.created_at <= ref - day) & (Post.created_at > ref - 2 * day)
        for start in range(0, len(group), 1000):
            chunk = {t.id: t for t in group[start:start + 1000]}
            figures = {row[0]: row[1:] for row in session.execute(
                select(Post.topic_id, func.sum(case((recent, 1), else_=0)),
                       func.sum(case((recent, Post.reposts), else_=0)), func.sum(case((recent, Post.comments), else_=0)),
                       func.sum(case((previous, 1), else_=0)), func.max(case((recent, Post.author_followers))))
                .where(Post.topic_id.in_(list(chunk)), Post.created_at > ref - 2 * day, Post.created_at <= ref)
                .group_by(Post.topic_id))}
            for topic_id, topic in chunk.items():
                volume, reposts, comments, before, followers = figures.get(topic_id, (0, 0, 0, 0, None))
                # Yesterday's posts count half: a topic still on the hot list (active within the
                # dormancy period) but quiet today cools down instead of showing 0.0 beside its 26 posts.
                topic.hot_score = round(hot_score((volume or 0) + (before or 0) / 2, before or 0,
                                                  topic.negative_count / max(topic.post_count, 1),
                                                  () if followers is None else (followers,),
                                                  reposts or 0, comments or 0), 2)


def cool_down(session, now: datetime) -> int:
    """Recompute the hot score of every open topic as of `now` (the scheduler's upkeep, after
    quiet topics went dormant); returns how many were recomputed."""
    topics = session.execute(select(Topic).where(Topic.status == "open")).scalars().all()
    refresh_hot_scores(session, topics, now)
    return len(topics)
