"""Segmentation with jieba: the district's words kept whole, stopwords and punctuation dropped.

jieba's dictionary takes about a second to load, so it is loaded once per process and each
Segmenter gets its own Tokenizer built from a copy of it: user words added for one district do not
leak into another Segmenter. The original text stays on the Doc; tokens are for analysis only.
"""
from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import jieba

from opinion.nlp.doc import Doc

jieba.setLogLevel(logging.WARNING)
DATA = Path(__file__).resolve().parent / "data"
MAX_TOKENS_TEXT = 5000  # the same cap clean() puts on the body; segmenting more buys nothing
_WORD = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def load_stopwords() -> frozenset[str]:
    """The shipped stopword list (opinion/nlp/data/stopwords.txt), one word a line."""
    text = (DATA / "stopwords.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=1)
def shipped_user_words() -> tuple[str, ...]:
    """Government, policy and Weibo-slang words shipped with the project (data/userwords.txt)."""
    text = (DATA / "userwords.txt").read_text(encoding="utf-8")
    return tuple(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


@lru_cache(maxsize=1)
def _base() -> tuple[dict[str, int], int]:
    """jieba's dictionary, loaded once per process, with the shipped words added."""
    tok = jieba.Tokenizer()
    tok.initialize()
    for word in shipped_user_words():
        tok.add_word(word)
    return tok.FREQ, tok.total


class Segmenter:
    """Callable stage: fills doc.tokens from doc.body."""

    def __init__(self, user_words: Iterable[str] = (), stopwords: set[str] | None = None):
        self.user_words = [w.strip() for w in user_words if w and w.strip()]
        self.stopwords = load_stopwords() if stopwords is None else frozenset(stopwords)
        self._tok: jieba.Tokenizer | None = None

    @property
    def tokenizer(self) -> jieba.Tokenizer:
        if self._tok is None:
            with _LOCK:
                if self._tok is None:
                    freq, total = _base()
                    tok = jieba.Tokenizer()
                    tok.FREQ, tok.total, tok.initialized = dict(freq), total, True
                    for word in self.user_words:
                        if " " not in word:  # jieba cannot keep a spaced phrase as one token
                            tok.add_word(word, freq=max(tok.suggest_freq(word), 1000))
                    self._tok = tok
        return self._tok

    def segment(self, text: str) -> list[str]:
        """Tokens of `text` without stopwords, punctuation or whitespace."""
        if not text:
            return []
        stop = self.stopwords
        return [w for w in self.tokenizer.lcut(text[:MAX_TOKENS_TEXT], HMM=True)
                if w not in stop and _WORD.search(w) and not w.isspace()]

    def __call__(self, doc: Doc) -> Doc:
        doc.tokens = self.segment(doc.body)
        return doc
