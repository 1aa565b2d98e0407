"""Training and evaluating the category classifier from any labelled CSV or JSON Lines file.

The column names are given on the command line, so a district's own exported history (and the
monitors' corrections) train it as well as the shared government-message data.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from opinion.nlp.linear import fit
from opinion.nlp.train import read_labelled
from opinion.routing.classifier import MODEL, CategoryClassifier, normalise


def _read_all(data: str | Sequence[str], text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for path in [data] if isinstance(data, str) else data:
        t, l = read_labelled(path, text_col, label_col)
        texts += t
        labels += l
    return texts, labels


def train_routing(data: str | list[str], out_dir: str | None = None, text_col: str = "text",
                  label_col: str = "category", extra: Sequence[tuple[str, str]] = (),
                  progress: bool = True, folds: int = 5) -> dict:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedGroupKFold
    texts, labels = _read_all(data, text_col, label_col)
    texts += [t for t, _ in extra]
    labels += [l for _, l in extra]
    feats = [normalise(t) for t in texts]
    y = np.array(labels)
    # Messages posted twice with small changes would leak across folds: group by their opening.
    groups = np.array([hash(f[:20]) for f in feats])
    predicted = np.empty(len(y), dtype=object)
    splits = list(StratifiedGroupKFold(folds, shuffle=True, random_state=0).split(feats, y, groups))
    for train_idx, test_idx in tqdm(splits, desc="交叉验证", file=sys.stderr, disable=not progress or None):
        model = fit([feats[i] for i in train_idx], y[train_idx])
        predicted[test_idx] = np.array(model.classes)[model.proba([feats[i] for i in test_idx]).argmax(axis=1)]
    model = fit(feats, y)
    path = Path(out_dir) / "routing.npz" if out_dir else MODEL
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return {"kind": "routing", "data": str(data), "n": len(y), "folds": folds,
            "cv_macro_f1": float(f1_score(y, predicted, average="macro")),
            "cv_accuracy": float((predicted == y).mean()), "model": str(path)}


def evaluate_routing(data: str | list[str], text_col: str = "text", label_col: str = "category",
                     model_path: str | None = None) -> dict:
    from sklearn.metrics import confusion_matrix, f1_score
    texts, labels = _read_all(data, text_col, label_col)
    clf = CategoryClassifier.load(model_path)
    start = time.perf_counter()
    predicted = [c for c, _ in clf.predict(texts)]
    elapsed = time.perf_counter() - start
    classes = sorted(set(labels) | set(predicted))
    return {"kind": "routing", "data": str(data), "n": len(labels),
            "accuracy": float(np.mean(np.array(predicted) == np.array(labels))),
            "macro_f1": float(f1_score(labels, predicted, average="macro")), "labels": classes,
            "confusion": confusion_matrix(labels, predicted, labels=classes).tolist(),
            "posts_per_second": len(labels) / elapsed if elapsed else None}


def format_report(report: dict) -> str:
    from opinion.nlp.train import format_report as fmt
    return fmt(report)
