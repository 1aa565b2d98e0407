"""Training and evaluating the sentiment and emotion models from labelled posts (CSV or JSONL).

`python -m opinion train sentiment --data ../shared/data/weibo-emotion/train.csv` rebuilds the
shipped model; `eval` measures any labelled file through the same path `analyze` uses. The fitting
itself (features, heads, cross-validated calibration) lives in opinion.nlp.fit.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, roc_auc_score
from tqdm import tqdm

from opinion import labelled
from opinion.labels import EMOTION_NAMES, POLARITY_NAMES
from opinion.nlp.clean import clean
from opinion.nlp.doc import EMOTIONS, Doc
from opinion.nlp.emotion import EmotionModel
from opinion.nlp.encoder import attach_vectors, doc_vectors
from opinion.nlp.features import char_text
from opinion.nlp.fit import fit_emotion, fit_sentiment
from opinion.nlp.sentiment import load_sentiment_engine

MODELS = Path(__file__).resolve().parent / "models"
UNLABELLED = ("weibo-stream", "weibo-topics")
POLARITY_OF_EMOTION = {"optimism": "positive", "gratitude": "positive", "fear": "negative",
                       "disgust": "negative", "sadness": "negative", "anger": "negative",
                       "surprise": "neutral"}


# Labels as people write them: the UI's Chinese names, 1/0, pos/neg.
_LABEL_ALIASES = {**{name: code for code, name in {**EMOTION_NAMES, **POLARITY_NAMES}.items()},
                  "积极": "positive", "正向": "positive", "消极": "negative", "负向": "negative",
                  "1": "positive", "pos": "positive", "0": "negative", "neg": "negative", "-1": "negative"}


def normalise_label(label: str) -> str:
    """anger, positive … from "Anger", "愤怒", "正面", "1" and the like; anything else lower-cased."""
    label = str(label).strip().lower()
    return _LABEL_ALIASES.get(label, label)


def read_labelled(path: str, text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    """Texts and normalised labels of any file opinion.labelled reads."""
    texts, labels = labelled.read_labelled(path, text_col, label_col)
    return texts, [normalise_label(label) for label in labels]


def to_polarity(label: str) -> str:
    """positive/negative/neutral from a polarity, an emotion, or 1/0 style labels."""
    label = normalise_label(label)
    return POLARITY_OF_EMOTION.get(label, label)


def _docs(texts: list[str], progress: bool, desc: str = "清洗") -> list[Doc]:
    return [clean(Doc(raw=t)) for t in tqdm(texts, desc=desc, file=sys.stderr, disable=not progress, leave=False)]


def _vectors(docs: list[Doc], progress: bool) -> np.ndarray | None:
    """The docs' sentence vectors, as `analyze` gives them (doc.vector); None with the encoder off.
    The encoder's disk cache makes a second training run read them back instead of encoding."""
    step = 256
    for start in tqdm(range(0, len(docs), step), desc="句向量", file=sys.stderr, disable=not progress, leave=False):
        if not attach_vectors(docs[start:start + step]):
            return None
    return doc_vectors(docs)


def train_sentiment(data: str, out_dir: str | None = None, text_col: str = "text",
                    label_col: str = "polarity", progress: bool = True, emotion_col: str = "emotion",
                    c: float | None = None) -> dict:
    """Positive/negative model. Labels may be polarities or the seven emotions; where the file also
    has an emotion column, an emotion head is trained too and its probabilities join the score."""
    rows = labelled.read_rows(data)
    if rows and (text_col not in rows[0] or label_col not in rows[0]):
        raise ValueError(f"{data}: 需要列 {text_col} 与 {label_col}，现有列：{', '.join(rows[0])}")
    rows = [r for r in rows if r.get(text_col) and r.get(label_col) not in (None, "")]
    polarity = [to_polarity(str(r[label_col])) for r in rows]
    emotions = None
    for col in (emotion_col, label_col):
        if rows and col in rows[0] and all(normalise_label(r.get(col) or "") in EMOTIONS for r in rows):
            emotions = [normalise_label(r[col]) for r in rows]
            break
    docs = _docs([str(r[text_col]) for r in rows], progress)
    model, report = fit_sentiment(docs, polarity, emotions, progress=progress, vectors=_vectors(docs, progress),
                                  **({"c": c} if c else {}))
    return _save("sentiment", model, report, data, out_dir)


def unlabelled_beside(data: str) -> list[Path]:
    """The unlabelled posts shipped beside a labelled file: ../weibo-stream and ../weibo-topics."""
    parent = Path(data).resolve().parent.parent
    return sorted(p for folder in UNLABELLED for p in (parent / folder).glob("*.jsonl"))


def read_texts(paths) -> list[str]:
    texts: list[str] = []
    for path in paths:
        texts += [str(r.get("text") or "") for r in labelled.read_rows(path)]
    return [t for t in texts if t]


