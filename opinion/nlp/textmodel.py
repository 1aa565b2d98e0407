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
_LAST: list = [None]   # ((fingerprint, texts), features) of the last batch, swapped whole


def _key(gram: str) -> int:
    """An n-gram of up to three characters as one integer: 21 bits a code point, plus one."""
    return sum((ord(ch) + 1) << (21 * i) for i, ch in enumerate(gram))


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
    fingerprint: str = ""

    def __post_init__(self) -> None:
        if not self.fingerprint:
            import hashlib
            h = hashlib.sha1("\n".join(self.vocab).encode("utf-8"))
            h.update(np.asarray(self.idf, dtype=np.float32).tobytes())
            h.update(str(self.lex_weight).encode())
            self.fingerprint = h.hexdigest()

    def _keys(self) -> tuple[np.ndarray, np.ndarray]:
        if self._vectorizer is None:
            keys = np.array([_key(w) for w in self.vocab], dtype=np.int64)
            order = np.argsort(keys)
            self._vectorizer = (keys[order], order)
        return self._vectorizer

    def features(self, docs: Sequence[Doc]):
        """Sparse rows: TF-IDF n-grams (as scikit-learn's TfidfVectorizer computes them in
        training, counted here with NumPy in a few array operations per batch) and the weighted lexicon features.
        The last batch's rows are reused when another model with the same vocabulary asks for
        the same posts (the sentiment and emotion stages run over the same batch)."""
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize
        texts = tuple(char_text(d).lower() for d in docs)
        key = (self.fingerprint, texts)
        last = _LAST[0]
        if last is not None and last[0] == key:
            return last[1]
        counts = self._counts(texts)
        counts.data = 1.0 + np.log(counts.data)   # sublinear tf
        x = normalize(counts.multiply(self.idf).tocsr())
        lex = np.array([lexicon_features(d) for d in docs]).reshape(len(docs), -1) * self.lex_weight
        out = sp.hstack([x, sp.csr_matrix(lex)], format="csr")
        _LAST[0] = (key, out)
        return out

    def _counts(self, texts: Sequence[str]):
        import scipy.sparse as sp
        sorted_keys, order = self._keys()
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        total = int(lengths.sum())
        if total == 0 or len(sorted_keys) == 0:
            return sp.csr_matrix((len(texts), len(self.vocab)), dtype=np.float64)
        codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64) + 1
        doc = np.repeat(np.arange(len(texts)), lengths)
        left = lengths[doc] - (np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths))
        keys, rows = [codes], [doc]
        for n in range(2, NGRAMS[1] + 1):  # n-grams that stay inside their own post
            ok = np.nonzero(left[: total - n + 1] >= n)[0]
            k = codes[ok].copy()
            for j in range(1, n):
                k += codes[ok + j] << (21 * j)
            keys.append(k)
            rows.append(doc[ok])
        k, r = np.concatenate(keys), np.concatenate(rows)
        pos = np.minimum(np.searchsorted(sorted_keys, k), len(sorted_keys) - 1)
        hit = sorted_keys[pos] == k
        m = sp.csr_matrix((np.ones(int(hit.sum())), (r[hit], order[pos[hit]])),
                          shape=(len(texts), len(self.vocab)), dtype=np.float64)
        m.sum_duplicates()
        return m

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
