"""Segmentation with jieba: one tokenizer per process, the district's words kept whole.

The dictionary loads once (about a second) and is shared; each Segmenter adds its user words.
Stopwords and punctuation are dropped from tokens; the original text stays on the Doc.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import jieba

from opinion.nlp.doc import Doc

jieba.setLogLevel(logging.WARNING)
DATA = Path(__file__).resolve().parent / "data"
_WORD = re.compile(r"[\w\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def load_stopwords() -> frozenset[str]:
    path = DATA / "stopwords.txt"
    return frozenset(w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip())


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    tok = jieba.Tokenizer()
    tok.initialize()
    for word in (DATA / "userwords.txt").read_text(encoding="utf-8").split():
        tok.add_word(word)
    return tok


class Segmenter:
    def __init__(self, user_words: Iterable[str] = (), stopwords: set[str] | None = None):
        self.tok = _tokenizer()
        for word in user_words:
            if word and word not in self.tok.FREQ:
                self.tok.add_word(word)
        self.stopwords = load_stopwords() if stopwords is None else frozenset(stopwords)

    def segment(self, text: str) -> list[str]:
        return [w for w in self.tok.lcut(text, HMM=True)
                if w.strip() and w not in self.stopwords and _WORD.search(w)]

    def __call__(self, doc: Doc) -> Doc:
        doc.tokens = self.segment(doc.body)
        return doc
