"""Training and evaluating the category classifier from any labelled CSV or JSON Lines file.

Column names come from the command line, so a district's own exported history (raw text) trains it
as well as the shared, pre-segmented government-message data; monitors' corrections are appended as
extra (text, category) pairs. Cross-validation groups near-duplicate messages (the same complaint
posted twice with small edits) into one fold so they cannot inflate the score, and its out-of-fold
scores fit the temperature that makes the shipped confidences calibrated.
"""
from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.svm import LinearSVC
from tqdm import tqdm

from opinion import labelled
from opinion.nlp.encoder import DIM, get_encoder
from opinion.routing.classifier import (
    MATTER_DIR,
    MODEL_DIR,
    CategoryClassifier,
    Preprocessor,
    analyze,
    is_presegmented,
    load_stopwords,
    softmax,
    tfidf_rows,
)

C_SVM = 1.0          # LinearSVC regularisation (grouped CV: 0.3 → .913, 0.5 → .918, 1.0 → .920)
MIN_DF = 2
TOP_K = 150_000      # features kept in the shipped model (by largest |weight|), then refit
MATTER_TOP_K = 15_000  # the matter model: fewer examples, and it must stay small enough to ship
MATTER_MIN_EXAMPLES = 5
VEC_C = 10.0         # the sentence-vector head's logistic regression
VEC_MIN_GAIN = 0.001   # held-out macro-F1 the vector head must add to be kept
VEC_WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0)   # its scores' weight beside the SVM's
DUP_COSINE = 0.8     # word TF-IDF cosine at or above which two messages count as one for CV


def derive_stopwords(segmented_csv: str, raw_csv: str, raw_cols: str = "subject,text",
                     min_docs: int = 3) -> list[str]:
    """The stopword list the shared training copy was made with, recovered from the data: words
    jieba finds in at least `min_docs` raw messages of the same source that never occur in the
    segmented copy (的, 了, 我们, single digits, the masking letter A …)."""
    seen = Counter(t for text in labelled.read_labelled(segmented_csv, "text", "category")[0] for t in text.split())
    pre = Preprocessor(())
    with open(raw_csv, encoding="utf-8-sig", newline="") as fh:
        raws = [" ".join(r[c] for c in raw_cols.split(",")) for r in csv.DictReader(fh)]
    df = Counter(t for text in raws for t in set(pre.tokens(text)))
    return sorted(t for t, n in df.items() if n >= min_docs and not seen[t])


