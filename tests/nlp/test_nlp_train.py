"""Training on a tiny generated file writes loadable models; eval reports the right counts."""
from __future__ import annotations

import csv
import json
import random

import numpy as np
import pytest

from opinion.nlp.doc import EMOTIONS

WORDS = {"anger": ["气死了", "太过分", "无法无天"], "disgust": ["恶心", "无耻", "令人作呕"],
         "fear": ["害怕", "可怕", "吓死了"], "sadness": ["难过", "伤心", "心疼"],
         "surprise": ["居然", "没想到", "竟然"], "optimism": ["开心", "美好", "太棒了"],
         "gratitude": ["感谢", "谢谢", "致敬"]}
POLARITY = {"optimism": "positive", "gratitude": "positive", "surprise": "neutral"}
FILLER = ["今天", "小区", "路口", "医院", "学校", "这件事", "大家", "看到"]


def make_rows(n_per_class: int = 12, seed: int = 0) -> list[dict]:
    rnd = random.Random(seed)
    rows = []
    for emotion, words in WORDS.items():
        for i in range(n_per_class):
            text = f"{rnd.choice(FILLER)}{rnd.choice(words)}{rnd.choice(FILLER)}{rnd.choice(words)}"
            rows.append({"id": f"{emotion}{i}", "text": text, "emotion": emotion,
                         "polarity": POLARITY.get(emotion, "negative")})
    rnd.shuffle(rows)
    return rows


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict:
    from opinion.nlp.train import train_emotion, train_sentiment
    folder = tmp_path_factory.mktemp("tiny")
    path = folder / "train.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "text", "emotion", "polarity"])
        writer.writeheader()
        writer.writerows(make_rows())
    out = folder / "models"
    return {"csv": path, "out": out,
            "sentiment": train_sentiment(str(path), str(out), progress=False),
            "emotion": train_emotion(str(path), str(out), progress=False)}


def test_training_writes_loadable_models(tiny):
    from opinion.nlp.clean import clean
    from opinion.nlp.doc import Doc
    from opinion.nlp.emotion import EmotionModel
    from opinion.nlp.sentiment import load_sentiment_engine
    assert (tiny["out"] / "sentiment.npz").is_file() and (tiny["out"] / "emotion.npz").is_file()
    engine = load_sentiment_engine("domain", str(tiny["out"] / "sentiment.npz"))
    good, bad = engine.score([clean(Doc(raw="小区太棒了，谢谢")), clean(Doc(raw="路口吓死了，太可怕"))])
    assert good > 0.5 > bad
    model = EmotionModel.load(tiny["out"] / "emotion.npz")
    assert sorted(model.classes) == sorted(EMOTIONS)
    assert model.predict([clean(Doc(raw="感谢大家，致敬"))])[0][0] == "gratitude"


def test_training_report_has_cross_validated_figures(tiny):
    s, e = tiny["sentiment"], tiny["emotion"]
    assert s["n"] == 12 * 6 and e["n"] == 12 * 7   # surprise is left out of the binary model
    for key in ("cv_accuracy", "cv_roc_auc", "cv_emotion_macro_f1"):
        assert 0.8 <= s[key] <= 1.0, key
    assert 0.8 <= e["cv_macro_f1"] <= 1.0
    assert set(e["cv_f1_per_class"]) == set(EMOTIONS)


def test_eval_csv_counts(tiny):
    from opinion.nlp.train import evaluate, format_report
    model = str(tiny["out"] / "sentiment.npz")
    rep = evaluate("sentiment", str(tiny["csv"]), model_path=model)
    assert rep["rows"] == 84 and rep["n"] == 72 and rep["skipped_neutral"] == 12
    assert rep["labels"] == ["negative", "positive"]
    assert np.sum(rep["confusion"]) == 72 and np.sum(rep["confusion"][1]) == 24
    assert rep["accuracy"] >= 0.9 and rep["roc_auc"] >= 0.9 and rep["posts_per_second"] > 0
    text = format_report(rep)
    assert "accuracy" in text and "macro_f1" in text and "confusion" in text
    emo = evaluate("emotion", str(tiny["csv"]), model_path=str(tiny["out"] / "emotion.npz"))
    assert emo["n"] == 84 and np.sum(emo["confusion"]) == 84 and set(emo["labels"]) == set(EMOTIONS)
    assert np.trace(emo["confusion"]) == round(emo["accuracy"] * 84)


