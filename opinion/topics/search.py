"""Search over posts by what they say: a post matches when its text contains every word of the
query (words are separated by spaces), whatever the segmenter did with it.

Matching the segmenter's tokens missed posts (梧桐 did not find “老梧桐树”, kept whole by jieba) and
expanding a query word to the dictionary's longer words found the wrong ones (老 brought in 老旧小区
and 养老金). So a query word is looked for in the post's text as a substring, in the spelling
typed, folded to simplified characters (積水 finds 积水) and in traditional characters (积水 finds
積水), case-insensitively for Latin letters.

The substring match reads the text column; PostgreSQL answers it newest first with the created_at
index and stops at a page, and counting reads every post (a trigram index would spare that).
"""
from __future__ import annotations

import unicodedata

from sqlalchemy import and_, func, or_, select

from opinion.models import Post
from opinion.nlp.fold import fold, to_traditional

MAX_TERMS = 8


def query_terms(text: str) -> list[str]:
    """The query's words: split on spaces, folded, without repeats or punctuation-only words."""
    words = (fold(w).strip() for w in text.split())
    return list(dict.fromkeys(w for w in words if w and not all(
        unicodedata.category(c)[0] in "PSZ" for c in w)))[:MAX_TERMS]


def spellings(term: str) -> list[str]:
    """The ways a post may write a query word: as folded (simplified) and in traditional."""
    return list(dict.fromkeys([term.lower(), to_traditional(term).lower()]))


def search_query(terms: list[str]):
    """A select of posts whose text holds every term in one of its spellings; newest first
    (duplicates left out)."""
    text = func.lower(Post.text)
    query = select(Post).where(Post.duplicate_of_id.is_(None))
    query = query.where(and_(*[or_(*[text.contains(v, autoescape=True) for v in spellings(t)]) for t in terms]))
    return query.order_by(Post.created_at.desc(), Post.id.desc())


def search_posts(session, text: str, limit: int = 50, offset: int = 0) -> tuple[list[str], list[Post]]:
    """(the query's words, matching posts). No words (only spaces): no posts."""
    terms = query_terms(text.strip())
    if not terms:
        return [], []
    posts = session.execute(search_query(terms).limit(limit).offset(offset)).scalars().all()
    return terms, posts


def count_posts(session, terms: list[str]) -> int:
    inner = search_query(terms).order_by(None).with_only_columns(Post.id).subquery()
    return session.execute(select(func.count()).select_from(inner)).scalar()
