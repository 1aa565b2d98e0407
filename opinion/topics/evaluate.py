"""Topic-quality evaluation on hashtag-labelled Weibo days (`python -m opinion eval topics`).

Feeds each day's posts, shuffled with a seed, through the real clean -> segment -> TopicClusterer
path and scores the topics against the hashtag each post was collected under. The clusterer is not
told the number of topics. Coverage (share of posts in topics of >= 10 posts) is reported next to
ARI/NMI so that fragmenting into tiny pure topics cannot pass for quality.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from opinion import labelled
from opinion.nlp.clean import clean
from opinion.nlp.doc import Doc
from opinion.topics.cluster import TopicClusterer, surviving

MAINTENANCE_EVERY = 500     # posts between maintenance runs (merges), ~ every hour of a busy day
BIG_TOPIC = 10


def default_prepare() -> Callable[[Doc], Doc]:
    """The production text stages: clean, then segment (stopwords removed)."""
    # lazy: rjieba loads its dictionary; only segmentation needs it
    from opinion.nlp.segment import Segmenter
    seg = Segmenter()
    return lambda doc: seg(clean(doc))


def score(labels: list[str], pred: list[str]) -> dict:
    sizes = Counter(pred)
    by_topic: dict[str, Counter] = {}
    for y, k in zip(labels, pred):
        by_topic.setdefault(k, Counter())[y] += 1
    n = len(labels)
    return {
        "ari": adjusted_rand_score(labels, pred),
        "nmi": normalized_mutual_info_score(labels, pred),
        "purity": sum(c.most_common(1)[0][1] for c in by_topic.values()) / n,
        "coverage": sum(1 for k in pred if sizes[k] >= BIG_TOPIC) / n,
        "n_topics": len(sizes),
        "n_big_topics": sum(1 for v in sizes.values() if v >= BIG_TOPIC),
        "n_posts": n,
        "n_labels": len(set(labels)),
    }


class _Counted:
    """The vector source as the clusterer sees it, counting the posts it asked a vector for.
    `cold`: the encoder's caches are hidden (each vector costs one tick of the budget's clock), so
    that a budget in posts per batch can be simulated on a day whose vectors are all cached."""

    def __init__(self, source, cold: bool):
        self.source, self.asked = source, 0
        if not cold and hasattr(source, "lookup_docs"):
            self.lookup_docs = self._lookup_docs

    def _lookup_docs(self, docs):
        found = self.source.lookup_docs(docs)
        self.asked += sum(1 for v in found if v is not None)
        return found

    def encode_docs(self, docs):
        self.asked += len(docs)
        return self.source.encode_docs(docs)


def clusterer_settings(name: str | None) -> dict:
    """What the clusterer is given for vectors `name` (None: what analyze would use), with the
    source unwrapped: evaluate_day wraps it to count and, with a budget, to simulate one."""
    # lazy: loads the vector source only when asked for
    from opinion.topics.dense import source_and_settings
    kwargs = source_and_settings(name, budget_s=None)
    budgeted = kwargs.pop("vectors", None)
    if budgeted is not None:
        kwargs["source"] = budgeted.source
    return kwargs


def evaluate_day(file: Path, seed: int, prepare: Callable[[Doc], Doc], progress: bool,
                 text_col: str = "text", label_col: str = "topic", source=None,
                 budget_posts: int | None = None, **clusterer_kwargs) -> dict:
    texts, labels = labelled.read_labelled(file, text_col, label_col)
    rows = [{"text": t, "topic": y} for t, y in zip(texts, labels)]
    random.Random(seed).shuffle(rows)
    t0 = time.perf_counter()
    it = rows
    if progress:
        # lazy: progress bars only for the long command-line runs
        from tqdm import tqdm
        it = tqdm(rows, desc=f"prepare {file.stem}", leave=False)
    docs = [prepare(Doc(raw=r["text"])) for r in it]
    prep_s = time.perf_counter() - t0

    counted = budgeted = None
    if source is not None:
        # lazy: the vector side of the clusterer needs NumPy only when vectors are used
        import itertools

        from opinion.topics.dense import Budgeted
        counted = _Counted(source, cold=budget_posts is not None)
        tick = itertools.count()
        budgeted = Budgeted(counted, budget_posts,
                            clock=(lambda: next(tick) / 2) if budget_posts is not None else time.perf_counter)
        clusterer_kwargs["vectors"] = budgeted
    clusterer = TopicClusterer(**clusterer_kwargs)
    # The files have no times: spread the shuffled posts evenly over one day.
    start, step = datetime(2020, 1, 1), timedelta(days=1) / max(1, len(docs))
    keys: list[str] = []
    merged_into: dict[str, str] = {}
    t0 = time.process_time()    # CPU time: a shared machine's load does not count against us
    now = start
    for i, doc in enumerate(docs):
        now = start + i * step
        keys.append(clusterer.assign(doc, now, post_id=i).topic_key)
        if (i + 1) % MAINTENANCE_EVERY == 0:
            _upkeep(clusterer, now, keys, merged_into, budgeted)
    _upkeep(clusterer, now, keys, merged_into, budgeted)
    cluster_s = time.process_time() - t0

    out = score([r["topic"] for r in rows], [surviving(merged_into, k) for k in keys])
    out.update(day=file.stem, posts_per_second=len(docs) / max(cluster_s, 1e-9),
               prepare_seconds=prep_s, encoded_share=(counted.asked / len(docs)) if counted and docs else 0.0)
    return out


def _upkeep(clusterer, now, keys, merged_into, budgeted) -> None:
    """Between batches, as the live pipeline does: merges, then (the encoder has caught up) the
    posts assigned by words alone get their vectors and may move."""
    merged_into.update({frm: into for into, frm in clusterer.maintenance(now)})
    if budgeted is not None:
        for post_id, _, to in clusterer.refine():
            keys[post_id] = to
        budgeted.start_batch()


def evaluate_topics(path: str, seed: int = 0, progress: bool = True,
                    prepare: Callable[[Doc], Doc] | None = None, text_col: str = "text",
                    label_col: str = "topic", **clusterer_kwargs) -> dict:
    """Scores for one day file or a folder of them (any format opinion.labelled reads): the mean
    at top level, per day in "days"."""
    prepare = prepare or default_prepare()
    files = labelled.files_in(path)
    if not files:
        raise FileNotFoundError(f"{path}: 没有可读的日文件（.jsonl、.csv、.json、.xlsx）")
    days = [evaluate_day(f, seed, prepare, progress, text_col, label_col, **clusterer_kwargs) for f in files]
    days = [d for d in days if d["n_posts"]]
    if not days:
        raise ValueError(f"{path}: 文件中没有同时带 {text_col} 与 {label_col} 的帖子")
    keys = ("ari", "nmi", "purity", "coverage", "n_topics", "n_big_topics", "n_posts",
            "posts_per_second", "encoded_share")
    mean = {k: sum(d[k] for d in days) / len(days) for k in keys}
    mean["min_coverage"] = min(d["coverage"] for d in days)
    mean["days"] = days
    mean["seed"] = seed
    return mean


def format_report(d: dict) -> str:
    head = f"{'day':<14}{'posts':>7}{'labels':>7}{'topics':>8}{'>=10':>6}{'ARI':>7}{'NMI':>7}" \
           f"{'purity':>8}{'cover':>7}{'posts/s':>9}"
    lines = [head, "-" * len(head)]
    for r in d.get("days", [d]):
        lines.append(f"{r['day']:<14}{r['n_posts']:>7}{r['n_labels']:>7}{r['n_topics']:>8}"
                     f"{r['n_big_topics']:>6}{r['ari']:>7.3f}{r['nmi']:>7.3f}{r['purity']:>8.3f}"
                     f"{r['coverage']:>7.2f}{r['posts_per_second']:>9.0f}")
    lines.append("-" * len(head))
    lines.append(f"{'mean':<14}{d['n_posts']:>7.0f}{'':>7}{d['n_topics']:>8.0f}{d['n_big_topics']:>6.0f}"
                 f"{d['ari']:>7.3f}{d['nmi']:>7.3f}{d['purity']:>8.3f}{d['coverage']:>7.2f}"
                 f"{d['posts_per_second']:>9.0f}")
    lines.append(f"(seed {d.get('seed', 0)}; coverage = share of posts in topics of >= {BIG_TOPIC} posts;"
                 f" lowest day {d.get('min_coverage', d['coverage']):.2f})")
    return "\n".join(lines)
