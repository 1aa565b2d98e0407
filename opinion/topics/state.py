"""A topic's state and the pure functions over it (merge, remove a post, serialise, label).

Separate from the clusterer so the database layer can merge, split and relabel topics that monitors
edit without running a clusterer, and so a restart can rebuild topics from what the database kept.
"""
from __future__ import annotations

import base64
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from opinion.nlp.segment import load_stopwords

MAX_CENTROID_TERMS = 120    # a topic keeps its strongest terms only: bounded memory per topic
MAX_SKETCHES = 64           # recent near-duplicate sketches kept with a topic (survive restarts)
MAX_CLAUSES = 40            # candidate clauses for the label kept with a topic
LABEL_CHARS = 20
_CLAUSE_BREAK = re.compile(r"[，,。！？!?；;：:、\s…~～|/（）()“”\"【】\[\]《》<>]+")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class TopicState:
    key: str
    vsum: dict[str, float] = field(default_factory=dict)  # sum of member vectors (pruned)
    norm: float = 0.0           # ||vsum||, kept so cosine to the centroid is one sparse dot product
    n_vectors: int = 0          # posts that moved the centroid (duplicates excluded)
    volume: float = 0.0         # weighted posts, duplicates included
    n_duplicates: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    headlines: Counter = field(default_factory=Counter)
    hashtags: Counter = field(default_factory=Counter)
    clauses: Counter = field(default_factory=Counter)   # short clauses of its posts, for the label
    sketches: list[tuple[int, ...]] = field(default_factory=list)
    custom_label: str | None = None   # set by a monitor's rename; wins over the generated label
    # A monitor moved posts into or out of it: upkeep never merges it automatically, or it could
    # fold a split-off part straight back. Monitors still merge it by hand.
    curated: bool = False
    # Sum and weight of its posts' sentence vectors (opinion/topics/dense.py), where it has any.
    dense: tuple[np.ndarray, float] | None = None

    @property
    def centroid(self) -> dict[str, float]:
        """The normalised centroid (computed on demand; vsum/norm is what is stored)."""
        return {t: v / self.norm for t, v in self.vsum.items()} if self.norm > 0 else {}

    @property
    def keywords(self) -> list[str]:
        return top_keywords(self)

    @property
    def label(self) -> str:
        return make_label(self)


def recompute_norm(s: TopicState) -> None:
    s.norm = math.sqrt(sum(v * v for v in s.vsum.values()))


def prune(s: TopicState) -> list[str]:
    """Drop the weakest centroid terms beyond MAX_CENTROID_TERMS; returns the dropped terms."""
    if len(s.vsum) <= MAX_CENTROID_TERMS:
        return []
    items = sorted(s.vsum.items(), key=lambda kv: kv[1], reverse=True)
    s.vsum = dict(items[:MAX_CENTROID_TERMS])
    recompute_norm(s)
    return [t for t, _ in items[MAX_CENTROID_TERMS:]]


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def merge_states(a: TopicState, b: TopicState, key: str | None = None) -> TopicState:
    """Pure: the topic made of both a's and b's posts (a's key unless `key` is given)."""
    vsum = dict(a.vsum)
    for t, v in b.vsum.items():
        vsum[t] = vsum.get(t, 0.0) + v
    out = TopicState(
        key=key or a.key, vsum=vsum, n_vectors=a.n_vectors + b.n_vectors,
        volume=a.volume + b.volume, n_duplicates=a.n_duplicates + b.n_duplicates,
        first_seen=_min(a.first_seen, b.first_seen), last_seen=_max(a.last_seen, b.last_seen),
        headlines=a.headlines + b.headlines, hashtags=a.hashtags + b.hashtags,
        clauses=_bounded(a.clauses + b.clauses),
        sketches=(a.sketches + b.sketches)[-MAX_SKETCHES:], custom_label=a.custom_label,
        curated=a.curated or b.curated, dense=_add_dense(a.dense, b.dense),
    )
    recompute_norm(out)
    prune(out)
    return out


