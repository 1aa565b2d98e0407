"""Fixtures for the text-analysis tests: the shipped models and tokenizer, loaded once a session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Where ../shared/data is (OPINION_SHARED_DATA overrides); tests that need it skip without it."""
    return Path(os.environ.get("OPINION_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def weibo_emotion(shared_data) -> Path:
    path = shared_data / "weibo-emotion" / "train.csv"
    if not path.is_file():
        pytest.skip(f"labelled Weibo data not found at {path} (set OPINION_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def segmenter():
    from opinion.nlp.segment import Segmenter
    return Segmenter(user_words=["幸福里小区", "东湖街道办事处", "青山区城管局"])


@pytest.fixture(scope="session")
def engine():
    from opinion.nlp.sentiment import load_sentiment_engine
    return load_sentiment_engine("domain")


@pytest.fixture(scope="session")
def emotion_model():
    from opinion.nlp.emotion import EmotionModel
    return EmotionModel.load()


@pytest.fixture(scope="session")
def analyse(segmenter, engine, emotion_model):
    """The whole text stage on a list of raw strings, as the pipeline runs it."""
    from opinion.nlp.clean import clean
    from opinion.nlp.doc import Doc
    from opinion.nlp.emotion import apply_emotion
    from opinion.nlp.keywords import KeywordExtractor
    from opinion.nlp.sentiment import apply_sentiment
    extractor = KeywordExtractor(exclude=["青山区城管局"])

    def run(texts: list[str]) -> list[Doc]:
        docs = [extractor(segmenter(clean(Doc(raw=t)))) for t in texts]
        apply_sentiment(engine, docs)
        apply_emotion(emotion_model, docs)
        return docs
    return run
