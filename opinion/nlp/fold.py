"""Folding text to the characters the models and the district's word lists are written in.

Full-width letters and digits become plain ones (NFKC) and traditional characters simplified ones
(OpenCC's phrase-aware t2s, which leaves simplified text as it is). Posts' bodies, search queries and
the word rules (routing, priority, sensitive words) all read text through the same fold.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # lazy: OpenCC loads its dictionaries; only analysis and the word rules need it
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional characters folded to simplified, phrase by phrase; simplified text unchanged."""
    return _t2s().convert(text) if text else text


def fold(text: str) -> str:
    """What the analysis reads: full-width letters, digits and punctuation folded (NFKC), then
    traditional characters. Posts' bodies and search queries go through the same fold."""
    return to_simplified(unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=1)
def _s2t():
    import opencc  # lazy: as _t2s; only search asks for the traditional spelling of a query
    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    """Simplified characters as traditional ones (for finding posts written in traditional)."""
    return _s2t().convert(text) if text else text
