"""Near-duplicate detection: reposts and copy-paste waves linked to their original.

Exact duplicates (the same cleaned text) are found by ingest's text hash. This module catches
the near ones: the same post with an emoji, a #话题#, an @, a "转发" prefix or a word changed. Each
post gets a 64-bit SimHash of its segmented tokens (the `simhash` library); two posts whose
fingerprints differ in at most NEAR_DISTANCE bits are the same text. Posts of the last
WINDOW are kept in the library's bucket index, loaded from the database on first use and then
incrementally (new rows by id), so the web and scheduler processes see each other's posts.
A duplicate is stored (nothing is lost) with duplicate_of_id pointing at the original, whose
duplicate_count goes up: the wave stays visible as a number on the original, not as new posts.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from simhash import Simhash, SimhashIndex
from sqlalchemy import inspect, select

from opinion.models import Post

# Measured on Weibo-style posts: a repost prefix or an emoji moves 0-6 bits, two words changed
# about 6, a different post on the same matter 20 or more.
NEAR_DISTANCE = 6
MIN_TOKENS = 8          # shorter texts ("支持！" "同问") are too alike to call copies
WINDOW = timedelta(days=3)
# The library warns on every lookup in a crowded bucket; a copy-paste wave is exactly that, and
# expected here.
logging.getLogger("simhash").setLevel(logging.ERROR)
REBUILD_AFTER = 200_000  # entries; the index is rebuilt from the window so it never grows unbounded
RELOAD_SECONDS = 2.0     # how stale another process's view may be; one query per batch, not per post


def fingerprint(tokens: list[str] | None) -> Simhash | None:
    """The post's SimHash, or None when it is too short to judge."""
    if not tokens or len(tokens) < MIN_TOKENS:
        return None
    return Simhash(tokens)


def to_hex(fp: Simhash) -> str:
    return f"{fp.value:016x}"


class NearDuplicateIndex:
    """The recent originals' fingerprints, one index per process (the pipeline's runtime keeps it)."""

    def __init__(self):
        self.index = SimhashIndex([], k=NEAR_DISTANCE)
        self.values: dict[int, int] = {}
        self.watermark = 0
        self.pending: list[tuple[Post, Simhash]] = []  # this batch's posts, until they have ids
        self.loaded_at = float("-inf")

    def refresh(self, session, now: datetime) -> None:
        """Take in this process's posts that now have ids, and (at most every RELOAD_SECONDS)
        what other processes stored since the last look."""
        still = []
        for post, fp in self.pending:
            # Read the identity without touching the (possibly expired, detached) instance.
            state = inspect(post)
            if state.key is not None:
                self._add(state.key[1][0], fp.value)
            elif state.pending:
                still.append((post, fp))
            # otherwise its batch was rolled back: nothing to index
        self.pending = still
        if time.monotonic() - self.loaded_at < RELOAD_SECONDS:
            return
        self.loaded_at = time.monotonic()
        if len(self.values) > REBUILD_AFTER:
            self.__init__()
        query = select(Post.id, Post.simhash).where(Post.id > self.watermark, Post.simhash.is_not(None),
                                                    Post.duplicate_of_id.is_(None))
        if not self.watermark:
            query = query.where(Post.collected_at >= now - WINDOW)
        for post_id, value in session.execute(query.order_by(Post.id)):
            self._add(post_id, int(value, 16))
            self.watermark = max(self.watermark, post_id)

    def near_unflushed(self, fp: Simhash) -> bool:
        """Whether a post of this batch not inserted yet (no id) is within NEAR_DISTANCE of `fp`:
        the caller flushes first, so find() sees it as it would with one flush per post."""
        return any(fp.distance(pending) <= NEAR_DISTANCE for post, pending in self.pending
                   if inspect(post).key is None)

    def _add(self, post_id: int, value: int) -> None:
        if post_id not in self.values:
            self.values[post_id] = value
            self.index.add(str(post_id), Simhash(value))

    def find(self, session, fp: Simhash, exclude: int | None = None) -> int | None:
        """The earliest stored post within NEAR_DISTANCE bits, checked against the database (an
        entry from a rolled-back batch is dropped)."""
        for candidate in sorted(int(i) for i in self.index.get_near_dups(fp)):
            if candidate == exclude:
                continue
            row = session.execute(select(Post.simhash).where(Post.id == candidate)).scalar()
            if row is not None and int(row, 16) == self.values[candidate]:
                return candidate
            self.index.delete(str(candidate), Simhash(self.values.pop(candidate)))
        return None


def link_duplicate(session, index: NearDuplicateIndex, post: Post, tokens: list[str] | None, now: datetime) -> None:
    """Fingerprint the post; link it to its original (exact match already set, or a near one) and
    count it on the original. `index` is the process's near-duplicate index."""
    fp = fingerprint(tokens)
    if fp is not None:
        if index.near_unflushed(fp):
            session.flush()  # the batch's posts are inserted together; this one needs an earlier one's id
        index.refresh(session, now)  # before the post has its fingerprint: it must not find itself
        if post.duplicate_of_id is None:
            post.duplicate_of_id = index.find(session, fp, exclude=post.id)
        post.simhash = to_hex(fp)
        if post.duplicate_of_id is None:
            # Only originals go into the index: a wave of ten thousand copies stays one entry, so
            # lookups do not slow down as the wave grows.
            index.pending.append((post, fp))
    if post.duplicate_of_id is not None:
        original = session.get(Post, post.duplicate_of_id)
        if original is not None:
            original.duplicate_count = (original.duplicate_count or 0) + 1