def test_eval_jsonl_with_emotion_labels(tiny, tmp_path):
    from opinion.nlp.train import evaluate
    path = tmp_path / "eval.jsonl"
    rows = make_rows(3, seed=1)
    path.write_text("\n".join(json.dumps({"text": r["text"], "label": r["emotion"]}, ensure_ascii=False)
                              for r in rows), encoding="utf-8")
    rep = evaluate("sentiment", str(path), label_col="label", model_path=str(tiny["out"] / "sentiment.npz"))
    assert rep["n"] == 18 and rep["skipped_neutral"] == 3


def test_missing_column_is_a_clear_error(tiny):
    from opinion.nlp.train import evaluate
    with pytest.raises(ValueError, match="nope"):
        evaluate("sentiment", str(tiny["csv"]), label_col="nope")


def test_real_stream_posts_analyse_without_errors(shared_data, analyse):
    folder = shared_data / "weibo-stream"
    if not folder.is_dir():
        pytest.skip(f"weibo-stream not found at {folder} (set OPINION_SHARED_DATA)")
    path = sorted(folder.glob("*.jsonl"))[0]
    with path.open(encoding="utf-8") as fh:
        texts = [json.loads(next(fh))["text"] for _ in range(1000)]
    docs = analyse(texts)
    polarities = {d.polarity for d in docs}
    assert polarities == {"negative", "neutral", "positive"}
    assert sum(bool(d.keywords) for d in docs) > 800
    assert all(d.hashtags for d in docs[:50] if "#" in d.raw)


def test_shipped_model_on_labelled_weibo(weibo_emotion, monkeypatch):
    """The training data itself: a check that eval reads the real file, not a held-out figure.
    Words alone: encoding 8,000 posts would take the test half an hour on a cold cache."""
    from opinion.nlp.train import evaluate
    monkeypatch.setenv("OPINION_ENCODER", "off")
    rep = evaluate("sentiment", str(weibo_emotion))
    assert rep["n"] > 7000 and rep["accuracy"] > 0.9


