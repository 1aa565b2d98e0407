"""Topic trends for the monitor's pages: posts per hour and the little sparkline drawn from them.

The sparkline is inline SVG computed here, so the console needs no chart library and no script.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select

from opinion.models import Post


def recent_counts(session, topic_ids: list[int], now: datetime, slots: int = 28,
                  slot: timedelta = timedelta(hours=6)) -> dict[int, list[int]]:
    """Posts per slot for each topic over the last `slots` slots (default: a week in 6-hour
    steps), oldest first. Duplicates count: a copied post is still somebody spreading the story.
    """
    if not topic_ids:
        return {}
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - slots * slot
    rows = session.execute(select(Post.topic_id, Post.created_at)
                           .where(Post.topic_id.in_(topic_ids), Post.created_at >= start)).all()
    series = {tid: [0] * slots for tid in topic_ids}
    for tid, created in rows:
        index = int((created - start) / slot)
        if 0 <= index < slots:
            series[tid][index] += 1
    return series


def topic_timeline(session, topic_id: int, first: datetime, last: datetime,
                   max_points: int = 48) -> tuple[list[int], timedelta]:
    """Posts of one topic over its whole life in at most `max_points` equal slots; (counts, slot)."""
    span = max(last - first, timedelta(hours=1))
    slot = max(timedelta(hours=1), span / max_points)
    counts = [0] * (int(span / slot) + 1)
    for (created,) in session.execute(select(Post.created_at).where(Post.topic_id == topic_id)):
        index = int((created - first) / slot)
        if 0 <= index < len(counts):
            counts[index] += 1
    return counts, slot


def emotion_mix(session, topic_id: int) -> list[tuple[str, int]]:
    """(emotion, posts) for one topic, most frequent first; posts not yet analysed are left out."""
    rows = session.execute(select(Post.emotion, func.count()).where(Post.topic_id == topic_id,
                                                                    Post.emotion.is_not(None))
                           .group_by(Post.emotion)).all()
    return Counter(dict(rows)).most_common()


def sparkline_points(counts: list[int], width: int = 120, height: int = 28, pad: int = 2) -> str:
    """SVG polyline points for `counts`, scaled to the box; a flat line when nothing happened."""
    if not counts:
        return ""
    top = max(counts) or 1
    step = (width - 2 * pad) / max(len(counts) - 1, 1)
    return " ".join(f"{pad + i * step:.1f},{height - pad - (c / top) * (height - 2 * pad):.1f}"
                    for i, c in enumerate(counts))