def _read_all(data: str | Sequence[str], text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for path in [data] if isinstance(data, str) else data:
        t, l = labelled.read_labelled(path, text_col, label_col)
        texts += t
        labels += l
    return texts, labels


def _counts(token_lists: Sequence[list[str]], progress: bool) -> tuple[sp.csr_matrix, list[str], int]:
    """Raw feature counts of every document; word features occupy the first n_word columns."""
    widx: dict[str, int] = {}
    cidx: dict[str, int] = {}
    rows_w: list[Counter] = []
    rows_c: list[Counter] = []
    for toks in tqdm(token_lists, desc="特征", file=sys.stderr, disable=not progress or None):
        words, chars = analyze(toks)
        rows_w.append(Counter(widx.setdefault(f, len(widx)) for f in words))
        rows_c.append(Counter(cidx.setdefault(f, len(cidx)) for f in chars))
    n_word = len(widx)
    indptr, ind, val = [0], [], []
    for cw, cc in zip(rows_w, rows_c):
        ind += list(cw.keys()) + [n_word + j for j in cc.keys()]
        val += list(cw.values()) + list(cc.values())
        indptr.append(len(ind))
    m = sp.csr_matrix((np.asarray(val, np.float32), np.asarray(ind, np.int64), indptr),
                      shape=(len(token_lists), n_word + len(cidx)))
    return m, list(widx) + list(cidx), n_word


def near_duplicate_groups(counts: sp.csr_matrix, n_word: int, threshold: float = DUP_COSINE) -> np.ndarray:
    """Group id per document: connected components of word-TF-IDF cosine >= threshold."""
    x = TfidfTransformer(sublinear_tf=True).fit_transform(counts[:, :n_word])
    sim = (x @ x.T).tocsr()
    sim.data = (sim.data >= threshold).astype(np.int8)
    sim.eliminate_zeros()
    return connected_components(sim, directed=False)[1]


def _fit(counts: sp.csr_matrix, y: np.ndarray, n_word: int, top_k: int = TOP_K) -> dict:
    """Fit on the given rows: vocabulary (min_df), IDF, LinearSVC, pruning to top_k weights."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    cols = np.flatnonzero(df >= (MIN_DF if n >= 50 else 1))
    idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)

    def svm(c: np.ndarray) -> tuple[LinearSVC, np.ndarray]:
        x = tfidf_rows(counts[:, c], idf[c], int(np.searchsorted(c, n_word)))
        return LinearSVC(C=C_SVM).fit(x, y), c
    model, cols = svm(cols)
    if len(cols) > top_k:
        weight = np.abs(model.coef_).max(axis=0)
        model, cols = svm(np.sort(cols[np.argsort(-weight)[:top_k]]))
    coef = model.coef_ if len(model.classes_) > 2 else np.vstack([-model.coef_[0], model.coef_[0]])
    icpt = model.intercept_ if len(model.classes_) > 2 else np.array([-model.intercept_[0], model.intercept_[0]])
    return {"cols": cols, "idf": idf[cols], "n_word": int(np.searchsorted(cols, n_word)),
            "coef": coef.astype(np.float32), "intercept": icpt.astype(np.float32),
            "labels": [str(c) for c in model.classes_]}


def _scores(m: dict, counts: sp.csr_matrix) -> np.ndarray:
    return np.asarray(tfidf_rows(counts[:, m["cols"]], m["idf"], m["n_word"]) @ m["coef"].T) + m["intercept"]


def fit_temperature(scores: np.ndarray, y_idx: np.ndarray) -> float:
    """Temperature minimising the log-loss of softmax(T * scores) on held-out scores."""

    def nll(log_t: float) -> float:
        p = softmax(scores, float(np.exp(log_t)))
        return float(-np.log(np.maximum(p[np.arange(len(y_idx)), y_idx], 1e-12)).mean())
    return float(np.exp(minimize_scalar(nll, bounds=(-3, 5), method="bounded").x))


def calibration(conf: np.ndarray, correct: np.ndarray, bins: int = 10) -> dict:
    edges = np.minimum((conf * bins).astype(int), bins - 1)
    ece = sum(abs(conf[edges == b].mean() - correct[edges == b].mean()) * (edges == b).mean()
              for b in range(bins) if (edges == b).any())
    return {"ece": float(ece), **{f"acc_conf>={t}": [float(correct[conf >= t].mean()) if (conf >= t).any()
                                                     else None, float((conf >= t).mean())]
                                  for t in (0.5, 0.7, 0.9)}}


def _metrics(y: Sequence[str], pred: Sequence[str], labels: list[str]) -> dict:
    return {"macro_f1": float(f1_score(y, pred, labels=labels, average="macro", zero_division=0)),
            "accuracy": float(np.mean(np.asarray(y) == np.asarray(pred))), "labels": labels,
            "per_class_f1": dict(zip(labels, map(float, f1_score(y, pred, labels=labels, average=None,
                                                                 zero_division=0)))),
            "confusion": confusion_matrix(y, pred, labels=labels).tolist()}


def sentence_vectors(texts: Sequence[str], progress: bool = False) -> np.ndarray | None:
    """The texts' sentence vectors as `analyze` would make them from the raw message (a segmented
    training copy is joined back first); None with the encoder off (OPINION_ENCODER=off)."""
    encoder = get_encoder()
    if encoder is None:
        return None
    raw = ["".join(t.split()) if is_presegmented(t) else t for t in texts]
    step = 256
    return np.concatenate([encoder.encode(raw[i:i + step]) for i in
                           tqdm(range(0, len(raw), step), desc="句向量", file=sys.stderr,
                                disable=not progress or None)] or [np.zeros((0, DIM), np.float32)])


def _vector_fit(vectors: np.ndarray, y: np.ndarray, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    lr = LogisticRegression(C=VEC_C, max_iter=3000).fit(vectors, y)
    assert [str(c) for c in lr.classes_] == classes
    return lr.coef_.astype(np.float32), lr.intercept_.astype(np.float32)


def _best_weight(oof: np.ndarray, oof_vec: np.ndarray, y: np.ndarray, classes: list[str], rows) -> float:
    """The weight of the vector head's scores that gives the best macro-F1 on the given rows."""
    names = np.asarray(classes)
    return max(VEC_WEIGHTS, key=lambda w: (f1_score(y[rows], names[(oof[rows] + w * oof_vec[rows]).argmax(axis=1)],
                                                   average="macro"), -w))


