"""Storing posts once: each item checked on the way in, new ones kept, copies linked to originals.

An item is unique per source and external id: sending the same batch again stores nothing twice.
A bad item is refused alone, with the reason, and the rest of the batch goes on. Exact copies (the
same cleaned text, from any source) point at the first post with that text; near ones (a repost, an
emoji added) are found by opinion.ingest.dedup. Nothing is lost: a copy is stored too, counted on
its original.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from collectors.base import NormalisedPost
from opinion.errors import BadItemError
from opinion.ingest.dedup import NearDuplicateIndex, link_duplicate
from opinion.models import Post, Source

MAX_TEXT = 100_000          # longer posts are refused, not truncated: nothing is silently cut
FUTURE_TOLERANCE = timedelta(hours=1)
MAX_INT = 2**31 - 1         # the count columns are INTEGER: PostgreSQL refuses anything larger
EARLIEST_YEAR = 2000        # before microblogs: a zero timestamp or a broken clock, not a post
MAX_DEPTH = 64              # nesting of the raw item kept in payload; deeper is an attack, not data
# Put in place of a value nested deeper than MAX_DEPTH by readers that cut it off (the webhook's
# body reader), so the item carrying it is refused alone with the reason.
TOO_DEEP = "\x00opinion:too-deep\x00"


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


def bad_text(value: str) -> str | None:
    """Why `value` cannot be stored as text (a NUL, which PostgreSQL refuses, or half of a UTF-16
    pair, which no encoding can write), or None."""
    if "\x00" in value:
        return "含有空字符（\\u0000）"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "含有不成对的代理字符（如 \\ud800），不是合法的 Unicode 文本"
    return None


def bad_value(value, depth_limit: int = MAX_DEPTH) -> str | None:
    """Why a raw JSON-like value cannot be kept (walked without recursion, so no depth crashes it)."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > depth_limit or current == TOO_DEEP:
            return f"嵌套层数超过 {depth_limit} 层"
        if isinstance(current, str):
            why = bad_text(current)
            if why:
                return why
        elif isinstance(current, float) and not math.isfinite(current):
            return f"含有非有限数值（{current}），JSON 中不允许 Infinity/NaN"
        elif isinstance(current, dict):
            stack.extend((k, depth + 1) for k in current)
            stack.extend((v, depth + 1) for v in current.values())
        elif isinstance(current, (list, tuple)):
            stack.extend((v, depth + 1) for v in current)
    return None


def count_value(name: str, value) -> int:
    """A count field (reposts, likes, followers) as a stored integer, or BadItemError saying why."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadItemError(f"{name} 应为整数，实为 “{value}”")
    if value < 0:
        raise BadItemError(f"{name} 不能为负数（{value}）")
    if value > MAX_INT:
        raise BadItemError(f"{name} 超出范围（{value}，上限 {MAX_INT}）")
    return value


def validate(item: NormalisedPost, now: datetime) -> NormalisedPost:
    """Check one item; raise BadItemError naming the field. Returns the item, times made aware.

    Everything the database would refuse is refused here, item by item, so one bad value never
    fails a whole batch's transaction: text with a NUL or a lone surrogate, counts beyond INTEGER,
    dates before 2000, Infinity, and a raw payload nested deeper than MAX_DEPTH."""
    if not isinstance(item.external_id, str) or not item.external_id.strip():
        raise BadItemError("缺少 id（external_id）")
    for name in ("external_id", "text", "author", "url"):
        value = getattr(item, name)
        why = bad_text(value) if isinstance(value, str) else None
        if why:
            raise BadItemError(f"{'id' if name == 'external_id' else name} {why}")
    if len(item.external_id) > 128:
        raise BadItemError("id 过长（最多 128 个字符）")
    if not isinstance(item.text, str) or not item.text.strip():
        raise BadItemError("正文为空")
    if len(item.text) > MAX_TEXT:
        raise BadItemError(f"正文过长（{len(item.text)} 字，上限 {MAX_TEXT} 字）")
    for name in ("reposts", "comments", "likes", "author_followers"):
        value = getattr(item, name)
        if value is not None or name != "author_followers":
            count_value(name, value)
    if item.created_at is not None:
        if item.created_at.tzinfo is None:
            raise BadItemError("created_at 缺少时区")
        if item.created_at.year < EARLIEST_YEAR:
            # compared by year: an aware year-1 date cannot even be converted to UTC
            raise BadItemError(f"created_at 早于 {EARLIEST_YEAR} 年（{item.created_at.isoformat()}），不可信")
        if item.created_at > now + FUTURE_TOLERANCE:
            raise BadItemError(f"created_at 在未来（{item.created_at.isoformat()}）")
    why = bad_value(item.payload) if item.payload else None
    if why:
        raise BadItemError(f"原始数据{why}")
    return item


def new_items(session, source: Source, items: list[NormalisedPost], now: datetime,
              report: IngestReport) -> list[NormalisedPost]:
    """The items of a batch that are valid and not stored yet; the others go in `report` as
    rejected (with the reason) or duplicate (seen earlier in the batch, or already stored)."""
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
    return list(fresh.values())


def is_stored(session, source: Source, external_id: str) -> bool:
    return session.execute(select(Post.id).where(Post.source_id == source.id,
                                                 Post.external_id == external_id)).first() is not None


def new_post(session, source: Source, item: NormalisedPost, created_at: datetime, now: datetime) -> Post:
    """The post row of an item, exactly as received; the analysis fills in the rest."""
    post = Post(source_id=source.id, external_id=item.external_id, author=item.author,
                author_followers=item.author_followers, url=item.url, raw_text=item.text,
                created_at=created_at, collected_at=now, reposts=item.reposts,
                comments=item.comments, likes=item.likes, payload=item.payload or None)
    session.add(post)
    return post


def text_hash(text: str) -> str:
    """Exact-duplicate key: the cleaned text without spaces and punctuation."""
    key = re.sub(r"[\s\W_]+", "", text).lower()
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


class Copies:
    """Links the posts of one batch to their originals: exact copies through one query for the
    whole batch (copies inside the batch are found as they are stored), near ones through the
    process's near-duplicate index."""

    def __init__(self, session, index: NearDuplicateIndex, texts: list[str]):
        self.session, self.index = session, index
        wanted = {text_hash(t) for t in texts}
        self.first_with = dict(session.execute(select(Post.text_hash, func.min(Post.id))
                                               .where(Post.text_hash.in_(wanted))
                                               .group_by(Post.text_hash)).all()) if wanted else {}

    def link(self, post: Post, tokens: list[str], now: datetime) -> None:
        """Point `post` (its cleaned text set) at its original, if it is a copy."""
        post.text_hash = text_hash(post.text)
        first = self.first_with.get(post.text_hash)
        if isinstance(first, Post):  # an earlier post of this batch, maybe not inserted yet
            if first.id is None:
                self.session.flush()
            first = first.id
        post.duplicate_of_id = first
        link_duplicate(self.session, self.index, post, tokens, now)

    def stored(self, post: Post) -> None:
        """`post` is in the batch: later copies in the batch point at it (by id, once it has one)."""
        self.first_with.setdefault(post.text_hash, post)
