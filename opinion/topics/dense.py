"""Sentence-vector side of the topic clusterer: topic centroids in one matrix, and a time budget.

Words alone cannot tell that two posts with no word in common speak of one matter; a sentence vector
(opinion/nlp/encoder.py, or the static table opinion/nlp/static.py) can. Each open topic keeps the sum
of its members' vectors; cosine is taken after subtracting the running mean of all vectors seen, as
e5 vectors all sit in one narrow cone (raw cosines are 0.7-0.9 for anything). The centroids live in
one growable matrix so that the nearest topics to a post are two matrix-vector products, whatever
the number of topics.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from opinion.nlp.doc import Doc


class DenseIndex:
    def __init__(self, dim: int):
        self.dim = dim
        self.sums = np.zeros((64, dim), dtype=np.float32)
        self.means = np.zeros((64, dim), dtype=np.float32)
        self.counts = np.zeros(64, dtype=np.float32)
        self.row: dict[str, int] = {}
        self.keys: list[str | None] = [None] * 64
        self.free: list[int] = list(range(63, -1, -1))
        self.mu_sum = np.zeros(dim, dtype=np.float64)
        self.mu_n = 0

    # -- global mean ---------------------------------------------------------------------------
    @property
    def mu(self) -> np.ndarray:
        return (self.mu_sum / self.mu_n).astype(np.float32) if self.mu_n else np.zeros(self.dim, np.float32)

    def observe(self, v: np.ndarray) -> None:
        self.mu_sum += v
        self.mu_n += 1

    # -- rows ----------------------------------------------------------------------------------
    def _slot(self, key: str) -> int:
        r = self.row.get(key)
        if r is None:
            if not self.free:
                n = len(self.keys)
                self.sums = np.vstack([self.sums, np.zeros_like(self.sums)])
                self.means = np.vstack([self.means, np.zeros_like(self.means)])
                self.counts = np.concatenate([self.counts, np.zeros(n, np.float32)])
                self.keys += [None] * n
                self.free = list(range(2 * n - 1, n - 1, -1))
            r = self.free.pop()
            self.row[key], self.keys[r] = r, key
        return r

    def add(self, key: str, v: np.ndarray, weight: float = 1.0) -> None:
        r = self._slot(key)
        self.sums[r] += weight * v
        self.counts[r] += weight
        self.means[r] = self.sums[r] / self.counts[r]

    def set(self, key: str, vsum: np.ndarray, count: float) -> None:
        r = self._slot(key)
        self.sums[r], self.counts[r] = vsum, count
        self.means[r] = vsum / count if count else 0.0

    def drop(self, key: str) -> None:
        r = self.row.pop(key, None)
        if r is not None:
            self.sums[r] = 0.0
            self.means[r] = 0.0
            self.counts[r] = 0.0
            self.keys[r] = None
            self.free.append(r)

    def get(self, key: str) -> tuple[np.ndarray, float] | None:
        r = self.row.get(key)
        return None if r is None else (self.sums[r].copy(), float(self.counts[r]))

    def __contains__(self, key: str) -> bool:
        return key in self.row

    # -- similarity ----------------------------------------------------------------------------
    def similarities(self, v: np.ndarray) -> np.ndarray:
        """Centred cosine of `v` to every row (0 for free rows)."""
        mu = self.mu
        q = v - mu
        qn = float(np.linalg.norm(q))
        if qn <= 0:
            return np.zeros(len(self.keys), np.float32)
        m = self.means
        dots = m @ q - float(mu @ q)
        norms2 = np.einsum("ij,ij->i", m, m) - 2 * (m @ mu) + float(mu @ mu)
        sims = dots / (np.sqrt(np.maximum(norms2, 1e-12)) * qn)
        sims[self.counts <= 0] = 0.0
        return sims

    def nearest(self, v: np.ndarray, k: int, exclude: str | None = None) -> dict[str, float]:
        """The k rows closest to `v`: {key: centred cosine}."""
        if not self.row:
            return {}
        sims = self.similarities(v)
        if exclude in self.row:
            sims[self.row[exclude]] = -2.0
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        return {self.keys[i]: float(sims[i]) for i in top if self.keys[i] is not None and sims[i] > -2}

    def similarity(self, v: np.ndarray, key: str) -> float | None:
        r = self.row.get(key)
        if r is None or self.counts[r] <= 0:
            return None
        mu = self.mu
        a, b = self.means[r] - mu, v - mu
        d = float(np.linalg.norm(a) * np.linalg.norm(b))
        return float(a @ b) / d if d > 0 else 0.0


class Budgeted:
    """Vectors for the clusterer with a time budget per batch: cached vectors are free; a post that
    would need the model after the batch's budget is spent gets None (it is assigned by words and
    refined later). `source` has `lookup(docs)` (cache only) and `encode_docs(docs)`; the static
    table has no cache and no cost, so it is used directly."""

    def __init__(self, source, budget_s: float | None = None, clock: Callable[[], float] = time.perf_counter):
        self.source = source
        self.budget_s = budget_s
        self.clock = clock
        self.spent = 0.0
        self.encoded = 0     # posts the model read for the clusterer
        self.deferred = 0    # posts left for refinement because the budget was spent

    def start_batch(self) -> None:
        self.spent = 0.0

    def __call__(self, doc: Doc, defer_ok: bool = True) -> np.ndarray | None:
        lookup = getattr(self.source, "lookup_docs", None)
        # The pipeline's encode stage has given most posts their encoder vector already (Doc.vector).
        if lookup is not None and doc.vector is not None:
            return doc.vector
        if lookup is not None:
            hit = lookup([doc])[0]
            if hit is not None:
                return hit
        if defer_ok and self.budget_s is not None and self.spent >= self.budget_s:
            self.deferred += 1
            return None
        t0 = self.clock()
        v = self.source.encode_docs([doc])[0]
        self.spent += self.clock() - t0
        self.encoded += 1
        return v


# Settings per vector source, chosen on the tuning days (2.28 whole, samples of 1.21 and 2.17) and
# reported on others: opinion/nlp/models/README.md, "Topics".
SETTINGS = {
    "e5": {"dense_weight": 1.0, "dense_threshold": 0.2, "clear_match": 0.35},
    "static": {"dense_weight": 0.25, "dense_threshold": 0.1, "clear_match": None},
}
DEFAULT_SOURCE = "e5"
BUDGET_S = 5.0       # encoder seconds per batch before posts are left for refinement (live stream)


def source_and_settings(name: str | None = None, budget_s: float | None = BUDGET_S) -> dict:
    """Keyword arguments for TopicClusterer: the vector source (OPINION_TOPIC_VECTORS: e5, static
    or off; the encoder switched off with OPINION_ENCODER=off falls back to the static table) and
    its settings. Empty (words only) where none is available."""
    # lazy: the vector sources load models; words-only clustering needs neither
    import os

    from opinion.nlp.encoder import get_encoder
    from opinion.nlp.static import shipped_table
    name = (name or os.environ.get("OPINION_TOPIC_VECTORS") or DEFAULT_SOURCE).strip().lower()
    source = None
    if name == "e5":
        source = get_encoder()
        if source is None:
            name = "static"
    if name == "static":
        source = shipped_table()
    if source is None:
        return {}
    return {"vectors": Budgeted(source, budget_s if name == "e5" else None), **SETTINGS[name]}