def train_routing(data: str | list[str], out_dir: str | None = None, text_col: str = "text",
                  label_col: str = "category", extra: Sequence[tuple[str, str]] = (),
                  progress: bool = True, folds: int = 5, top_k: int = TOP_K, source: str | None = None,
                  vectors: bool = True) -> dict:
    """Cross-validate (grouped by near-duplicates), fit on everything, write the model; report.

    With the encoder on (and `vectors`), a logistic head on the sentence vectors is cross-validated
    beside the words, each fold scored with the weight chosen on the others; it is kept only where
    that beats words alone by VEC_MIN_GAIN. The report gives both figures."""
    texts, labels = _read_all(data, text_col, label_col)
    texts += [t for t, _ in extra]
    labels += [str(l) for _, l in extra]
    vecs = sentence_vectors(texts, progress) if vectors else None
    pre = Preprocessor(load_stopwords())
    toks = [pre.tokens(t) for t in tqdm(texts, desc="分词", file=sys.stderr, disable=not progress or None)]
    counts, features, n_word = _counts(toks, progress)
    y = np.asarray(labels)
    classes = sorted(set(labels))
    groups = near_duplicate_groups(counts, n_word)
    report: dict = {"kind": "routing", "data": source or str(data), "n": len(y), "extra": len(extra),
                    "near_duplicate_groups": int(len(set(groups))),
                    "class_counts": dict(Counter(labels))}
    k = min(folds, min(Counter(labels).values()), len(set(groups)))
    weight, vec_temperature = 0.0, 1.0
    if k >= 2 and len(classes) >= 2:
        oof = np.zeros((len(y), len(classes)))
        oof_vec = np.zeros((len(y), len(classes)))
        splits = list(StratifiedGroupKFold(k, shuffle=True, random_state=0).split(texts, y, groups))
        for tr, te in tqdm(splits, desc="交叉验证", file=sys.stderr, disable=not progress or None):
            m = _fit(counts[tr], y[tr], n_word, top_k)
            oof[np.ix_(te, [classes.index(c) for c in m["labels"]])] = _scores(m, counts[te])
            if vecs is not None and len(set(y[tr])) == len(classes):
                coef, icpt = _vector_fit(vecs[tr], y[tr], classes)
                oof_vec[te] = vecs[te] @ coef.T + icpt
        pred = np.asarray(classes)[oof.argmax(axis=1)]
        y_idx = np.asarray([classes.index(l) for l in labels])
        temperature = fit_temperature(oof, y_idx)
        conf = softmax(oof, temperature).max(axis=1)
        cv = _metrics(y, pred, classes)
        if vecs is not None and oof_vec.any():
            # Each fold is scored with the weight chosen on the other folds: an honest figure.
            nested = np.zeros_like(oof)
            for tr, te in splits:
                nested[te] = oof[te] + _best_weight(oof, oof_vec, y, classes, tr) * oof_vec[te]
            weight = _best_weight(oof, oof_vec, y, classes, np.arange(len(y)))
            report.update(cv_macro_f1_words_only=cv["macro_f1"], cv_accuracy_words_only=cv["accuracy"],
                          cv_vector_head_macro_f1=_metrics(y, np.asarray(classes)[oof_vec.argmax(axis=1)],
                                                           classes)["macro_f1"], vector_weight=weight)
            nested_cv = _metrics(y, np.asarray(classes)[nested.argmax(axis=1)], classes)
            report["cv_macro_f1_with_vectors"] = nested_cv["macro_f1"]
            if nested_cv["macro_f1"] < cv["macro_f1"] + VEC_MIN_GAIN:
                weight = 0.0    # no better on held-out folds: dropped
            report["vector_weight"] = weight
            if weight > 0:
                pred = np.asarray(classes)[nested.argmax(axis=1)]
                vec_temperature = fit_temperature(oof + weight * oof_vec, y_idx)
                conf = softmax(oof + weight * oof_vec, vec_temperature).max(axis=1)
                cv = _metrics(y, pred, classes)
        report.update({"folds": k, "cv_macro_f1": cv["macro_f1"], "cv_accuracy": cv["accuracy"],
                       "per_class_f1": cv["per_class_f1"], "labels": classes, "confusion": cv["confusion"],
                       "temperature": temperature, "calibration": calibration(conf, pred == y)})
    else:
        temperature = 1.0
    model = _fit(counts, y, n_word, top_k)
    clf = CategoryClassifier(model["labels"], [features[j] for j in model["cols"]], model["n_word"],
                             model["idf"], model["coef"], model["intercept"], temperature, pre.stopwords,
                             meta={k: report.get(k) for k in ("data", "n", "extra", "folds", "cv_macro_f1",
                                                             "cv_accuracy", "per_class_f1")}
                             | {"trained": date.today().isoformat()})
    if weight > 0:
        coef, icpt = _vector_fit(vecs, y, model["labels"])
        clf.vector_head = {"coef": coef, "intercept": icpt, "weight": weight, "temperature": vec_temperature}
    out = Path(out_dir) if out_dir else MODEL_DIR
    clf.save(out)
    report["model"] = str(out)
    report["model_bytes"] = sum(f.stat().st_size for f in (out / "model.json", out / "model.npz"))
    return report


