"""The category classifier: which first-level issue category a citizen's message belongs to.

Trained on labelled government messages whose shared copy is pre-segmented with stopwords removed,
while real messages arrive raw: both are reduced to the same form (words only, no spaces, digits,
punctuation or masked place codes) before hashed character n-grams, so training and use agree.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from opinion.nlp.linear import LinearModel

MODEL = Path(__file__).resolve().parent / "model" / "routing.npz"
_NOISE = re.compile(r"[\sA-Za-z0-9_\W]+")


def normalise(text: str) -> str:
    return _NOISE.sub("", text or "")[:3000]


class CategoryClassifier:
    def __init__(self, model: LinearModel):
        self.model = model
        self.labels = model.classes

    @classmethod
    def load(cls, path: str | Path | None = None) -> "CategoryClassifier":
        return cls(LinearModel.load(path or MODEL))

    def predict_proba(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        return self.labels, self.model.proba([normalise(t) for t in texts])

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        if not texts:
            return []
        _, proba = self.predict_proba(texts)
        best = proba.argmax(axis=1)
        return [(self.labels[i], float(row[i])) for i, row in zip(best, proba)]