def _add_dense(a, b):
    if a is None or b is None or a[0].shape != b[0].shape:
        return a if b is None or (a is not None and a[1] >= b[1]) else b
    return a[0] + b[0], a[1] + b[1]


def dense_to_dict(dense) -> dict | None:
    """The vector sum as float16 in base64 (a 384-d sum: 1 KB of JSON, not 8)."""
    if dense is None:
        return None
    vsum, n = dense
    return {"sum": base64.b64encode(np.asarray(vsum, dtype=np.float16).tobytes()).decode("ascii"),
            "n": float(n)}


def dense_from_dict(d) -> tuple[np.ndarray, float] | None:
    if not d:
        return None
    try:
        vsum = np.frombuffer(base64.b64decode(d["sum"]), dtype=np.float16).astype(np.float32)
        return vsum, float(d["n"])
    except (KeyError, ValueError, TypeError):
        return None


def remove_contribution(s: TopicState, vector: dict[str, float], weight: float = 1.0,
                        duplicate: bool = False) -> TopicState:
    """Pure: the topic without one post (e.g. a monitor moved it elsewhere or split it off).

    `vector` is the post's vector (TopicClusterer.vectorize). Since IDF drifts, it may differ a
    little from what was added; terms are clipped at zero so the centroid never turns negative.
    A duplicate only ever added volume, so removing one only takes volume.
    """
    vsum = dict(s.vsum)
    if not duplicate:
        for t, v in vector.items():
            if t in vsum:
                nv = vsum[t] - weight * v
                if nv > 1e-9:
                    vsum[t] = nv
                else:
                    del vsum[t]
    out = TopicState(
        key=s.key, vsum=vsum, n_vectors=max(0, s.n_vectors - (0 if duplicate else 1)),
        volume=max(0.0, s.volume - weight), n_duplicates=max(0, s.n_duplicates - int(duplicate)),
        first_seen=s.first_seen, last_seen=s.last_seen, headlines=Counter(s.headlines),
        hashtags=Counter(s.hashtags), clauses=Counter(s.clauses), sketches=list(s.sketches),
        custom_label=s.custom_label,
        curated=s.curated, dense=s.dense,   # the post's vector is not kept: its share stays (small)
    )
    recompute_norm(out)
    return out


def export_state(s: TopicState) -> dict:
    """JSON-serialisable form (datetimes as ISO strings)."""
    return {
        "key": s.key, "vsum": {t: round(v, 6) for t, v in s.vsum.items()},
        "n_vectors": s.n_vectors, "volume": s.volume, "n_duplicates": s.n_duplicates,
        "first_seen": s.first_seen.isoformat() if s.first_seen else None,
        "last_seen": s.last_seen.isoformat() if s.last_seen else None,
        "headlines": dict(s.headlines.most_common(10)), "hashtags": dict(s.hashtags.most_common(10)),
        "clauses": dict(s.clauses.most_common(MAX_CLAUSES)),
        "sketches": [list(x) for x in s.sketches], "custom_label": s.custom_label, "curated": s.curated,
        "dense": dense_to_dict(s.dense), "label": make_label(s), "keywords": top_keywords(s),
    }


def state_from_dict(key: str, d: dict) -> TopicState:
    s = TopicState(
        key=key, vsum={str(t): float(v) for t, v in d["vsum"].items()},
        n_vectors=int(d.get("n_vectors", 0)), volume=float(d.get("volume", 0.0)),
        n_duplicates=int(d.get("n_duplicates", 0)),
        first_seen=datetime.fromisoformat(d["first_seen"]) if d.get("first_seen") else None,
        last_seen=datetime.fromisoformat(d["last_seen"]) if d.get("last_seen") else None,
        headlines=Counter(d.get("headlines", {})), hashtags=Counter(d.get("hashtags", {})),
        clauses=Counter(d.get("clauses", {})),
        sketches=[tuple(x) for x in d.get("sketches", [])], custom_label=d.get("custom_label"),
        curated=bool(d.get("curated", False)), dense=dense_from_dict(d.get("dense")),
    )
    recompute_norm(s)
    return s


