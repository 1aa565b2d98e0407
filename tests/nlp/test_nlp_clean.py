"""Cleaning: each Weibo convention, HTML and script, control characters, huge and odd input."""
from __future__ import annotations

import time

import pytest

from opinion.nlp.clean import MAX_BODY, clean
from opinion.nlp.doc import Doc


def c(raw) -> Doc:
    return clean(Doc(raw=raw))


def test_hashtags_taken_out_of_body_and_kept():
    d = c("#暴雨预警##青山区#今晚雨很大，注意安全")
    assert d.hashtags == ["暴雨预警", "青山区"]
    assert "#" not in d.body and "暴雨预警" not in d.body
    assert d.body == "今晚雨很大,注意安全"


def test_mentions_but_not_email_addresses():
    d = c("@青山区城管局 门口占道经营，请处理 联系 abc@163.com")
    assert d.mentions == ["青山区城管局"]
    assert "青山区城管局" not in d.body
    assert "abc@163.com" in d.body


def test_repost_chain_split_into_user_and_words():
    d = c("太过分了//@张三:路口又堵了//@李四: 每天都这样")
    assert d.repost_chain == [("张三", "路口又堵了"), ("李四", "每天都这样")]
    assert d.body.startswith("太过分了")
    assert "//@" not in d.body


def test_emoticons_and_urls():
    d = c("积水到膝盖了[怒][泪] 看视频 http://t.cn/A6abcd 还有 https://example.com/a?b=1")
    assert d.emoticons == ["怒", "泪"]
    assert d.urls == ["http://t.cn/A6abcd", "https://example.com/a?b=1"]
    assert "[" not in d.body and "http" not in d.body


def test_headline_and_page_furniture():
    d = c("【突发】青山区一仓库起火 L人民网的微博视频 收起全文d 2武汉 ?")
    assert d.headline == "突发"
    assert d.body == "【突发】青山区一仓库起火"


def test_full_width_folded_in_body_only():
    d = c("ＡＢＣ１２３，全角！")
    assert d.body == "ABC123,全角!"
    assert d.text == "ＡＢＣ１２３，全角！"


def test_html_script_style_and_entities():
    d = c("<p>路灯坏了&amp;没人修</p><script>alert('x')</script><style>p{}</style><br>已投诉&lt;三次&gt;")
    assert d.text == "路灯坏了&没人修 已投诉<三次>"
    assert "alert" not in d.text and "p{}" not in d.text


def test_escaped_script_does_not_come_back_as_markup():
    d = c("&lt;script&gt;alert(1)&lt;/script&gt;正文")
    assert "alert" not in d.text and d.text == "正文"


def test_control_characters_removed():
    d = c("路面\x00塌陷\x07了\u200b\ufeff！\x1b")
    assert d.text == "路面塌陷了！"


def test_terminal_colour_codes_leave_no_letters_behind():
    d = c("\x1b[1;31m小区停水\x1b[0m三天了\x1b[K，\x1bM[怒]")
    assert d.text == "小区停水三天了，[怒]" and d.emoticons == ["怒"]


@pytest.mark.parametrize("raw", ["", None, "   ", "😀😀😀", "http://t.cn/abc", "[怒][怒]",
                                 "#话题#", "@某人", "only english words here", b"\xe4\xb8\xad\xff",
                                 "臺灣醫院的服務很好，台湾医院", "#" * 500, "<" * 500, "//@" * 500, 12345])
def test_odd_input_never_raises(raw):
    d = c(raw)
    assert isinstance(d.text, str) and isinstance(d.body, str)
    assert len(d.body) <= MAX_BODY


def test_only_url_or_emoticons_leave_empty_body():
    assert c("http://t.cn/abc").body == ""
    d = c("[怒][怒]")
    assert d.body == "" and d.emoticons == ["怒", "怒"]


def test_huge_input_is_capped_and_fast():
    raw = ("路口积水严重，" * 15000) + "<script>" + "x" * 10000
    start = time.perf_counter()
    d = c(raw)
    assert time.perf_counter() - start < 2.0
    assert len(d.body) == MAX_BODY
    assert "x" * 100 not in d.text  # an unclosed script runs to the end and is dropped


def test_traditional_characters_are_read_as_simplified_and_shown_as_written():
    doc = clean(Doc(raw="#中山路積水# 醫院門口停車場收費太貴了，真的很氣人"))
    assert doc.body == "医院门口停车场收费太贵了,真的很气人"   # NFKC folds the full-width comma too
    assert doc.text == "#中山路積水# 醫院門口停車場收費太貴了，真的很氣人"   # display keeps the writer's characters
    # Simplified text that shares characters with traditional phrases is left alone.
    for simplified in ("著名的乾坤大挪移,乾隆年间", "他于是走了,后来又回来了"):
        assert clean(Doc(raw=simplified)).body == simplified

