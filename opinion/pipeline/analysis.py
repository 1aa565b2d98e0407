"""The pipeline: runs the analysis stages of PRODUCT.md in order over a batch of posts.

One Pipeline object serves live collection, bulk import and the side-effect-free `analyze`
command: it works on plain Entry objects and never touches the database (opinion.pipeline.batch
stores what it found).
Each stage is named; when a stage fails on a post, that post carries "stage: error" and skips the
later stages while the rest of the batch goes on.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from opinion.nlp.clean import clean
from opinion.nlp.doc import Doc
from opinion.nlp.encoder import attach_vectors, doc_vectors
from opinion.routing import Router
from opinion.routing.priority import decide_priority
from opinion.settings.district import District
from opinion.topics.cluster import TopicClusterer
from opinion.topics.dense import BUDGET_S, source_and_settings

log = logging.getLogger(__name__)


@dataclass
class Entry:
    """One post on its way through the stages."""

    id: str
    doc: Doc
    created_at: datetime
    author_followers: int | None = None
    topic_key: str | None = None
    topic_is_new: bool = False
    is_duplicate: bool = False
    category: str | None = None
    unit: str | None = None  # the code of the unit routing chose
    routing_confidence: float | None = None
    routing_reason: str | None = None
    co_units: list[str] = field(default_factory=list)  # co-handling units' codes (协办), per the catalogue
    triage: bool = False
    priority: str | None = None
    priority_reason: str | None = None

    @property
    def error(self) -> str | None:
        return self.doc.error


Stage = Callable[[list[Entry]], None]


class Pipeline:
    """clean → segment → keywords → encode → sentiment → emotion → topic → routing → priority."""

    def __init__(self, district: District, sentiment_engine: str = "domain", clusterer=None,
                 router=None, min_confidence: float = 0.5, vector_budget_s: float | None = BUDGET_S):
        # lazy: the models need NumPy; loaded with the pipeline; NumPy and rjieba; loaded with the pipeline
        from opinion.nlp.emotion import EmotionModel, apply_emotion
        from opinion.nlp.keywords import KeywordExtractor
        from opinion.nlp.sentiment import apply_sentiment, load_sentiment_engine

        self.district = district
        self.segmenter = segmenter = segmenter_for(district)
        extractor = KeywordExtractor(exclude=[u.name for u in district.units])
        sentiment = _cached(load_sentiment_engine, sentiment_engine)
        emotion = _cached(EmotionModel.load)
        # Sentence vectors for topics (opinion/topics/dense.py). The live stream gives the encoder
        # a time budget per batch, so it never waits on it; `analyze` gives none (deterministic).
        self.clusterer = clusterer if clusterer is not None else \
            TopicClusterer(**source_and_settings(budget_s=vector_budget_s))
        self.router = router or Router(district, classifier=_cached(_load_classifier),
                                       min_confidence=min_confidence)

        def topic(e: Entry) -> None:
            a = self.clusterer.assign(e.doc, e.created_at, post_id=e.id)
            e.topic_key, e.topic_is_new, e.is_duplicate = a.topic_key, a.is_new, a.is_duplicate

        def routing(entries: list[Entry]) -> None:
            # The classifier reuses the segmentation already done; hashtags were taken out of the
            # body it came from, so they are added back whole (their characters count as n-grams).
            tokens = [e.doc.tokens + e.doc.hashtags for e in entries]
            # The rules read the whole text (hashtags too), in simplified characters like the district's words.
            texts = [e.doc.text_simplified for e in entries]
            vectors = doc_vectors([e.doc for e in entries])
            for e, d in zip(entries, self.router.route_batch(texts, tokens, vectors)):
                e.category, e.unit, e.routing_confidence = d.category, d.unit, d.confidence
                e.routing_reason, e.triage, e.co_units = d.reason, d.triage, list(d.co_units)

        def priority(e: Entry) -> None:
            p = decide_priority(district, e.doc.text_simplified, e.doc.emotion, e.doc.polarity,
                                e.author_followers)
            e.priority, e.priority_reason = p.priority, p.reason

        self.stages: list[tuple[str, Stage]] = [
            ("clean", _each(lambda e: clean(e.doc))),
            ("segment", _each(lambda e: segmenter(e.doc))),
            ("keywords", _each(lambda e: extractor(e.doc))),
            # Sentence vectors, once per post, for the classifiers (and topics, through the
            # encoder's cache); within a time budget per batch, so the live stream never waits on
            # the encoder: posts left without one are read by words alone.
            ("encode", lambda es: attach_vectors([e.doc for e in es], vector_budget_s)),
            ("sentiment", lambda es: apply_sentiment(sentiment, [e.doc for e in es])),
            ("emotion", lambda es: apply_emotion(emotion, [e.doc for e in es])),
            ("topic", self._topic_batch(_each(topic))),
            ("routing", routing),
            ("priority", _each(priority)),
        ]

    def _topic_batch(self, stage: Stage) -> Stage:
        def run(entries: list[Entry]) -> None:
            vectors = getattr(self.clusterer, "vectors", None)
            if vectors is not None and hasattr(vectors, "start_batch"):
                vectors.start_batch()       # each batch has the encoder's whole budget
            stage(entries)
        return run

    def refine_topics(self, limit: int | None = None) -> list[tuple[str, str, str]]:
        """(post id, from topic, to topic) for the posts assigned by words alone while the encoder
        was behind, now that it has caught up (see TopicClusterer.refine)."""
        return self.clusterer.refine(limit)

    def run(self, entries: list[Entry], only: frozenset[str] | None = None) -> list[Entry]:
        """Run every stage (or those named in `only`) over the batch; failed entries keep their
        error and stop early."""
        for name, stage in self.stages:
            if only is not None and name not in only:
                continue
            live = [e for e in entries if e.doc.error is None]
            if not live:
                break
            try:
                stage(live)
            except _PerEntryFailures as failures:
                for e, exc in failures.items:
                    _fail(e, name, exc)
            except Exception:
                # A batch stage is stateless: rerun it post by post to find the culprit, so one
                # bad post cannot sink the batch.
                for e in live:
                    try:
                        stage([e])
                    except Exception as exc:  # noqa: BLE001 - recorded on the post, retried later
                        _fail(e, name, exc)
        return entries


# The stages that read one post and nothing else: with a broker they run on any worker, in
# parallel, and only TOPIC_STAGES (the clusterer's shared state) waits for the one ingest consumer.
# Routing and priority read the post's text and sentiment only, never its topic, so running them
# before the topic stage gives the same result as the in-process order.
TOPIC_STAGES = frozenset({"topic"})
ANALYSIS_STAGES = frozenset({"clean", "segment", "keywords", "encode", "sentiment", "emotion", "routing",
                             "priority"})


class _PerEntryFailures(Exception):
    def __init__(self, items: list[tuple[Entry, Exception]]):
        self.items = items


_models: dict = {}


def _cached(loader, *args):
    """Models are read once per process, however many pipelines (tests, apps) are built."""
    key = (loader, args)
    if key not in _models:
        _models[key] = loader(*args)
    return _models[key]


def _fail(e: Entry, stage: str, exc: Exception) -> None:
    log.warning("stage %s failed on %s: %s", stage, e.id, exc)
    e.doc.error = f"{stage}: {type(exc).__name__}: {exc}"


def _each(fn: Callable[[Entry], None]) -> Stage:
    """A stage applied post by post; a failure marks that post only (safe for stateful stages)."""
    def stage(entries: list[Entry]) -> None:
        failures = []
        for e in entries:
            try:
                fn(e)
            except Exception as exc:  # noqa: BLE001 - reported per post by Pipeline.run
                failures.append((e, exc))
        if failures:
            raise _PerEntryFailures(failures)
    return stage


def segmenter_for(district: District):
    """The segmenter with the district's words kept whole, one per process and word list: the
    pipeline and the post search segment alike."""
    from opinion.nlp.segment import Segmenter  # lazy: rjieba loads its dictionary (about a second)
    return _cached(Segmenter, tuple(district.user_words()))


def _load_classifier():
    # lazy: the classifier needs NumPy and SciPy; loaded with the pipeline
    from opinion.routing.classifier import CategoryClassifier
    return CategoryClassifier.load()


def make_entry(id: str, text: str, created_at: datetime | None = None,
               author_followers: int | None = None) -> Entry:
    return Entry(id=str(id), doc=Doc(raw=text), created_at=created_at or datetime.now(timezone.utc),
                 author_followers=author_followers)
