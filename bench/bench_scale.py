"""Scale-out throughput: weibo-stream posts through collection tasks on 1 and on 2 workers.

PostgreSQL and Redis (Dramatiq). The posts are served as RSS feeds by a local HTTP server, one feed
per source; one `collect_source` task per source is sent to the broker, and `python -m opinion
worker` processes (1, then 2, on a fresh database each time) fetch them in parallel and hand the
batches to the ingest queue (one consumer: topic assignment is serial). Prints posts/s for each run,
the ratio, and the final counts (posts stored = unique posts sent; topics and cases of both runs).

    python bench/bench_scale.py [--posts 8000] [--sources 16] [--threads 2]

weibo-stream holds 42,632 posts; more than that would repeat them under new ids.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("OPINION_SHARED_DATA", ROOT.parent / "shared" / "data")) / "weibo-stream"


def load_posts(n: int) -> list[dict]:
    posts = []
    for path in sorted(DATA.glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            posts += [json.loads(line) for line in f]
    return posts[:n]


def feed(posts: list[dict], now: datetime) -> bytes:
    items = []
    for i, p in enumerate(posts):
        at = (now - timedelta(seconds=i)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        items.append(f"<item><title>{escape(p['text'][:30])}</title><link>https://weibo.example.cn/{p['id']}</link>"
                     f"<description>{escape(p['text'])}</description><guid isPermaLink=\"false\">{p['id']}</guid>"
                     f"<pubDate>{at}</pubDate><author>{escape(p['author'])}</author></item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>bench</title>'
            '<link>https://weibo.example.cn/</link>' + "".join(items) + "</channel></rss>").encode("utf-8")


def run(workers: int, args, server, feeds: list[str], admin, pg_base: str) -> dict:
    from sqlalchemy import func, select

    from opinion import create_app
    from opinion.accounts.directory import sync_units
    from opinion.jobs import init_task_queue
    from opinion.models import Case, Post, Source, Topic, db

    name = f"opinion_bench_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{pg_base}/{name}"
    namespace = f"opinion-bench-{uuid.uuid4().hex[:8]}"
    instance = tempfile.mkdtemp(prefix="bench-scale-")
    config = {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "BROKER_URL": args.redis, "BROKER_NAMESPACE": namespace}
    app = create_app(config)
    procs, logs = [], []
    try:
        with app.app_context():
            db.create_all()
            sync_units(db.session, app.extensions["district"])
            ids = []
            for n, path in enumerate(feeds):
                source = Source(code=f"bench{n}", name=f"bench {n}", kind="rss", enabled=True,
                                config={"url": f"{server.base}{path}"}, state={}, interval_seconds=600)
                db.session.add(source)
                db.session.flush()
                ids.append(source.id)
            db.session.commit()
            env = {**os.environ, "OPINION_DATABASE_URL": url, "OPINION_INSTANCE_DIR": instance,
                   "OPINION_BROKER_URL": args.redis, "OPINION_BROKER_NAMESPACE": namespace}
            for w in range(workers):
                logs.append(Path(instance) / f"worker{w}.log")
                procs.append(subprocess.Popen([sys.executable, "-m", "opinion", "worker", "--threads", str(args.threads)],
                                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=logs[-1].open("w")))
            deadline = time.monotonic() + 300
            while not (all("已启动" in log.read_text() for log in logs)
                       and any("入库队列" in log.read_text() for log in logs)):
                assert time.monotonic() < deadline and all(p.poll() is None for p in procs), \
                    "\n".join(log.read_text() for log in logs)
                time.sleep(0.5)
            time.sleep(3)  # let the pipelines load (they load on the first batch otherwise)
            queue = init_task_queue(app)
            start = time.perf_counter()
            for source_id in ids:
                queue.send("collect_source", source_id=source_id)
            count = 0
            while count < args.posts and time.perf_counter() - start < args.timeout:
                time.sleep(0.5)
                db.session.rollback()
                count = db.session.execute(select(func.count()).select_from(Post)).scalar()
            took = time.perf_counter() - start
            counts = {"posts": count, "unique_ids": db.session.execute(select(func.count(func.distinct(Post.external_id)))).scalar(),
                      "topics": db.session.execute(select(func.count()).select_from(Topic)).scalar(),
                      "cases": db.session.execute(select(func.count()).select_from(Case)).scalar()}
            queue.broker.close()
            db.session.remove()
            db.engine.dispose()
        return {"workers": workers, "seconds": took, "rate": count / took, **counts}
    finally:
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait(10)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=8000)
    ap.add_argument("--sources", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1200)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    ap.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    os.environ.setdefault("OPINION_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-scale-"))
    import psycopg

    from tests.collectors.fake_server import FakeServer, Reply

    posts = load_posts(args.posts)
    args.posts = len(posts)
    admin = psycopg.connect(args.postgres.replace("+psycopg", ""), autocommit=True)
    pg_base = args.postgres.rsplit("/", 1)[0]
    now = datetime.now(timezone.utc)
    results = []
    with FakeServer() as server:
        feeds = []
        per = -(-len(posts) // args.sources)
        for n in range(args.sources):
            path = f"/feed{n}.xml"
            server.routes[path] = Reply(200, feed(posts[n * per:(n + 1) * per], now),
                                        {"Content-Type": "application/rss+xml"})
            feeds.append(path)
        for workers in (1, 2):
            result = run(workers, args, server, feeds, admin, pg_base)
            results.append(result)
            print(f"{workers} worker(s) × {args.threads} threads: {result['posts']} posts in {result['seconds']:.1f} s = "
                  f"{result['rate']:.0f} posts/s; unique ids {result['unique_ids']}, topics {result['topics']}, "
                  f"cases {result['cases']} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
                  flush=True)
    one, two = results
    print(f"posts sent {args.posts} in {args.sources} sources; ratio 2 workers / 1 worker: {two['rate'] / one['rate']:.2f}")
    print(f"stored = sent: {one['posts'] == args.posts and two['posts'] == args.posts}; "
          f"none twice: {one['posts'] == one['unique_ids'] and two['posts'] == two['unique_ids']}; "
          f"topics {one['topics']} vs {two['topics']}, cases {one['cases']} vs {two['cases']}")


if __name__ == "__main__":
    main()
