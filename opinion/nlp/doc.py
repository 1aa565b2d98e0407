"""The unit of work of the text-analysis stages.

Each nlp stage takes a Doc (or a batch of them) and fills in its own fields, the way spaCy
components each take a doc and return it. Nothing here knows about Flask or the database, so the
same stages serve live collection, bulk import and the side-effect-free `analyze` command.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from opinion.nlp.fold import to_simplified

if TYPE_CHECKING:
    import numpy as np

_CHINESE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


@dataclass
class Doc:
    raw: str                                   # text exactly as received
    text: str = ""                             # cleaned plain text for display (HTML dropped)
    body: str = ""                             # text for analysis: hashtags, @, URLs, [表情] taken out
    hashtags: list[str] = field(default_factory=list)      # "#话题#" contents, without the #
    mentions: list[str] = field(default_factory=list)      # "@用户" names
    urls: list[str] = field(default_factory=list)
    emoticons: list[str] = field(default_factory=list)     # "[哈哈]" codes, without brackets
    headline: str = ""                         # the first 【…】 headline, if any
    repost_chain: list[tuple[str, str]] = field(default_factory=list)  # (user, text) from //@user:text
    tokens: list[str] = field(default_factory=list)
    segmented: bool = False                    # tokens came from the segment stage (even if none are left)
    keywords: list[str] = field(default_factory=list)
    sentiment: float | None = None             # probability the post is positive, 0..1
    polarity: str | None = None                # negative / neutral / positive
    emotion: str | None = None                 # one of EMOTIONS
    emotion_scores: dict[str, float] = field(default_factory=dict)
    error: str | None = None                   # "stage: message" when a stage failed on this doc
    # The body's sentence vector (opinion.nlp.encoder), made once and read by every stage that
    # wants it; None where the encoder is off or has not run.
    vector: np.ndarray | None = field(default=None, repr=False, compare=False)

    @cached_property
    def text_simplified(self) -> str:
        """The display text in simplified characters, for the district's word rules (routing,
        priority). Made on first use, once: the analysis stages never need it."""
        return to_simplified(self.text)

    @property
    def readable(self) -> bool:
        """Whether the models have anything to read. They were trained on Chinese Weibo posts, where
        "555555", "haha" or "OMG" are slang they learned; a sentence in another language (three
        or more Latin words and no Chinese) is not, and gets no sentiment or emotion rather than a
        confident guess from stray letters, like an empty post."""
        if self.emoticons or _CHINESE.search(self.body):
            return True
        return bool(self.body.strip()) and len(_LATIN_WORD.findall(self.body)) < 3


EMOTIONS = ("anger", "disgust", "fear", "sadness", "surprise", "optimism", "gratitude")
POLARITIES = ("negative", "neutral", "positive")
