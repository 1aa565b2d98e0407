"""The source CLI group and the source pages: add, list, enable/disable, show, run now, manual entry."""
import pytest
from sqlalchemy import select

from opinion.models import Post, Source
from tests.collectors.fake_server import Reply
from tests.factories import login, make_user


def test_cli_add_list_disable_enable_show(runner, session, server, fixture_bytes):
    server.routes["/feed.xml"] = Reply(200, fixture_bytes("gbk_declared.xml"), {"Content-Type": "text/xml"})
    out = runner.invoke(args=["source", "add", "gov-rss", "--kind", "rss", "--name", "区政府门户",
                              "--url", f"{server.base}/feed.xml", "--interval", "300", "--expected-hours", "12"])
    assert out.exit_code == 0 and "已添加数据源 gov-rss" in out.output, out.output
    source = session.execute(select(Source).where(Source.code == "gov-rss")).scalar_one()
    assert source.interval_seconds == 300 and source.config["expected_period_seconds"] == 12 * 3600
    collected = runner.invoke(args=["collect", "--once", "gov-rss"])
    assert "新增 3" in collected.output, collected.output
    listing = runner.invoke(args=["source", "list"]).output
    assert "gov-rss" in listing and "正常" in listing and "今日 3 条" in listing
    assert "已停用" in runner.invoke(args=["source", "disable", "gov-rss"]).output
    session.refresh(source)
    assert not source.enabled
    runner.invoke(args=["source", "enable", "gov-rss"])
    shown = runner.invoke(args=["source", "show", "gov-rss"]).output
    assert "新增 3" in shown and "url = " in shown


@pytest.mark.parametrize("args,message", [
    (["bad code!", "--kind", "rss", "--name", "x", "--url", "http://a/"], "代码应为"),
    (["feed", "--kind", "rss", "--name", "x", "--url", "ftp://a/"], "http://"),
    (["feed", "--kind", "rss", "--name", "x", "--url", "http://a/", "--interval", "5"], "60 到"),
    (["feed", "--kind", "rss", "--name", "x", "--url", "http://a/", "--interval", "十分钟"], "应为整数"),
    (["wb", "--kind", "weibo_api", "--name", "x"], "access_token"),
])
def test_cli_add_refuses_bad_settings_with_a_reason(runner, session, args, message):
    out = runner.invoke(args=["source", "add", *args])
    assert out.exit_code != 0 and message in out.output
    assert session.execute(select(Source)).scalars().all() == []


def test_cli_webhook_gets_generated_credentials_and_unknown_code_is_clear(runner, session):
    out = runner.invoke(args=["source", "add", "hotline", "--kind", "webhook", "--name", "12345 热线"])
    assert "已生成令牌" in out.output and "已生成签名密钥" in out.output
    shown = runner.invoke(args=["source", "show", "hotline"]).output
    token = session.execute(select(Source)).scalar_one().config["token"]
    assert token not in shown and "已隐藏" in shown
    missing = runner.invoke(args=["source", "show", "nope"])
    assert missing.exit_code != 0 and "没有代码为“nope”的数据源" in missing.output


@pytest.fixture
def monitor(client, session):
    make_user(session, "monitor1", "monitor", "center")
    login(client, "monitor1")
    return client


