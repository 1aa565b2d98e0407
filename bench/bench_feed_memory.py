"""Peak memory of reading one large feed: a 15 MB RSS document of 1,000 long items.

A district portal that puts whole articles (tables, many paragraphs) into each item sends feeds of
this size; issue 17 saw the collector reach ~1 GB on one. This serves the feed from a local server
and runs the RSS collector on it in a fresh child process per case, so that each peak resident set
size (ru_maxrss) is that case's own, not the largest of all so far.

    python bench/bench_feed_memory.py [--items 1000] [--item-kb 15]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PARAGRAPH = ("<p>关于南环路排水管网改造工程的说明：区水务局会同区住建局、街道办事处，对南环路、东湖路沿线"
             "雨水管网开展清淤疏通，并新建泵站一座。<strong>施工期间</strong>夜间实施交通管制，"
             "请市民<a href=\"/zwgk/map.html\">绕行</a>。</p>\n")


def make_feed(items: int, item_kb: int) -> bytes:
    """An RSS 2.0 feed of `items` items, each about `item_kb` KB of Chinese HTML, UTF-8."""
    per = max(1, item_kb * 1024 // len(PARAGRAPH.encode("utf-8")))
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>某区人民政府</title>'
             "<link>https://www.example.gov.cn/</link>"]
    for i in range(items):
        body = f"第{i}号通告。" + PARAGRAPH * per
        parts.append(f"<item><title>第{i}号通告：南环路排水管网改造</title><link>/zwgk/{i}.html</link>"
                     f"<description><![CDATA[{body}]]></description><guid isPermaLink=\"false\">big-{i}</guid>"
                     "<pubDate>Sun, 22 Nov 2026 08:00:00 +0800</pubDate></item>\n")
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8")


def child(url: str) -> None:
    from collectors import make_collector
    started = time.perf_counter()
    collector = make_collector("rss", {"url": url}, {})
    posts = list(collector.collect(None))
    seconds = time.perf_counter() - started
    print(json.dumps({"posts": len(posts), "peak_mb": _peak_mb(), "seconds": round(seconds, 2),
                      "line": "; ".join(collector.warnings)}, ensure_ascii=False))


def child_pipeline(url: str) -> None:
    """`collect --once` on the feed: fetch, parse, analyse, store, on a throw-away SQLite database."""
    import os
    import tempfile
    tmp = tempfile.mkdtemp(prefix="bench-feed-memory-")
    os.environ.setdefault("OPINION_INSTANCE_DIR", tmp)
    from opinion import create_app
    from opinion.accounts.directory import sync_units
    from opinion.models import Source, db
    from opinion.pipeline.batch import get_pipeline
    from opinion.pipeline.runs import run_source
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "TESTING": True})
    with app.app_context():
        db.create_all()
        sync_units(db.session, app.extensions["district"])
        source = Source(code="big", name="大订阅", kind="rss", enabled=True, config={"url": url}, state={},
                        interval_seconds=600)
        db.session.add(source)
        db.session.commit()
        get_pipeline(app)
        loaded = _peak_mb()
        started = time.perf_counter()
        line = run_source(app, source)
        seconds = time.perf_counter() - started
    print(json.dumps({"posts": line, "peak_mb": _peak_mb(), "loaded_mb": loaded, "seconds": round(seconds, 2),
                      "line": line}, ensure_ascii=False))


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--item-kb", type=int, default=15)
    parser.add_argument("--pipeline", action="store_true",
                        help="the whole collection run (analysis and storage too), not only the collector")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return (child_pipeline if args.pipeline else child)(args.child)
    from tests.collectors.fake_server import FakeServer, Reply
    feed = make_feed(args.items, args.item_kb)
    baseline = subprocess.run([sys.executable, "-c", "import resource, collectors, feedparser;"
                               "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"],
                              cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    with FakeServer() as server:
        server.routes["/big.xml"] = Reply(200, feed, {"Content-Type": "application/rss+xml"})
        out = subprocess.run([sys.executable, __file__, "--child", f"{server.base}/big.xml"]
                             + (["--pipeline"] if args.pipeline else []),
                             capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    print(f"feed: {len(feed) / 1e6:.1f} MB, {args.items} items of ~{args.item_kb} KB")
    print(f"interpreter with collectors imported: {baseline} MB peak RSS")
    if args.pipeline:
        print(f"models loaded: {result['loaded_mb']} MB peak RSS")
    print(f"{'collection run' if args.pipeline else 'collector'}: {result['seconds']} s, "
          f"peak RSS {result['peak_mb']} MB; {result['posts']}")
    if result["line"] and not args.pipeline:
        print("warnings:", result["line"])


if __name__ == "__main__":
    main()
