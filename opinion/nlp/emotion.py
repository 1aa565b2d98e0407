"""Emotion: one of seven classes per post, with calibrated class probabilities.

Anger and fear feed priority and alerts, so the classes are the district's concern, not a
psychology model: anger, disgust, fear, sadness, surprise, optimism, gratitude. The model is
trained like the sentiment one (opinion.nlp.fit) and shares its features.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from opinion.nlp.doc import EMOTIONS, Doc

MODELS = Path(__file__).resolve().parent / "models"


class EmotionModel:
    def __init__(self, model):
        self.model = model
        self.head = model.heads["emotion"]
        self.classes = list(self.head.classes)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "EmotionModel":
        """The shipped model (opinion/nlp/models/emotion.npz) or a trained file."""
        # lazy: the models need NumPy and SciPy; loaded with the first model
        from opinion.nlp.textmodel import TextModel
        model = TextModel.load(path or MODELS / "emotion.npz")
        if "emotion" not in model.heads:
            raise ValueError(f"{path}: 不是情绪模型 (no emotion head)")
        return cls(model)

    def predict(self, docs: Sequence[Doc]) -> list[tuple[str, dict[str, float]]]:
        """(label, {class: probability}) per doc. A doc with nothing to read gets no label. A doc
        carrying its sentence vector (doc.vector) is read with it too; one without, with words alone."""
        if not docs:
            return []
        from opinion.nlp.encoder import doc_vectors  # lazy: NumPy, as the model above
        proba = self.model.emotion_proba(docs, vectors=doc_vectors(docs))
        out: list[tuple[str, dict[str, float]]] = []
        for doc, row in zip(docs, proba):
            scores = {c: round(float(p), 4) for c, p in zip(self.classes, row)}
            if not doc.readable:
                out.append(("", {}))
                continue
            out.append((max(scores, key=scores.get), scores))
        return out


def apply_emotion(model: EmotionModel, docs: Sequence[Doc]) -> None:
    """Fill doc.emotion and doc.emotion_scores for a whole batch."""
    for doc, (label, scores) in zip(docs, model.predict(docs)):
        doc.emotion, doc.emotion_scores = (label or None), scores


__all__ = ["EMOTIONS", "EmotionModel", "apply_emotion"]
