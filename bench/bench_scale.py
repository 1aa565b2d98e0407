"""Scale-out: weibo-stream posts replayed through collection tasks on 1 and on 2 workers.

PostgreSQL and Redis (Dramatiq). weibo-stream holds 42,632 posts (two days); --posts beyond that
replays the stream again, pass after pass, in the same order, each pass under new external ids
("r1-1.27-00000") and a day later, as further days of the same city would come in. The posts are
served as RSS feeds by a local HTTP server (post i on source i mod --sources, so each feed keeps the
stream's order); one `collect_source` task per source goes to the broker and `python -m opinion
worker` processes (1, then 2, each on a fresh database) fetch and analyse them in parallel and hand
the batches to the ingest queue, whose one consumer assigns topics and stores.

Printed: posts/s for 1 and 2 workers and their ratio; posts stored = unique posts sent, none twice;
topics and cases of the 2-worker run identical to a single process ingesting the same batches in
the order that run's consumer took them (the sets of (topic label, its posts) and of (case topic's
posts, unit, priority, category, title)); then the post-to-alert p95 with 2 workers while the
feeds release --rate posts/s (sources polled every --poll s; a feed answers a conditional GET with
the posts after the reader's last good fetch), and post-to-stored p95.

    python bench/bench_scale.py [--posts 200000] [--sources 16] [--threads 2] [--rate 200]
    python bench/bench_scale.py --posts 6000 --latency-seconds 30      # a smaller run
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from itertools import groupby
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("OPINION_SHARED_DATA", ROOT.parent / "shared" / "data")) / "weibo-stream"


def stream() -> list[dict]:
    posts = []
    for path in sorted(DATA.glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            posts += [json.loads(line) for line in f]
    return posts


def replay(n: int, end: datetime, spacing: float = 1.0) -> list[dict]:
    """n posts: the stream, then again under new ids per pass, in order; post i made at
    end - (n - i) * spacing seconds (all within the last days, so they may open cases)."""
    base = stream()
    out = []
    for i in range(n):
        turn, p = divmod(i, len(base))
        post = base[p]
        out.append({"id": post["id"] if turn == 0 else f"r{turn}-{post['id']}", "text": post["text"],
                    "author": post.get("author") or "", "at": end - timedelta(seconds=(n - i) * spacing)})
    return out


def feed(posts: list[dict]) -> bytes:
    items = []
    for p in posts:
        at = p["at"].strftime("%a, %d %b %Y %H:%M:%S +0000")
        items.append(f"<item><title>{escape(p['text'][:30])}</title><link>https://weibo.example.cn/{p['id']}</link>"
                     f"<description>{escape(p['text'])}</description><guid isPermaLink=\"false\">{p['id']}</guid>"
                     f"<pubDate>{at}</pubDate><author>{escape(p['author'])}</author></item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>bench</title>'
            '<link>https://weibo.example.cn/</link>' + "".join(items) + "</channel></rss>").encode("utf-8")


# --- what the runs are compared on ---------------------------------------------------------------

def snapshot(session) -> dict:
    """Topics and cases in terms that do not depend on ids or times: each topic as its label and
    the external ids of its posts, each case as its topic's posts, unit, priority, category, title."""
    from sqlalchemy import select

    from opinion.models import Case, Post, Topic, Unit
    members: dict[int, set[str]] = {}
    for topic_id, ext in session.execute(select(Post.topic_id, Post.external_id)):
        members.setdefault(topic_id, set()).add(ext)
    topics = {t.id: (t.label, frozenset(members.get(t.id, ()))) for t in session.execute(select(Topic)).scalars()}
    units = dict(session.execute(select(Unit.id, Unit.code)).all())
    cases = {(topics[c.topic_id][1], units.get(c.unit_id), c.priority, c.category, c.title)
             for c in session.execute(select(Case)).scalars()}
    return {"topics": set(topics.values()), "cases": cases}


def ingested_batches(session) -> list[tuple[str, datetime, list]]:
    """The batches the consumer stored, in its order: (source code, its time, the items as the
    collector made them). A batch's posts share their collected_at and have consecutive ids."""
    from sqlalchemy import select

    from collectors.base import NormalisedPost
    from opinion.models import Post, Source
    codes = dict(session.execute(select(Source.id, Source.code)).all())
    rows = session.execute(select(Post).order_by(Post.id)).scalars()
    out = []
    for (source_id, at), posts in groupby(rows, key=lambda p: (p.source_id, p.collected_at)):
        out.append((codes[source_id], at, [NormalisedPost(
            external_id=p.external_id, text=p.raw_text, created_at=p.created_at, author=p.author, url=p.url,
            author_followers=p.author_followers, reposts=p.reposts, comments=p.comments, likes=p.likes,
            payload=p.payload or {}) for p in posts]))
    return out


