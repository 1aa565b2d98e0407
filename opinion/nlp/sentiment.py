"""Sentiment: the probability a post is positive, from a pluggable engine, and its polarity.

`domain` is the model this project trains on labelled Weibo posts (opinion/nlp/models/, see its
README); `snownlp` is the reference engine (trained on product reviews, and slow: its own segmenter
runs per post, so it is never the default). Engines score a whole batch at once.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from opinion.nlp.doc import Doc

MODELS = Path(__file__).resolve().parent / "models"
DEFAULT_BAND = (0.4, 0.6)


class SentimentEngine(Protocol):
    name: str

    def score(self, docs: Sequence[Doc]) -> list[float]:
        """P(positive) in 0..1 for each doc, in order."""
        ...


class SnowNLPEngine:
    """The reference engine, kept for comparison (`analyze --engine snownlp`, `eval`)."""
    name = "snownlp"

    def score(self, docs: Sequence[Doc]) -> list[float]:
        # lazy: SnowNLP takes seconds to import; it is the optional reference engine
        from snownlp import SnowNLP
        return [float(SnowNLP(d.body[:2000]).sentiments) if d.body.strip() else 0.5 for d in docs]


class DomainEngine:
    """The project's trained model: calibrated mix of a polarity head and the emotion head."""
    name = "domain"

    def __init__(self, path: str | Path | None = None):
        # lazy: the models need NumPy and SciPy; loaded with the first model
        from opinion.nlp.textmodel import TextModel
        self.model = TextModel.load(path or MODELS / "sentiment.npz")
        if "polarity" not in self.model.heads:
            raise ValueError(f"{path}: 不是情感模型 (no polarity head)")

    def score(self, docs: Sequence[Doc]) -> list[float]:
        """A doc carrying its sentence vector (doc.vector) is scored with the vector head in the
        mix (meta keys "vec.…"); one without, by words alone."""
        if not docs:
            return []
        # lazy: NumPy; loaded with the first model
        from opinion.nlp.encoder import doc_vectors
        from opinion.nlp.features import lexicon_prior
        x = self.model.features(docs)
        head = self.model.heads["polarity"]
        lp = _logit(head.proba(x)[:, head.classes.index("positive")])
        meta, emo = self.model.meta, self.model.heads.get("emotion")
        lp_emo = _logit(emotion_to_positive(self.model.class_proba(x), emo.classes)) if emo is not None else None
        lex = lexicon_prior(x[:, len(self.model.vocab):].toarray() / (self.model.lex_weight or 1.0)) \
            if "alpha" in meta else None

        def mixed(pre: str, rows, vec_score=None) -> np.ndarray:
            z = lp[rows]
            if f"{pre}w_polarity" in meta:
                z = meta[f"{pre}w_polarity"] * z + meta[f"{pre}bias"]
                if lp_emo is not None and f"{pre}w_emotion" in meta:
                    z = z + meta[f"{pre}w_emotion"] * lp_emo[rows]
                if vec_score is not None:
                    z = z + meta[f"{pre}w_vector"] * vec_score
            if lex is not None:
                z = meta[f"{pre}final_scale"] * (z + meta[f"{pre}alpha"] * lex[rows]) + meta[f"{pre}final_offset"]
            return 1.0 / (1.0 + np.exp(-z))

        p = mixed("", slice(None))
        vectors, vec = doc_vectors(docs), self.model.heads.get("polarity_vec")
        if vectors is not None and vec is not None:
            has = np.abs(vectors).sum(axis=1) > 0
            p[has] = mixed("vec.", has, vec.scores(vectors[has])[:, 0])
        # A post with nothing the model can read has no sentiment to speak of: neutral, not a guess.
        return [float(v) if d.readable else 0.5 for d, v in zip(docs, p)]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def load_sentiment_engine(name: str = "domain", path: str | None = None) -> SentimentEngine:
    """`domain` (default, the shipped or a given model file) or `snownlp`."""
    name = (name or "domain").lower()
    if name == "snownlp":
        return SnowNLPEngine()
    if name == "domain":
        return DomainEngine(path)
    raise ValueError(f"unknown sentiment engine {name!r} (domain, snownlp)")


def polarity_of(score: float | None, band: tuple[float, float] = DEFAULT_BAND) -> str:
    """negative below the band, positive above it, neutral inside it (and for no score)."""
    if score is None or score != score:  # NaN
        return "neutral"
    if score < band[0]:
        return "negative"
    return "positive" if score > band[1] else "neutral"


def apply_sentiment(engine: SentimentEngine, docs: Sequence[Doc],
                    band: tuple[float, float] = DEFAULT_BAND) -> None:
    """Fill doc.sentiment and doc.polarity for a whole batch in one call to the engine."""
    for doc, score in zip(docs, engine.score(docs)):
        doc.sentiment, doc.polarity = score, polarity_of(score, band)


POSITIVE_EMOTIONS = ("optimism", "gratitude")
NEGATIVE_EMOTIONS = ("fear", "disgust", "sadness", "anger")


def emotion_to_positive(proba: np.ndarray, classes: list[str]) -> np.ndarray:
    """P(positive | not neutral) from emotion probabilities."""
    pos = proba[:, [classes.index(c) for c in POSITIVE_EMOTIONS if c in classes]].sum(axis=1)
    neg = proba[:, [classes.index(c) for c in NEGATIVE_EMOTIONS if c in classes]].sum(axis=1)
    return pos / np.maximum(pos + neg, 1e-12)
