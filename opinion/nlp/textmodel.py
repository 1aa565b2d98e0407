"""The trained sentiment and emotion models: linear heads over shared features, kept as arrays.

Features are TF-IDF character 1-3-grams of the cleaned body (emoticon codes as single symbols)
beside the dense lexicon features of opinion.nlp.features. Each head is a linear SVM whose scores
are turned into probabilities by a calibration fitted on cross-validated scores (Platt scaling for
two classes, a temperature and per-class offsets for several). A file is one `np.savez_compressed`
archive of numbers and UTF-8 byte strings: it loads with allow_pickle=False and runs no code.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from opinion.nlp.doc import Doc
from opinion.nlp.features import char_text, doc_tokens, lexicon_features

NGRAMS = (1, 3)
_LAST: list = [None]   # ((fingerprint, texts), features) of the last batch, swapped whole
_GRAMS: list = [None]  # (texts, distinct n-gram keys, inverse, rows) of the last batch looked up


def _key(gram: str) -> int:
    """An n-gram of up to three characters as one integer: 21 bits a code point, plus one."""
    return sum((ord(ch) + 1) << (21 * i) for i, ch in enumerate(gram))


def _blob(words: Sequence[str]) -> np.ndarray:
    return np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8)


def _unblob(a: np.ndarray) -> list[str]:
    return a.tobytes().decode("utf-8").split("\n")


def _gram_keys(texts: Sequence[str], max_n: int) -> tuple[np.ndarray, np.ndarray]:
    """(key, row) of every 1..max_n-gram that stays inside its own post, keyed as _key does."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64) + 1
    doc = np.repeat(np.arange(len(texts)), lengths)
    left = lengths[doc] - (np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths))
    keys, rows = [codes], [doc]
    for n in range(2, max_n + 1):
        ok = np.nonzero(left[: total - n + 1] >= n)[0]
        k = codes[ok].copy()
        for j in range(1, n):
            k += codes[ok + j] << (21 * j)
        keys.append(k)
        rows.append(doc[ok])
    return np.concatenate(keys), np.concatenate(rows)


def _lookup(texts: Sequence[str], sorted_keys: np.ndarray, order: np.ndarray, max_n: int, width: int):
    """Counts (posts x width) of the n-grams whose keys are in sorted_keys (column order[i])."""
    # lazy: SciPy takes half a second to import; only training and evaluation need it
    import scipy.sparse as sp
    u, inv, r = _distinct_grams(texts, max_n)
    if len(u) == 0 or len(sorted_keys) == 0:
        return sp.csr_matrix((len(texts), width), dtype=np.float64)
    pos, hit = _find(sorted_keys, u, inv)
    m = sp.csr_matrix((np.ones(int(hit.sum())), (r[hit], order[pos[hit]])),
                      shape=(len(texts), width), dtype=np.float64)
    m.sum_duplicates()
    return m


