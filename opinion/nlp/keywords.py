"""Keywords: the few words that say what a post (or a topic) is about, by TF-IDF.

IDF comes from jieba's shipped table (a large general corpus); stopwords and the district's own
unit names are excluded, since every post to a unit would otherwise be "about" that unit.
"""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from opinion.nlp.doc import Doc
from opinion.nlp.segment import load_stopwords


@lru_cache(maxsize=1)
def load_idf() -> tuple[dict[str, float], float]:
    import jieba.analyse
    path = Path(jieba.analyse.__file__).parent / "idf.txt"
    idf: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, value = line.partition(" ")
        if value:
            idf[word] = float(value)
    median = sorted(idf.values())[len(idf) // 2]
    return idf, median


class KeywordExtractor:
    def __init__(self, idf: dict | None = None, exclude: Iterable[str] = (), k: int = 5):
        self.idf, self.default_idf = (idf, max(idf.values())) if idf else load_idf()
        self.exclude = set(exclude) | load_stopwords()
        self.k = k

    def _weights(self, counts: Counter) -> list[tuple[str, float]]:
        scored = [(w, n * self.idf.get(w, self.default_idf)) for w, n in counts.items()
                  if len(w) > 1 and w not in self.exclude and not w.isdigit()]
        return sorted(scored, key=lambda x: (-x[1], x[0]))

    def extract(self, tokens: list[str], k: int | None = None) -> list[str]:
        return [w for w, _ in self._weights(Counter(tokens))[: k or self.k]]

    def topic_keywords(self, token_lists: Iterable[list[str]], k: int = 8) -> list[str]:
        counts: Counter = Counter()
        for tokens in token_lists:
            counts.update(set(tokens))  # document frequency inside the topic: one loud post is one vote
        return [w for w, _ in self._weights(counts)[:k]]

    def __call__(self, doc: Doc) -> Doc:
        doc.keywords = self.extract(doc.tokens)
        return doc
