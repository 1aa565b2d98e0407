"""A linear text classifier stored as plain NumPy arrays (no pickle, nothing runs on load).

Features are hashed character 1-3-grams of the cleaned body plus the post's [表情] codes, TF-IDF
weighted; the model is a logistic regression. Hashing keeps the file small and needs no vocabulary.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from opinion.nlp.doc import Doc

N_FEATURES = 2 ** 17
NGRAMS = (1, 3)


def feature_text(doc: Doc) -> str:
    # Emoticon codes are repeated as whole tokens so "[怒]" weighs like a word, not three characters.
    extra = " ".join(f"【{e}】" for e in doc.emoticons)
    return f"{doc.body} {extra}".strip()


def _vectorizer():
    from sklearn.feature_extraction.text import HashingVectorizer
    return HashingVectorizer(analyzer="char", ngram_range=NGRAMS, n_features=N_FEATURES,
                             alternate_sign=False, norm=None, lowercase=True)


@dataclass
class LinearModel:
    classes: list[str]
    coef: np.ndarray       # (n_classes or 1, N_FEATURES)
    intercept: np.ndarray
    idf: np.ndarray        # (N_FEATURES,)

    def features(self, texts: Sequence[str]):
        from sklearn.preprocessing import normalize
        x = _vectorizer().transform(texts)
        x.data = np.log1p(x.data)  # sublinear tf
        x = x.multiply(self.idf).tocsr()
        return normalize(x)

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        scores = self.features(texts) @ self.coef.T + self.intercept
        if len(self.classes) == 2 and scores.shape[1] == 1:
            p = 1 / (1 + np.exp(-scores[:, 0]))
            return np.column_stack([1 - p, p])
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, classes=np.array(self.classes), coef=self.coef.astype(np.float32),
                            intercept=self.intercept.astype(np.float32), idf=self.idf.astype(np.float32))

    @classmethod
    def load(cls, path: str | Path) -> "LinearModel":
        with np.load(path, allow_pickle=False) as z:
            return cls([str(c) for c in z["classes"]], z["coef"], z["intercept"], z["idf"])


def fit(texts: Sequence[str], labels: Sequence[str], c: float = 4.0) -> LinearModel:
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    x = _vectorizer().transform(texts)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(x)
    model = LinearModel([], np.zeros(0), np.zeros(0), tfidf.idf_.astype(np.float32))
    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    clf.fit(model.features(texts), labels)
    model.classes, model.coef, model.intercept = [str(c) for c in clf.classes_], clf.coef_, clf.intercept_
    return model