def _distinct_grams(texts: Sequence[str], max_n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The batch's distinct n-gram keys, each n-gram's index among them, and its post. The last
    batch's are kept: the emotion model's unit table looks up the same posts' grams again."""
    texts = tuple(texts)
    last = _GRAMS[0]
    if last is not None and last[0] >= max_n and last[1] == texts:
        return last[2:]
    k, r = _gram_keys(texts, max_n)
    u, inv = np.unique(k, return_inverse=True)
    _GRAMS[0] = (max_n, texts, u, inv, r)
    return u, inv, r


def _find(sorted_keys: np.ndarray, u: np.ndarray, inv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in sorted_keys of each n-gram (u[inv]) and whether it is there. A batch repeats
    most of its n-grams, so each distinct one is searched once: three times faster than all."""
    pos = np.minimum(np.searchsorted(sorted_keys, u), len(sorted_keys) - 1)
    return pos[inv], (sorted_keys[pos] == u)[inv]


@dataclass
class UnitTable:
    """Character and character-bigram vectors learned from unlabelled posts, folded into a head.

    A post's embedding is the weighted mean of its units' vectors, and a linear head is linear in
    it, so each unit needs only its weight and its (weighted) contribution to each class: the table
    holds those, not the vectors. Units are keyed like the n-grams (_key), sorted."""
    keys: np.ndarray       # (n_units,) int64, sorted
    weights: np.ndarray    # (n_units,) float32
    values: np.ndarray     # (n_units, n_classes) float32: weight x the unit's class scores

    def counts(self, texts: Sequence[str]):
        return _lookup(texts, self.keys, np.arange(len(self.keys)), 2, len(self.keys))

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        # Summed with bincount rather than through a sparse matrix: half the cost per batch.
        n = len(texts)
        u, inv, r = _distinct_grams(texts, 2)   # trigrams, if cached with them, never match a unit
        out = np.zeros((n, self.values.shape[1]))
        if len(u) == 0 or len(self.keys) == 0:
            return out
        pos, hit = _find(self.keys, u, inv)
        idx, rows = pos[hit], r[hit]
        den = np.bincount(rows, self.weights[idx], minlength=n)
        vals = self.values[idx]
        for j in range(out.shape[1]):
            out[:, j] = np.bincount(rows, vals[:, j], minlength=n)
        return out / np.maximum(den, 1e-12)[:, None]


@dataclass
class WordView:
    """TF-IDF word uni- and bigrams of the segmenter's tokens (the pipeline has already segmented)."""
    vocab: list[str]
    idf: np.ndarray
    _index: dict = field(default=None, repr=False)

    def features(self, token_lists: Sequence[Sequence[str]]):
        """Rows as TfidfVectorizer(analyzer=fit._word_grams, sublinear_tf=True) gives them. Each
        token is looked up once; bigrams are found as pairs of unigram ids, with NumPy."""
        # lazy: SciPy takes half a second to import; only training and evaluation need it; scikit-learn takes about two seconds to import; only training and evaluation need it
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize
        if self._index is None:
            index = {w: i for i, w in enumerate(self.vocab)}
            pairs = [(index.get(a, -1), index.get(b, -1), j) for w, j in index.items() if " " in w
                     for a, b in [w.split(" ", 1)]]
            pairs = np.array([(a * len(self.vocab) + b, j) for a, b, j in pairs if a >= 0 and b >= 0],
                             dtype=np.int64).reshape(-1, 2)
            order = np.argsort(pairs[:, 0])
            self._index = (index, pairs[order, 0], pairs[order, 1])
        index, bi_keys, bi_cols = self._index
        get = index.get
        ids = [get(t.lower(), -1) for toks in token_lists for t in toks]
        lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
        ids = np.array(ids, dtype=np.int64)
        rows = np.repeat(np.arange(len(token_lists)), lengths)
        uni = ids >= 0
        same = rows[:-1] == rows[1:]   # bigrams inside one post, both words known
        a, b = ids[:-1], ids[1:]
        ok = same & (a >= 0) & (b >= 0)
        key = a[ok] * len(self.vocab) + b[ok]
        cols, r = [ids[uni]], [rows[uni]]
        if len(bi_keys) and len(key):
            pos = np.minimum(np.searchsorted(bi_keys, key), len(bi_keys) - 1)
            hit = bi_keys[pos] == key
            cols.append(bi_cols[pos[hit]])
            r.append(rows[:-1][ok][hit])
        c, r = np.concatenate(cols), np.concatenate(r)
        m = sp.csr_matrix((np.ones(len(c)), (r, c)), shape=(len(token_lists), len(self.vocab)))
        m.sum_duplicates()
        m.data = 1.0 + np.log(m.data)
        return normalize(m.multiply(self.idf).tocsr())


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
    units: UnitTable | None = None    # the emotion head's share of the unlabelled-post vectors
    words: WordView | None = None     # the word view's vocabulary, for the emotion_words head

    def __post_init__(self) -> None:
        if not self.fingerprint:
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
        # lazy: SciPy takes half a second to import; only training and evaluation need it; scikit-learn takes about two seconds to import; only training and evaluation need it
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
        sorted_keys, order = self._keys()
        return _lookup(texts, sorted_keys, order, NGRAMS[1], len(self.vocab))

    def class_proba(self, x, names: Sequence[str] = ("emotion", "emotion_nb")) -> np.ndarray:
        """Probabilities from several heads over the same classes: a product of experts, each
        head's scores scaled by its fitted weight (so a naive-Bayes head and an SVM head mix)."""
        heads = [self.heads[n] for n in names if n in self.heads]
        z = sum(h.scale * h.scores(x) + h.offset for h in heads)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def emotion_proba(self, docs: Sequence[Doc], x=None, vectors: np.ndarray | None = None) -> np.ndarray:
        """Emotion probabilities: the SVM (its n-gram part plus its unit-vector part), the
        naive-Bayes head over n-grams and the one over words, each scaled by its fitted weight;
        for a post with a sentence vector (a non-zero row of `vectors`) and a model that has a
        head for it, that head too, with the four heads' own scales."""
        x = self.features(docs) if x is None else x
        z = self.emotion_scores(docs, x, vectors)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def emotion_scores(self, docs: Sequence[Doc], x, vectors: np.ndarray | None = None) -> np.ndarray:
        svm = self.heads["emotion"]
        s = svm.scores(x)
        if self.units is not None:
            s = s + self.units.scores([char_text(d).lower() for d in docs])
        parts = [("emotion", s)]
        if "emotion_nb" in self.heads:
            parts.append(("emotion_nb", self.heads["emotion_nb"].scores(x)))
        if self.words is not None and "emotion_words" in self.heads:
            w = self.heads["emotion_words"]
            parts.append(("emotion_words", w.scores(self.words.features([doc_tokens(d) for d in docs]))))
        z = sum(self.heads[name].scale * v for name, v in parts) + svm.offset
        vec = self.heads.get("emotion_vec")
        has = None if vectors is None or vec is None else np.abs(vectors).sum(axis=1) > 0
        if has is not None and has.any():
            mixed = sum(self.meta[f"vec.{name}"] * v[has] for name, v in parts)
            z[has] = mixed + vec.scale * vec.scores(vectors[has]) + svm.offset
        return z

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
        if self.units is not None:
            # Sorted keys are stored as differences and the values as int8 with a scale per class:
            # both compress to a third, and keep the shipped models under 4 MiB.
            arrays["units.keys"] = np.diff(self.units.keys.astype(np.int64), prepend=0)
            # Weights as uint8 steps of 1/20 in -log: 2.5 % apart at most, a quarter of the bytes.
            arrays["units.weights"] = np.clip(np.round(-20 * np.log(np.maximum(self.units.weights, 1e-30))),
                                              0, 255).astype(np.uint8)
            scale = np.abs(self.units.values).max(axis=0) / 127 + 1e-12
            arrays["units.values"] = np.round(self.units.values / scale).astype(np.int8)
            arrays["units.scale"] = scale.astype(np.float32)
        if self.words is not None:
            arrays["words.vocab"] = _blob(self.words.vocab)
            arrays["words.idf"] = self.words.idf.astype(np.float32)
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
        units = words = None
        if "units.keys" in z.files:
            units = UnitTable(np.cumsum(z["units.keys"]), np.exp(-z["units.weights"] / 20.0).astype(np.float32),
                              z["units.values"].astype(np.float32) * z["units.scale"])
        if "words.vocab" in z.files:
            words = WordView(_unblob(z["words.vocab"]), z["words.idf"].astype(np.float64))
        return TextModel(_unblob(z["vocab"]), z["idf"].astype(np.float64), float(z["lex_weight"]), heads, meta,
                         units=units, words=words)