def serial_replay(url: str, batches, instance: str | None = None) -> dict:
    """The same batches ingested by one process without a broker, in the same order (on the
    empty database at `url`, with an instance folder of its own): the single-worker result a queue
    run must equal. Returns its snapshot."""
    from opinion import create_app
    from opinion.accounts.directory import sync_units
    from opinion.models import Source, db
    from opinion.pipeline.batch import ingest
    before = os.environ.get("OPINION_INSTANCE_DIR")
    os.environ["OPINION_INSTANCE_DIR"] = instance or tempfile.mkdtemp(prefix="bench-scale-alone-")
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "BROKER_URL": ""})
    finally:
        if before is None:
            os.environ.pop("OPINION_INSTANCE_DIR")
        else:
            os.environ["OPINION_INSTANCE_DIR"] = before
    with app.app_context():
        db.create_all()
        sync_units(db.session, app.extensions["district"])
        sources = {}
        for code in sorted({code for code, _, _ in batches}):
            sources[code] = Source(code=code, name=code, kind="rss", enabled=True, config={}, state={})
            db.session.add(sources[code])
        db.session.commit()
        for code, at, items in batches:
            ingest(db.session, app, sources[code], items, now=at)
        shot = snapshot(db.session)
        db.session.remove()
        db.engine.dispose()
    return shot


# --- the queue runs ------------------------------------------------------------------------------

class Install:
    """A fresh PostgreSQL database, broker namespace and instance folder, with `workers` worker
    processes started and ready (models loaded, one of them holding the ingest queue)."""

    def __init__(self, args, admin, pg_base: str, workers: int):
        self.args, self.admin = args, admin
        self.name = f"opinion_bench_{uuid.uuid4().hex[:8]}"
        admin.execute(f'CREATE DATABASE "{self.name}"')
        self.url = f"{pg_base}/{self.name}"
        self.namespace = f"opinion-bench-{uuid.uuid4().hex[:8]}"
        self.instance = tempfile.mkdtemp(prefix="bench-scale-")
        self.workers, self.procs, self.logs = workers, [], []

    def __enter__(self):
        from opinion import create_app
        from opinion.accounts.directory import sync_units
        from opinion.jobs import init_task_queue
        from opinion.models import db
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": self.url, "TESTING": True,
                               "BROKER_URL": self.args.redis, "BROKER_NAMESPACE": self.namespace})
        self.ctx = self.app.app_context()
        self.ctx.push()
        db.create_all()
        sync_units(db.session, self.app.extensions["district"])
        db.session.commit()
        self.queue = init_task_queue(self.app)
        env = {**os.environ, "OPINION_DATABASE_URL": self.url, "OPINION_INSTANCE_DIR": self.instance,
               "OPINION_BROKER_URL": self.args.redis, "OPINION_BROKER_NAMESPACE": self.namespace}
        for w in range(self.workers):
            self.logs.append(Path(self.instance) / f"worker{w}.log")
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "opinion", "worker", "--threads", str(self.args.threads)],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.logs[-1].open("w")))
        deadline = time.monotonic() + 600
        while not (all("已启动" in log.read_text() for log in self.logs)
                   and any("入库队列（" in log.read_text() for log in self.logs)):
            assert time.monotonic() < deadline and all(p.poll() is None for p in self.procs), \
                "\n".join(log.read_text() for log in self.logs)
            time.sleep(0.5)
        return self

    def sources(self, urls: list[str], interval: int = 600) -> list[int]:
        from opinion.models import Source, db
        rows = [Source(code=f"bench{n}", name=f"bench {n}", kind="rss", enabled=True, config={"url": url},
                       state={}, interval_seconds=interval) for n, url in enumerate(urls)]
        db.session.add_all(rows)
        db.session.commit()
        return [s.id for s in rows]

    def count(self) -> int:
        from sqlalchemy import func, select

        from opinion.models import Post, db
        db.session.rollback()
        return db.session.execute(select(func.count()).select_from(Post)).scalar()

    def __exit__(self, *exc):
        from opinion.models import db
        for p in self.procs:
            p.send_signal(signal.SIGKILL)
            p.wait(10)
        self.queue.broker.close()
        db.session.remove()
        db.engine.dispose()
        self.ctx.pop()
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def throughput(workers: int, args, urls: list[str], sent: int, admin, pg_base: str) -> dict:
    from sqlalchemy import func, select

    from opinion.models import Case, Post, Topic, db
    with Install(args, admin, pg_base, workers) as install:
        ids = install.sources(urls)
        start = time.perf_counter()
        for source_id in ids:
            install.queue.send("collect_source", source_id=source_id)
        count = 0
        while count < sent and time.perf_counter() - start < args.timeout:
            time.sleep(0.5)
            count = install.count()
        took = time.perf_counter() - start
        time.sleep(2)  # a redelivered or repeated batch, if any, would land now
        s = db.session
        result = {"workers": workers, "seconds": took, "rate": count / took, "posts": install.count(),
                  "unique_ids": s.execute(select(func.count(func.distinct(Post.external_id)))).scalar(),
                  "topics": s.execute(select(func.count()).select_from(Topic)).scalar(),
                  "cases": s.execute(select(func.count()).select_from(Case)).scalar()}
        if workers > 1 and not args.no_compare:
            result["snapshot"] = snapshot(s)
            result["batches"] = ingested_batches(s)
    return result


