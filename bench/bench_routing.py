"""Throughput of the category classifier on raw text: texts/second of CategoryClassifier.predict.

Raw government messages (replies.csv: subject + body, ~340 characters each) and raw Weibo posts
(weibo-stream, shorter) are classified in batches after the model and jieba are loaded, so the
figure is steady-state inference. Segmentation (jieba) dominates; the rest is dictionary look-ups
and one sparse product. One process, one core.

    python bench/bench_routing.py [--n 3000] [--batch 500]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from opinion.routing.classifier import CategoryClassifier  # noqa: E402


def load_texts(data: Path, n: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    replies = data / "gov-messages" / "replies.csv"
    if replies.exists():
        with replies.open(encoding="utf-8") as fh:
            out["gov-messages (raw)"] = [r["subject"] + " " + r["text"] for r in csv.DictReader(fh)][:n]
    stream = sorted((data / "weibo-stream").glob("*.jsonl"))
    if stream:
        with stream[0].open(encoding="utf-8") as fh:
            out["weibo posts (raw)"] = [json.loads(line)["text"] for _, line in zip(range(n), fh)]
    if not out:
        raise SystemExit(f"no raw texts under {data}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("OPINION_SHARED_DATA", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=500)
    a = ap.parse_args()
    t0 = time.perf_counter()
    clf = CategoryClassifier.load()
    clf.predict(["模型预热"])
    print(f"load + jieba init: {time.perf_counter() - t0:.2f} s")
    for name, texts in load_texts(Path(a.data), a.n).items():
        start = time.perf_counter()
        for i in range(0, len(texts), a.batch):
            clf.predict(texts[i:i + a.batch])
        el = time.perf_counter() - start
        chars = sum(map(len, texts)) / len(texts)
        tok = time.perf_counter()
        for t in texts:
            clf.tokens(t)
        seg = time.perf_counter() - tok
        print(f"{name}: {len(texts)} texts, {chars:.0f} chars avg: {len(texts) / el:,.0f} texts/s "
              f"({sum(map(len, texts)) / el / 1e3:,.0f}k chars/s; segmentation alone {len(texts) / seg:,.0f} texts/s)")


if __name__ == "__main__":
    main()
