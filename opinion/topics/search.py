"""Search over posts by their jieba tokens: the query is cleaned and segmented the same way the
posts were (folded to simplified characters too, so 積水 finds posts about 积水 and the reverse).
A query word also matches the dictionary's longer words that hold it: the district's and the
shipped user words keep "垃圾清运" whole, and a monitor searching 垃圾 means those posts too.

On PostgreSQL the tokens are matched with JSONB containment, which the GIN index
ix_post_tokens_gin answers without reading every post. SQLite has no such index, so there each
token is looked for in the stored JSON text (the serialised token, quotes included, so "积水" does
not match inside "积水点").
"""
from __future__ import annotations

import json

from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from opinion.models import Post
from opinion.nlp.fold import fold

MAX_TOKENS = 8
MAX_ALTERNATIVES = 20   # longer dictionary words tried for one query word


def post_tokens_jsonb():
    """The indexed expression; queries must use exactly this for PostgreSQL to use the index."""
    return cast(Post.tokens, JSONB)


def expand(tokens: list[str], words) -> list[list[str]]:
    """For each query token, itself and the dictionary words that contain it."""
    words = tuple(words)
    return [[t, *[w for w in words if t in w and w != t][:MAX_ALTERNATIVES]]
            for t in list(dict.fromkeys(tokens))[:MAX_TOKENS]]


def search_query(groups: list[list[str]], dialect: str):
    """A select of posts holding, for every group, one of its tokens; newest first (duplicates
    left out). A group is a query word and the longer words that hold it (`expand`)."""
    query = select(Post).where(Post.duplicate_of_id.is_(None))
    if dialect == "postgresql":
        has = lambda t: post_tokens_jsonb().contains([t])
    else:
        text = cast(Post.tokens, Text)
        has = lambda t: text.like(f"%{_like_escape(json.dumps(t))}%", escape="!")
    query = query.where(and_(*[or_(*[has(t) for t in group]) for group in groups]))
    return query.order_by(Post.created_at.desc(), Post.id.desc())


def _like_escape(value: str) -> str:
    return value.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def search_posts(session, segmenter, text: str, limit: int = 50, offset: int = 0
                 ) -> tuple[list[list[str]], list[Post]]:
    """(the query's token groups, matching posts). No tokens (only stopwords or punctuation): no
    posts."""
    tokens = segmenter.segment(fold(text.strip()))
    if not tokens:
        return [], []
    groups = expand(tokens, segmenter.dictionary_words)
    dialect = session.get_bind().dialect.name
    posts = session.execute(search_query(groups, dialect).limit(limit).offset(offset)).scalars().all()
    return groups, posts


def count_posts(session, groups: list[list[str]]) -> int:
    dialect = session.get_bind().dialect.name
    inner = search_query(groups, dialect).order_by(None).with_only_columns(Post.id).subquery()
    return session.execute(select(func.count()).select_from(inner)).scalar()
