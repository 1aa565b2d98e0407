"""Benchmark of the whole text-analysis stage against bare jieba, on real Weibo posts.

Runs clean → segment → keywords → sentiment → emotion in batches, the way the pipeline does, over
at least 20,000 posts of the weibo-stream corpus, and prints posts per second beside bare
`jieba.lcut` (the issue's yardstick) and bare rjieba (the segmenter the pipeline uses) on the same
raw texts, and the process's peak memory. One core: run it alone.

With --encoder it then runs the same analysis with and without the sentence encoder
(opinion/nlp/encoder.py) over the first --encoder-posts posts of one real Weibo day, in input order
and with a cold cache (in-process only, no disk file), and prints both rates and the cache hit rate:
reposts and duplicates of that stretch are what the cache saves. Then it runs the topic stage on
the same posts per vector source (words only; the static table; the encoder selectively, without
and with the live stream's per-batch time budget) and prints posts/s, the share the model read,
the cache hit rate and the share left for refinement.

    python bench/bench_analyze.py [--posts 20000] [--batch 500] [--data DIR]
                                  [--encoder] [--encoder-posts 1500] [--encoder-day 2020-2.21]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path

# One core, as the target is stated: no BLAS or OpenMP threads behind NumPy's back.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_DATA = Path(os.environ.get("OPINION_SHARED_DATA", REPO.parent / "shared" / "data")) / "weibo-stream"


def load_posts(folder: Path, n: int) -> list[str]:
    texts: list[str] = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    if len(texts) < n:
        raise SystemExit(f"{folder}: {len(texts)} posts, fewer than the {n} asked for")
    return texts[:n]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--encoder", action="store_true", help="also measure the sentence encoder")
    ap.add_argument("--encoder-only", action="store_true", help="only the encoder comparison")
    ap.add_argument("--encoder-posts", type=int, default=1500)
    ap.add_argument("--encoder-day", default="2020-2.21", help="weibo-stream day file, without .jsonl")
    ap.add_argument("--topics-words-static", action="store_true",
                    help="only the topic stage with words and with the static table (no encoder)")
    ap.add_argument("--no-budget-too", action="store_true",
                    help="topics: also the selective encoder without a time budget (slow: reads all it needs)")
    args = ap.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"no weibo-stream data at {args.data} (set OPINION_SHARED_DATA)")
    texts = load_posts(args.data, args.posts)
    chars = sum(map(len, texts))

    import jieba
    import rjieba

    from opinion.nlp.clean import clean
    from opinion.nlp.doc import Doc
    from opinion.nlp.emotion import EmotionModel, apply_emotion
    from opinion.nlp.keywords import KeywordExtractor
    from opinion.nlp.segment import Segmenter
    from opinion.nlp.sentiment import apply_sentiment, load_sentiment_engine

    t0 = time.perf_counter()
    seg = Segmenter()
    extractor = KeywordExtractor()
    engine = load_sentiment_engine("domain")
    emotion = EmotionModel.load()

    def analyze(batch: list[str]) -> int:
        docs = [clean(Doc(raw=t)) for t in batch]
        for d in docs:
            extractor(seg(d))
        apply_sentiment(engine, docs)
        apply_emotion(emotion, docs)
        return docs

    if args.encoder_only:
        encoder_bench(args, analyze)
        return
    if args.topics_words_static:
        with (args.data / f"{args.encoder_day}.jsonl").open(encoding="utf-8") as fh:
            day = [json.loads(line)["text"] for line in fh if line.strip()][:args.encoder_posts]
        analyze(["预热：武汉加油[心]"])
        topics_bench(args, analyze, day)
        return

    # One small batch loads the dictionary and the libraries the models import on first use
    # (SciPy, scikit-learn), as a running pipeline has done long before; the timing below is
    # per-post work only.
    analyze(["预热：武汉加油[心]"])
    load_s = time.perf_counter() - t0

    gc.collect()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    done = 0
    for start in range(0, len(texts), args.batch):
        done += len(analyze(texts[start:start + args.batch]))
    whole_s = time.perf_counter() - t0
    whole_cpu = time.process_time() - cpu0
    whole_peak = peak_mb()

    jieba.setLogLevel(60)
    tok = jieba.Tokenizer()
    tok.initialize()
    t0 = time.perf_counter()
    for t in texts:
        tok.lcut(t)
    jieba_s = time.perf_counter() - t0
    rtok = rjieba.Jieba()
    t0 = time.perf_counter()
    for t in texts:
        rtok.cut(t)
    rjieba_s = time.perf_counter() - t0

    print(f"posts: {done} real Weibo posts from {args.data} ({chars / done:.0f} characters on average)")
    print(f"model, dictionary and library load: {load_s:.2f} s (once per process)")
    print(f"whole analysis (clean+segment+keywords+sentiment+emotion): {done / whole_s:,.0f} posts/s")
    print(f"  per CPU-second:                                          {done / whole_cpu:,.0f} posts/s")
    print(f"bare jieba.lcut on the same raw posts:                     {done / jieba_s:,.0f} posts/s")
    print(f"bare rjieba cut on the same raw posts:                     {done / rjieba_s:,.0f} posts/s")
    print(f"whole analysis costs {whole_s / jieba_s:.2f}x bare jieba")
    print(f"peak memory: {whole_peak:.0f} MB (process RSS after the analysis run)")
    if args.encoder:
        sys.stdout.flush()
        encoder_bench(args, analyze)


def encoder_bench(args, analyze) -> None:
    from opinion.nlp.encoder import MAX_CHARS, Encoder

    path = args.data / f"{args.encoder_day}.jsonl"
    with path.open(encoding="utf-8") as fh:
        day = [json.loads(line)["text"] for line in fh if line.strip()][:args.encoder_posts]
    analyze(["预热：武汉加油[心]"])
    encoder = Encoder(disk_cache=None)   # cold: what a fresh process on a fresh day pays
    t0 = time.perf_counter()
    encoder.encode(["预热"])             # the model's load, once per process
    load_s = time.perf_counter() - t0
    encoder.hits = encoder.misses = 0

    t0 = time.perf_counter()
    for start in range(0, len(day), args.batch):
        analyze(day[start:start + args.batch])
    bare_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    for start in range(0, len(day), args.batch):
        encoder.encode_docs(analyze(day[start:start + args.batch]))
    with_s = time.perf_counter() - t0
    with_cpu = time.process_time() - cpu0
    n = len(day)
    print(f"encoder: first {n} posts of {path.name}, texts cut to {MAX_CHARS} characters, cold cache, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print(f"  encoder load: {load_s:.2f} s (once per process)")
    print(f"  analysis without the encoder: {n / bare_s:,.0f} posts/s")
    print(f"  analysis with the encoder:    {n / with_s:,.1f} posts/s ({n / with_cpu:,.1f} per CPU-second)")
    print(f"  texts the model read: {encoder.misses} of {n}; cache hit rate {encoder.hit_rate:.1%} "
          f"(duplicates, reposts and repeats; empty texts are not asked)")
    print(f"  model rate: {encoder.misses / max(with_s - bare_s, 1e-9):,.1f} distinct texts/s")
    t0 = time.perf_counter()
    for start in range(0, len(day), args.batch):
        encoder.encode_docs(analyze(day[start:start + args.batch]))
    print(f"  the same posts again, every vector cached: {n / (time.perf_counter() - t0):,.0f} posts/s")
    topics_bench(args, analyze, day)


def topics_bench(args, analyze, day) -> None:
    """The topic stage as the pipeline runs it (analysis, then each post to the clusterer), per
    vector source: words only, the static table, the encoder selectively (only posts that do not
    clearly match by words) under the per-batch time budget, with a fresh cold cache each."""
    from datetime import datetime, timedelta

    from opinion.nlp.encoder import Encoder
    from opinion.nlp.static import shipped_table
    from opinion.topics.cluster import TopicClusterer
    from opinion.topics.dense import BUDGET_S, SETTINGS, Budgeted

    n = len(day)
    runs = [("words only", {}), ]
    table = shipped_table()
    if table is not None:
        runs.append(("static table", {"vectors": Budgeted(table), **SETTINGS["static"]}))
    for budget in () if args.topics_words_static else (None, BUDGET_S) if args.no_budget_too else (BUDGET_S,):
        enc = Encoder(disk_cache=None)
        enc.encode(["预热"])
        enc.hits = enc.misses = 0
        label = "encoder, selective" + (f", budget {budget:g} s/batch" if budget else ", no budget")
        runs.append((label, {"vectors": Budgeted(enc, budget), **SETTINGS["e5"]}))
    print(f"topics with vectors: first {n} posts of {args.encoder_day}, batches of {args.batch}")
    for label, kwargs in runs:
        clusterer = TopicClusterer(**kwargs)
        vectors = kwargs.get("vectors")
        start_at = datetime(2020, 2, 21)
        t0 = time.perf_counter()
        for start in range(0, n, args.batch):
            if vectors is not None:
                vectors.start_batch()
            for i, doc in enumerate(analyze(day[start:start + args.batch])):
                clusterer.assign(doc, start_at + timedelta(seconds=start + i), post_id=start + i)
            clusterer.maintenance(start_at + timedelta(seconds=start + args.batch))
        live_s = time.perf_counter() - t0
        line = f"  {label:38s} {n / live_s:7,.1f} posts/s"
        if vectors is not None and hasattr(vectors.source, "hit_rate"):
            src = vectors.source
            live_read, hit_rate = vectors.encoded, src.hit_rate
            t0 = time.perf_counter()
            moved = len(clusterer.refine())
            line += (f"; read by the model {live_read / n:.0%}, cache hit rate {hit_rate:.0%}"
                     f" (near-duplicates never ask), left for refinement {vectors.deferred / n:.0%}"
                     f" (refined later in {time.perf_counter() - t0:.0f} s, {moved} moved)")
        print(line, flush=True)


if __name__ == "__main__":
    main()
