"""Features the sentiment and emotion models share: what a post says, beyond its characters.

Character n-grams learn the training data's words; these few dense features carry what should
hold on any kind of post: a hand-written lexicon of incident, complaint and thanks words, Weibo
emoticon codes, negation (不/没/别/无 … flip the next sentiment word) and intensifiers (很/太/非常 …
weigh it more). They are cheap: one regex pass over the body.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from opinion.nlp.doc import Doc

DATA = Path(__file__).resolve().parent / "data"
NEGATORS = ("没有", "毫无", "并不", "从不", "从没", "不再", "别再", "不", "没", "别", "无", "未", "非", "莫", "勿", "甭")
INTENSIFIERS = ("非常", "特别", "十分", "相当", "极其", "超级", "太", "很", "超", "极", "真", "好", "最", "巨", "贼", "太过")
_NOT_NEGATION = ("非常", "无比", "无限", "无论", "不要太", "好不", "不得不", "无不", "并非不", "不胜", "不已", "不断")
_CLAUSE_END = re.compile(r"[，。！？；,.!?;~～…\s]")
LEX_NAMES = ("pos", "neg", "neg_pos", "neg_neg", "emo_pos", "emo_neg", "negators", "excl", "quest",
             "len")


@lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> dict[str, float]:
    """`word weight` lines; emoticon codes are written with their brackets, e.g. `[怒] -2`."""
    lex: dict[str, float] = {}
    for line in Path(path or DATA / "lexicon.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            lex[parts[0]] = float(parts[1])
    return lex


@lru_cache(maxsize=4)
def _matcher(path: str | None = None) -> re.Pattern:
    words = sorted((w for w in load_lexicon(path) if not w.startswith("[")), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words)))


def _modifier(body: str, start: int) -> tuple[bool, float]:
    """(negated, intensity) from the up-to-four characters before a lexicon word, in its clause."""
    window = body[max(0, start - 4):start]
    cut = max((m.end() for m in _CLAUSE_END.finditer(window)), default=0)
    window = window[cut:]
    strong = 1.5 if any(i in window for i in INTENSIFIERS) else 1.0
    for idiom in _NOT_NEGATION:  # 非常满意, 无比感动, 好不开心 are not negations
        window = window.replace(idiom, "")
    negated = sum(window.count(n) for n in ("不", "没", "别", "无", "未", "非", "莫", "勿")) % 2 == 1
    return negated, strong


def lexicon_features(doc: Doc, path: str | None = None) -> np.ndarray:
    """A short dense vector (see LEX_NAMES), roughly in 0..3 so it sits beside TF-IDF features."""
    lex = load_lexicon(path)
    body = doc.body
    pos = neg = neg_pos = neg_neg = 0.0
    for m in _matcher(path).finditer(body):
        weight = lex[m.group()]
        negated, strong = _modifier(body, m.start())
        if negated:  # "不满意" is a complaint, "不害怕" is no longer fear
            weight = -weight
            if weight < 0:
                neg_pos += 1
            else:
                neg_neg += 1
        weight *= strong
        if weight > 0:
            pos += weight
        else:
            neg -= weight
    emo_pos = emo_neg = 0.0
    for code in doc.emoticons:
        weight = lex.get(f"[{code}]", 0.0)
        emo_pos += max(weight, 0.0)
        emo_neg += max(-weight, 0.0)
    negators = sum(body.count(n) for n in ("不", "没", "别", "无"))
    vec = np.array([pos, neg, neg_pos, neg_neg, emo_pos, emo_neg, negators, body.count("!"),
                    body.count("?"), len(body) / 100.0], dtype=np.float64)
    return np.log1p(np.minimum(vec, 50.0))


def lexicon_prior(features: np.ndarray) -> np.ndarray:
    """Signed lexicon evidence (positive minus negative, words and emoticons) from feature rows."""
    f = np.atleast_2d(features)
    return f[:, 0] + f[:, 4] - f[:, 1] - f[:, 5]


def char_text(doc: Doc) -> str:
    """The body with emoticon codes appended as single symbols, so [怒] weighs like a word."""
    if not doc.emoticons:
        return doc.body
    return doc.body + " " + "".join(f"【{e}】" for e in doc.emoticons)


@lru_cache(maxsize=1)
def _segmenter():
    # lazy: rjieba loads its dictionary; only segmentation needs it
    from opinion.nlp.segment import Segmenter
    return Segmenter()


def doc_tokens(doc: Doc) -> list[str]:
    """The tokens the pipeline's segment stage left on the doc; a doc that skipped that stage
    (training, eval) is segmented here with the default Segmenter, as in training."""
    if doc.segmented or doc.tokens or not doc.body.strip():
        return list(doc.tokens)
    return _segmenter().segment(doc.body)
