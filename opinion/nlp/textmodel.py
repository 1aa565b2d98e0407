"""The trained sentiment and emotion models: linear heads over shared features, kept as arrays.

Features are TF-IDF character 1-3-grams of the cleaned body (emoticon codes as single symbols)
beside the dense lexicon features of opinion.nlp.features. Each head is a linear SVM whose scores
are turned into probabilities by a calibration fitted on cross-validated scores (Platt scaling for
two classes, a temperature and per-class offsets for several). A file is one `np.savez_compressed`
archive of numbers and UTF-8 byte strings: it loads with allow_pickle=False and runs no code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from opinion.nlp.doc import Doc
from opinion.nlp.features import char_text, lexicon_features

NGRAMS = (1, 3)


def _blob(words: Sequence[str]) -> np.ndarray:
    return np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8)


def _unblob(a: np.ndarray) -> list[str]:
    return a.tobytes().decode("utf-8").split("\n")


@dataclass
class Head:
    """One linear classifier and its calibration."""
    classes: list[str]
    coef: np.ndarray                 # (n_rows, n_features); one row for two classes
    intercept: np.ndarray            # (n_rows,)
    scale: float = 1.0               # Platt slope, or softmax temperature
    offset: np.ndarray = field(default_factory=lambda: np.zeros(1))  # Platt intercept, or class offsets

    def scores(self, x) -> np.ndarray:
        return np.asarray(x @ self.coef.T, dtype=np.float64) + self.intercept

    def calibrate(self, s: np.ndarray) -> np.ndarray:
        """Probabilities (n, n_classes) from raw scores."""
        if len(self.classes) == 2:
            p = 1.0 / (1.0 + np.exp(-(self.scale * s[:, 0] + self.offset[0])))
            return np.column_stack([1 - p, p])
        z = self.scale * s + self.offset
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def proba(self, x) -> np.ndarray:
        return self.calibrate(self.scores(x))


@dataclass
class TextModel:
    vocab: list[str]
    idf: np.ndarray
    lex_weight: float
    heads: dict[str, Head]
    meta: dict[str, float] = field(default_factory=dict)   # e.g. the sentiment combiner's weights
    _vectorizer: object = field(default=None, repr=False)

    def features(self, docs: Sequence[Doc]):
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import CountVectorizer
            self._vectorizer = CountVectorizer(analyzer="char", ngram_range=NGRAMS, lowercase=True,
                                               vocabulary={w: i for i, w in enumerate(self.vocab)},
                                               dtype=np.float64)
        x = self._vectorizer.transform([char_text(d) for d in docs])
        x.data = 1.0 + np.log(x.data)          # sublinear tf, as TfidfVectorizer does in training
        x = normalize(x.multiply(self.idf).tocsr())
        lex = np.array([lexicon_features(d) for d in docs]) * self.lex_weight
        return sp.hstack([x, sp.csr_matrix(lex)], format="csr")

    def class_proba(self, x, names: Sequence[str] = ("emotion", "emotion_nb")) -> np.ndarray:
        """Probabilities from several heads over the same classes: a product of experts, each
        head's scores scaled by its fitted weight (so a naive-Bayes head and an SVM head mix)."""
        heads = [self.heads[n] for n in names if n in self.heads]
        z = sum(h.scale * h.scores(x) + h.offset for h in heads)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def class_proba_from_scores(self, svm: np.ndarray, nb: np.ndarray) -> np.ndarray:
        """class_proba's mix applied to raw scores (used on cross-validated scores in training)."""
        h, n = self.heads["emotion"], self.heads["emotion_nb"]
        z = h.scale * svm + n.scale * nb
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: str | Path) -> None:
        arrays: dict[str, np.ndarray] = {
            "vocab": _blob(self.vocab), "idf": self.idf.astype(np.float32),
            "lex_weight": np.array(self.lex_weight), "heads": _blob(list(self.heads)),
            "meta_keys": _blob(list(self.meta)), "meta_values": np.array(list(self.meta.values()), dtype=np.float64),
        }
        for name, h in self.heads.items():
            arrays[f"{name}.classes"] = _blob(h.classes)
            arrays[f"{name}.coef"] = h.coef.astype(np.float16)  # 3 significant digits are plenty
            arrays[f"{name}.intercept"] = h.intercept.astype(np.float64)
            arrays[f"{name}.scale"] = np.array(h.scale, dtype=np.float64)
            arrays[f"{name}.offset"] = np.asarray(h.offset, dtype=np.float64)
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "TextModel":
        return _load(str(Path(path).resolve()))


@lru_cache(maxsize=8)
def _load(path: str) -> TextModel:
    """One copy per file per process: the sentiment and emotion stages may share it."""
    with np.load(path, allow_pickle=False) as z:
        heads = {}
        for name in _unblob(z["heads"]):
            heads[name] = Head(_unblob(z[f"{name}.classes"]), z[f"{name}.coef"].astype(np.float32),
                               z[f"{name}.intercept"], float(z[f"{name}.scale"]), z[f"{name}.offset"])
        keys = [k for k in _unblob(z["meta_keys"]) if k]
        meta = dict(zip(keys, z["meta_values"].tolist()))
        return TextModel(_unblob(z["vocab"]), z["idf"].astype(np.float64), float(z["lex_weight"]), heads, meta)
