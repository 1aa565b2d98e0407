"""The Weibo-style API collector against a local server serving Weibo-format pages."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from collectors import CollectorError, NotSupported, RateLimited, SourceNotConfigured, make_collector
from collectors.weibo import parse_weibo_time
from opinion.models import Post
from opinion.pipeline.runs import run_source
from tests.collectors.fake_server import FakeWeibo
from tests.factories import make_source


def collector(weibo, state=None, **config):
    return make_collector("weibo_api", {"base_url": weibo.base, "access_token": FakeWeibo.TOKEN,
                                        "count": 2, **config}, state if state is not None else {})


def test_weibo_time_format_is_parsed_with_its_zone():
    assert parse_weibo_time("Mon Nov 23 10:21:07 +0800 2026") == datetime(2026, 11, 23, 2, 21, 7, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        parse_weibo_time("2026-11-23 10:21")


def test_mentions_and_comments_are_paged_and_normalised(weibo):
    for i in range(5):
        weibo.add_mention(f"@区政府 南环路第{i}个井盖丢了", followers=100 + i, reposts=i, comments=2 * i, likes=3)
    comment = weibo.add_comment("回复@区政府：什么时候修好？")
    state = {}
    posts = list(collector(weibo, state).collect(None))
    assert len(posts) == 6
    mention = next(p for p in posts if "第4个" in p.text)
    assert mention.author_followers == 104 and (mention.reposts, mention.comments, mention.likes) == (4, 8, 3)
    assert mention.created_at.tzinfo is not None and mention.url.startswith("https://weibo.com/")
    assert mention.payload["item"]["idstr"] == mention.external_id
    reply_target = next(p for p in posts if p.payload["endpoint"] == "comments")
    assert reply_target.external_id == f"c{comment['id']}/4800000000000001"
    # count=2: five mentions took three pages, each with max_id below the last page
    pages = [r for r in weibo.server.requests if r[1].startswith("/2/statuses/mentions.json")]
    assert len(pages) == 3 and "max_id" in pages[1][1]
    assert state["since_id"]["statuses/mentions"] == weibo.mentions[-1]["id"]


def test_a_second_run_reads_only_what_is_new(weibo):
    weibo.add_mention("第一条")
    state = {}
    assert len(list(collector(weibo, state).collect(None))) == 1
    assert list(collector(weibo, state).collect(None)) == []
    weibo.add_mention("第二条")
    assert [p.text for p in collector(weibo, state).collect(None)] == ["第二条"]
    last = [r[1] for r in weibo.server.requests if "mentions" in r[1]][-1]
    assert f"since_id={weibo.mentions[0]['id']}" in last


@pytest.mark.parametrize("status,body,expected", [
    (429, {"error": "too many", "error_code": 10023}, RateLimited),
    (403, {"error": "User requests out of rate limit!", "error_code": 10023}, RateLimited),
    (418, {"error": "teapot"}, RateLimited),
    (400, {"error": "expired_token", "error_code": 21327, "request": "/2/statuses/mentions.json"}, CollectorError),
    (500, {"error": "system error", "error_code": 10001}, CollectorError),
])
def test_refusals_keep_the_cursor_and_say_why(weibo, status, body, expected):
    weibo.add_mention("旧帖")
    state = {}
    list(collector(weibo, state).collect(None))
    saved = dict(state["since_id"])
    weibo.add_mention("新帖")
    weibo.error = {"status": status, "body": body}
    copy = {"since_id": dict(saved)}
    with pytest.raises(expected) as info:
        list(collector(weibo, copy).collect(None))
    if body.get("error_code") == 21327:
        assert "访问令牌已过期" in str(info.value) and "21327" in str(info.value)
    weibo.error = None
    assert [p.text for p in collector(weibo, {"since_id": saved}).collect(None)] == ["新帖"]


def test_missing_token_means_not_configured(weibo):
    with pytest.raises(SourceNotConfigured, match="access_token"):
        make_collector("weibo_api", {"base_url": weibo.base}, {})


def test_wrong_token_is_reported(weibo):
    with pytest.raises(CollectorError, match="访问令牌无效"):
        list(make_collector("weibo_api", {"base_url": weibo.base, "access_token": "bad"}, {}).collect(None))


def test_replies_go_back_as_comments(weibo):
    c = collector(weibo)
    assert c.can_publish
    url = c.publish_reply("4900000000000123", "您好，已转交区水务局处理。")
    assert weibo.published[-1]["kind"] == "create" and weibo.published[-1]["id"] == "4900000000000123"
    assert url.endswith(str(weibo.published[-1]["new_id"]))
    c.publish_reply("c4900000000000200/4800000000000001", "感谢反映，已安排维修。")
    assert weibo.published[-1]["kind"] == "reply" and weibo.published[-1]["cid"] == "4900000000000200"
    assert weibo.published[-1]["id"] == "4800000000000001"
    with pytest.raises(CollectorError, match="最多 140 字"):
        c.publish_reply("4900000000000123", "长" * 141)
    weibo.error = {"status": 400, "body": {"error": "expired_token", "error_code": 21327}}
    with pytest.raises(CollectorError, match="过期"):
        c.publish_reply("4900000000000123", "再试")


def test_channels_without_replies_say_so():
    rss = make_collector("rss", {"url": "http://127.0.0.1:9/feed"}, {})
    assert not rss.can_publish
    with pytest.raises(NotSupported, match="不支持"):
        rss.publish_reply("x", "回复")


def test_run_source_stores_once_and_keeps_cursor_on_failure(app, session, weibo):
    source = make_source(session, "wb", kind="weibo_api")
    source.config = {"base_url": weibo.base, "access_token": FakeWeibo.TOKEN, "count": 2}
    session.commit()
    weibo.add_mention("@区政府 中山路隧道积水，车辆熄火", at=datetime.now(timezone.utc) - timedelta(hours=1))
    weibo.add_comment("隧道排水什么时候修好")
    run_source(app, source)
    assert source.status == "ok" and source.state["since_id"]
    weibo.error = {"status": 400, "body": {"error": "expired_token", "error_code": 21327}}
    line = run_source(app, source)
    assert source.status == "failing" and "访问令牌已过期" in source.last_error and "失败" in line
    assert source.state["since_id"]["statuses/mentions"] == weibo.mentions[-1]["id"]
    weibo.error = None
    run_source(app, source)
    assert source.status == "ok" and source.failure_count == 0
    assert session.execute(select(func.count()).select_from(Post)).scalar() == 2
