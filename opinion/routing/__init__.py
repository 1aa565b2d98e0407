"""Routing: which matter a post is about, where it happened, and which unit must act on it.

A 12345 centre dispatches by two rules: the matter (事权: which department's remit) and the place
(属地: which street office's ground). So a decision is made of two findings:
- the place, from the district's gazetteer (opinion.routing.places): one street office, several
  (ambiguous: triage with the candidates named) or none;
- the matter, a second-level sub-category of the responsibility catalogue (opinion.routing.catalogue)
  named by its keywords (read with the place names blanked out, so 新华菜市场 is a place, not the
  market-management matter), else the learned matter model's matter when it is confident and the
  matter lies under the classifier's first-level category, else that category's catch-all.
The catalogue then says who leads: for a 属地管理 matter the place's street office, with the
department co-handling; otherwise the department, with the street office co-handling where listed.

Before both comes a matter the monitors have already reassigned (the memory of their corrections,
after a retrain): their decision was made on this district's own text, often against the rules.
Too little confidence sends the post to the monitoring centre's triage queue instead of a guess.
Every decision carries its reason in words, shown in triage and on the case page.
A district file without a gazetteer and catalogue routes as before: unit keywords, the units'
place words, then the classifier's category and its lead unit.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Sequence

from opinion.errors import DistrictFileError
from opinion.routing.catalogue import LOCAL_STREET, Catalogue, FileCache, Matter, load_catalogue
from opinion.routing.places import Gazetteer, PlaceResolution, load_gazetteer, unknown_place_words
from opinion.routing.rules import RuleMatcher
from opinion.settings.district import District

log = logging.getLogger(__name__)


@dataclass
class RoutingDecision:
    category: str
    unit: str  # the unit's code
    confidence: float
    reason: str
    triage: bool = False  # True: the monitoring centre must place it by hand
    matter: str | None = None  # the catalogue's second-level matter, when one was decided
    co_units: list[str] = field(default_factory=list)  # co-handling units' codes
    candidates: list[str] = field(default_factory=list)  # street offices an ambiguous place lies on


# The matter model's confidence at or above which its matter is taken (tuned on the unit set's
# tune half; below it the category's catch-all, as without the model).
MATTER_MIN_CONFIDENCE = 0.5


class Router:
    def __init__(self, district: District, classifier=None, min_confidence: float = 0.5,
                 matter_classifier=None, matter_min_confidence: float = MATTER_MIN_CONFIDENCE):
        """`matter_classifier`: the second-level model (None: the shipped one, if shipped;
        False: none, matters come from the catalogue's keywords and catch-alls only)."""
        self.district = district
        self.rules = RuleMatcher(district)
        self.min_confidence = min_confidence
        self.matter_min_confidence = matter_min_confidence
        self._classifier = classifier
        self._matter_classifier = matter_classifier
        self._category_of_unit: dict[str, str] = {}
        for category, units in district.categories.items():
            for code in units:
                self._category_of_unit.setdefault(code, category)
        self._units = {u.code: (u.name, u.kind) for u in district.units}
        cats = list(district.categories)
        self._gazetteer = FileCache(district.gazetteer_file, lambda p: load_gazetteer(p, self._units)) \
            if district.gazetteer_file else None
        self._catalogue = FileCache(district.catalogue_file, lambda p: load_catalogue(p, self._units, cats)) \
            if district.catalogue_file else None

    def tables(self) -> tuple[Gazetteer | None, Catalogue | None]:
        """The gazetteer and catalogue as they are on disk now (re-read when edited). A file broken
        from the start (an edit made outside the admin page) leaves routing on the units' keywords
        and places, logged, rather than failing every post; a later broken edit keeps the last good copy."""
        try:
            return (self._gazetteer.get() if self._gazetteer else None,
                    self._catalogue.get() if self._catalogue else None)
        except DistrictFileError as exc:
            log.error("routing falls back to the units' keywords: %s", exc)
            return None, None

    @property
    def classifier(self):
        if self._classifier is None:
            # lazy: the classifier needs NumPy and SciPy; loaded with the pipeline
            from opinion.routing.classifier import CategoryClassifier
            self._classifier = CategoryClassifier.load()
        return self._classifier

    @property
    def matter_classifier(self):
        if self._matter_classifier is None:
            # lazy: NumPy and SciPy, as the classifier; a district without the shipped file routes without it
            from opinion.routing.classifier import MATTER_DIR, CategoryClassifier
            self._matter_classifier = CategoryClassifier.load(str(MATTER_DIR)) \
                if (MATTER_DIR / "model.npz").exists() else False
        return self._matter_classifier

    def route_batch(self, texts: Sequence[str], tokens: Sequence[list[str]] | None = None,
                    vectors=None) -> list[RoutingDecision]:
        """Decide each text; `tokens` (the pipeline's segmentation of the same texts) spares the
        classifier a second pass of jieba; `vectors` (the posts' sentence vectors, where the
        encoder ran) join the category classifier's words. The rules always read the text itself."""
        more = {} if vectors is None else {"vectors": vectors}
        predictions = self.classifier.predict(list(texts), tokens, **more) if texts else []
        recall = getattr(self.classifier, "recall", None)
        recalls = recall(list(texts), tokens) if recall and texts else [None] * len(predictions)
        gazetteer, catalogue = self.tables()
        if gazetteer is None or catalogue is None:
            return [self._decide(t, c, p, r) for t, (c, p), r in zip(texts, predictions, recalls)]
        token_lists = tokens if tokens is not None else [None] * len(texts)
        model = self.matter_classifier
        matters = model.predict(list(texts), tokens) if model and texts else [None] * len(texts)
        return [self._decide_by_catalogue(gazetteer, catalogue, t, c, p, r, toks, m)
                for t, (c, p), r, toks, m in zip(texts, predictions, recalls, token_lists, matters)]

    def _name(self, code: str) -> str:
        name = self._units.get(code, (code, ""))[0]
        return name.removesuffix("办事处")

    def _decide_by_catalogue(self, gazetteer: Gazetteer, catalogue: Catalogue, text: str,
                             category: str, confidence: float, recall=None, tokens=None,
                             learned: tuple[str, float] | None = None) -> RoutingDecision:
        if recall is not None and recall.unit in self._units:
            return RoutingDecision(recall.category or category, recall.unit, recall.similarity,
                                   f"监测员改派记录：与第 {recall.correction_id} 号改派的内容相似"
                                   f"（{recall.similarity:.0%}）→ {self._name(recall.unit)}")
        mentions = gazetteer.find(text)
        place = gazetteer.resolve(text, mentions)
        rest = gazetteer.mask(text, mentions)
        hit = catalogue.match(rest)
        if hit is not None:
            matter, conf = hit.matter, 1.0
            found = f"关键词“{'、'.join(hit.words[:3])}”"
        # The units' own keywords are not read here: the catalogue replaces them (on the tune split
        # they were right 2 times in 12 where no matter matched; the classifier's category does better).
        # The matter model was trained with the keywords blanked out, for exactly these posts; its
        # matter must sit under the category the (better-trained) first-level model chose.
        elif (learned is not None and learned[1] >= self.matter_min_confidence
              and confidence >= self.min_confidence and learned[0] in catalogue.by_code
              and catalogue.by_code[learned[0]].category == category):
            matter, conf = catalogue.by_code[learned[0]], learned[1]
            found = f"模型判断为 {matter.code}（置信度 {learned[1]:.2f}）"
        elif confidence >= self.min_confidence and category in catalogue.fallback:
            matter, conf = catalogue.fallback[category], confidence
            found = f"分类器：{category}（置信度 {confidence:.0%}），未匹配二级事项"
        elif confidence >= self.min_confidence:
            lead = self.district.categories.get(category, [self.district.monitoring_centre])[0]
            matter = Matter(category, category, lead, (), False, (), 0)
            conf = confidence
            found = f"分类器：{category}（置信度 {confidence:.0%}）"
        else:
            matter, conf = None, confidence
            found = f"分类器置信度 {confidence:.0%} 低于 {self.min_confidence:.0%}，事项不明"
        decision = self._combine(matter, conf, found, place, category)
        if not place.streets:
            unknown = unknown_place_words(tokens, gazetteer)
            if unknown:
                decision.reason += f"；提到“{'、'.join(unknown)}”，不在辖区地名录（如属本区，请补入地名录）"
        return decision

    def _combine(self, matter: Matter | None, confidence: float, found: str, place: PlaceResolution,
                 category: str) -> RoutingDecision:
        centre = self.district.monitoring_centre
        if place.ambiguous and (matter is None or matter.local):
            what = f"{matter.code}（{found}）" if matter else found
            return RoutingDecision(matter.category if matter else category, centre, confidence,
                                   f"{place.reason}；{what}，需人工确定属地 → 转监测中心人工分拨",
                                   triage=True, matter=matter.code if matter else None,
                                   candidates=list(place.streets))
        street = place.street
        if matter is None:
            if street is None:
                return RoutingDecision(category, centre, confidence,
                                       f"{found}，未提到辖区地名 → 转监测中心人工分拨", triage=True)
            # Nothing but a place: a local complaint is the street office's first (属地管理).
            return RoutingDecision(category, street, confidence,
                                   f"{place.reason}（属地管理）；{found}", matter=None)
        others = [c for c in matter.co if c != LOCAL_STREET]
        # A letter naming the street office itself is the office's first, whatever the matter; a
        # village's affairs are, where the catalogue has the office co-handle (on the tune split
        # most street-handled messages that the matter alone sent to a department were these).
        kinds = {m.place.kind for m in place.mentions}
        addressed = street is not None and (
            "names" in kinds or ("villages" in kinds and (LOCAL_STREET in matter.co or matter.catch_all)))
        if (matter.local or addressed) and street:
            co = list(dict.fromkeys([matter.lead, *others]))
            why = "属地为主" if matter.local else ("来信点名街道，属地为主" if "names" in kinds else "村级事务，属地为主")
            return RoutingDecision(matter.category, street, confidence,
                                   f"{place.reason}；{matter.code} {why}（{found}）"
                                   f"{self._co_text(co)}", matter=matter.code, co_units=co)
        co = list(others)
        if street and LOCAL_STREET in matter.co:
            co.append(street)
        where = f"{place.reason}；" if place.streets else "未提到辖区地名；"
        return RoutingDecision(matter.category, matter.lead, confidence,
                               f"{where}{matter.code} 由 {self._name(matter.lead)} 主办（{found}）"
                               f"{self._co_text(co)}", matter=matter.code, co_units=co)

    def _co_text(self, co: list[str]) -> str:
        return f"，{'、'.join(self._name(c) for c in co)} 协办" if co else ""

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
