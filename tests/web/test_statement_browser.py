"""统一发布 in a real browser (Debian's Chromium via Playwright): a spokesperson on a phone (390 px)
drafts a 情况通报 linked to a hot topic, the unit head approves it, it goes out through a local
Weibo-shaped statuses/share, the topic page shows it under 官方发布 and the matrix counts the post.
Screenshots go to test-artifacts/."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.models import OfficialAccount, Topic, Unit, db, utcnow
from tests.browser import SHOTS, browser, login, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.collectors.fake_server import FakeServer, FakeWeibo
from tests.factories import make_user

pytestmark = needs_chromium
REPORT = ("12月7日下午3时，区中山路与解放路路口发生一起燃气泄漏。区应急管理局已组织抢修，"
          "目前无人员受伤。咨询电话0574-87654321。")


@pytest.fixture
def weibo():
    with FakeServer() as server:
        yield FakeWeibo(server)


@pytest.fixture
def app(tmp_path, monkeypatch, weibo):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        unit = db.session.execute(select(Unit).where(Unit.kind != "centre").order_by(Unit.id)).scalars().first()
        make_user(db.session, "spokes", "spokesperson", unit.code)
        make_user(db.session, "head", "spokesperson", unit.code, is_unit_head=True)
        make_user(db.session, "monitor1", "monitor", "center")
        now = utcnow()
        db.session.add_all([
            Topic(key="gas", label="中山路燃气泄漏", keywords=["燃气"], unit_id=unit.id, post_count=40, hot_score=50.0,
                  status="open", first_seen_at=now - timedelta(hours=2), last_seen_at=now),
            OfficialAccount(unit=unit, platform="weibo", handle="区应急发布", responsible="张三",
                            config={"base_url": weibo.base, "access_token": FakeWeibo.TOKEN, "uid": "2001"},
                            interval_seconds=3600, state={}, created_at=now - timedelta(days=30))])
        db.session.commit()
    return app


def test_spokesperson_publishes_a_situation_report_for_a_hot_topic(app, browser, weibo):  # noqa: F811
    with app.app_context():
        topic_id = db.session.execute(select(Topic.id)).scalar_one()
    with serve(app) as base:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        login(page, base, "spokes")
        page.goto(f"{base}/statements/")
        page.select_option("select[name=kind]", "situation")
        page.fill("textarea[name=text]", "中山路发生燃气泄漏。")
        page.fill("input[name=topic_id]", str(topic_id))
        page.click("button[value=submit]")
        body = page.inner_text("body")
        assert "缺少时间" in body and "缺少咨询渠道" in body   # refused, naming the missing parts
        assert page.input_value("input[name=topic_id]") == str(topic_id)
        page.fill("textarea[name=text]", REPORT)
        page.click("button[value=submit]")
        page.wait_for_url(f"{base}/statements/?unit_id=*")
        assert "已提交审核" in page.inner_text("body")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SHOTS / "statements-390.png"), full_page=True)
        assert weibo.shared == []

        page = browser.new_page(viewport={"width": 1366, "height": 900})
        login(page, base, "head")
        page.goto(f"{base}/statements/approvals")
        page.click("section.pending-statement button:has-text('批准发布')")
        assert "已发布" in page.inner_text("body")
        assert len(weibo.shared) == 1 and weibo.shared[0]["status"] == REPORT

        page = browser.new_page(viewport={"width": 1366, "height": 900})
        login(page, base, "monitor1")
        page.goto(f"{base}/monitor/topics/{topic_id}")
        official = page.inner_text("section.official-statements")
        assert "情况通报" in official and "无人员受伤" in official
        page.screenshot(path=str(SHOTS / "topic-official-1366.png"), full_page=True)
        page.goto(f"{base}/matrix/")
        row = page.locator("table.matrix-accounts tr", has_text="区应急发布")
        assert row.locator("td").nth(1).inner_text().strip() == "1"   # posts this week
