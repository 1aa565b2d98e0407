"""Routing: which issue category a post belongs to and which unit must answer it.

Order: a matter the monitors have already reassigned (the memory of their corrections, after a
retrain), then the district's explicit unit keywords, then place names (a street office answers for
its streets), then the learned category classifier and the category's lead unit. The monitors'
decision comes first because it was made on this district's own text, often against the rules. Too little confidence
sends the post to the monitoring centre's triage queue instead of a guess. Every decision carries
its reason, shown on the case page.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from opinion.routing.rules import RuleMatcher
from opinion.settings.district import District


@dataclass
class RoutingDecision:
    category: str
    unit: str  # the unit's code
    confidence: float
    reason: str
    triage: bool = False  # True: the monitoring centre must place it by hand


class Router:
    def __init__(self, district: District, classifier=None, min_confidence: float = 0.5):
        self.district = district
        self.rules = RuleMatcher(district)
        self.min_confidence = min_confidence
        self._classifier = classifier
        self._category_of_unit: dict[str, str] = {}
        for category, units in district.categories.items():
            for code in units:
                self._category_of_unit.setdefault(code, category)

    @property
    def classifier(self):
        if self._classifier is None:
            # lazy: the classifier needs NumPy and SciPy; loaded with the pipeline
            from opinion.routing.classifier import CategoryClassifier
            self._classifier = CategoryClassifier.load()
        return self._classifier

    def route_batch(self, texts: Sequence[str], tokens: Sequence[list[str]] | None = None
                    ) -> list[RoutingDecision]:
        """Decide each text; `tokens` (the pipeline's segmentation of the same texts) spares the
        classifier a second pass of jieba. The rules always read the text itself."""
        predictions = self.classifier.predict(list(texts), tokens) if texts else []
        recall = getattr(self.classifier, "recall", None)
        recalls = recall(list(texts), tokens) if recall and texts else [None] * len(predictions)
        return [self._decide(t, c, p, r) for t, (c, p), r in zip(texts, predictions, recalls)]

    def _decide(self, text: str, category: str, confidence: float, recall=None) -> RoutingDecision:
        centre = self.district.monitoring_centre
        name = {u.code: u.name for u in self.district.units}
        if recall is not None and recall.unit in name:
            return RoutingDecision(recall.category or category, recall.unit, recall.similarity,
                                   f"监测员改派记录：与第 {recall.correction_id} 号改派的内容相似"
                                   f"（{recall.similarity:.0%}）→ {name[recall.unit]}")
        hit = self.rules.match_keyword(text)
        if hit:
            cat = category if confidence >= self.min_confidence else self._category_of_unit.get(hit.unit, category)
            return RoutingDecision(cat, hit.unit, 1.0,
                                   f"规则：关键词“{'、'.join(hit.words[:3])}”→ {name[hit.unit]}")
        place = self.rules.match_place(text)
        if place:
            return RoutingDecision(category, place.unit, 1.0,
                                   f"规则：地名“{'、'.join(place.words[:3])}”→ {name[place.unit]}（属地管理）")
        if confidence < self.min_confidence:
            return RoutingDecision(category, centre, confidence,
                                   f"分类器置信度 {confidence:.0%} 低于 {self.min_confidence:.0%}，转监测中心人工分拨",
                                   triage=True)
        lead = self.district.categories.get(category, [centre])[0]
        return RoutingDecision(category, lead, confidence,
                               f"分类器：{category}（置信度 {confidence:.0%}）→ 牵头单位 {name.get(lead, lead)}")