def train_emotion(data: str, out_dir: str | None = None, text_col: str = "text",
                  label_col: str = "emotion", progress: bool = True, c: float | None = None,
                  unlabelled=None) -> dict:
    """Seven-class (or any-class) emotion model. Character vectors are learned from unlabelled
    posts: the given files, or by default those beside the data (weibo-stream, weibo-topics in
    ../shared/data); with none, the model does without them."""
    texts, labels = read_labelled(data, text_col, label_col)
    docs = _docs(texts, progress)
    paths = unlabelled_beside(data) if unlabelled is None else \
        [f for p in map(Path, unlabelled) for f in (sorted(p.glob("*.jsonl")) if p.is_dir() else [p])]
    raw = _docs(read_texts(paths), progress, "清洗未标注微博") if paths else []
    model, report = fit_emotion(docs, labels, progress=progress, unlabelled=[char_text(d).lower() for d in raw],
                                vectors=_vectors(docs, progress), **({"c": c} if c else {}))
    report["unlabelled_files"] = [p.name if isinstance(p, Path) else str(p) for p in paths]
    return _save("emotion", model, report, data, out_dir)


def _save(kind: str, model, report: dict, data: str, out_dir: str | None) -> dict:
    out = Path(out_dir) if out_dir else MODELS
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{kind}.npz"
    model.save(path)
    report.update(kind=kind, data=str(data), model=str(path), size_kb=round(path.stat().st_size / 1024))
    return report


def evaluate(kind: str, data: str, text_col: str = "text", label_col: str | None = None,
             model_path: str | None = None, engine: str = "domain") -> dict:
    """Accuracy, macro-F1, confusion matrix and throughput of the engine `analyze` uses."""

    label_col = label_col or ("polarity" if kind == "sentiment" else "emotion")
    texts, labels = read_labelled(data, text_col, label_col)
    report: dict = {"kind": kind, "data": str(data), "rows": len(texts)}
    if kind == "sentiment":
        scorer = load_sentiment_engine(engine, model_path)
        labels = [to_polarity(lab) for lab in labels]
        keep = [i for i, lab in enumerate(labels) if lab in ("positive", "negative")]
        texts, truth = [texts[i] for i in keep], np.array([labels[i] for i in keep])
        start = time.perf_counter()
        docs = _docs(texts, False)
        heads = getattr(getattr(scorer, "model", None), "heads", {})
        report["vectors"] = "polarity_vec" in heads and _vectors(docs, False) is not None
        scores = np.array(scorer.score(docs))
        elapsed = time.perf_counter() - start
        predicted = np.where(scores > 0.5, "positive", "negative")
        report["roc_auc"] = float(roc_auc_score(truth == "positive", scores)) if len(set(truth)) == 2 else None
        report["skipped_neutral"] = len(labels) - len(keep)
        classes = ["negative", "positive"]
    elif kind == "emotion":
        model = EmotionModel.load(model_path)
        truth = np.array(labels)
        start = time.perf_counter()
        docs = _docs(texts, False)
        report["vectors"] = "emotion_vec" in model.model.heads and _vectors(docs, False) is not None
        predicted = np.array([label for label, _ in model.predict(docs)])
        elapsed = time.perf_counter() - start
        classes = [c for c in EMOTIONS if c in set(labels) | set(predicted)] + \
            sorted(set(labels) - set(EMOTIONS))
    else:
        raise ValueError(f"unknown model kind {kind!r} (sentiment, emotion)")
    report.update(n=len(truth), accuracy=float(accuracy_score(truth, predicted)) if len(truth) else None,
                  macro_f1=float(f1_score(truth, predicted, average="macro")) if len(truth) else None,
                  labels=classes, confusion=confusion_matrix(truth, predicted, labels=classes).tolist()
                  if len(truth) else [],
                  posts_per_second=len(truth) / elapsed if elapsed > 0 else None)
    return report


def format_report(report: dict) -> str:
    """Human-readable lines for the CLI."""
    lines = [f"{report.get('kind')} · {report.get('data')} · {report.get('n')} 条"]
    for key in ("cv_accuracy", "cv_macro_f1", "cv_roc_auc", "cv_emotion_macro_f1", "cv_accuracy_words_only",
                "cv_macro_f1_words_only", "cv_roc_auc_words_only", "accuracy", "macro_f1", "roc_auc"):
        if report.get(key) is not None:
            lines.append(f"  {key:<20} {report[key]:.4f}")
    if "vectors" in report:
        lines.append("  句向量               " + ("已用" if report["vectors"] else "未用（编码器关闭或模型无句向量部分，只用词特征）"))
    if report.get("skipped_neutral"):
        lines.append(f"  {'skipped (neutral)':<20} {report['skipped_neutral']}")
    if report.get("posts_per_second"):
        lines.append(f"  {'throughput':<20} {report['posts_per_second']:.0f} 条/秒")
    if report.get("confusion"):
        lines += labelled.confusion_lines(report["labels"], report["confusion"])
    if report.get("model"):
        lines.append(f"  model                {report['model']} ({report.get('size_kb')} KB)")
    return "\n".join(lines)
