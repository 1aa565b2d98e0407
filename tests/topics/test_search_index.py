"""Post search at scale: PostgreSQL answers through the trigram and characters indexes, and finds
exactly what SQLite's LIKE finds, for words of 1, 2 and 3 or more characters."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import insert, text

from opinion.models import Post, utcnow
from opinion.topics.search import count_posts, search_posts, search_query
from tests.factories import make_source

ALPHABET = "积水中山路隧道噪音扰民学校公交垃圾物业停车医院aBc"
QUERIES = ["积", "b", "山路", "Ab", "中山路", "积水中", "路隧道噪", "停车医院aB"]


@pytest.fixture
def seeded(session):
    """400 posts of random characters, every ninth with a query word (in the other case) planted."""
    rnd = random.Random(19)
    source, now = make_source(session), utcnow()
    texts = ["".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(3, 14))) for _ in range(400)]
    texts = [t[:3] + rnd.choice(QUERIES).swapcase() + t[3:] if i % 9 == 0 else t for i, t in enumerate(texts)]
    session.execute(insert(Post), [{"source_id": source.id, "external_id": str(i), "raw_text": t, "text": t,
                                    "created_at": now - timedelta(minutes=i), "collected_at": now,
                                    "reposts": 0, "comments": 0, "likes": 0, "duplicate_count": 0}
                                   for i, t in enumerate(texts)])
    session.commit()
    return texts


@pytest.mark.parametrize("query", QUERIES)
def test_search_finds_what_a_substring_test_finds(session, seeded, query):
    expected = {str(i) for i, t in enumerate(seeded) if query.lower() in t.lower()}
    assert expected, "the seed should hold every query word at least once"
    terms, posts = search_posts(session, query, limit=1000)
    assert {p.external_id for p in posts} == expected
    assert count_posts(session, terms) == len(expected)
    assert count_posts(session, terms, cap=3) == min(len(expected), 4)  # counting stops just past the cap


def _plan(session, statement) -> str:
    conn = session.connection()
    compiled = statement.compile(dialect=conn.dialect)
    rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params).scalars().all()
    return "\n".join(rows)


def _filler(session) -> None:
    """30,000 more posts without the query's characters, so that the words are as rare as in a real table."""
    session.execute(text("INSERT INTO post (source_id, external_id, raw_text, text, created_at, collected_at, reposts,"
                         " comments, likes, duplicate_count) SELECT source_id, 'f' || g, 'xyz' || g, 'xyz' || g,"
                         " created_at, collected_at, 0, 0, 0, 0 FROM post, generate_series(1, 30000) g WHERE post.id ="
                         " (SELECT min(id) FROM post)"))
    session.execute(text("ANALYZE post"))  # statistics, as a maintained database has


@pytest.mark.parametrize("query,index", [("积", "ix_post_text_chars"), ("山路", "ix_post_text_chars"),
                                         ("中山路", "ix_post_text_trgm"), ("路隧道噪", "ix_post_text_trgm")])
def test_postgresql_search_reads_the_text_indexes(app, session, seeded, query, index):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the text indexes exist on PostgreSQL only; SQLite scans with LIKE")
    _filler(session)
    plan = _plan(session, search_query([query], "postgresql").limit(50))
    assert index in plan, plan
    session.rollback()


def test_a_count_that_takes_too_long_is_given_up(app, session, seeded):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the count's time limit is PostgreSQL's statement_timeout")
    _filler(session)
    assert count_posts(session, ["xyz"], cap=10**6, budget_ms=1) is None
    assert session.execute(text("SHOW statement_timeout")).scalar() == "0"  # the limit went with the count
    assert count_posts(session, ["中山路"]) == sum("中山路" in t.lower() for t in seeded)


def test_the_page_says_when_the_count_was_given_up(app, client, session, seeded, monkeypatch):
    from opinion.web import topics as page
    from tests.factories import PASSWORD, make_user
    make_user(session, "monitor1", "monitor", "center")
    client.post("/login", data={"username": "monitor1", "password": PASSWORD})
    monkeypatch.setattr(page, "count_posts", lambda *args, **kwargs: None)
    html = client.get("/monitor/search", query_string={"q": "积"}).get_data(as_text=True)
    assert "未能及时数完" in html and "下一页" in html  # the first page is full: there may be more
