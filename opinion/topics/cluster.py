"""Online, single-pass hot-topic clustering of the post stream.

Each post joins the most similar open topic or starts a new one, in arrival order. Candidates come
from an inverted index (term -> recently active topics holding it) with capped posting lists, so the
cost of a post does not grow with the number of topics; topics go dormant after a quiet period or
when more than `max_active` are open, which bounds memory. Near-duplicates (reposts, copy-paste
waves) are caught by MinHash sketches: they add volume without moving the centroid. Pure: no Flask,
no database; the caller persists `export_state` and rebuilds with `load_topic`/`load_stats`.

With `vectors` (a callable doc -> sentence vector or None, see opinion/topics/dense.py) a post is
compared by words and by meaning: (word cosine + dense_weight * centred vector cosine) / (1 +
dense_weight), over the topics sharing its words and those nearest in meaning, so paraphrases with
no word in common can meet. With `clear_match`, a post whose words already match a topic that well
is not given a vector at all (selective encoding: the encoder is the slow part). A post whose
vector was not ready (budget spent) is assigned by words and kept for `refine`, which may move it.
"""
from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from opinion.nlp.doc import Doc
from opinion.topics import features as F
from opinion.topics.dense import DenseIndex
from opinion.topics.state import (
    MAX_CENTROID_TERMS,
    TopicState,
    add_clauses,
    dense_from_dict,
    dense_to_dict,
    make_label,
    merge_states,
    prune,
    remove_contribution,
    state_from_dict,
)
from opinion.topics.state import export_state as _export

RETIRED_KEPT = 1_000   # dormant topics still readable by key: more than one batch (500 posts) can make
UNREFINED_KEPT = 5_000  # posts assigned by words only, waiting for their vector (bounded)


def surviving(merged_into: dict[str, str], key: str | None) -> str | None:
    """The topic `key` ended up in, following the (into, from) merges maintenance() reported,
    collected as {from: into}."""
    while key in merged_into:
        key = merged_into[key]
    return key


@dataclass
class Assignment:
    topic_key: str
    is_new: bool
    similarity: float
    is_duplicate: bool
    needs_refine: bool = False   # assigned by words only; `refine` may move it later