def test_fast_ngram_counting_matches_scikit_learn():
    """The NumPy n-gram counter must give exactly the features the models were trained on."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from opinion.nlp.clean import clean
    from opinion.nlp.doc import Doc
    from opinion.nlp.features import char_text
    from opinion.nlp.fit import _featurizer
    train = [clean(Doc(raw=r["text"])) for r in make_rows(20)] + [clean(Doc(raw="ABC 路口[怒]"))] * 2
    test = [clean(Doc(raw=t)) for t in ["", "abc 路口积水 [怒]", "ＡＢＣ😀😀", "x", "太可怕了吓死了",
                                        "路口" * 3000]]
    model = _featurizer(train)
    ref = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2,
                          lowercase=True).fit([char_text(d) for d in train])
    expected = ref.transform([char_text(d) for d in test]).toarray()
    got = model.features(test)[:, :len(model.vocab)].toarray()
    assert sorted(model.vocab) == sorted(ref.vocabulary_)
    order = [ref.vocabulary_[w] for w in model.vocab]
    assert np.allclose(got, expected[:, order])
    assert got[1].sum() > 0 and got[0].sum() == 0


def test_too_few_examples_is_a_clear_error(tmp_path):
    from opinion.nlp.train import train_emotion
    path = tmp_path / "few.csv"
    path.write_text("text,emotion\n好开心,optimism\n气死了,anger\n", encoding="utf-8")
    with pytest.raises(ValueError, match="each class needs"):
        train_emotion(str(path), str(tmp_path), progress=False)


def test_word_view_matches_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from opinion.nlp.fit import _word_grams, _word_view
    rnd = random.Random(1)
    vocab = [w for words in WORDS.values() for w in words] + FILLER
    train = [[rnd.choice(vocab) for _ in range(rnd.randint(1, 8))] for _ in range(200)]
    test = [[rnd.choice(vocab + ["没见过"]) for _ in range(rnd.randint(0, 8))] for _ in range(50)]
    vec = TfidfVectorizer(analyzer=_word_grams, sublinear_tf=True).fit(train)
    view = _word_view(train)
    order = [vec.vocabulary_[w] for w in view.vocab]
    assert np.allclose(vec.transform(test)[:, order].toarray(), view.features(test).toarray())


def test_unit_vectors_fold_into_class_scores():
    """The shipped table holds each unit's class scores, not its vector: the same scores result."""
    from opinion.nlp.fit import char_vectors
    from opinion.nlp.textmodel import UnitTable
    texts = [r["text"] for r in make_rows(40, seed=2)]
    table = char_vectors(texts, dim=5, min_count=2)
    mean = table.scores(texts)
    assert mean.shape == (len(texts), 5) and np.abs(mean).sum(axis=1).min() > 0
    coef = np.random.default_rng(0).normal(size=(7, 5))
    folded = UnitTable(table.keys, table.weights, table.values @ coef.T)
    assert np.allclose(folded.scores(texts), mean @ coef.T)
    assert np.allclose(folded.scores(["鑫淼", ""]), 0)


def test_emotion_model_round_trip_with_unit_vectors(tmp_path, monkeypatch):
    from opinion.nlp import fit
    from opinion.nlp.clean import clean
    from opinion.nlp.doc import Doc
    from opinion.nlp.textmodel import TextModel
    rows = make_rows(12)
    docs = [clean(Doc(raw=r["text"])) for r in rows]
    monkeypatch.setattr(fit, "EMB_DIM", 5)   # the tiny corpus has too few units for 200
    unlabelled = [r["text"] for r in make_rows(40, seed=3)]
    model, report = fit.fit_emotion(docs, [r["emotion"] for r in rows], progress=False, unlabelled=unlabelled)
    assert model.units is not None and report["unlabelled"] == len(unlabelled)
    model.save(tmp_path / "emotion.npz")
    loaded = TextModel.load(tmp_path / "emotion.npz")
    assert np.allclose(loaded.emotion_proba(docs), model.emotion_proba(docs), atol=0.02)
    assert report["cv_macro_f1"] >= 0.8


def test_unusable_files_get_a_message_not_a_traceback(runner, tmp_path):
    few = tmp_path / "few.csv"
    few.write_text("text,emotion\n好开心,optimism\n气死了,anger\n", encoding="utf-8")
    result = runner.invoke(args=["train", "emotion", "--data", str(few), "--out", str(tmp_path)])
    assert result.exit_code == 1 and "each class needs" in result.output and "Traceback" not in result.output
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    result = runner.invoke(args=["eval", "sentiment", "--data", str(wrong)])
    assert result.exit_code == 1 and "需要列 text 与 polarity" in result.output
    gbk = tmp_path / "gbk.csv"  # an Excel export in GBK is read, not refused
    gbk.write_bytes("text,emotion\n好开心,optimism\n太感谢了,gratitude\n".encode("gbk"))
    result = runner.invoke(args=["eval", "emotion", "--data", str(gbk)])
    assert result.exit_code == 0 and "gbk.csv · 2 条" in result.output, result.output
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    result = runner.invoke(args=["eval", "routing", "--data", str(bad)])
    assert result.exit_code == 1 and "不是有效的 Excel" in result.output and "Traceback" not in result.output
