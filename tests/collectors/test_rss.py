"""RSS / Atom against a local server: encodings, conditional GET, relative links, HTML, ids, dates."""
import codecs

import pytest

from collectors import CollectorError, make_collector
from collectors.rss import decode_feed
from tests.collectors.fake_server import Reply

TITLES = ["关于中山路下穿隧道排水改造工程施工期间交通管制的通告", "区水务局回应南环路积水问题",
          "2026年第三季度政务公开工作情况"]


def collect(server, name, body, content_type="application/rss+xml", state=None):
    server.routes[f"/{name}"] = Reply(200, body, {"Content-Type": content_type})
    c = make_collector("rss", {"url": f"{server.base}/{name}"}, state if state is not None else {})
    return list(c.collect(None)), c


@pytest.mark.parametrize("name,content_type", [
    ("real_world.xml", "application/rss+xml"),
    ("utf8_bom.xml", "text/xml"),
    ("gbk_declared.xml", "text/xml"),
    ("gbk_undeclared.xml", "text/xml"),               # no declaration anywhere: sniffed as GBK
    ("gbk_undeclared.xml", "text/xml; charset=GBK"),  # declared only in the HTTP header
    ("wrong_declared.xml", "text/xml"),                # says UTF-8, is GBK
])
def test_encodings_declared_or_not_give_the_same_text(server, fixture_bytes, name, content_type):
    posts, c = collect(server, name, fixture_bytes(name), content_type)
    assert [p.text.split("\n")[0] for p in posts] == TITLES
    assert "交通管制" in posts[0].text and "�" not in "".join(p.text for p in posts)
    if name == "wrong_declared.xml":
        assert any("声明的编码" in w and "gb18030" in w for w in c.warnings)


def test_gb2312_declared_feed_with_gbk_only_characters(server, fixture_bytes):
    posts, _ = collect(server, "gb", fixture_bytes("gb2312_declared.xml"))
    assert "朱镕、陶喆" in posts[0].text


def test_big5_feed(server, fixture_bytes):
    posts, _ = collect(server, "big5", fixture_bytes("big5.xml"))
    assert posts[0].text.startswith("區政府回應南環路積水問題") and "疏通雨水管網" in posts[0].text


def test_real_world_feed_links_html_and_originals(server, fixture_bytes):
    posts, _ = collect(server, "feed", fixture_bytes("real_world.xml"))
    first, second, third = posts
    assert first.url == f"{server.base}/zwgk/tzgg/202611/t20261120_1001.html"  # relative link resolved
    assert third.url == f"{server.base}/zwgk/202611/t20261122_1003.html"
    assert first.external_id == "zwgk-1001" and first.author == "区政府办公室"
    assert first.created_at.isoformat() == "2026-11-20T01:30:00+00:00"
    assert "<p>" not in first.text and "<strong>中山路下穿隧道</strong>" in first.payload["html"]
    assert "track()" not in second.text and "<script>" in second.payload["html"]  # original kept
    assert "1,204" in third.text and "&nbsp;" not in third.text


def test_atom_feed_with_xml_base(server, fixture_bytes):
    posts, _ = collect(server, "atom", fixture_bytes("atom.xml"), "application/atom+xml")
    assert [p.external_id for p in posts] == ["tag:bbs.example.cn,2026:881", "tag:bbs.example.cn,2026:882"]
    assert posts[0].url == "https://bbs.example.cn/forum/thread-881.html"
    assert posts[0].author == "老住户" and "老人上不了楼" in posts[0].text


