"""The analysis pipeline on plain entries: every stage fills its fields, failures stay per post."""
import pytest

from opinion.nlp.doc import EMOTIONS
from opinion.pipeline.analysis import Pipeline, make_entry


@pytest.fixture(scope="module")
def pipeline():
    import config
    from opinion.settings.district import load_district
    return Pipeline(load_district(config.Config.DISTRICT_FILE))


def test_every_stage_fills_its_fields(pipeline):
    entries = pipeline.run([
        make_entry("a", "中山路下穿隧道积水半米深，车子熄火在里面，排水泵是摆设吗[怒]"),
        make_entry("b", "中山路隧道又积水了，每次下雨都变成河，什么时候能修好"),
        make_entry("c", "感谢消防员半夜及时赶到扑灭大火，辛苦了[心]"),
    ])
    a, b, c = entries
    for e in entries:
        assert e.error is None
        assert e.doc.tokens and e.doc.keywords
        assert 0.0 <= e.doc.sentiment <= 1.0
        assert e.doc.polarity in ("negative", "neutral", "positive")
        assert e.doc.emotion in EMOTIONS
        assert e.topic_key and e.category and e.unit and e.priority
    assert "积水" in a.doc.tokens
    assert a.topic_key == b.topic_key != c.topic_key
    assert a.doc.sentiment < 0.5 < c.doc.sentiment
    assert a.unit == "slj" and "积水" in a.routing_reason  # a unit's own keyword wins


def test_a_place_with_no_unit_keyword_goes_to_its_street_office(pipeline):
    e, = pipeline.run([make_entry("p", "中山广场晚上总有人聚集喧哗到半夜，附近居民很无奈")])
    assert e.unit == "zs" and "中山广场" in e.routing_reason


def test_routing_keywords_beat_places_and_priority_words_count(pipeline):
    e, = pipeline.run([make_entry("x", "滨江路江滩公园有人溺水身亡，防护栏坏了很久")])
    assert e.priority == "urgent" and "溺水" in e.priority_reason
    f, = pipeline.run([make_entry("y", "南门口交通事故，货车闯红灯撞了电动车，有人受伤")])
    assert f.unit == "jjdd" and f.priority == "high"


def test_a_failing_stage_marks_only_that_post(pipeline, monkeypatch):
    name, stage = next((n, s) for n, s in pipeline.stages if n == "keywords")

    def flaky(entries):
        if any("炸" in e.doc.text for e in entries):
            raise RuntimeError("boom")
        stage(entries)

    monkeypatch.setattr(pipeline, "stages", [(n, flaky if n == "keywords" else s) for n, s in pipeline.stages])
    good, bad = pipeline.run([make_entry("g", "公交车改线出行不便"), make_entry("b", "有人说要炸")])
    assert good.error is None and good.category
    assert bad.error.startswith("keywords: RuntimeError: boom")
    assert bad.category is None  # later stages skipped for it


@pytest.mark.parametrize("text", ["", "[哈哈][哈哈]", "https://t.cn/abc", "x" * 100_000,
                                  "\x00\x07控制字符\x1b", "English only text here", "這是繁體字的內容"])
def test_odd_input_gets_a_result_not_a_crash(pipeline, text):
    e, = pipeline.run([make_entry("odd", text)])
    assert e.error is None, e.error
    assert e.doc.polarity in ("negative", "neutral", "positive")


def test_traditional_and_simplified_posts_route_and_score_alike(pipeline):
    a, b = pipeline.run([make_entry("t", "中山路下穿隧道積水半米深，車子熄火在裏面，太危險了"),
                         make_entry("s", "中山路下穿隧道积水半米深，车子熄火在里面，太危险了")])
    assert (a.category, a.unit, a.priority) == (b.category, b.unit, b.priority)
    assert a.unit == "slj" and "积水" in a.routing_reason  # the keyword, written 積水 in the post
    assert a.doc.sentiment == b.doc.sentiment and a.doc.emotion == b.doc.emotion
    assert a.doc.text.startswith("中山路下穿隧道積水")  # shown as written


@pytest.mark.parametrize("stream", [False, True])
def test_analyze_prints_where_each_post_ended_up_after_later_merges(pipeline, monkeypatch, stream):
    import io
    import json

    from opinion.analyze import analyze_stream
    lines = [{"id": "a", "text": "中山路隧道积水半米深"}, {"id": "b", "text": "实验小学推迟开学家长不满"},
             {"id": "c", "text": "中山路隧道又积水了"}, {"id": "d", "text": "医院挂号排长队"}]
    calls = []

    def maintenance(now):  # the second batch's upkeep merges the school topic into the tunnel one
        calls.append(now)
        return [(first["a"], first["b"])] if len(calls) == 2 else []
    monkeypatch.setattr(pipeline.clusterer, "maintenance", maintenance)
    first = {}
    original = pipeline.clusterer.assign

    def assign(doc, created_at, post_id=None, weight=1.0):
        a = original(doc, created_at, post_id=post_id, weight=weight)
        first.setdefault(post_id, a.topic_key)
        return a
    monkeypatch.setattr(pipeline.clusterer, "assign", assign)
    out = io.StringIO()
    data = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode() + b"\n"
    analyze_stream(io.BytesIO(data), out, batch=2, pipeline=pipeline, stream=stream)
    topics = {o["id"]: o["topic"] for o in map(json.loads, out.getvalue().splitlines())}
    assert len(calls) == 2 and first["a"] != first["b"]
    # Held to the end, b is printed under the topic it was merged into; streamed, as it stood.
    assert topics["b"] == (first["b"] if stream else first["a"])
    assert topics["a"] == first["a"] and list(topics) == ["a", "b", "c", "d"]