# Words a complaint is full of that say nothing of its matter: the centroid keeps them (they help
# nothing but harm nothing there), a monitor reading "前、不、没有" as a topic's keywords learns nothing.
_SAY_NOTHING = frozenset("""没有 没 不 不是 不能 不会 不要 前 后 还 还是 还有 就是 已经 现在 今天 昨天 这个 那个 这样 那样
什么 怎么 为什么 怎么办 真的 一直 可以 大家 我们 他们 你们 自己 知道 觉得 希望 问题 情况 一下 有人 这里 那里 时候""".split())


def _says_something(word: str) -> bool:
    """A keyword worth showing: not a stopword, not a lone character, not a bare number."""
    return (word not in _SAY_NOTHING and word not in load_stopwords() and len(word) > 1
            and not word.isdigit())


def _centroid_words(s: TopicState, n: int) -> list[str]:
    """Plain words of the centroid, strongest first (metadata features left out)."""
    words = [(t, v) for t, v in s.vsum.items() if t[0] not in "#@【" and not t.startswith("u:")]
    words.sort(key=lambda kv: kv[1], reverse=True)
    return [t for t, _ in words[:n]]


def top_keywords(s: TopicState, n: int = 8) -> list[str]:
    """The keywords shown for a topic: centroid words, strongest first, without the words that say
    nothing (stopwords, 前、不、没有, single characters, bare numbers)."""
    return [t for t in _centroid_words(s, 4 * n) if _says_something(t)][:n]


def clauses_of(text: str) -> list[str]:
    """The short clauses of a post that could name its matter ("中山路隧道又积水了")."""
    out = []
    for part in _CLAUSE_BREAK.split(text or ""):
        part = part.strip("'-—·*#")
        if 4 <= len(part) <= 2 * LABEL_CHARS and len(_HAN.findall(part)) >= 4:
            out.append(part)
    return out[:6]


def add_clauses(s: TopicState, text: str) -> None:
    s.clauses.update(clauses_of(text))
    if len(s.clauses) > MAX_CLAUSES:
        s.clauses = _bounded(s.clauses)


def _bounded(c: Counter) -> Counter:
    return Counter(dict(c.most_common(MAX_CLAUSES // 2))) if len(c) > MAX_CLAUSES else c


def make_label(s: TopicState, max_chars: int = LABEL_CHARS) -> str:
    """Short Chinese label: a monitor's name, else a recurring headline or hashtag, else the clause
    of its posts that holds most of its keywords, else keywords.

    A headline or hashtag repeated by several posts is how the stream itself names the matter. A
    clause a person wrote ("夏天垃圾清运不及时") reads as a title where keywords joined by "·"
    ("夏天·垃圾清运·不") do not; case titles and reply templates take the label as it is.
    """
    if s.custom_label:
        return s.custom_label
    for counter in (s.hashtags, s.headlines):
        if counter:
            text, count = counter.most_common(1)[0]
            if count >= 2 and count >= 0.1 * max(s.n_vectors, 1):
                return text.strip()[:max_chars]
    kws = _centroid_words(s, 8)  # the label's choice of clause weighs every centroid word
    if s.clauses and kws:
        top = kws[:3]

        def score(item):
            # The clause holding most of its three strongest keywords; among those the most
            # repeated, then the shortest, reads best as a title.
            text, count = item
            return (sum(1 for k in top if k in text), len(text) <= max_chars, count, -len(text))
        best, _ = max(s.clauses.items(), key=score)
        if score((best, 0))[0] >= min(2, len(top)):
            return best if len(best) <= max_chars else best[:max_chars - 1] + "…"
    words = [k for k in kws if len(k) >= 2][:3] or kws[:3]
    return "·".join(words)[:max_chars] if words else s.key
