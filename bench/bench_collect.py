"""Collection throughput: items per second from a local HTTP server through the whole pipeline.

Serves an RSS feed of N generated district posts (the demo generator's realistic wording) from a
local server, then times `run_source`: fetch, decode, parse, clean, segment, sentiment, emotion,
topics, routing, dedup, cases, commit. A second run of the same feed measures the idempotent path
(everything a duplicate). Runs on a throw-away SQLite database (or --database URL).

    python bench/bench_collect.py [--items 5000] [--database sqlite:////tmp/bench.db]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_feed(n: int, seed: int = 11) -> bytes:
    """An RSS 2.0 feed of n distinct posts, newest first, UTF-8."""
    from collectors.demo import generate
    now = datetime.now(timezone.utc)
    posts = generate(n, now - timedelta(days=2), now - timedelta(minutes=1), seed=seed)
    items = []
    for i, p in enumerate(reversed(posts)):
        items.append(f"<item><title>{escape(p.text[:30])}</title><link>https://bbs.example.cn/t/{i}</link>"
                     f"<description>{escape(p.text)}</description><guid isPermaLink=\"false\">bench-{i}</guid>"
                     f"<pubDate>{p.created_at.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
                     f"<author>{escape(p.author or '')}</author></item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>bench</title>'
            '<link>https://bbs.example.cn/</link>' + "".join(items) + "</channel></rss>").encode("utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--database", default=None)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-collect-")
    os.environ.setdefault("OPINION_INSTANCE_DIR", tmp)
    from sqlalchemy import func, select

    from opinion import create_app
    from opinion.accounts.directory import sync_units
    from opinion.models import Post, Source, db
    from opinion.pipeline.batch import get_pipeline
    from opinion.pipeline.runs import run_source
    from tests.collectors.fake_server import FakeServer, Reply

    url = args.database or f"sqlite:///{tmp}/bench.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    body = make_feed(args.items)
    with FakeServer() as server, app.app_context():
        server.routes["/feed.xml"] = Reply(200, body, {"Content-Type": "application/rss+xml"})
        db.create_all()
        sync_units(db.session, app.extensions["district"])
        source = Source(code="bench", name="bench", kind="rss", enabled=True, config={"url": f"{server.base}/feed.xml"},
                        state={}, interval_seconds=600)
        db.session.add(source)
        db.session.commit()
        t = time.perf_counter()
        get_pipeline(app)  # models and jieba load once per process; not part of the per-item cost
        load = time.perf_counter() - t
        t, cpu = time.perf_counter(), time.process_time()
        line = run_source(app, source)
        first, first_cpu = time.perf_counter() - t, time.process_time() - cpu
        stored = db.session.execute(select(func.count()).select_from(Post)).scalar()
        t = time.perf_counter()
        again = run_source(app, db.session.get(Source, source.id))
        second = time.perf_counter() - t
        print(f"feed: {args.items} items, {len(body) / 1e6:.1f} MB; database: {url.split(':')[0]}")
        print(f"pipeline load (once per process): {load:.1f} s")
        print(f"first run:  {line}")
        print(f"            {first:.1f} s, {stored / first:.0f} items/s through the whole pipeline "
              f"({first_cpu:.1f} s CPU: {stored / first_cpu:.0f} items per CPU-second; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"second run: {again}")
        print(f"            {second:.1f} s, {args.items / second:.0f} items/s (all duplicates)")
        db.drop_all() if args.database else None


if __name__ == "__main__":
    main()
