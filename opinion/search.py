"""Search over posts by their jieba tokens: the query is cleaned and segmented the same way the
posts were (folded to simplified characters too, so 積水 finds posts about 积水 and the reverse).

On PostgreSQL the tokens are matched with JSONB containment, which the GIN index
ix_post_tokens_gin answers without reading every post. SQLite has no such index, so there each
token is looked for in the stored JSON text (the serialised token, quotes included, so "积水" does
not match inside "积水点").
"""
from __future__ import annotations

import json

from sqlalchemy import Text, and_, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB

from opinion.models import Post
from opinion.nlp.clean import fold

MAX_TOKENS = 8


def post_tokens_jsonb():
    """The indexed expression; queries must use exactly this for PostgreSQL to use the index."""
    return cast(Post.tokens, JSONB)


def search_query(tokens: list[str], dialect: str):
    """A select of posts holding every token, newest first (duplicates left out)."""
    tokens = list(dict.fromkeys(tokens))[:MAX_TOKENS]
    query = select(Post).where(Post.duplicate_of_id.is_(None))
    if dialect == "postgresql":
        query = query.where(post_tokens_jsonb().contains(tokens))
    else:
        text = cast(Post.tokens, Text)
        query = query.where(and_(*[text.like(f"%{_like_escape(json.dumps(t))}%", escape="!")
                                   for t in tokens]))
    return query.order_by(Post.created_at.desc(), Post.id.desc())


def _like_escape(value: str) -> str:
    return value.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def search_posts(session, segmenter, text: str, limit: int = 50, offset: int = 0) -> tuple[list[str], list[Post]]:
    """(the query's tokens, matching posts). No tokens (only stopwords or punctuation): no posts."""
    tokens = segmenter.segment(fold(text.strip()))
    if not tokens:
        return [], []
    dialect = session.get_bind().dialect.name
    posts = session.execute(search_query(tokens, dialect).limit(limit).offset(offset)).scalars().all()
    return tokens, posts


def count_posts(session, tokens: list[str]) -> int:
    dialect = session.get_bind().dialect.name
    inner = search_query(tokens, dialect).order_by(None).with_only_columns(Post.id).subquery()
    return session.execute(select(func.count()).select_from(inner)).scalar()
