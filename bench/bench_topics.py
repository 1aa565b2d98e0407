"""Clustering throughput and memory with 100,000 posts already clustered.

Replays the real Weibo texts of weibo-stream and weibo-topics (repeated if needed) through
clean -> segment once, then times TopicClusterer.assign (with the hourly maintenance included) on
posts arriving after `--warm` posts are already clustered. Memory: tracemalloc peak of the
clusterer while warming (docs are allocated before tracing starts), and the process's peak RSS.

    python bench/bench_topics.py [--warm 100000] [--measure 10000] [--per-hour 400]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from opinion.nlp.doc import Doc  # noqa: E402
from opinion.topics.cluster import TopicClusterer  # noqa: E402
from opinion.topics.evaluate import MAINTENANCE_EVERY, default_prepare  # noqa: E402


def texts(data: Path, n: int) -> list[str]:
    files = sorted((data / "weibo-stream").glob("*.jsonl")) + sorted((data / "weibo-topics").glob("*.jsonl"))
    pool = [json.loads(line)["text"] for f in files for line in f.open(encoding="utf-8") if line.strip()]
    if not pool:
        raise SystemExit(f"no posts under {data}")
    return [pool[i % len(pool)] for i in range(n)]   # repeats read as a later wave of reposts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("OPINION_SHARED_DATA", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--warm", type=int, default=100_000)
    ap.add_argument("--measure", type=int, default=10_000)
    ap.add_argument("--per-hour", type=float, default=400.0, help="arrival rate of the replay")
    a = ap.parse_args()

    prepare = default_prepare()
    t0 = time.perf_counter()
    docs = [prepare(Doc(raw=t)) for t in texts(Path(a.data), a.warm + a.measure)]
    print(f"prepared {len(docs)} posts in {time.perf_counter() - t0:.0f}s (clean+segment, not timed below)")

    c = TopicClusterer()
    start, step = datetime(2024, 1, 1), timedelta(hours=1) / a.per_hour

    def run(lo: int, hi: int) -> tuple[float, float]:
        # CPU time of this process as well as wall time: on a shared machine the wall clock also
        # counts other people's work; CPU time is what one core spends on clustering.
        t, cpu = time.perf_counter(), time.process_time()
        for i in range(lo, hi):
            now = start + i * step
            c.assign(docs[i], now, post_id=i)
            if (i + 1) % MAINTENANCE_EVERY == 0:
                c.maintenance(now)
        return time.perf_counter() - t, time.process_time() - cpu

    tracemalloc.start()
    warm_s, _ = run(0, a.warm)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    measure_s, measure_cpu = run(a.warm, a.warm + a.measure)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"warm-up: {a.warm} posts clustered ({a.warm / warm_s:.0f} posts/s under tracemalloc), "
          f"{len(c.topics)} open topics, {len(c.index)} index terms, {len(c.idf.df)} IDF terms")
    print(f"throughput after {a.warm} posts: {a.measure / measure_cpu:.0f} posts/s per CPU-second "
          f"({1000 * measure_cpu / a.measure:.3f} ms/post, maintenance included); "
          f"wall clock {a.measure / measure_s:.0f} posts/s, load average {os.getloadavg()[0]:.1f}")
    print(f"clusterer memory peak (tracemalloc): {peak / 2**20:.1f} MiB; process peak RSS: {rss_mb:.0f} MiB")


if __name__ == "__main__":
    main()
