"""Explicit routing rules from the district file: unit keywords and place names.

Rules come first because a district's own words ("井盖" is the city-management bureau's, "中山路"
is 中山街道's) are more trustworthy than any classifier; the classifier fills in the rest.
"""
from __future__ import annotations

from dataclasses import dataclass

from opinion.settings.district import District


@dataclass
class RuleHit:
    unit: str  # the unit's code
    words: list[str]
    kind: str  # keyword | place


class RuleMatcher:
    """Finds the unit whose keywords (or, failing that, places) a text names most."""

    def __init__(self, district: District):
        self.keywords = [(u.code, w) for u in district.units for w in u.keywords if u.kind != "centre"]
        self.places = [(u.code, w) for u in district.units for w in u.places]

    @staticmethod
    def _best(pairs: list[tuple[str, str]], text: str, kind: str) -> RuleHit | None:
        hits: dict[str, list[str]] = {}
        for code, word in pairs:
            if word in text:
                hits.setdefault(code, []).append(word)
        if not hits:
            return None
        # More distinct words, then longer words, win: "交通事故" beats "事故".
        code = max(hits, key=lambda c: (len(hits[c]), sum(map(len, hits[c]))))
        return RuleHit(code, hits[code], kind)

    def match_keyword(self, text: str) -> RuleHit | None:
        return self._best(self.keywords, text, "keyword")

    def match_place(self, text: str) -> RuleHit | None:
        return self._best(self.places, text, "place")