def matter_examples(texts: Sequence[str], categories: Sequence[str], catalogue,
                    min_examples: int = MATTER_MIN_EXAMPLES) -> list[tuple[str, str]]:
    """Weak labels: (text, matter) for each message whose first-level category (a person's label)
    has one matter that its keywords name more than any other matter of that category (distinct
    words). The keywords themselves are blanked out of the text: the model is only asked where no
    keyword matched, so it must learn the other words of the matter (业主, 门禁, 收费 …).
    Matters with fewer than `min_examples` messages are left out (nothing to learn from)."""
    pattern = catalogue.keyword_pattern
    out: list[tuple[str, str]] = []
    for text, category in zip(texts, categories):
        flat = text.replace(" ", "")  # keywords may span the training copy's token boundaries
        hits: dict[str, set[str]] = {}
        for m in pattern.finditer(flat) if pattern else ():
            matter = catalogue.matter_of_word(m.group(0))
            if matter.category == category:
                hits.setdefault(matter.code, set()).add(m.group(0))
        if not hits:
            continue
        ranked = sorted(hits, key=lambda c: -len(hits[c]))
        if len(ranked) > 1 and len(hits[ranked[0]]) == len(hits[ranked[1]]):
            continue  # a tie: the keywords do not say which matter
        out.append((pattern.sub("，", flat), ranked[0]))
    counts = Counter(m for _, m in out)
    return [(t, m) for t, m in out if counts[m] >= min_examples]


