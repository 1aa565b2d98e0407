"""Keywords: the few words that say what a post (or a topic) is about, by TF-IDF.

The IDF table is learned from real Weibo posts (the weibo-stream corpus, segmented the way the
pipeline segments) rather than jieba's general-purpose table, so words every Weibo post uses
(疫情, 网友, 视频) weigh little. Stopwords and the district's own unit names are excluded: every post
sent to a unit would otherwise be "about" that unit. Rebuild the table with
`python -m opinion.nlp.keywords /path/to/weibo-stream/*.jsonl`.
"""
from __future__ import annotations

import json
import math
import re
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

from opinion.nlp.clean import clean
from opinion.nlp.doc import Doc
from opinion.nlp.segment import load_stopwords

# "两点", "一位", "3名", "十几个": numbers with a measure word say how many, not what about
_QUANTITY = re.compile(r"^[\d零一二两三四五六七八九十百千万亿几多半每第]+[个位名点次年月日天号岁件条人家只台辆元块分秒周层楼期批]?$")
IDF_PATH = Path(__file__).resolve().parent / "models" / "idf.npz"


def save_idf(idf: dict[str, float], path: str | Path = IDF_PATH) -> None:
    """Words as one newline-joined UTF-8 byte array (no pickle, a fraction of a '<U' array)."""
    words = sorted(idf)
    blob = np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8)
    np.savez_compressed(path, words=blob, idf=np.array([idf[w] for w in words], dtype=np.float16))


@lru_cache(maxsize=4)
def load_idf(path: str | None = None) -> dict[str, float]:
    with np.load(path or IDF_PATH, allow_pickle=False) as z:
        words = z["words"].tobytes().decode("utf-8").split("\n")
        return dict(zip(words, z["idf"].astype(float).tolist()))


def build_idf(token_lists: Iterable[list[str]], min_df: int = 3) -> dict[str, float]:
    """Smoothed IDF, log((1+N)/(1+df)) + 1, of words seen in at least `min_df` posts."""
    df: Counter = Counter()
    n = 0
    for tokens in token_lists:
        df.update(set(tokens))
        n += 1
    return {w: math.log((1 + n) / (1 + c)) + 1 for w, c in df.items() if c >= min_df and len(w) > 1}


class KeywordExtractor:
    """Callable stage: fills doc.keywords from doc.tokens."""

    def __init__(self, idf: dict | None = None, exclude: Iterable[str] = (), k: int = 5):
        self.idf = idf if idf is not None else load_idf()
        values = sorted(self.idf.values()) or [1.0]
        # A word the corpus never saw is likely a new name or place: weigh it as a rare word.
        self.default_idf = values[int(len(values) * 0.9)]
        self.exclude = frozenset(w for w in exclude if w) | load_stopwords()
        self.k = k

    def _keep(self, word: str) -> bool:
        if word in self.exclude or _QUANTITY.match(word):
            return False
        if word.isascii():  # "ok", "v2" say little; "Tesla" or "APP" may be the subject
            return len(word) > 2 and word.lower() not in self.exclude
        return len(word) > 1

    def _weights(self, counts: Counter) -> list[tuple[str, float]]:
        idf, default = self.idf, self.default_idf
        scored = [(w, (1 + math.log(n)) * idf.get(w, default)) for w, n in counts.items() if self._keep(w)]
        return sorted(scored, key=lambda x: (-x[1], x[0]))

    def extract(self, tokens: list[str], k: int | None = None) -> list[str]:
        return [w for w, _ in self._weights(Counter(tokens))[: k or self.k]]

    def topic_keywords(self, token_lists: Iterable[list[str]], k: int = 8) -> list[str]:
        counts: Counter = Counter()
        for tokens in token_lists:
            counts.update(set(tokens))  # document frequency inside the topic: one loud post is one vote
        return [w for w, _ in self._weights(counts)[:k]]

    def __call__(self, doc: Doc) -> Doc:
        doc.keywords = self.extract(doc.tokens)
        return doc


def _main(paths: list[str]) -> None:
    # lazy: progress bars only for the long command-line runs; rjieba loads its dictionary; only segmentation needs it
    from tqdm import tqdm

    from opinion.nlp.segment import Segmenter
    seg = Segmenter()
    texts = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    tokens = (seg(clean(Doc(raw=t))).tokens for t in tqdm(texts, desc="segment", file=sys.stderr))
    idf = build_idf(tokens)
    save_idf(idf)
    print(f"{len(idf)} words from {len(texts)} posts -> {IDF_PATH}")


if __name__ == "__main__":
    _main(sys.argv[1:])
