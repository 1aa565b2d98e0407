"""Chinese text analysis for Weibo-shaped posts: clean, segment, keywords, sentiment, emotion.

Names are re-exported lazily: importing `opinion.nlp.doc` (as the topic and routing stages do)
must not pay for jieba, NumPy or scikit-learn.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Doc": "doc", "EMOTIONS": "doc", "POLARITIES": "doc",
    "clean": "clean",
    "Segmenter": "segment", "load_stopwords": "segment",
    "KeywordExtractor": "keywords",
    "SentimentEngine": "sentiment", "SnowNLPEngine": "sentiment", "DomainEngine": "sentiment",
    "load_sentiment_engine": "sentiment", "polarity_of": "sentiment", "apply_sentiment": "sentiment",
    "EmotionModel": "emotion", "apply_emotion": "emotion",
    "train_sentiment": "train", "train_emotion": "train", "evaluate": "train",
    "format_report": "train",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"opinion.nlp.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'opinion.nlp' has no attribute {name!r}")