def train_matters(data: str | list[str], catalogue, out_dir: str | None = None, text_col: str = "text",
                  label_col: str = "category", extra: Sequence[tuple[str, str]] = (),
                  progress: bool = True) -> dict:
    """Train the second-level (matter) classifier: the same model as the categories', on the weak
    labels of `matter_examples` plus `extra` (text, matter) pairs (the monitors' corrections)."""
    texts, labels = _read_all(data, text_col, label_col)
    examples = matter_examples(texts, labels, catalogue) + [(t, str(m)) for t, m in extra]
    if not examples:
        raise ValueError("没有可用的二级事项样本：留言中未出现事权清单的关键词，请检查 --data 与事权清单")
    # Words only: the matter model is small by design, and its weak labels are keywords.
    report = train_routing([], out_dir or MATTER_DIR, extra=examples, progress=progress, top_k=MATTER_TOP_K,
                           source=f"{data}（事权清单关键词弱标注）", vectors=False)
    report.update({"kind": "matters", "weak_labels": len(examples) - len(extra), "extra": len(extra)})
    return report


def evaluate_routing(data: str | list[str], text_col: str = "text", label_col: str = "category",
                     model_path: str | None = None) -> dict:
    """Macro-F1, accuracy, per-class F1, confusion matrix and texts/second of a saved model."""
    texts, labels = _read_all(data, text_col, label_col)
    clf = CategoryClassifier.load(model_path)
    clf.predict(texts[:1])  # jieba's dictionary loads outside the timing
    start = time.perf_counter()
    vecs = sentence_vectors(texts) if clf.vector_head is not None else None
    out = clf.predict(texts, vectors=vecs)
    elapsed = time.perf_counter() - start
    pred = [c for c, _ in out]
    conf = np.asarray([p for _, p in out])
    report = {"kind": "routing", "data": str(data), "n": len(labels),
              **_metrics(labels, pred, sorted(set(labels) | set(clf.labels))),
              "calibration": calibration(conf, np.asarray(pred) == np.asarray(labels)) if out else None,
              "posts_per_second": len(texts) / elapsed if elapsed > 0 else None,
              "model": str(model_path or "shipped"), "vectors": vecs is not None}
    return report


def format_report(r: dict) -> str:
    """Human-readable report (Chinese labels kept, figures to four places)."""
    lines = [f"{r['kind']} · {r['data']} · {r['n']} 条"]
    for key in ("near_duplicate_groups", "folds", "cv_macro_f1", "cv_accuracy", "cv_macro_f1_words_only",
                "cv_macro_f1_with_vectors", "cv_vector_head_macro_f1", "vector_weight", "macro_f1", "accuracy",
                "temperature"):
        if r.get(key) is not None:
            v = r[key]
            lines.append(f"  {key:<22} {v:.4f}" if isinstance(v, float) else f"  {key:<22} {v}")
    if r.get("calibration"):
        c = r["calibration"]
        lines.append(f"  calibration ECE        {c['ece']:.4f}")
        for key, (acc, share) in ((k, v) for k, v in c.items() if k != "ece"):
            if acc is not None:
                lines.append(f"  {key:<22} accuracy {acc:.4f} on {share:.1%} of texts")
    if r.get("posts_per_second"):
        lines.append(f"  throughput             {r['posts_per_second']:.0f} 条/秒")
    if r.get("per_class_f1"):
        lines.append("  per-class F1  " + "  ".join(f"{k} {v:.3f}" for k, v in r["per_class_f1"].items()))
    if r.get("confusion"):
        lines += labelled.confusion_lines(r["labels"], r["confusion"])
    if r.get("model"):
        lines.append(f"  model                  {r['model']}" +
                     (f" ({r['model_bytes'] / 1e6:.1f} MB)" if r.get("model_bytes") else ""))
    return "\n".join(lines)


if __name__ == "__main__":  # python -m opinion.routing.train FILE... (same as `opinion train routing`)
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="+")
    ap.add_argument("--text-col", default="text")
    ap.add_argument("--label-col", default="category")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    print(format_report(train_routing(a.data, a.out, a.text_col, a.label_col)))
