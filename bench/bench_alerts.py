"""Post-to-alert latency at a steady ingest rate, on real Weibo posts.

A producer thread releases posts at `--rate` posts per second (real texts from the weibo-stream
corpus; every `--every`-th one carries a sensitive word, on a place of its own so it opens a new
condition). A collector loop takes what has arrived every `--interval` seconds and calls `ingest`,
as a webhook or API collector does; the post rules run right after each batch commits. For every
alert raised, latency = (wall time its batch's ingest returned, alert committed) − (wall time its
first post arrived). Also prints the backlog (whether ingest keeps up with the rate).

    python bench/bench_alerts.py [--rate 200] [--seconds 60] [--interval 1] [--db URL]
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_DATA = Path(os.environ.get("OPINION_SHARED_DATA", REPO.parent / "shared" / "data")) / "weibo-stream"
WORDS = ["腐败", "黑幕", "暴力执法", "上访", "维权"]
PLACES = ["中山路", "解放路", "人民路", "建设路", "和平路", "胜利街", "新华街", "朝阳路", "光明路", "文化路"]


def load_texts(folder: Path, n: int) -> list[str]:
    texts: list[str] = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
        if len(texts) >= n:
            break
    return (texts * (n // max(1, len(texts)) + 1))[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200.0, help="posts per second")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--interval", type=float, default=1.0, help="collector batch interval, seconds")
    ap.add_argument("--every", type=int, default=400, help="one sensitive post in this many")
    ap.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"no weibo-stream data at {args.data} (set OPINION_SHARED_DATA)")
    n = int(args.rate * args.seconds)
    texts = load_texts(args.data, n)
    tmp = tempfile.mkdtemp(prefix="bench_alerts_")
    os.environ.setdefault("OPINION_INSTANCE_DIR", tmp)

    from sqlalchemy import select

    from collectors.base import NormalisedPost
    from opinion import create_app
    from opinion.accounts.directory import sync_units
    from opinion.models import Alert, Post, Source, db
    from opinion.pipeline.batch import get_pipeline, ingest

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.db or f"sqlite:///{tmp}/bench.db"})
    with app.app_context():
        db.create_all()
        sync_units(db.session, app.extensions["district"])
        source = Source(code="bench", name="压测推送", kind="webhook", enabled=True, config={}, state={})
        db.session.add(source)
        db.session.commit()
        pipeline, _ = get_pipeline(app)
        pipeline.run([])  # models load outside the timing
        from opinion.pipeline.analysis import make_entry
        pipeline.run([make_entry("warm", "预热一下模型和分词")])

        import opinion.alerts.engine as engine
        rule_seconds: list[float] = []
        evaluate = engine.evaluate_batch

        def timed_evaluate(*a, **kw):  # the alert step's own share of each batch
            t = time.perf_counter()
            try:
                return evaluate(*a, **kw)
            finally:
                rule_seconds.append(time.perf_counter() - t)
        engine.evaluate_batch = timed_evaluate

        arrivals: dict[str, float] = {}
        inbox: queue.Queue = queue.Queue()

        def produce() -> None:
            start = time.perf_counter()
            for i, text in enumerate(texts):
                due = start + i / args.rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                if i % args.every == args.every // 2:
                    k = i // args.every
                    text = f"{PLACES[k % len(PLACES)]}{k}号小区居民举报物业{WORDS[k % len(WORDS)]}问题：{text[:60]}"
                ext = f"b{i}"
                arrivals[ext] = time.perf_counter()
                inbox.put(NormalisedPost(external_id=ext, text=text, created_at=datetime.now(timezone.utc),
                                         author=f"u{i % 997}", author_followers=(i * 37) % 5000))
            inbox.put(None)

        producer = threading.Thread(target=produce, daemon=True)
        t0 = time.perf_counter()
        producer.start()
        latencies: dict[str, list[float]] = {}
        batches, backlog_max, done = 0, 0, False
        while not done:
            time.sleep(max(0.0, args.interval - (time.perf_counter() - t0) % args.interval))
            items = []
            while True:
                try:
                    item = inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    done = True
                    break
                items.append(item)
            if not items:
                continue
            backlog_max = max(backlog_max, len(items))
            before = db.session.execute(select(Alert.id).order_by(Alert.id.desc()).limit(1)).scalar() or 0
            ingest(db.session, app, source, items)
            returned = time.perf_counter()
            batches += 1
            batch = {i.external_id for i in items}
            for alert in db.session.execute(select(Alert).where(Alert.id > before)).scalars():
                # The post that made the condition true came in this batch: measure from the
                # earliest of the alert's posts in it (exact for a one-post rule, an upper bound
                # for a burst, whose window may have opened batches ago).
                linked = db.session.execute(select(Post.external_id).where(
                    Post.id.in_(alert.post_ids or []))).scalars()
                came = [arrivals[e] for e in linked if e in batch]
                if came:
                    latencies.setdefault(alert.kind, []).append(returned - min(came))
        elapsed = time.perf_counter() - t0
        posts = db.session.execute(select(Post.id)).all()
        kinds = db.session.execute(select(Alert.kind)).scalars().all()

    if rule_seconds:
        print(f"alert rules per batch median {statistics.median(rule_seconds) * 1000:.0f} ms, "
              f"max {max(rule_seconds) * 1000:.0f} ms")
    print(f"posts ingested        {len(posts)} in {elapsed:.1f} s ({len(posts) / elapsed:.0f}/s, offered {args.rate:g}/s)")
    print(f"batches               {batches} (largest {backlog_max} posts; interval {args.interval:g} s)")
    print(f"alerts raised         {len(kinds)} " + str({k: kinds.count(k) for k in sorted(set(kinds))}))
    every = sorted(x for values in latencies.values() for x in values)
    for kind, values in sorted(latencies.items()) + [("all", every)]:
        values = sorted(values)
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        print(f"post-to-alert {kind:<20} median {statistics.median(values):.2f} s, p95 {p95:.2f} s, "
              f"max {values[-1]:.2f} s over {len(values)} alerts (target <= 10 s)")
    if not every:
        print("post-to-alert latency: no alert measured")


if __name__ == "__main__":
    main()
