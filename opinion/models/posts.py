"""Where posts come from (sources) and the posts themselves, as collected and as analysed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (DDL, JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event,
                        func, literal_column)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opinion.models.base import UTCDateTime, db, utcnow
from opinion.models.topics import Topic

__all__ = ["Source", "Post", "post_chars"]


class Source(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # rss | weibo_api | webhook | file | manual | demo
    url: Mapped[str | None] = mapped_column(String(500))
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=600)
    status: Mapped[str] = mapped_column(String(16), default="never")  # never | ok | failing | silent
    state: Mapped[dict] = mapped_column(JSON, default=dict)  # cursors, ETag, Last-Modified
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Post(db.Model):
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_post_source_external"),
        Index("ix_post_topic_created", "topic_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    author: Mapped[str | None] = mapped_column(String(100))
    author_followers: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(String(1000))
    raw_text: Mapped[str] = mapped_column(Text)  # exactly as received
    text: Mapped[str] = mapped_column(Text, default="")  # cleaned, for display
    text_hash: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reposts: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict | None] = mapped_column(JSON)  # the raw item, for re-parsing later
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"), index=True)
    # Near-duplicate detection (opinion.ingest.dedup): the SimHash of the tokens, in hex, and on an
    # original the number of reposts and copies linked to it.
    simhash: Mapped[str | None] = mapped_column(String(16))
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    tokens: Mapped[list | None] = mapped_column(JSON)
    keywords: Mapped[list | None] = mapped_column(JSON)
    sentiment: Mapped[float | None] = mapped_column(Float)
    polarity: Mapped[str | None] = mapped_column(String(16))
    emotion: Mapped[str | None] = mapped_column(String(16))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))
    category: Mapped[str | None] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    priority: Mapped[str | None] = mapped_column(String(16))
    analysis_error: Mapped[str | None] = mapped_column(Text)  # set when a stage failed; retryable
    analyzed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    source: Mapped[Source] = relationship()
    topic: Mapped[Topic | None] = relationship()


# Substring search (opinion.topics.search) on PostgreSQL, so that it stays under a second at 10 M posts:
# a word of 3 characters or more is looked up by its trigrams (pg_trgm), a word of 1 or 2 characters
# (too short for a trigram) by its characters, each post's characters kept as an array in a GIN index;
# the LIKE on the text then rechecks the candidates. Both are on lower(text), as the search compares.
event.listen(Post.__table__, "before_create", DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))
Index("ix_post_text_trgm", func.lower(Post.text).label("lower_text"), postgresql_using="gin",
      postgresql_ops={"lower_text": "gin_trgm_ops"}).ddl_if(dialect="postgresql")
Index("ix_post_text_chars", func.regexp_split_to_array(func.lower(Post.text), ""),
      postgresql_using="gin").ddl_if(dialect="postgresql")


def post_chars():
    """The expression of ix_post_text_chars, with the '' written into the statement: the planner only
    uses an expression index for the same expression, and a bound parameter is not the same."""
    return func.regexp_split_to_array(func.lower(Post.text), literal_column("''"))
