"""Segmentation with user words and stopwords; keywords without stopwords or excluded names."""
from __future__ import annotations

import pytest

from opinion.nlp.clean import clean
from opinion.nlp.doc import Doc
from opinion.nlp.keywords import KeywordExtractor, build_idf, load_idf, save_idf
from opinion.nlp.segment import Segmenter, load_stopwords


def test_user_word_kept_whole(segmenter):
    tokens = segmenter.segment("幸福里小区门口积水严重，东湖街道办事处没人管")
    assert "幸福里小区" in tokens and "东湖街道办事处" in tokens


def test_user_words_do_not_leak_between_segmenters(segmenter):
    assert "幸福里小区" not in Segmenter().segment("幸福里小区门口积水严重")


def test_stopwords_and_punctuation_dropped(segmenter):
    tokens = segmenter.segment("我们的小区，真的是太吵了！！！")
    stop = load_stopwords()
    assert tokens and not any(t in stop for t in tokens)
    assert not any(t in "，！!," for t in tokens)


def test_custom_stopwords_and_doc_call(segmenter):
    seg = Segmenter(stopwords={"积水"})
    d = seg(clean(Doc(raw="#暴雨#积水严重 @某人")))
    assert "积水" not in d.tokens and "严重" in d.tokens and "暴雨" not in d.tokens


def test_a_post_of_stopwords_only_is_not_segmented_again(segmenter, monkeypatch):
    from opinion.nlp import features
    d = segmenter(clean(Doc(raw="我们的了吗？")))
    assert d.tokens == [] and d.segmented
    monkeypatch.setattr(features, "_segmenter", lambda: pytest.fail("segmented a second time"))
    assert features.doc_tokens(d) == []
    # a doc that skipped the stage (training, eval) is still segmented there
    monkeypatch.undo()
    assert features.doc_tokens(clean(Doc(raw="小区积水严重"))) == ["小区", "积水", "严重"]


def test_empty_and_huge_text(segmenter):
    assert segmenter.segment("") == []
    assert len(segmenter.segment("交通拥堵" * 50000)) < 10000


def test_keywords_exclude_stopwords_and_unit_names(segmenter):
    ex = KeywordExtractor(exclude=["青山区城管局"], k=3)
    d = ex(segmenter(clean(Doc(raw="青山区城管局 我们小区垃圾站臭气熏天，垃圾站就在窗户下面，我们都很无奈"))))
    assert len(d.keywords) == 3
    assert "垃圾站" in d.keywords
    assert "青山区城管局" not in d.keywords
    assert not set(d.keywords) & load_stopwords()


def test_shipped_idf_weighs_common_weibo_words_low():
    idf = load_idf()
    assert len(idf) > 5000
    assert idf["疫情"] < idf["医院"] < idf["火灾"]


def test_topic_keywords_count_posts_not_repeats():
    ex = KeywordExtractor(idf={"噪音": 2.0, "扰民": 2.0, "广场舞": 2.0}, k=2)
    topic = [["广场舞"] * 20, ["噪音", "扰民"], ["噪音", "扰民"], ["噪音"]]
    assert ex.topic_keywords(topic, 2) == ["噪音", "扰民"]


def test_idf_round_trip(tmp_path):
    idf = build_idf([["道路", "积水"], ["道路", "塌陷"], ["道路"]], min_df=1)
    assert idf["道路"] < idf["积水"]
    save_idf(idf, tmp_path / "idf.npz")
    back = load_idf(str(tmp_path / "idf.npz"))
    assert set(back) == set(idf) and abs(back["积水"] - idf["积水"]) < 1e-2
