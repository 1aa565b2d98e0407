"""Times the spokesperson inbox and the monitor console over a large database.

Fills a fresh database (SQLite file by default, or --url postgresql+psycopg://...) with --posts posts
(default 1,000,000) and --cases cases (default 50,000) by bulk Core inserts, then requests each page
through the app several times and prints the median and worst time. Target: <= 300 ms.

    python bench/bench_pages.py                      # SQLite in a temporary folder
    python bench/bench_pages.py --url postgresql+psycopg://postgres@127.0.0.1/bench_pages
    OPINION_INSTANCE_DIR=/tmp/x python bench/bench_pages.py --skip-fill   # time again, no refill
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 20000
WORDS = ["中山路", "积水", "隧道", "噪音", "扰民", "学校", "拖欠工资", "公交", "垃圾", "物业", "停车", "医院"]


def fill(db, session, posts: int, cases: int) -> None:
    """Bulk-insert topics, posts, cases and alerts in chunks (Core inserts, one commit a chunk)."""
    from sqlalchemy import insert, select

    from opinion.models import Alert, Case, Post, Source, Topic, Unit, utcnow
    now = utcnow()
    rnd = random.Random(7)
    units = session.execute(select(Unit.id)).scalars().all()
    source = Source(code="bench", name="基准", kind="file", config={}, state={})
    session.add(source)
    session.commit()
    n_topics = max(posts // 200, 1)
    session.execute(insert(Topic), [{"key": f"t{i}", "label": f"话题{i} {rnd.choice(WORDS)}", "keywords": WORDS[:3],
                                     "state": {}, "status": "open" if i % 5 == 0 else "dormant",
                                     "post_count": 200, "negative_count": rnd.randint(0, 200),
                                     "hot_score": rnd.random() * 100, "unit_id": rnd.choice(units),
                                     "first_seen_at": now - timedelta(days=30), "last_seen_at": now - timedelta(minutes=i % 1440)}
                                    for i in range(n_topics)])
    session.commit()
    topic_ids = session.execute(select(Topic.id)).scalars().all()
    started = time.monotonic()
    for start in range(0, posts, CHUNK):
        rows = []
        for i in range(start, min(start + CHUNK, posts)):
            tokens = rnd.sample(WORDS, 3)
            rows.append({"source_id": source.id, "external_id": str(i), "raw_text": "".join(tokens), "text": "".join(tokens),
                         "created_at": now - timedelta(seconds=rnd.randint(0, 30 * 86400)), "collected_at": now,
                         "topic_id": rnd.choice(topic_ids), "tokens": tokens, "polarity": "negative", "emotion": "anger"})
        session.execute(insert(Post), rows)
        session.commit()
    print(f"posts: {posts} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    statuses = ["new", "acknowledged", "replied", "resolved", "closed", "verified"]
    for start in range(0, cases, CHUNK):
        rows = []
        for i in range(start, min(start + CHUNK, cases)):
            created = now - timedelta(hours=rnd.randint(0, 60 * 24))
            rows.append({"topic_id": topic_ids[i % len(topic_ids)], "unit_id": units[i % len(units)], "title": f"工单{i}",
                         "priority": rnd.choice(["urgent", "high", "normal"]), "status": rnd.choice(statuses),
                         "acknowledge_due_at": created + timedelta(hours=2), "respond_due_at": created + timedelta(hours=24),
                         "resolve_due_at": created + timedelta(days=5), "created_at": created, "updated_at": created,
                         "version": 1, "escalation_level": rnd.choice([0, 0, 1, 2])})
        session.execute(insert(Case), rows)
        session.commit()
    session.execute(insert(Alert), [{"kind": "burst", "severity": "warning", "message": f"预警{i}", "dedup_key": f"b{i}",
                                     "status": "open" if i % 3 else "acknowledged", "created_at": now - timedelta(minutes=i)}
                                    for i in range(2000)])
    session.commit()


def timed(client, path: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-fill", action="store_true", help="time the pages of a database filled before")
    args = parser.parse_args()
    folder = os.environ.setdefault("OPINION_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-pages-"))
    from opinion import create_app
    from opinion.accounts.directory import sync_units
    from opinion.models import db
    from tests.factories import PASSWORD, make_user
    url = args.url or f"sqlite:///{folder}/bench.db"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        if not args.skip_fill:
            db.drop_all()
            db.create_all()
            sync_units(db.session, app.extensions["district"])
            db.session.commit()
            make_user(db.session, "slj_fyr", "spokesperson", "slj")
            make_user(db.session, "monitor1", "monitor", "center")
            fill(db, db.session, args.posts, args.cases)
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")  # planner statistics, as a maintained database has
        backend = db.engine.dialect.name
    for user, path in (("slj_fyr", "/inbox/"), ("slj_fyr", "/inbox/?overdue=1"), ("monitor1", "/monitor/")):
        client = app.test_client()
        client.post("/login", data={"username": user, "password": PASSWORD})
        times = timed(client, path, args.runs)
        print(f"{backend} {path}: median {statistics.median(times):.0f} ms, "
              f"worst {max(times):.0f} ms ({args.posts} posts, {args.cases} cases)")


if __name__ == "__main__":
    main()