def latency(args, admin, pg_base: str) -> dict:
    """2 workers while the feeds release args.rate posts/s for args.latency_seconds: the time
    from a post's release to the first alert that names it (its newest post), and to its storing."""
    from sqlalchemy import func, select

    from opinion.models import Alert, Post, db
    from tests.collectors.fake_server import FakeServer, Reply
    n = int(args.rate * args.latency_seconds)
    released: dict[str, float] = {}
    per_source: list[list[dict]] = []

    def route(k):
        # A busy source's feed answers a conditional GET with what came after the reader's last
        # good fetch (its ETag is a position): each post is read once, and a run that failed
        # before saving the source's state reads it again, so none is lost to a moving window.
        def serve(method, path, query, headers, body):
            now = datetime.now(timezone.utc)
            tag = headers.get("If-None-Match") or ""
            after = int(tag.strip('"')[2:]) if tag.strip('"').startswith("n-") else -1
            items = [(i, p) for i, p in enumerate(per_source[k]) if i > after and p["at"] <= now]
            if not items:
                return Reply(304, b"", {"ETag": tag} if tag else {})
            return Reply(200, feed([p for _, p in items]),
                         {"Content-Type": "application/rss+xml", "ETag": f'"n-{items[-1][0]}"'})
        return serve

    with FakeServer() as server, Install(args, admin, pg_base, 2) as install:
        # The clock starts once the workers are ready (loading them takes a while on a busy machine).
        start_at = datetime.now(timezone.utc) + timedelta(seconds=3)
        posts = replay(n, start_at)
        for i, p in enumerate(posts):  # post i is released (and made) at start + i / rate
            p["at"] = start_at + timedelta(seconds=i / args.rate)
            released[p["id"]] = p["at"].timestamp()
        per_source.extend(posts[k::args.latency_sources] for k in range(args.latency_sources))
        for k in range(args.latency_sources):
            server.routes[f"/live{k}.xml"] = route(k)
        ids = install.sources([f"{server.base}/live{k}.xml" for k in range(args.latency_sources)], interval=1)
        stop = threading.Event()

        def poll_sources():
            # As the scheduler's timer does, but a source is sent again only once its last run
            # finished: a backlog of repeated collections would measure the bench, not the install.
            from opinion import create_app
            from opinion.models import Source
            app = create_app({"SQLALCHEMY_DATABASE_URI": install.url, "TESTING": True})
            sent_at: dict[int, datetime] = {}
            with app.app_context():
                while not stop.is_set():
                    db.session.rollback()
                    for source in db.session.execute(select(Source).where(Source.id.in_(ids))).scalars():
                        last, sent = source.last_run_at, sent_at.get(source.id)
                        # (a run that came within the source's 1 s interval of the last one found it
                        # not due and left no mark: sent again after a few seconds)
                        if sent is None or (last is not None and last >= sent) \
                                or datetime.now(timezone.utc) - sent > timedelta(seconds=3):
                            sent_at[source.id] = datetime.now(timezone.utc)
                            install.queue.send("collect_source", source_id=source.id)
                    stop.wait(args.poll)
                db.session.remove()
        sender = threading.Thread(target=poll_sources, daemon=True)
        while datetime.now(timezone.utc) < start_at:
            time.sleep(0.05)
        sender.start()
        s = db.session
        seen_alerts, stored_marks, last_alert = {}, [], 0
        deadline = time.time() + args.latency_seconds + args.drain
        while time.time() < deadline:
            s.rollback()
            now = time.time()
            for alert in s.execute(select(Alert).where(Alert.id > last_alert).order_by(Alert.id)).scalars():
                seen_alerts[alert.id] = (now, list(alert.post_ids or []) + ([alert.post_id] if alert.post_id else []))
                last_alert = alert.id
            stored_marks.append((now, s.execute(select(func.max(Post.id))).scalar() or 0))
            if time.time() > start_at.timestamp() + args.latency_seconds and install.count() >= n:
                break
            time.sleep(0.25)
        stop.set()
        ext = dict(s.execute(select(Post.id, Post.external_id)).all())
        to_alert = []
        for seen, post_ids in seen_alerts.values():
            times = [released[ext[i]] for i in post_ids if ext.get(i) in released]
            if times:
                to_alert.append(seen - max(times))
        to_store, marks = [], iter(stored_marks)
        mark = next(marks, None)
        for post_id in sorted(ext):
            while mark is not None and mark[1] < post_id:
                mark = next(marks, None)
            if mark is not None and ext[post_id] in released:
                to_store.append(mark[0] - released[ext[post_id]])
        stored = install.count()
    return {"sent": n, "stored": stored, "alerts": len(to_alert), "p95_alert": _p95(to_alert),
            "p50_alert": _median(to_alert), "p95_stored": _p95(to_store), "p50_stored": _median(to_store)}


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else (values[0] if values else float("nan"))


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=200_000, help="posts to replay (the stream has 42,632)")
    ap.add_argument("--sources", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=4 * 3600)
    ap.add_argument("--rate", type=float, default=200, help="posts/s released in the latency run")
    ap.add_argument("--latency-seconds", type=float, default=60)
    ap.add_argument("--latency-sources", type=int, default=4)
    ap.add_argument("--poll", type=float, default=1.0, help="seconds between collections of a live source")
    ap.add_argument("--drain", type=float, default=300, help="seconds to wait for the backlog after the release")
    ap.add_argument("--skip", choices=("throughput", "latency"), action="append", default=[])
    ap.add_argument("--no-compare", action="store_true", help="no single-process replay of the 2-worker run")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    ap.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    os.environ.setdefault("OPINION_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-scale-"))
    import psycopg

    from tests.collectors.fake_server import FakeServer, Reply

    admin = psycopg.connect(args.postgres.replace("+psycopg", ""), autocommit=True)
    pg_base = args.postgres.rsplit("/", 1)[0]
    print(f"load average {os.getloadavg()} on {os.cpu_count()} cores", flush=True)
    if "throughput" not in args.skip:
        posts = replay(args.posts, datetime.now(timezone.utc))
        sent = len({p["id"] for p in posts})
        results = []
        with FakeServer() as server:
            urls = []
            for n in range(args.sources):
                server.routes[f"/feed{n}.xml"] = Reply(200, feed(posts[n::args.sources]),
                                                       {"Content-Type": "application/rss+xml"})
                urls.append(f"{server.base}/feed{n}.xml")
            del posts
            for workers in (1, 2):
                result = throughput(workers, args, urls, sent, admin, pg_base)
                results.append(result)
                print(f"{workers} worker(s) × {args.threads} threads: {result['posts']} posts in {result['seconds']:.1f} s"
                      f" = {result['rate']:.1f} posts/s; unique ids {result['unique_ids']}, topics {result['topics']}, "
                      f"cases {result['cases']} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
                      flush=True)
        one, two = results
        print(f"posts sent {sent} in {args.sources} sources; ratio 2 workers / 1 worker: {two['rate'] / one['rate']:.2f}")
        print(f"stored = sent: {one['posts'] == sent and two['posts'] == sent}; "
              f"none twice: {one['posts'] == one['unique_ids'] and two['posts'] == two['unique_ids']}", flush=True)
        if "snapshot" in two:
            name = f"opinion_bench_{uuid.uuid4().hex[:8]}"
            admin.execute(f'CREATE DATABASE "{name}"')
            try:
                t = time.perf_counter()
                alone = serial_replay(f"{pg_base}/{name}", two["batches"])
                took = time.perf_counter() - t
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"2-worker run vs one process on the same {len(two['batches'])} batches in the same order "
                  f"({took:.0f} s): topics identical {alone['topics'] == two['snapshot']['topics']} "
                  f"({len(alone['topics'])} vs {len(two['snapshot']['topics'])}), cases identical "
                  f"{alone['cases'] == two['snapshot']['cases']} ({len(alone['cases'])} vs {len(two['snapshot']['cases'])})",
                  flush=True)
    if "latency" not in args.skip:
        lat = latency(args, admin, pg_base)
        print(f"2 workers, {args.rate:.0f} posts/s released for {args.latency_seconds:.0f} s on {args.latency_sources} "
              f"sources polled every {args.poll} s: stored {lat['stored']}/{lat['sent']}; post-to-alert p95 "
              f"{lat['p95_alert']:.1f} s (median {lat['p50_alert']:.1f} s, {lat['alerts']} alerts); post-to-stored p95 "
              f"{lat['p95_stored']:.1f} s (median {lat['p50_stored']:.1f} s) (load average {os.getloadavg()[0]:.1f})",
              flush=True)


if __name__ == "__main__":
    main()
