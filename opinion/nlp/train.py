"""Training and evaluating the sentiment and emotion models from labelled posts (CSV or JSONL).

`python -m opinion train sentiment --data ../shared/data/weibo-emotion/train.csv` rebuilds the
shipped model; `eval` measures any labelled file through the same path `analyze` uses.
"""
from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from opinion.nlp.clean import clean
from opinion.nlp.doc import Doc
from opinion.nlp.linear import feature_text, fit

MODELS = Path(__file__).resolve().parent / "models"
POLARITY_OF_EMOTION = {"optimism": "positive", "gratitude": "positive", "fear": "negative",
                       "disgust": "negative", "sadness": "negative", "anger": "negative",
                       "surprise": "neutral"}


def read_labelled(path: str, text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    rows: list[dict] = []
    if str(path).endswith((".jsonl", ".json")):
        with open(path, encoding="utf-8-sig") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    else:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    if rows and (text_col not in rows[0] or label_col not in rows[0]):
        raise ValueError(f"{path}: 需要列 {text_col} 与 {label_col}，现有 {', '.join(rows[0])}")
    rows = [r for r in rows if r.get(text_col) and r.get(label_col)]
    return [r[text_col] for r in rows], [str(r[label_col]) for r in rows]


def _features(texts: list[str], progress: bool) -> list[str]:
    it = tqdm(texts, desc="清洗", file=sys.stderr, disable=not progress or None)
    return [feature_text(clean(Doc(raw=t))) for t in it]


def _train(kind: str, data: str, out_dir: str | None, text_col: str, label_col: str,
           progress: bool, folds: int = 5) -> dict:
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    texts, labels = read_labelled(data, text_col, label_col)
    if kind == "sentiment":  # binary: surprise ("neutral") goes either way, so it is left out
        keep = [i for i, l in enumerate(labels) if POLARITY_OF_EMOTION.get(l, l) in ("positive", "negative")]
        texts = [texts[i] for i in keep]
        labels = [POLARITY_OF_EMOTION.get(labels[i], labels[i]) for i in keep]
    feats = _features(texts, progress)
    y = np.array(labels)
    predicted = np.empty(len(y), dtype=object)
    positive = np.zeros(len(y))
    splits = StratifiedKFold(folds, shuffle=True, random_state=0).split(feats, y)
    for train_idx, test_idx in tqdm(list(splits), desc="交叉验证", file=sys.stderr, disable=not progress or None):
        model = fit([feats[i] for i in train_idx], y[train_idx])
        proba = model.proba([feats[i] for i in test_idx])
        predicted[test_idx] = np.array(model.classes)[proba.argmax(axis=1)]
        if kind == "sentiment":
            positive[test_idx] = proba[:, model.classes.index("positive")]
    report = {"kind": kind, "data": str(data), "n": len(y), "folds": folds,
              "cv_accuracy": float(accuracy_score(y, predicted)),
              "cv_macro_f1": float(f1_score(y, predicted, average="macro"))}
    if kind == "sentiment":
        report["cv_roc_auc"] = float(roc_auc_score(y == "positive", positive))
    model = fit(feats, y)
    out = Path(out_dir) if out_dir else MODELS
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / f"{kind}.npz")
    report["model"] = str(out / f"{kind}.npz")
    return report


def train_sentiment(data: str, out_dir: str | None = None, text_col: str = "text",
                    label_col: str = "polarity", progress: bool = True) -> dict:
    """Binary positive/negative model; labels may be polarities or the seven emotions."""
    return _train("sentiment", data, out_dir, text_col, label_col, progress)


def train_emotion(data: str, out_dir: str | None = None, text_col: str = "text",
                  label_col: str = "emotion", progress: bool = True) -> dict:
    return _train("emotion", data, out_dir, text_col, label_col, progress)


def evaluate(kind: str, data: str, text_col: str = "text", label_col: str | None = None,
             model_path: str | None = None) -> dict:
    """Accuracy, macro-F1, confusion matrix and throughput of the engine `analyze` uses."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, roc_auc_score
    from opinion.nlp.emotion import EmotionModel
    from opinion.nlp.sentiment import load_sentiment_engine
    label_col = label_col or ("polarity" if kind == "sentiment" else "emotion")
    texts, labels = read_labelled(data, text_col, label_col)
    start = time.perf_counter()
    docs = [clean(Doc(raw=t)) for t in texts]
    report: dict = {"kind": kind, "data": str(data), "n": len(texts)}
    if kind == "sentiment":
        labels = [POLARITY_OF_EMOTION.get(l, l) for l in labels]
        keep = [i for i, l in enumerate(labels) if l in ("positive", "negative")]
        docs, labels = [docs[i] for i in keep], [labels[i] for i in keep]
        scores = np.array(load_sentiment_engine("domain", model_path).score(docs))
        predicted = np.where(scores > 0.5, "positive", "negative")
        truth = np.array(labels)
        report["roc_auc"] = float(roc_auc_score(truth == "positive", scores)) if len(set(labels)) == 2 else None
        classes = ["negative", "positive"]
    else:
        model = EmotionModel.load(model_path)
        predicted = np.array([label for label, _ in model.predict(docs)])
        truth = np.array(labels)
        classes = sorted(set(labels) | set(predicted))
    elapsed = time.perf_counter() - start
    report.update(n=len(truth), accuracy=float(accuracy_score(truth, predicted)),
                  macro_f1=float(f1_score(truth, predicted, average="macro")),
                  labels=classes, confusion=confusion_matrix(truth, predicted, labels=classes).tolist(),
                  posts_per_second=len(truth) / elapsed if elapsed else None)
    return report


def format_report(report: dict) -> str:
    lines = [f"{report['kind']} · {report['data']} · {report['n']} 条"]
    for key in ("cv_accuracy", "cv_macro_f1", "cv_roc_auc", "accuracy", "macro_f1", "roc_auc"):
        if report.get(key) is not None:
            lines.append(f"  {key:<12} {report[key]:.4f}")
    if report.get("posts_per_second"):
        lines.append(f"  throughput   {report['posts_per_second']:.0f} 条/秒")
    if report.get("confusion"):
        labels = report["labels"]
        lines.append("  confusion (rows = truth, columns = predicted)")
        lines.append("  " + " " * 12 + "".join(f"{l[:9]:>10}" for l in labels))
        for label, row in zip(labels, report["confusion"]):
            lines.append(f"  {label[:12]:<12}" + "".join(f"{v:>10}" for v in row))
    if report.get("model"):
        lines.append(f"  model        {report['model']}")
    return "\n".join(lines)
