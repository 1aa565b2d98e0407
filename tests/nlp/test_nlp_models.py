"""The shipped sentiment and emotion models on hand-written district posts.

The sentences in data/district_sentences.csv and data/incidents.csv were written for these tests
(accidents, flooding, complaints, thanks to police and rescuers); none is in the training data.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from opinion.nlp.doc import EMOTIONS, Doc
from opinion.nlp.sentiment import SnowNLPEngine, load_sentiment_engine, polarity_of

DATA = Path(__file__).resolve().parent / "data"


def rows(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_clear_district_sentences_scored_the_right_way(analyse):
    data = rows("district_sentences.csv")
    docs = analyse([r["text"] for r in data])
    right = [(d.sentiment > 0.5) == (r["polarity"] == "positive") for d, r in zip(docs, data)]
    wrong = [r["text"] for r, ok in zip(data, right) if not ok]
    assert np.mean(right) >= 0.9, wrong


def test_incident_comments_macro_f1(analyse):
    from sklearn.metrics import f1_score, roc_auc_score
    data = rows("incidents.csv")
    docs = analyse([r["text"] for r in data])
    truth = [r["polarity"] == "positive" for r in data]
    scores = [d.sentiment for d in docs]
    assert f1_score(truth, [s > 0.5 for s in scores], average="macro") >= 0.8
    assert roc_auc_score(truth, scores) >= 0.9


def test_negation_flips(analyse):
    pairs = [("这次处理结果我很满意", "这次处理结果我很不满意"),
             ("物业的态度很好", "物业的态度一点都不好"),
             ("工作人员很负责", "工作人员很不负责"),
             ("路灯修好了", "路灯还没修好"),
             ("有人管了，放心了", "没人管，谁能放心")]
    docs = analyse([t for pair in pairs for t in pair])
    for (pos, neg), i in zip(pairs, range(0, len(docs), 2)):
        assert docs[i].sentiment > 0.5 > docs[i + 1].sentiment, (pos, neg)


def test_negated_negative_moves_towards_positive(analyse):
    scared, not_scared = analyse(["我很害怕", "我不害怕"])
    assert not_scared.sentiment > scared.sentiment


def test_emoticons_count(analyse):
    plain, angry, happy = analyse(["小区门口修路了", "小区门口修路了[怒][怒]", "小区门口修路了[哈哈][赞]"])
    assert angry.sentiment < plain.sentiment < happy.sentiment
    only = analyse(["[怒][抓狂]"])[0]
    assert only.sentiment < 0.4 and only.polarity == "negative"


def test_intensifier_weighs_more(analyse):
    from opinion.nlp.features import LEX_NAMES, lexicon_features
    pos = LEX_NAMES.index("pos")
    mild, strong = analyse(["满意", "非常满意"])
    assert lexicon_features(strong)[pos] > lexicon_features(mild)[pos]
    assert strong.sentiment >= mild.sentiment > 0.9
    neg = LEX_NAMES.index("neg")
    assert lexicon_features(analyse(["太失望了"])[0])[neg] > lexicon_features(analyse(["失望"])[0])[neg]


def test_non_negating_idioms_do_not_flip():
    from opinion.nlp.clean import clean
    from opinion.nlp.features import LEX_NAMES, lexicon_features
    f = lexicon_features(clean(Doc(raw="非常满意，无比感动")))
    assert f[LEX_NAMES.index("pos")] > 0 and f[LEX_NAMES.index("neg_pos")] == 0


def test_empty_input_is_neutral_and_labelless(analyse):
    # Nothing to read: empty, a bare link, a sentence in English, control characters.
    for d in analyse(["", "http://t.cn/abc", "   ", "The road is flooded again!", "\x00\x01\x02"]):
        assert d.sentiment == 0.5 and d.polarity == "neutral"
        assert d.emotion is None and d.emotion_scores == {}


@pytest.mark.parametrize("raw", ["😀", "臺灣醫院服務很好", "路" * 100_000, "#话题#[心]", "中山路 LED 路灯坏了",
                                 "12345", "5555555555：（", "haha"])
def test_bad_input_gets_a_sensible_result(analyse, raw):
    d = analyse([raw])[0]
    assert 0.0 <= d.sentiment <= 1.0 and d.polarity in ("negative", "neutral", "positive")
    assert d.emotion is None or d.emotion in EMOTIONS


def test_weibo_slang_without_chinese_is_still_read(analyse):
    crying, = analyse(["5555555555：（"])   # 呜呜呜: the training data's own way of crying
    assert crying.emotion in EMOTIONS and crying.sentiment != 0.5


def test_traditional_characters_read_like_simplified(analyse):
    trad, simp = analyse(["政府處理得很好，謝謝大家", "政府处理得很好，谢谢大家"])
    assert trad.sentiment == simp.sentiment > 0.6 and trad.emotion == simp.emotion


def test_emotion_classes_and_probabilities(emotion_model, analyse):
    assert sorted(emotion_model.classes) == sorted(EMOTIONS)
    thanks, scared, angry = analyse(["非常感谢消防员连夜救援，辛苦了！",
                                     "半夜听到爆炸声，好害怕，不敢睡觉",
                                     "欺人太甚！这些人简直无法无天，气死我了[怒]"])
    assert thanks.emotion == "gratitude"
    assert scared.emotion == "fear"
    assert angry.emotion == "anger"
    for d in (thanks, scared, angry):
        assert set(d.emotion_scores) == set(EMOTIONS)
        assert abs(sum(d.emotion_scores.values()) - 1) < 1e-2


def test_polarity_band():
    assert polarity_of(0.1) == "negative" and polarity_of(0.5) == "neutral" and polarity_of(0.9) == "positive"
    assert polarity_of(0.55, band=(0.3, 0.5)) == "positive"
    assert polarity_of(None) == "neutral"


def test_engines_are_pluggable():
    assert load_sentiment_engine("snownlp").name == "snownlp"
    assert load_sentiment_engine().name == "domain"
    with pytest.raises(ValueError):
        load_sentiment_engine("nope")
    assert SnowNLPEngine().score([Doc(raw="", body="")]) == [0.5]


def test_model_files_are_small_and_load_without_pickle():
    models = Path(__file__).resolve().parents[2] / "opinion" / "nlp" / "models"
    # The classifiers, and beside them the static word table distilled from the encoder (topics' fast path).
    total = sum(p.stat().st_size for p in models.glob("*.npz") if p.name != "static.npz")
    assert total < 4 * 2 ** 20
    assert (models / "static.npz").stat().st_size < 4 * 2 ** 20
    for path in models.glob("*.npz"):
        with np.load(path, allow_pickle=False) as z:
            assert all(z[k].dtype != object for k in z.files)