class TopicClusterer:
    def __init__(self, threshold: float = 0.12, dormant_after: timedelta = timedelta(hours=72),
                 max_active: int = 20_000, merge_threshold: float = 0.2,
                 dup_threshold: float = 0.5, query_terms: int = 10, posting_cap: int = 32,
                 max_candidates: int = 10, max_dup_keys: int = 200_000,
                 max_df: float = 1.0, merge_candidates: int = 6,
                 vectors: Callable[..., np.ndarray | None] | None = None, dense_weight: float = 0.25,
                 dense_threshold: float | None = None, dense_merge_threshold: float | None = None,
                 clear_match: float | None = None, dense_candidates: int = 10) -> None:
        self.merge_candidates = merge_candidates
        self.vectors = vectors
        self.dense_weight = dense_weight
        self.dense_threshold = threshold if dense_threshold is None else dense_threshold
        self.dense_merge_threshold = merge_threshold if dense_merge_threshold is None else dense_merge_threshold
        self.clear_match = clear_match
        self.dense_candidates = dense_candidates
        self.dense: DenseIndex | None = None
        self.unrefined: OrderedDict[str | int, tuple[str, Doc, float]] = OrderedDict()
        self.max_df = max_df
        self.threshold = threshold
        self.dormant_after = dormant_after
        self.max_active = max_active
        self.merge_threshold = merge_threshold
        self.dup_threshold = dup_threshold
        self.query_terms = query_terms
        self.posting_cap = posting_cap
        self.max_candidates = max_candidates
        self.max_dup_keys = max_dup_keys
        self.idf = F.Idf()
        # Insertion order = least recently updated first, so eviction pops from the front.
        self.topics: dict[str, TopicState] = {}
        self.index: dict[str, dict[str, None]] = {}     # term -> ordered set of topic keys
        self.dups: OrderedDict[tuple[int, int], tuple[str, tuple[int, ...]]] = OrderedDict()
        self.went_dormant: dict[str, dict] = {}         # exported states since last maintenance
        # The last topics to go dormant, still readable: a batch that mixes a post from last week
        # with today's makes the old post's topic dormant before the batch is stored.
        self.retired: OrderedDict[str, TopicState] = OrderedDict()
        self._next_id = 1
        self._dirty: set[str] = set()    # topics whose centroid moved since the last maintenance
        self._checked_at: dict[str, int] = {}   # topic size at its last merge check

    # -- vectors ---------------------------------------------------------------------------------
    def vectorize(self, doc: Doc) -> dict[str, float]:
        """The post's current TF-IDF vector (what `assign` adds; for `remove_post`)."""
        return F.vectorize(F.raw_features(doc), self.idf, self.max_df)

    # -- assignment ------------------------------------------------------------------------------
    def assign(self, doc: Doc, created_at: datetime, post_id: str | int | None = None,
               weight: float = 1.0) -> Assignment:
        raw = F.raw_features(doc)
        self.idf.add(raw.keys())
        vec = F.vectorize(raw, self.idf, self.max_df)
        sk = F.sketch(doc)
        self._expire(created_at)

        dup_key = self._find_duplicate(sk)
        if dup_key is not None:
            s = self.topics[dup_key]
            self._touch(s, doc, created_at, weight)
            s.n_duplicates += 1
            return Assignment(dup_key, False, 1.0, True)

        key, sim = self._best(vec)
        dv, deferred = None, False
        if self.vectors is not None and (self.clear_match is None or key is None or sim < self.clear_match):
            dv = self.vectors(doc)
            deferred = dv is None
            if dv is not None and not np.any(dv):
                dv = None           # nothing to read (an empty body): words decide
        if dv is not None:
            self._dense_for(dv).observe(dv)
            key, sim = self._best_combined(vec, dv)
            is_new = key is None or sim < self.dense_threshold
        else:
            is_new = key is None or sim < self.threshold
        if is_new:
            key = f"t{self._next_id}"
            self._next_id += 1
            s = TopicState(key=key, first_seen=created_at)
            self.topics[key] = s
            if len(self.topics) > self.max_active:
                self._make_dormant(next(iter(self.topics)))
        s = self.topics[key]
        self._add_vector(s, vec, weight)
        if dv is not None:
            self.dense.add(key, dv, weight)
        self._touch(s, doc, created_at, weight)
        self._register_sketch(sk, key)
        if sk:
            s.sketches = (s.sketches + [sk])[-64:]
        if deferred and post_id is not None:
            self.unrefined[post_id] = (key, doc, weight)
            while len(self.unrefined) > UNREFINED_KEPT:
                self.unrefined.popitem(last=False)
        return Assignment(key, is_new, 1.0 if is_new else sim, False, deferred)

    # -- sentence vectors ------------------------------------------------------------------------
    def _dense_for(self, dv: np.ndarray) -> DenseIndex:
        if self.dense is None or self.dense.dim != dv.shape[0]:
            self.dense = DenseIndex(dv.shape[0])
            for k, s in self.topics.items():
                if s.dense is not None and s.dense[0].shape == dv.shape:
                    self.dense.set(k, *s.dense)
        return self.dense

    def _combine(self, wsim: float, dsim: float | None) -> float:
        return wsim if dsim is None else (wsim + self.dense_weight * dsim) / (1.0 + self.dense_weight)

    def _word_sim(self, vec: dict[str, float], s: TopicState) -> float:
        if s.norm <= 0:
            return 0.0
        vs = s.vsum
        return sum(w * vs.get(t, 0.0) for t, w in vec.items()) / s.norm

    def _best_combined(self, vec: dict[str, float], dv: np.ndarray, exclude: str | None = None,
                       eligible=None) -> tuple[str | None, float]:
        """The topic nearest by words and meaning among those sharing the post's words and those
        nearest in meaning."""
        q = sorted(vec.items(), key=lambda kv: kv[1], reverse=True)[: self.query_terms]
        cand = self._shortlist(q)
        if len(cand) > self.max_candidates:
            cand = dict.fromkeys(heapq.nlargest(self.max_candidates, cand, key=cand.__getitem__))
        near = self.dense.nearest(dv, self.dense_candidates, exclude=exclude)
        best, best_sim = None, 0.0
        for k in dict.fromkeys([*cand, *near]):
            s = self.topics.get(k)
            if s is None or k == exclude or (eligible is not None and not eligible(s)):
                continue
            dsim = near[k] if k in near else self.dense.similarity(dv, k)
            sim = self._combine(self._word_sim(vec, s), dsim)
            if sim > best_sim:
                best, best_sim = k, sim
        return best, best_sim

    def refine(self, limit: int | None = None, margin: float = 0.02) -> list[tuple[str | int, str, str]]:
        """Give the posts assigned by words alone their vectors (the encoder has caught up) and move
        those that sit clearly better in another open topic. Returns (post_id, from, to) moves."""
        moves: list[tuple[str | int, str, str]] = []
        n = len(self.unrefined) if limit is None else min(limit, len(self.unrefined))
        for _ in range(n):
            post_id, (key, doc, weight) = self.unrefined.popitem(last=False)
            if key not in self.topics or self.vectors is None:
                continue
            dv = self.vectors(doc, defer_ok=False)
            if dv is None or not np.any(dv):
                continue
            dense = self._dense_for(dv)
            dense.observe(dv)
            vec = self.vectorize(doc)
            alone = self.topics[key].n_vectors <= 1
            # A post alone in its topic is compared with the others only (its own topic is itself).
            here = 0.0 if alone else self._combine(self._word_sim(vec, self.topics[key]),
                                                   dense.similarity(dv, key))
            best, sim = self._best_combined(vec, dv, exclude=key)
            if best is not None and sim >= self.dense_threshold and sim > here + margin:
                if alone:
                    self._drop(key)
                else:
                    self.remove_post(key, doc, weight)
                s = self.topics[best]
                self._add_vector(s, vec, weight)
                s.volume += weight
                dense.add(best, dv, weight)
                moves.append((post_id, key, best))
            else:
                dense.add(key, dv, weight)
        return moves

    def _best(self, vec: dict[str, float]) -> tuple[str | None, float]:
        q = sorted(vec.items(), key=lambda kv: kv[1], reverse=True)[: self.query_terms]
        cand = self._shortlist(q)
        if len(cand) > self.max_candidates:
            cand = dict.fromkeys(heapq.nlargest(self.max_candidates, cand, key=cand.__getitem__))
        return self._nearest(vec, cand)

    def _shortlist(self, terms) -> dict[str, float]:
        """Topics sharing the query's top terms, with the summed weight of what they share."""
        cand: dict[str, float] = {}
        for t, w in terms:
            for k in self.index.get(t, ()):
                cand[k] = cand.get(k, 0.0) + w
        return cand

    def _nearest(self, vec: dict[str, float], keys, eligible=None) -> tuple[str | None, float]:
        """The topic among `keys` whose centroid is closest to `vec` (exact cosine), and how close."""
        best, best_sim = None, 0.0
        for k in keys:
            s = self.topics[k]
            if s.norm <= 0 or (eligible is not None and not eligible(s)):
                continue
            vs = s.vsum
            sim = sum(w * vs.get(t, 0.0) for t, w in vec.items()) / s.norm
            if sim > best_sim:
                best, best_sim = k, sim
        return best, best_sim

    def _add_vector(self, s: TopicState, vec: dict[str, float], weight: float) -> None:
        vs, cap, key = s.vsum, self.posting_cap, s.key
        dot = 0.0
        for t, w in vec.items():
            old = vs.get(t, 0.0)
            dot += old * w
            vs[t] = old + weight * w
            posting = self.index.setdefault(t, {})
            posting.pop(key, None)
            posting[key] = None         # move to the back: most recently fed topics stay findable
            if len(posting) > cap:
                del posting[next(iter(posting))]
        s.n_vectors += 1
        self._dirty.add(key)
        # ||S + wv||^2 = ||S||^2 + 2w S.v + w^2 (v is unit length): O(|v|), not O(|S|).
        s.norm = max(0.0, s.norm * s.norm + 2 * weight * dot + weight * weight) ** 0.5
        if len(vs) > 2 * MAX_CENTROID_TERMS:    # prune in batches: one sort per many posts
            for t in prune(s):
                self._unindex(t, key)

    def _touch(self, s: TopicState, doc: Doc, created_at: datetime, weight: float) -> None:
        s.volume += weight
        if s.first_seen is None or created_at < s.first_seen:
            s.first_seen = created_at
        if s.last_seen is None or created_at > s.last_seen:
            s.last_seen = created_at
        add_clauses(s, doc.body)
        if doc.headline.strip():
            s.headlines[doc.headline.strip()] += 1
        for h in doc.hashtags:
            s.hashtags[h.strip()] += 1
        if len(s.headlines) > 50:       # keep the counters bounded on long-lived topics
            s.headlines = type(s.headlines)(dict(s.headlines.most_common(20)))
        if len(s.hashtags) > 50:
            s.hashtags = type(s.hashtags)(dict(s.hashtags.most_common(20)))
        self.topics[s.key] = self.topics.pop(s.key)    # now the most recently updated

    # -- near-duplicates -------------------------------------------------------------------------
    def _find_duplicate(self, sk: tuple[int, ...]) -> str | None:
        for bk in F.sketch_keys(sk):
            hit = self.dups.get(bk)
            if hit and hit[0] in self.topics and F.sketch_similarity(sk, hit[1]) >= self.dup_threshold:
                return hit[0]
        return None

    def _register_sketch(self, sk: tuple[int, ...], key: str) -> None:
        for bk in F.sketch_keys(sk):
            self.dups[bk] = (key, sk)
            self.dups.move_to_end(bk)
        while len(self.dups) > self.max_dup_keys:
            self.dups.popitem(last=False)

    # -- lifecycle -------------------------------------------------------------------------------
    def _unindex(self, term: str, key: str) -> None:
        posting = self.index.get(term)
        if posting is not None:
            posting.pop(key, None)
            if not posting:
                del self.index[term]

    def _drop(self, key: str) -> None:
        """Forget a topic whose only post moved elsewhere."""
        s = self.topics.pop(key)
        for t in s.vsum:
            self._unindex(t, key)
        if self.dense is not None:
            self.dense.drop(key)
        self._dirty.discard(key)
        self._checked_at.pop(key, None)

    def _sync_dense(self, s: TopicState) -> TopicState:
        """Copy the topic's vector sum from the index onto its state (to export or merge it)."""
        if self.dense is not None:
            got = self.dense.get(s.key)
            if got is not None:
                s.dense = got
        return s

    def _make_dormant(self, key: str) -> None:
        s = self._sync_dense(self.topics.pop(key))
        if self.dense is not None:
            self.dense.drop(key)
        self.retired[key] = s
        if len(self.retired) > RETIRED_KEPT:
            self.retired.popitem(last=False)
        self._checked_at.pop(key, None)
        for t in s.vsum:
            self._unindex(t, key)
        if s.n_vectors + s.n_duplicates >= 2:   # singletons are noise, not worth persisting
            self.went_dormant[key] = _export(s)
            if len(self.went_dormant) > 10_000:    # bounded even if nobody drains it
                del self.went_dormant[next(iter(self.went_dormant))]

    def pop_dormant(self) -> dict[str, dict]:
        """Exported states of topics closed since the last call (for the database to keep)."""
        out, self.went_dormant = self.went_dormant, {}
        return out

    def _expire(self, now: datetime) -> None:
        # Topics are ordered by last update, so only the front can be due.
        limit = now - self.dormant_after
        while self.topics:
            first = next(iter(self.topics.values()))
            if first.last_seen is None or first.last_seen >= limit:
                break
            self._make_dormant(first.key)

    def maintenance(self, now: datetime) -> list[tuple[str, str]]:
        """Dormancy, then merges of topics whose centroids converged; returns (into, from) pairs."""
        self._expire(now)
        merges: list[tuple[str, str]] = []
        # Only topics that moved can have converged with another; smallest first, so fragments
        # fold into the big topics rather than big topics into fragments.
        dirty = [k for k in self._dirty if k in self.topics]
        self._dirty = set()
        # Ties broken by key: a set's order follows PYTHONHASHSEED, and results must not.
        for key in sorted(dirty, key=lambda k: (self.topics[k].n_vectors, k)):
            s = self.topics.get(key)
            if s is None or s.n_vectors < 2 or s.norm <= 0 or s.curated:
                continue
            # A centroid barely moves once a topic is big: re-check after it grew by a quarter.
            if s.n_vectors < 1.25 * self._checked_at.get(key, 0):
                continue
            self._checked_at[key] = s.n_vectors
            other, sim = self._best_other(s)
            limit = self.dense_merge_threshold if self.dense is not None and s.key in self.dense \
                else self.merge_threshold
            if other is not None and sim >= limit:
                big, small = sorted((key, other), key=lambda k: -self.topics[k].n_vectors)
                self.merge(big, small)
                merges.append((big, small))
        return merges

    def _best_other(self, s: TopicState) -> tuple[str | None, float]:
        top = sorted(s.vsum.items(), key=lambda kv: kv[1], reverse=True)[:F.MAX_TERMS]
        cen = {t: v / s.norm for t, v in top}   # truncated centroid: cheap, and the tail is noise
        got = self.dense.get(s.key) if self.dense is not None else None
        if got is not None and got[1] > 0:
            return self._best_combined(cen, got[0] / got[1], exclude=s.key,
                                       eligible=lambda o: o.n_vectors >= 2 and not o.curated)
        # Cheap shortlist from the postings, exact cosine on the few best only (as in `_best`).
        cand = self._shortlist(top[: self.query_terms])
        cand.pop(s.key, None)
        return self._nearest(cen, heapq.nlargest(self.merge_candidates, cand, key=cand.__getitem__),
                             eligible=lambda o: o.n_vectors >= 2 and not o.curated)

    # -- monitor edits, persistence, labels ------------------------------------------------------
    def merge(self, into_key: str, from_key: str) -> TopicState:
        a, b = self.topics[into_key], self.topics.pop(from_key)
        for t in b.vsum:
            self._unindex(t, from_key)
        for t in a.vsum:
            self._unindex(t, into_key)
        merged = merge_states(self._sync_dense(a), self._sync_dense(b))
        if self.dense is not None:
            self.dense.drop(from_key)
            if merged.dense is not None and merged.dense[0].shape == (self.dense.dim,):
                self.dense.set(into_key, *merged.dense)
        self.topics[into_key] = merged
        self._index_topic(merged)
        self._dirty.discard(from_key)
        self._checked_at.pop(from_key, None)
        self._dirty.add(into_key)
        for sk in b.sketches:
            self._register_sketch(sk, into_key)
        return merged

    def remove_post(self, key: str, doc: Doc, weight: float = 1.0, duplicate: bool = False) -> None:
        """Take one post out of a topic (the monitor moved it); the topic keeps its key."""
        old = self._sync_dense(self.topics[key])
        for t in old.vsum:
            self._unindex(t, key)
        new = remove_contribution(old, self.vectorize(doc), weight, duplicate)
        self.topics[key] = new
        self._index_topic(new)

    def _index_topic(self, s: TopicState) -> None:
        for t in s.vsum:
            posting = self.index.setdefault(t, {})
            posting[s.key] = None
            if len(posting) > self.posting_cap:
                del posting[next(iter(posting))]

    def topic(self, key: str) -> TopicState:
        """An active topic, or one that has just gone dormant."""
        s = self.topics.get(key) or self.retired.get(key)
        if s is None:
            raise KeyError(key)
        return s

    def label(self, key: str) -> str:
        return make_label(self.topic(key))

    def rename(self, key: str, label: str) -> None:
        self.topics[key].custom_label = label

    def export_state(self, key: str) -> dict:
        return _export(self._sync_dense(self.topic(key)))

    def load_topic(self, key: str, state: dict, recheck: bool = False) -> None:
        """Rebuild one topic (after a restart, or to revive a dormant one). `recheck`: the next
        maintenance looks for a topic it converged with, as for one that just moved (after a
        restart, pairs that converged before it would otherwise wait for their next post)."""
        if key in self.topics:
            old = self.topics.pop(key)
            for t in old.vsum:
                self._unindex(t, key)
        s = state_from_dict(key, state)
        self.topics[key] = s
        self._index_topic(s)
        if self.dense is not None:
            self.dense.drop(key)
            if s.dense is not None and s.dense[0].shape == (self.dense.dim,):
                self.dense.set(key, *s.dense)
        for sk in s.sketches:
            self._register_sketch(sk, key)
        if key[1:].isdigit():           # never hand out a key that is already in use
            self._next_id = max(self._next_id, int(key[1:]) + 1)
        if recheck:
            self._dirty.add(key)

    def export_stats(self) -> dict:
        """Global IDF statistics, to persist alongside the topics."""
        out = {"idf": self.idf.export(), "next_id": self._next_id}
        if self.dense is not None and self.dense.mu_n:
            out["dense_mean"] = dense_to_dict((self.dense.mu, self.dense.mu_n))
        return out

    def load_stats(self, state: dict) -> None:
        self.idf.load(state["idf"])
        self._next_id = max(self._next_id, int(state.get("next_id", 1)))
        mean = dense_from_dict(state.get("dense_mean"))
        if mean is not None:
            # The mean all vectors are centred on: without it a restarted clusterer would centre
            # on its first few posts.
            mu, n = mean
            self.dense = DenseIndex(mu.shape[0])
            self.dense.mu_sum, self.dense.mu_n = mu.astype(np.float64) * n, int(n)
            for k, s in self.topics.items():
                if s.dense is not None and s.dense[0].shape == mu.shape:
                    self.dense.set(k, *s.dense)
