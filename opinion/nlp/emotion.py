"""Emotion: one of seven classes per post (anger and fear feed priority and alerts)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from opinion.nlp.doc import EMOTIONS, Doc
from opinion.nlp.linear import LinearModel, feature_text

MODELS = Path(__file__).resolve().parent / "models"


class EmotionModel:
    def __init__(self, model: LinearModel):
        self.model = model

    @classmethod
    def load(cls, path: str | Path | None = None) -> "EmotionModel":
        return cls(LinearModel.load(path or MODELS / "emotion.npz"))

    def predict(self, docs: Sequence[Doc]) -> list[tuple[str, dict[str, float]]]:
        if not docs:
            return []
        proba = self.model.proba([feature_text(d) for d in docs])
        out = []
        for row in proba:
            scores = {c: float(p) for c, p in zip(self.model.classes, row)}
            out.append((max(scores, key=scores.get), scores))
        return out


def apply_emotion(model: EmotionModel, docs: Sequence[Doc]) -> None:
    for doc, (label, scores) in zip(docs, model.predict(docs)):
        doc.emotion, doc.emotion_scores = label, scores


__all__ = ["EMOTIONS", "EmotionModel", "apply_emotion"]