def test_health_page_run_now_and_toggle(monitor, session, server, fixture_bytes):
    server.routes["/feed.xml"] = Reply(500, b"oops")
    source = Source(code="rss1", name="区融媒体中心", kind="rss", enabled=True, url=f"{server.base}/feed.xml",
                    config={"url": f"{server.base}/feed.xml"}, state={}, interval_seconds=600)
    session.add(source)
    session.commit()
    resp = monitor.post(f"/sources/{source.id}/run", follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "HTTP 状态码 500" in page and "故障" in page and "连续失败 1 次" in page and "失败退避中" in page
    server.routes["/feed.xml"] = Reply(200, fixture_bytes("real_world.xml"))
    page = monitor.post(f"/sources/{source.id}/run", follow_redirects=True).get_data(as_text=True)
    assert "新增 3" in page and "正常" in page
    assert "<td>3</td>" in page  # items collected today
    monitor.post(f"/sources/{source.id}/toggle")
    session.refresh(source)
    assert not source.enabled
    assert monitor.get("/sources/new").status_code == 403  # adding sources is for admins
    session.add(Source(code="hotline", name="12345 热线", kind="webhook", enabled=True, config={}, state={}))
    session.commit()
    page = monitor.get("/sources/").get_data(as_text=True)
    assert "推送接收（无需调度）" in page and "已停用" in page and "未运行" in page


def test_admin_adds_and_edits_a_source_with_validation(client, session):
    make_user(session, "admin", "admin")
    login(client, "admin")
    bad = client.post("/sources/new", data={"code": "feed", "kind": "rss", "name": "门户", "url": "not a url",
                                            "interval_seconds": "600"})
    assert bad.status_code == 400 and "订阅地址应为" in bad.get_data(as_text=True)
    assert 'value="feed"' in bad.get_data(as_text=True)  # what was typed is kept
    ok = client.post("/sources/new", data={"code": "feed", "kind": "rss", "name": "门户",
                                           "url": "https://www.example.gov.cn/rss.xml", "interval_seconds": "900",
                                           "expected_period_hours": "24"}, follow_redirects=True)
    assert "已添加数据源“门户”" in ok.get_data(as_text=True)
    source = session.execute(select(Source)).scalar_one()
    edit = client.post(f"/sources/{source.id}/edit", data={"name": "区政府门户", "url": source.url,
                                                           "interval_seconds": "30"})
    assert edit.status_code == 400 and "60 到" in edit.get_data(as_text=True)
    client.post(f"/sources/{source.id}/edit", data={"name": "区政府门户", "url": source.url, "interval_seconds": "1200",
                                                    "jitter_seconds": "30"})
    session.refresh(source)
    assert source.name == "区政府门户" and source.interval_seconds == 1200 and source.config["jitter_seconds"] == 30


def test_manual_entry_goes_through_ingest_once(monitor, session):
    form = {"text": "本地论坛网友反映：幸福小区三号楼电梯停运一周，老人无法下楼", "url": "https://bbs.example.cn/t/881",
            "author": "老住户", "created_at": "2026-11-23T09:30", "platform": "本地论坛"}
    page = monitor.post("/sources/manual", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已录入" in page
    post = session.execute(select(Post)).scalar_one()
    assert post.author == "老住户" and post.created_at.isoformat() == "2026-11-23T01:30:00+00:00"
    assert post.source.kind == "manual" and post.tokens and post.payload["entered_by"] == "monitor1"
    again = monitor.post("/sources/manual", data=form, follow_redirects=True).get_data(as_text=True)
    assert "此前已录入" in again and len(session.execute(select(Post)).scalars().all()) == 1


def test_the_manual_source_is_never_shown_switched_off(monitor, session, runner):
    form = {"text": "本地论坛网友反映：幸福小区三号楼电梯停运一周，老人无法下楼"}
    monitor.post("/sources/manual", data=form)
    source = session.execute(select(Source).where(Source.kind == "manual")).scalar_one()
    page = monitor.get("/sources/").get_data(as_text=True)
    row = page[page.index(f'id="source-{source.code}"'):]
    row = row[:row.index("</tr>")]
    assert "已停用" not in row and "启用" not in row and "停用" not in row
    assert "随时录入（无需调度）" in row and "录入帖子" in row and "正常" in row
    refused = monitor.post(f"/sources/{source.id}/toggle", follow_redirects=True).get_data(as_text=True)
    assert "无需启用或停用" in refused
    session.refresh(source)
    assert session.execute(select(Source.enabled).where(Source.id == source.id)).scalar_one() is False
    listing = runner.invoke(args=["source", "list"]).output
    assert "停用" not in listing and "随时录入" in listing
    out = runner.invoke(args=["source", "enable", source.code])
    assert out.exit_code != 0 and "无需启用或停用" in out.output


@pytest.mark.parametrize("form,message", [
    ({"text": "  "}, "请填写帖子内容"),
    ({"text": "有内容", "url": "javascript:alert(1)"}, "http://"),
    ({"text": "有内容", "created_at": "昨天下午"}, "格式不对"),
    ({"text": "有内容", "author_followers": "-5"}, "非负整数"),
    ({"text": "来自未来", "created_at": "2099-01-01T00:00"}, "未来"),
])
def test_manual_entry_refuses_bad_input_and_keeps_it(monitor, session, form, message):
    resp = monitor.post("/sources/manual", data=form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in page
    assert session.execute(select(Post)).scalars().all() == []


def test_source_form_groups_fields_by_kind_in_chinese_and_explains_a_bad_code(client, session):
    make_user(session, "admin", "admin")
    login(client, "admin")
    page = client.get("/sources/new").get_data(as_text=True)
    # each kind's fields in its own group (the stylesheet shows only the chosen one); no browser-only pattern
    assert all(f'kind-fields kind-{k}' in page for k in ("rss", "weibo_api", "webhook"))
    assert "pattern=" not in page and "访问令牌" in page and ">access_token" not in page
    bad = client.post("/sources/new", data={"code": "区政府门户", "kind": "rss", "name": "门户",
                                            "url": "https://www.example.gov.cn/rss.xml"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "代码“区政府门户”不符合规则" in html and "小写英文字母" in html
    assert 'value="区政府门户"' in html
    token = client.post("/sources/new", data={"code": "wb", "kind": "weibo_api", "name": "微博"})
    assert "需要访问令牌" in token.get_data(as_text=True)
