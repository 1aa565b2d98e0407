"""Sentiment: the probability a post is positive, from a pluggable engine, and its polarity.

`domain` is the model this project trains on labelled Weibo posts (opinion/nlp/models/); `snownlp`
is the reference engine (trained on product reviews, and slow: its own segmenter runs per post).
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence

from opinion.nlp.doc import Doc
from opinion.nlp.linear import LinearModel, feature_text

MODELS = Path(__file__).resolve().parent / "models"


class SentimentEngine(Protocol):
    name: str

    def score(self, docs: Sequence[Doc]) -> list[float]:
        ...


class SnowNLPEngine:
    name = "snownlp"

    def score(self, docs: Sequence[Doc]) -> list[float]:
        from snownlp import SnowNLP
        return [float(SnowNLP(d.body).sentiments) if d.body else 0.5 for d in docs]


class DomainEngine:
    name = "domain"

    def __init__(self, path: str | Path | None = None):
        self.model = LinearModel.load(path or MODELS / "sentiment.npz")
        self.positive = self.model.classes.index("positive")

    def score(self, docs: Sequence[Doc]) -> list[float]:
        if not docs:
            return []
        proba = self.model.proba([feature_text(d) for d in docs])
        # A post with no words has no sentiment to speak of: neutral, not a guess.
        return [float(p[self.positive]) if d.body.strip() else 0.5 for d, p in zip(docs, proba)]


def load_sentiment_engine(name: str = "domain", path: str | None = None) -> SentimentEngine:
    if name == "snownlp":
        return SnowNLPEngine()
    if name == "domain":
        return DomainEngine(path)
    raise ValueError(f"unknown sentiment engine {name!r} (domain, snownlp)")


def polarity_of(score: float, band: tuple[float, float] = (0.4, 0.6)) -> str:
    if score < band[0]:
        return "negative"
    return "positive" if score > band[1] else "neutral"


def apply_sentiment(engine: SentimentEngine, docs: Sequence[Doc],
                    band: tuple[float, float] = (0.4, 0.6)) -> None:
    for doc, score in zip(docs, engine.score(docs)):
        doc.sentiment, doc.polarity = score, polarity_of(score, band)
