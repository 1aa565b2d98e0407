"""Emotion, polarity and routing read sentence vectors where a post has one, and words alone where
it has none (encoder off): both paths give valid labels, the same every time, offline.

The vectors here are made up (a fixed direction per class plus noise), so no model is loaded and
nothing could be fetched; what is tested is the classifiers' use of them, not the encoder.
"""
from __future__ import annotations

import numpy as np
import pytest

from opinion.nlp.doc import EMOTIONS
from opinion.nlp.encoder import DIM, doc_vectors
from tests.nlp.test_nlp_train import make_rows


def fake_vectors(labels, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    names = sorted(set(labels))
    base = rng.normal(size=(len(names), DIM))
    v = np.stack([base[names.index(label)] for label in labels]) + 2.0 * rng.normal(size=(len(labels), DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from opinion.nlp import fit
    from opinion.nlp.clean import clean
    from opinion.nlp.doc import Doc
    rows = make_rows(12)
    labels = [r["emotion"] for r in rows]
    docs = [clean(Doc(raw=r["text"])) for r in rows]
    vectors = fake_vectors(labels)
    out = tmp_path_factory.mktemp("vec")
    with_vec, report = fit.fit_emotion(docs, labels, progress=False, vectors=vectors)
    words, words_report = fit.fit_emotion(docs, labels, progress=False)
    with_vec.save(out / "emotion.npz")
    words.save(out / "emotion_words.npz")
    polarity = [r["polarity"] for r in rows]
    sent, sent_report = fit.fit_sentiment(docs, polarity, labels, progress=False, vectors=vectors)
    sent.save(out / "sentiment.npz")
    return {"rows": rows, "vectors": vectors, "out": out, "report": report, "words_report": words_report,
            "sent_report": sent_report}


def _docs(rows, vectors=None):
    from opinion.nlp.clean import clean
    from opinion.nlp.doc import Doc
    docs = [clean(Doc(raw=r["text"])) for r in rows]
    if vectors is not None:
        for d, v in zip(docs, vectors):
            d.vector = v
    return docs


def test_emotion_with_and_without_vectors(trained):
    from opinion.nlp.emotion import EmotionModel
    model = EmotionModel.load(trained["out"] / "emotion.npz")
    words = EmotionModel.load(trained["out"] / "emotion_words.npz")
    assert "emotion_vec" in model.model.heads and "emotion_vec" not in words.model.heads
    rows, vectors = trained["rows"], trained["vectors"]
    with_vec = model.predict(_docs(rows, vectors))
    alone = model.predict(_docs(rows))
    assert {label for label, _ in with_vec + alone} <= set(EMOTIONS)
    assert all(abs(sum(s.values()) - 1) < 0.01 for _, s in with_vec + alone)
    # Without a vector the model is exactly the word-only one (same heads, same scales) ...
    assert alone == words.predict(_docs(rows))
    # ... and with one, the vector head changes the scores (it is not silently skipped).
    p_vec = model.model.emotion_proba(_docs(rows), vectors=vectors)
    assert np.abs(np.log(p_vec) - np.log(model.model.emotion_proba(_docs(rows)))).max() > 0.1
    assert with_vec == model.predict(_docs(rows, vectors))      # deterministic
    # A batch mixing posts with and without vectors reads each its own way.
    mixed = _docs(rows, vectors)
    mixed[0].vector = None
    got = model.predict(mixed)
    assert got[0] == alone[0] and got[1:] == with_vec[1:]
    report = trained["report"]
    assert 0.0 <= report["cv_macro_f1_words_only"] <= 1.0
    assert report["cv_macro_f1_words_only"] == pytest.approx(trained["words_report"]["cv_macro_f1"])


def test_sentiment_with_and_without_vectors(trained):
    from opinion.nlp.sentiment import load_sentiment_engine
    engine = load_sentiment_engine("domain", str(trained["out"] / "sentiment.npz"))
    rows, vectors = trained["rows"], trained["vectors"]
    with_vec = engine.score(_docs(rows, vectors))
    alone = engine.score(_docs(rows))
    assert all(0.0 <= p <= 1.0 for p in with_vec + alone)
    assert with_vec != alone and with_vec == engine.score(_docs(rows, vectors))
    truth = np.array([r["polarity"] == "positive" for r in rows if r["polarity"] != "neutral"])
    for scores in (with_vec, alone):
        kept = np.array([s for s, r in zip(scores, rows) if r["polarity"] != "neutral"])
        assert ((kept > 0.5) == truth).mean() >= 0.8
    report = trained["sent_report"]
    assert {"cv_accuracy_words_only", "cv_roc_auc_words_only", "vec.lexicon_alpha"} <= set(report)


def test_doc_vectors_are_zero_rows_where_missing_and_none_when_all_are():
    docs = _docs(make_rows(1)[:3])
    assert doc_vectors(docs) is None
    docs[1].vector = np.ones(DIM, dtype=np.float32)
    v = doc_vectors(docs)
    assert v.shape == (3, DIM) and not v[0].any() and v[1].all() and not v[2].any()


def test_encoder_off_attaches_nothing(monkeypatch):
    from opinion.nlp.encoder import attach_vectors
    monkeypatch.setenv("OPINION_ENCODER", "off")
    docs = _docs(make_rows(1)[:2])
    assert attach_vectors(docs) is False and all(d.vector is None for d in docs)


class FakeEncoder:
    """Stands in for the sentence encoder: a vector from the text's category words, no model."""

    def encode(self, texts):
        from tests.routing.test_classifier import RAW
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for j, (category, examples) in enumerate(sorted(RAW.items())):
                if any(e[:6] in text for e in examples):
                    out[i, j] = 1.0
            out[i, 100 + len(text) % 50] = 0.5
        return out


def test_routing_with_and_without_vectors(tmp_path, monkeypatch):
    from opinion.routing import train as rt
    from opinion.routing.classifier import CATEGORIES, CategoryClassifier
    from tests.routing.test_classifier import RAW, _write_small
    data = tmp_path / "history.csv"
    _write_small(data, "csv")
    monkeypatch.setattr(rt, "get_encoder", lambda: FakeEncoder())
    monkeypatch.setattr(rt, "VEC_WEIGHTS", (0.5,))   # a tiny set cannot show a gain; test the path
    monkeypatch.setattr(rt, "VEC_MIN_GAIN", -1.0)
    report = rt.train_routing(str(data), str(tmp_path / "m"), text_col="内容", label_col="单位", progress=False)
    assert report["vector_weight"] == 0.5 and "cv_macro_f1_words_only" in report
    clf = CategoryClassifier.load(str(tmp_path / "m"))
    assert clf.vector_head is not None and clf.vector_head["coef"].shape == (7, DIM)
    texts = [t for ts in RAW.values() for t in ts]
    vectors = FakeEncoder().encode(texts)
    with_vec, alone = clf.predict(texts, vectors=vectors), clf.predict(texts)
    assert {c for c, _ in with_vec + alone} <= set(CATEGORIES)
    assert with_vec != alone and with_vec == clf.predict(texts, vectors=vectors)
    assert clf.predict(texts, vectors=np.zeros_like(vectors)) == alone
    # A head that does not beat words alone on held-out folds is dropped.
    monkeypatch.setattr(rt, "VEC_MIN_GAIN", 1.0)
    report = rt.train_routing(str(data), str(tmp_path / "d"), text_col="内容", label_col="单位", progress=False)
    assert report["vector_weight"] == 0.0 and CategoryClassifier.load(str(tmp_path / "d")).vector_head is None
    assert report["cv_macro_f1"] == report["cv_macro_f1_words_only"]
    # Encoder off: the same training gives a words-only model.
    monkeypatch.setattr(rt, "get_encoder", lambda: None)
    report = rt.train_routing(str(data), str(tmp_path / "w"), text_col="内容", label_col="单位", progress=False)
    assert "vector_weight" not in report and CategoryClassifier.load(str(tmp_path / "w")).vector_head is None


def test_a_spent_budget_leaves_the_rest_to_words_and_nothing_is_encoded_twice(monkeypatch):
    import time

    from opinion.nlp import encoder as enc
    calls: list[int] = []

    class Slow:
        def encode_docs(self, docs):
            time.sleep(0.05)
            calls.append(len(docs))
            return np.ones((len(docs), DIM), dtype=np.float32)

    monkeypatch.setattr(enc, "get_encoder", lambda: Slow())
    docs = _docs(make_rows(2))
    assert enc.attach_vectors(docs, budget_s=0.01, step=4)
    assert calls == [4] and sum(d.vector is not None for d in docs) == 4
    assert doc_vectors(docs)[4:].sum() == 0          # read by words alone
    enc.attach_vectors(docs)                          # no budget (analyze): the rest, once each
    assert sum(calls) == len(docs) and all(d.vector is not None for d in docs)
