"""Does the sentence encoder help topics? ARI on hashtag-labelled days, words alone vs words + e5.

A batch measurement (issue 20), not the live clusterer: each day's posts are cleaned and segmented
as the pipeline does, turned into the topic stage's own word features (opinion/topics/features.py,
TF-IDF weighted, L2-normalised), optionally joined with the mean-centred, re-normalised e5 vectors
times --weight, and clustered by average-linkage agglomeration on cosine distance, cut at each
threshold of a grid. The grid's best cut is printed per method (tuned on the day itself, so an upper
bound) and the cut at a threshold fixed in advance with --fixed (not tuned on the day).
Coverage is the share of posts in clusters of 10 or more, as in `eval topics`.

Vectors come from opinion/nlp/encoder.py with a disk cache (--cache), so a day is encoded once.

    python bench/topics_encoder_ari.py 2020-2.28 [2020-1.21 ...] [--weight 0.5] [--cache FILE] [--sample N]
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scipy.cluster.hierarchy import fcluster, linkage  # noqa: E402
from scipy.sparse import csr_matrix  # noqa: E402
from scipy.sparse import hstack as sparse_hstack  # noqa: E402
from scipy.spatial.distance import squareform  # noqa: E402
from sklearn.feature_extraction import DictVectorizer  # noqa: E402
from sklearn.feature_extraction.text import TfidfTransformer  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402

from opinion import labelled  # noqa: E402
from opinion.nlp.clean import clean  # noqa: E402
from opinion.nlp.doc import Doc  # noqa: E402
from opinion.nlp.encoder import Encoder  # noqa: E402
from opinion.nlp.segment import Segmenter  # noqa: E402
from opinion.topics.features import raw_features  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "weibo-topics"
GRID = np.round(np.concatenate([np.arange(0.50, 0.98, 0.02), np.arange(0.98, 1.0, 0.0025)]), 4)


def cuts(x, labels: list[str]) -> dict[float, tuple[float, float]]:
    """x: L2-normalised rows (sparse: the word vocabulary is tens of thousands wide)."""
    sim = x @ x.T
    sim = sim.toarray() if hasattr(sim, "toarray") else sim
    dist = np.clip(1.0 - sim, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    tree = linkage(squareform(dist, checks=False), method="average")
    out = {}
    for t in GRID:
        pred = fcluster(tree, t=t, criterion="distance")
        sizes = Counter(pred)
        out[float(t)] = (adjusted_rand_score(labels, pred), sum(sizes[k] >= 10 for k in pred) / len(pred))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("days", nargs="+")
    ap.add_argument("--weight", type=float, default=0.5)
    ap.add_argument("--fixed", type=float, default=None, help="a threshold fixed in advance, reported too")
    ap.add_argument("--cache", default="/tmp/e5cache-20.sqlite")
    ap.add_argument("--sample", type=int, default=0, help="a random sample of each day's posts (seed 0)")
    args = ap.parse_args()
    seg = Segmenter()
    encoder = Encoder(disk_cache=args.cache)
    for day in args.days:
        texts, labels = labelled.read_labelled(DATA / f"{day}.jsonl", "text", "topic")
        if args.sample and args.sample < len(texts):
            keep = sorted(random.Random(0).sample(range(len(texts)), args.sample))
            texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
        docs = [seg(clean(Doc(raw=t))) for t in texts]
        words = TfidfTransformer(sublinear_tf=True).fit_transform(
            DictVectorizer().fit_transform([raw_features(d) for d in docs]))
        words = normalize(words).astype(np.float32)
        t0 = time.perf_counter()
        e5 = encoder.encode_docs(docs)
        enc_s = time.perf_counter() - t0
        centred = normalize(e5 - e5.mean(axis=0))
        both = normalize(sparse_hstack([words, csr_matrix(args.weight * centred)]).tocsr())
        print(f"{day}: {len(docs)} posts, {len(set(labels))} hashtags, {words.shape[1]} word features, "
              f"encoder {enc_s:.0f} s ({encoder.misses} texts read so far)")
        for name, x in (("words", words), (f"words+{args.weight}*e5c", both), ("e5c alone", centred)):
            res = cuts(x, labels)
            best = max(res, key=lambda t: res[t][0])
            line = f"  {name:16s} best ARI {res[best][0]:.3f} at {best:.4g} (coverage {res[best][1]:.2f})"
            if args.fixed is not None:
                f = min(res, key=lambda t: abs(t - args.fixed))
                line += f"; at {f:.4g}: ARI {res[f][0]:.3f} coverage {res[f][1]:.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
