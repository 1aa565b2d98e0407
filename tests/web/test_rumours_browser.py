"""The 辟谣 workflow in a real browser (Debian's Chromium via Playwright): a monitor on a phone
(390 px) marks a topic as a suspected rumour, the unit's spokesperson follows the case page's link
and records 不实, picking the unit's published 辟谣 statement, and the topic page shows the
statement and the before/after comparison.
Screenshots go to test-artifacts/."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.models import OfficialAccount, Post, RumourCheck, Topic, Unit, UnitStatement, db, utcnow
from tests.browser import SHOTS, browser, login, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.factories import make_source, make_user

pytestmark = needs_chromium


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user(db.session, "monitor1", "monitor", "center")
        make_user(db.session, "jyj_fyr", "spokesperson", "jyj")
        unit = db.session.execute(select(Unit).where(Unit.code == "jyj")).scalar_one()
        now = utcnow()
        topic = Topic(key="browser-rumour", label="网传实验小学食堂食物中毒", unit_id=unit.id,
                      first_seen_at=now - timedelta(hours=10), last_seen_at=now)
        db.session.add(topic)
        db.session.flush()
        source = make_source(db.session)
        # 20 posts in the 10 hours before the refutation (an hour ago), 16 negative; 1 after, neutral
        for i in range(20):
            db.session.add(Post(source_id=source.id, external_id=f"b{i}", raw_text="食堂", text="食堂",
                                topic_id=topic.id, created_at=now - timedelta(hours=11) + i * timedelta(minutes=30),
                                polarity="negative" if i < 16 else "neutral"))
        db.session.add(Post(source_id=source.id, external_id="a0", raw_text="食堂", text="食堂", topic_id=topic.id,
                            created_at=now - timedelta(minutes=30), polarity="neutral"))
        account = OfficialAccount(unit_id=unit.id, platform="weibo", handle="海曙教育发布", config={}, state={})
        db.session.add(account)
        db.session.flush()
        db.session.add(UnitStatement(account_id=account.id, kind="rumour", topic_id=topic.id, status="published",
                                     text="【辟谣】网传实验小学食堂食物中毒不实，当日无学生就医记录。",
                                     published_at=now - timedelta(hours=1),
                                     published_url="https://weibo.com/haishu_edu/1"))
        db.session.commit()
        app.config["TEST_TOPIC_ID"] = topic.id
    return app


def test_monitor_marks_unit_refutes_topic_page_compares(app, browser):  # noqa: F811
    topic_id = app.config["TEST_TOPIC_ID"]
    with serve(app) as base:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        login(page, base, "monitor1")
        page.goto(f"{base}/monitor/topics/{topic_id}")
        page.fill("input[name=note]", "与区教育局通报不符")
        with page.expect_navigation():
            page.click("text=标记为疑似谣言")
        assert "已标记为疑似谣言" in page.inner_text("body")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        with app.app_context():
            check = db.session.execute(select(RumourCheck)).scalar_one()
            case_id, check_id = check.case_id, check.id

        page = browser.new_page(viewport={"width": 1366, "height": 900})
        login(page, base, "jyj_fyr")
        page.goto(f"{base}/cases/{case_id}")
        with page.expect_navigation():
            page.click("text=登记核实结果")
        assert page.url.endswith(f"/matrix/rumours/{check_id}")
        page.check("input[value=false]")
        page.fill("textarea[name=note]", "经核实，当日无学生就医记录")
        page.check("input[name=statement]")   # the unit's published 辟谣, marked 本话题
        assert "本话题" in page.inner_text(".refutations")
        with page.expect_navigation():
            page.click("text=登记核实结果")
        assert "核实结果已登记" in page.inner_text("body")
        page.screenshot(path=str(SHOTS / "rumour-verify-1366.png"), full_page=True)

        page = browser.new_page(viewport={"width": 390, "height": 844})
        login(page, base, "monitor1")
        page.goto(f"{base}/monitor/topics/{topic_id}")
        text = page.inner_text("body")
        assert "辟谣后每小时帖子数由 2 降至 1，负面占比由 80% 降至 0%" in text
        assert "当日无学生就医记录" in text and "海曙教育发布" in text
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SHOTS / "rumour-topic-390.png"), full_page=True)