def test_conditional_get_sends_etag_and_last_modified(server, fixture_bytes):
    calls = []

    def feed(method, path, query, headers, body):
        calls.append(headers)
        if headers.get("If-None-Match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"'})
        return Reply(200, fixture_bytes("real_world.xml"),  # header names in any case, as servers send them
                     {"etag": '"v1"', "last-modified": "Sun, 22 Nov 2026 08:00:00 GMT"})
    server.routes["/cond"] = feed
    state = {}
    c = make_collector("rss", {"url": f"{server.base}/cond"}, state)
    assert len(list(c.collect(None))) == 3 and state["etag"] == '"v1"'
    again = make_collector("rss", {"url": f"{server.base}/cond"}, state)
    assert list(again.collect(None)) == []
    assert calls[-1]["If-None-Match"] == '"v1"'
    assert calls[-1]["If-Modified-Since"] == "Sun, 22 Nov 2026 08:00:00 GMT"


def test_script_iframe_javascript_and_control_characters(server, fixture_bytes):
    posts, _ = collect(server, "hostile", fixture_bytes("hostile.xml"))
    first, second = posts
    for bad in ("<script", "alert", "<iframe", "evil.example", "javascript:", "color:red"):
        assert bad not in first.text
    assert "南环路井盖丢了" in first.text and first.url is None  # a javascript: link is no link
    assert "\x01" not in second.text and "\x0b" not in second.text and "\u202e" not in second.text
    assert "路灯不亮" in second.text


def test_dates_missing_ids_and_duplicates(server, fixture_bytes):
    posts, _ = collect(server, "dates", fixture_bytes("dates_ids_duplicates.xml"))
    by_id = {p.external_id: p for p in posts}
    assert by_id["d-future"].created_at is None and "未来" in by_id["d-future"].payload["time_note"]
    assert by_id["d-1970"].created_at is None and "2000" in by_id["d-1970"].payload["time_note"]
    assert by_id["d-none"].created_at is None and "没有时间" in by_id["d-none"].payload["time_note"]
    derived = [p for p in posts if p.external_id.startswith("sha1:")]
    assert len(derived) == 1 and "只有标题和正文的条目" in derived[0].text
    again, _ = collect(server, "dates2", fixture_bytes("dates_ids_duplicates.xml"))
    assert derived[0].external_id in {p.external_id for p in again}  # stable across fetches
    assert sum(p.external_id.endswith("d-dup") for p in posts) == 2  # ingest stores it once


def test_malformed_xml_keeps_what_parses_and_says_what_is_wrong(server, fixture_bytes):
    posts, c = collect(server, "bad", fixture_bytes("malformed.xml"))
    assert posts and posts[0].external_id == "zwgk-1001"
    assert c.warnings and "订阅格式有误" in c.warnings[0] and "行" in c.warnings[0]


def test_truncated_feed_keeps_complete_entries(server, fixture_bytes):
    posts, c = collect(server, "cut", fixture_bytes("truncated.xml"))
    assert [p.external_id for p in posts] == ["zwgk-1001", "hdjl-1002"]  # the cut third one is not stored half
    assert any("不完整" in w for w in c.warnings) and any("订阅格式有误" in w for w in c.warnings)


def test_html_page_served_as_a_feed_is_a_clear_error(server, fixture_bytes):
    with pytest.raises(CollectorError, match="HTML 网页而不是 RSS/Atom"):
        collect(server, "page", fixture_bytes("html_page.html"), "text/html")


def test_garbage_is_a_clear_error(server):
    with pytest.raises(CollectorError, match="无法解析为 RSS/Atom"):
        collect(server, "junk", b"\x00\x01 not xml at all {", "application/octet-stream")


def test_decode_feed_prefers_bom_then_declarations():
    assert decode_feed("\ufeff<rss/>".encode("utf-8"), "text/xml; charset=gbk")[1] == "utf-8"
    assert decode_feed("<rss>中文</rss>".encode("gbk"), "text/xml; charset=gb2312")[1] == "gb18030"


def test_50000_items_in_one_feed_are_all_read(server):
    items = "".join(f"<item><title>第{i}条</title><guid>big-{i}</guid><description>南环路第{i}号路灯不亮</description>"
                    f"<pubDate>Sun, 22 Nov 2026 08:00:00 +0800</pubDate></item>" for i in range(50_000))
    body = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    posts, c = collect(server, "big", body.encode("utf-8"))
    assert len(posts) == 50_000 and len({p.external_id for p in posts}) == 50_000
    assert posts[-1].text.startswith("第49999条") and not c.warnings


def test_undeclared_big5_feed_is_read_as_big5_and_the_guess_is_said(server, fixture_bytes):
    # No charset in the header, no XML declaration: GB18030 decodes these bytes without an error,
    # into gibberish, so only a guess by content reads them right.
    posts, c = collect(server, "big5u", fixture_bytes("big5_undeclared.xml"), "text/xml")
    assert [p.external_id for p in posts] == ["big5-u-1", "big5-u-2"]
    assert posts[0].text.startswith("區政府回應南環路積水問題") and "疏通雨水管網" in posts[0].text
    assert "本區各社區垃圾收集時間" in posts[1].text and posts[0].author == "區議會秘書處"
    assert any("未声明编码" in w and "Big5" in w and "乱码" in w for w in c.warnings)


@pytest.mark.parametrize("name", ["utf16le_bom.xml", "utf16be_bom.xml"])
def test_utf16_feed_with_a_bom_and_no_header_charset(server, fixture_bytes, name):
    posts, c = collect(server, name, fixture_bytes(name), "application/xml")
    assert [p.text.split("\n")[0] for p in posts] == TITLES
    assert "交通管制" in posts[0].text and not c.warnings  # a BOM is a declaration, not a guess


def test_a_bom_outranks_a_charset_that_contradicts_it():
    text, enc, warning = decode_feed(codecs.BOM_UTF16_LE + "<rss>積水</rss>".encode("utf-16-le"),
                                     "text/xml; charset=utf-8")
    assert (text, enc, warning) == ("<rss>積水</rss>", "utf-16-le", None)


@pytest.mark.parametrize("name,ident", [
    ("cut_atom.xml", "tag:bbs.example.cn,2026:cut-1"),
    ("cut_atom_content.xml", "tag:bbs.example.cn,2026:cut-2"),
    ("cut_rss.xml", "cut-3"),
])
def test_a_document_cut_after_its_last_entry_keeps_that_entry(server, fixture_bytes, name, ident):
    # The last line is "</feed" (or "</rss") without its ">": the only entry is whole.
    assert fixture_bytes(name).rstrip().endswith((b"</feed", b"</rss"))
    posts, c = collect(server, name, fixture_bytes(name), "application/atom+xml")
    assert [p.external_id for p in posts] == [ident]
    assert not any("待下次完整获取" in w for w in c.warnings)  # no promise that never comes
    assert any("订阅格式有误（已尽量解析出 1 条）" in w for w in c.warnings)


def test_only_the_entry_whose_own_end_is_missing_is_dropped(server, fixture_bytes):
    posts, c = collect(server, "half", fixture_bytes("cut_in_entry.xml"), "application/atom+xml")
    assert [p.external_id for p in posts] == ["tag:bbs.example.cn,2026:whole"]
    assert any("最后一条已跳过" in w for w in c.warnings)


@pytest.mark.parametrize("content_type", ["text/xml", "text/xml; charset=utf-16"])
def test_a_utf16_declaration_on_utf8_bytes_is_not_believed(content_type):
    # Even length on purpose: UTF-16 decodes any even number of bytes, into CJK-looking gibberish.
    body = '<?xml version="1.0" encoding="utf-16"?><rss><title>区政府回应南环路积水</title></rss>'
    data = body.encode("utf-8")
    data += b"" if len(data) % 2 == 0 else b" "
    text, enc, warning = decode_feed(data, content_type)
    assert enc == "utf-8" and "区政府回应南环路积水" in text
    assert "声明的编码“utf-16”与内容不符" in warning
