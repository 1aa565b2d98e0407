"""Search over posts by what they say: a post matches when its text contains every word of the
query (words are separated by spaces), whatever the segmenter did with it.

Matching the segmenter's tokens missed posts (梧桐 did not find “老梧桐树”, kept whole by jieba) and
expanding a query word to the dictionary's longer words found the wrong ones (老 brought in 老旧小区
and 养老金). So a query word is looked for in the post's text as a substring, in the spelling
typed, folded to simplified characters (積水 finds 积水) and in traditional characters (积水 finds
積水), case-insensitively for Latin letters.

The substring match reads the text column. On PostgreSQL two GIN indexes on lower(text) answer it
at 10 M posts (opinion.models.posts): a word of 3 characters or more by its trigrams (pg_trgm; every
trigram of the word must be in the post), a word of 1 or 2 characters, which has no trigram, by its
characters (every character must be in the post); LIKE then rechecks the few candidates, so the
result is exactly SQLite's. For a word in most posts the planner walks the created_at index instead
and stops at a page. The total stops counting at COUNT_CAP: counting a word in a million posts would
take seconds, and "more than 10000" is all a reader needs; where even that takes too long the page says so.
"""
from __future__ import annotations

import unicodedata

from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from opinion.models import Post, post_chars
from opinion.nlp.fold import fold, to_traditional

MAX_TERMS = 8
COUNT_CAP = 10000
COUNT_BUDGET_MS = 700
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by statement_timeout
SHORT = 2  # a word this long or shorter has no trigram: the characters index answers it


def query_terms(text: str) -> list[str]:
    """The query's words: split on spaces, folded, without repeats or punctuation-only words."""
    words = (fold(w).strip() for w in text.split())
    return list(dict.fromkeys(w for w in words if w and not all(
        unicodedata.category(c)[0] in "PSZ" for c in w)))[:MAX_TERMS]


def spellings(term: str) -> list[str]:
    """The ways a post may write a query word: as folded (simplified) and in traditional."""
    return list(dict.fromkeys([term.lower(), to_traditional(term).lower()]))


def _contains(spelling: str, dialect: str):
    """lower(text) holds the spelling. On PostgreSQL a short one is asked of the characters index
    too: a single character is in the text exactly when it is among its characters (the index alone
    answers); two must both be there, and LIKE then checks they are side by side."""
    like = func.lower(Post.text).contains(spelling, autoescape=True)
    if dialect != "postgresql" or len(spelling) > SHORT:
        return like
    chars = post_chars().op("@>")(cast(array(list(dict.fromkeys(spelling))), ARRAY(Text)))
    # coalesce: the planner gives an expression it cannot read a fixed 0.5, instead of multiplying
    # LIKE's selectivity into the characters' (both say "the word is there"), which made a common
    # word look rare and sent a count through millions of index entries
    return chars if len(spelling) == 1 else and_(chars, func.coalesce(like, False))


def search_query(terms: list[str], dialect: str = "sqlite"):
    """A select of posts whose text holds every term in one of its spellings; newest first
    (duplicates left out)."""
    query = select(Post).where(Post.duplicate_of_id.is_(None))
    query = query.where(and_(*[or_(*[_contains(v, dialect) for v in spellings(t)]) for t in terms]))
    return query.order_by(Post.created_at.desc(), Post.id.desc())


def search_posts(session, text: str, limit: int = 50, offset: int = 0) -> tuple[list[str], list[Post]]:
    """(the query's words, matching posts). No words (only spaces): no posts."""
    terms = query_terms(text.strip())
    if not terms:
        return [], []
    query = search_query(terms, session.get_bind().dialect.name)
    # the page shows each post's topic: load them in one statement, not one per post
    posts = session.execute(query.options(selectinload(Post.topic)).limit(limit).offset(offset)).scalars().all()
    return terms, posts


def count_posts(session, terms: list[str], cap: int = COUNT_CAP, budget_ms: int = COUNT_BUDGET_MS) -> int | None:
    """How many posts match, counted up to cap + 1 (more than cap: the reader is told so). On
    PostgreSQL None when counting took more than budget_ms: words that are each in a large share of
    the posts make the planner count through the indexes, which at millions of posts takes seconds,
    and the page must not wait for a figure the reader can do without."""
    query = search_query(terms, session.get_bind().dialect.name)
    inner = query.order_by(None).with_only_columns(Post.id).limit(cap + 1).subquery()
    statement = select(func.count()).select_from(inner)
    if session.get_bind().dialect.name != "postgresql":
        return session.execute(statement).scalar()
    try:
        with session.begin_nested():  # SET LOCAL ends with the savepoint when the count is cancelled
            session.execute(sql_text(f"SET LOCAL statement_timeout = {int(budget_ms)}"))
            total = session.execute(statement).scalar()
            session.execute(sql_text("SET LOCAL statement_timeout = DEFAULT"))
            return total
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != QUERY_CANCELED:
            raise
        return None
