"""What the pages and the API read about topics: the hot list, a topic's posts with their repost
waves folded in, and the per-topic figures the read API shows beside each topic.

Reading only; the topic store and the monitors' corrections (edit.py) are what change topics.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, selectinload

from opinion.models import OPEN_CASE_STATUSES, Case, Post, Topic

PRIORITY_RANK = {"normal": 0, "high": 1, "urgent": 2}


def hot_topics(session, active_since: datetime, limit: int = 20) -> list[Topic]:
    """Open topics with a post since `active_since`, hottest first (with their unit loaded)."""
    return session.execute(select(Topic).options(selectinload(Topic.unit))
                           .where(Topic.status == "open", Topic.last_seen_at >= active_since)
                           .order_by(Topic.hot_score.desc(), Topic.id.desc()).limit(limit)).scalars().all()


def latest_posts(session, topic_id: int, limit: int = 100) -> list[Post]:
    """A topic's original posts (not reposts or copies of another), newest first."""
    return session.execute(select(Post).where(Post.topic_id == topic_id, Post.duplicate_of_id.is_(None))
                           .order_by(Post.created_at.desc(), Post.id.desc()).limit(limit)).scalars().all()


def copy_counts(session, topic_id: int) -> dict[int, int]:
    """How many reposts and copies of each original the topic holds, by the original's id."""
    return dict(session.execute(select(Post.duplicate_of_id, func.count())
                                .where(Post.topic_id == topic_id, Post.duplicate_of_id.is_not(None))
                                .group_by(Post.duplicate_of_id)).all())


def posts_with_waves(session, topic_id: int, limit: int = 100) -> tuple[list[Post], dict[int, int]]:
    """A topic's posts newest first, reposts and copy-paste waves folded into their original, and
    the number of copies by the id of the post shown for them.

    A wave whose original sits in another topic shows its first copy here instead, with the count
    of the others, so no wave in the topic goes unseen."""
    posts = latest_posts(session, topic_id, limit)
    original = aliased(Post)
    waves = session.execute(
        select(Post.duplicate_of_id, func.min(Post.id), func.count(), original.topic_id)
        .join(original, original.id == Post.duplicate_of_id)
        .where(Post.topic_id == topic_id)
        .group_by(Post.duplicate_of_id, original.topic_id)).all()
    copies = {orig: n for orig, _, n, topic in waves if topic == topic_id}
    stray = {first: n - 1 for _, first, n, topic in waves if topic != topic_id}
    if stray:
        posts += session.execute(select(Post).where(Post.id.in_(stray))).scalars().all()
        posts = sorted(posts, key=lambda p: p.created_at, reverse=True)[:limit]
        copies.update(stray)
    return posts, copies


def posts_in_topic(session, topic_id: int, post_ids: list[int]) -> list[Post]:
    """Those of the given posts that belong to the topic (a monitor's ticked posts, checked)."""
    return session.execute(select(Post).where(Post.id.in_(post_ids), Post.topic_id == topic_id)).scalars().all()


def emotion_counts(session, topic_ids: list[int]) -> dict[int, Counter]:
    """Each topic's posts counted by emotion, in one grouped query."""
    emotions: dict[int, Counter] = defaultdict(Counter)
    for topic_id, emotion, n in session.execute(
            select(Post.topic_id, Post.emotion, func.count()).where(Post.topic_id.in_(topic_ids),
                                                                    Post.emotion.is_not(None))
            .group_by(Post.topic_id, Post.emotion)):
        emotions[topic_id][emotion] = n
    return emotions


def topic_priorities(session, topic_ids: list[int]) -> list[str | None]:
    """The highest priority among a topic's open cases (a monitor may have changed it), else among
    its posts as routing set it; None for a topic with neither. In the order of `topic_ids`."""
    found: dict[int, str] = {}
    for source in (select(Case.topic_id, Case.priority).where(Case.topic_id.in_(topic_ids),
                                                              Case.status.in_(OPEN_CASE_STATUSES)),
                   select(Post.topic_id, Post.priority).where(Post.topic_id.in_(topic_ids),
                                                              Post.priority.is_not(None))):
        best: dict[int, str] = {}
        for topic_id, priority in session.execute(source.distinct()):
            if PRIORITY_RANK.get(priority, -1) > PRIORITY_RANK.get(best.get(topic_id), -1):
                best[topic_id] = priority
        for topic_id, priority in best.items():
            found.setdefault(topic_id, priority)
    return [found.get(i) for i in topic_ids]
