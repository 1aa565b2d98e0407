"""Turns a cleaned, segmented Doc into the sparse vector and near-duplicate sketch the clusterer uses.

Kept apart from the clusterer so the same vectorisation serves assignment, the pure "remove a post's
contribution" function and the tests. Vectors are plain dicts (term -> weight): posts have a few
dozen terms, and dict arithmetic in pure Python beats numpy/scipy at that size.
"""
from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable

from opinion.nlp.doc import Doc

# Field weights (raw-count multipliers before IDF). Stream metadata is far more specific than
# words: a shared headline, link, other hashtag or repost root nearly always means the same matter.
W_TOKEN = 1.0
W_HEADLINE_TOKEN = 2.0      # a token that also appears in the 【】 headline
W_HASHTAG = 3.0
W_HEADLINE = 3.0            # the whole headline as one feature
W_URL = 3.0
W_ROOT = 2.0                # author of the post at the root of a //@ repost chain
W_MENTION = 1.0
MAX_TERMS = 40              # keep a post's strongest terms only: bounds assignment cost

_NON_WORD = re.compile(r"[\W_]+")


def raw_features(doc: Doc) -> dict[str, float]:
    """Weighted term counts of a post, before IDF; prefixes keep metadata apart from words."""
    f: dict[str, float] = {}
    head = doc.headline or ""
    for t in doc.tokens:
        if len(t) > 1 or "\u4e00" <= t <= "\u9fff":
            f[t] = f.get(t, 0.0) + (W_HEADLINE_TOKEN if head and t in head else W_TOKEN)
    for h in doc.hashtags:
        h = h.strip()
        if h:
            f["#" + h] = f.get("#" + h, 0.0) + W_HASHTAG
    if head.strip():
        f["【" + head.strip()] = W_HEADLINE
    for u in doc.urls:
        f["u:" + u] = W_URL
    if doc.repost_chain:
        f["@@" + doc.repost_chain[-1][0]] = W_ROOT
    for m in doc.mentions:
        f["@" + m] = f.get("@" + m, 0.0) + W_MENTION
    return f


class Idf:
    """Online document frequencies with bounded memory.

    IDF must follow the stream (in a COVID week "肺炎" is a stopword), so it is counted online. The
    table is pruned of its rarest terms when it exceeds `max_terms`, which only makes forgotten terms
    look rare again: they stay informative, which is what a new term should be.
    """

    def __init__(self, max_terms: int = 200_000) -> None:
        self.df: dict[str, int] = {}
        self.n = 0
        self.max_terms = max_terms

    def add(self, terms: Iterable[str]) -> None:
        df = self.df
        for t in terms:
            df[t] = df.get(t, 0) + 1
        self.n += 1
        if len(df) > self.max_terms:
            self._prune()

    def _prune(self) -> None:
        keep = sorted(self.df.items(), key=lambda kv: kv[1], reverse=True)[: self.max_terms // 2]
        self.df = dict(keep)

    def idf(self, term: str) -> float:
        # Smoothed so a term never seen weighs log(n+1)+1 and a term in every post weighs ~1.
        return math.log((self.n + 1) / (self.df.get(term, 0) + 1)) + 1.0

    def idf_at(self, share: float) -> float:
        """The IDF of a term found in `share` of all posts."""
        return math.log((self.n + 1) / (share * self.n + 1)) + 1.0

    def export(self) -> dict:
        return {"n": self.n, "df": dict(self.df)}

    def load(self, state: dict) -> None:
        self.n = int(state["n"])
        self.df = {str(k): int(v) for k, v in state["df"].items()}


def vectorize(raw: dict[str, float], idf: Idf, max_df: float = 1.0) -> dict[str, float]:
    """Sublinear TF x IDF, strongest MAX_TERMS terms, L2-normalised.

    Terms in more than `max_df` of all posts so far are dropped: in a stream about one crisis the
    crisis words ("疫情", "武汉") sit in every topic and would pull all short comments together.
    """
    cut = idf.idf_at(max_df) if max_df < 1.0 and idf.n >= 200 else 0.0
    w = {}
    for t, c in raw.items():
        i = idf.idf(t)
        if c > 0 and i > cut:
            w[t] = (1.0 + math.log(c)) * i
    if len(w) > MAX_TERMS:
        w = dict(sorted(w.items(), key=lambda kv: kv[1], reverse=True)[:MAX_TERMS])
    norm = math.sqrt(sum(v * v for v in w.values()))
    return {t: v / norm for t, v in w.items()} if norm > 0 else {}


SKETCH_K = 8
MIN_DUP_CHARS = 12          # shorter texts ("支持！") repeat by chance, not by copying


def sketch(doc: Doc) -> tuple[int, ...]:
    """Bottom-k MinHash sketch of the post's character 4-grams (crc32: stable across restarts).

    Reposts and copy-paste waves share most 4-grams, so their sketches share most values. Empty for
    short texts, which are never treated as duplicates.
    """
    s = _NON_WORD.sub("", doc.body or doc.text or doc.raw)
    if len(s) < MIN_DUP_CHARS:
        return ()
    hs = {zlib.crc32(s[i:i + 4].encode("utf-8")) for i in range(len(s) - 3)}
    return tuple(sorted(hs)[:SKETCH_K])


def sketch_similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Bottom-k estimate of the Jaccard similarity of two sketched shingle sets."""
    if not a or not b:
        return 0.0
    union = sorted(set(a) | set(b))[:SKETCH_K]
    sa, sb = set(a), set(b)
    return sum(1 for h in union if h in sa and h in sb) / len(union)


def sketch_keys(sk: tuple[int, ...]) -> list[tuple[int, int]]:
    """LSH band keys: pairs of consecutive minima, so two near-copies almost surely share one."""
    return [(sk[i], sk[i + 1]) for i in range(0, len(sk) - 1, 2)]
