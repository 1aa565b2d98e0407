"""The monitor's and the admin's pages in a real browser (headless Chromium via Playwright):
a new alert appears live on the console after a post is pushed through the webhook, and is
acknowledged; an admin adds
a unit and a routing rule. Screenshots go to test-artifacts/."""
import json
import re
import time
import urllib.request

import pytest
from sqlalchemy import select

from opinion.models import Alert, Source, Unit
from opinion.pipeline.batch import ingest
from opinion.web.api.push import sign
from tests.browser import SHOTS, browser, login, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.factories import make_item, make_source, make_user

pytestmark = needs_chromium


HOTLINE = ("hotline-token", "hotline-secret")
DEMO_POSTS = [
    ("中山路下穿隧道积水半米深，车子熄火在里面，排水泵是不是坏了", "市民甲", 300),
    ("中山路隧道又积水了，每次下雨都变成河", "滨江老王", 200),
    ("下雨天中山路隧道积水严重，公交都绕行了，希望尽快处理", "通勤族小李", 120),
    ("中山路隧道积水到现在还没抽干，上班迟到了", "上班族", 40),
    ("人民路工地夜间施工噪音太大，凌晨两点还在打桩", "新风社区居民", 260),
    ("人民路工地晚上施工噪音扰民，投诉几次都没用", "失眠的人", 90),
    ("东湖花园小区电梯又坏了，老人只能爬十八楼", "东湖业主", 150),
]


@pytest.fixture
def console(tmp_path, monkeypatch):
    """(address, app): the app served by waitress on a free port, with CSRF checks on."""
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    app = make_app(tmp_path, MONITOR_STREAM_SECONDS=60)
    with serve(app) as base:
        yield base, app


def test_monitor_sees_a_new_alert_live_and_acknowledges_it(console, browser):
    base, app = console
    from opinion.models import db
    with app.app_context():
        make_user(db.session, "monitor1", "monitor", "center")
        make_user(db.session, "slj_fyr", "spokesperson", "slj")
        db.session.add(Source(code="hotline", name="12345 热线", kind="webhook", enabled=True,
                              config={"token": HOTLINE[0], "secret": HOTLINE[1]}, state={}))
        db.session.commit()
        ingest(db.session, app, make_source(db.session), [make_item(f"d{i}", text, author=who, minutes_ago=ago)
                                                          for i, (text, who, ago) in enumerate(DEMO_POSTS)])
        before = db.session.execute(select(Alert.id)).scalars().all()
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    login(page, base, "monitor1")
    assert page.locator("h1").inner_text() == "舆情监测台"
    page.wait_for_selector("#live-state:text-is('实时更新中')")
    # Another system pushes a post through the webhook, signed as opinion.web.api expects.
    body = json.dumps({"id": "boom", "text": "南门口化工厂发生爆炸，现场有人受伤，浓烟很大", "author": "现场网友"},
                      ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    push = urllib.request.Request(f"{base}/api/v1/ingest", data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {HOTLINE[0]}",
        "X-Opinion-Timestamp": stamp, "X-Opinion-Signature": sign(HOTLINE[1], stamp, body)})
    with urllib.request.urlopen(push, timeout=60) as answer:
        assert json.load(answer)["accepted"] == 1
    with app.app_context():
        fresh = db.session.execute(select(Alert).where(Alert.id.not_in(before or [0]),
                                                       Alert.status == "open")).scalars().all()
    assert fresh, "pushing the post raised no alert"
    row = page.locator(f"#alert-feed li[data-id='{fresh[-1].id}']")
    row.wait_for(timeout=8000)  # arrives over the event stream, no reload
    assert "爆炸" in page.locator("#alert-feed").inner_text()
    page.screenshot(path=str(SHOTS / "monitor.png"), full_page=True)
    row.locator("button:text-is('确认')").click()
    assert "已确认预警" in page.locator(".flash").inner_text()
    with app.app_context():
        assert db.session.get(Alert, fresh[-1].id).status == "acknowledged"
    page.click("table.list a:has-text('积水')")
    assert page.locator("h2:has-text('情绪构成')").is_visible() and page.locator("svg.trend").is_visible()
    page.screenshot(path=str(SHOTS / "monitor-topic.png"), full_page=True)
    page.click("header nav >> text=帖子检索")
    page.fill("input[name=q]", "隧道 积水")
    page.press("input[name=q]", "Enter")  # the keyboard is enough
    assert "共 " in page.locator("p.muted").inner_text()
    page.screenshot(path=str(SHOTS / "monitor-search.png"))


def test_admin_adds_a_unit_and_a_routing_rule(console, browser):
    base, app = console
    from opinion.models import db
    with app.app_context():
        make_user(db.session, "admin", "admin")
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    login(page, base, "admin")
    page.keyboard.press("Tab")  # keyboard users skip the navigation first
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    page.click("nav.subnav >> text=单位与路由规则")
    page.fill("input[name=code]", "wgj")
    page.fill("input[name=name]", "区网格化管理中心")
    page.select_option("select[name=kind]", "department")
    page.fill("textarea[name=keywords]", "网格员")
    with page.expect_navigation():   # a slow host may take longer than expect()'s 5 s
        page.click("button:text-is('新增单位')")
    assert "已新增单位：区网格化管理中心" in page.locator(".flash").inner_text()
    page.click("tr:has-text('区网格化管理中心') >> text=编辑")
    page.fill("textarea[name=keywords]", "网格员\n网格化管理")
    with page.expect_navigation():   # a slow host may take longer than expect()'s 5 s
        page.click("button:text-is('保存')")
    assert re.search(r"路由关键词 2 个", page.locator(".flash").inner_text())
    page.screenshot(path=str(SHOTS / "admin-units.png"), full_page=False)
    with app.app_context():
        assert db.session.execute(select(Unit).where(Unit.code == "wgj")).scalar_one().keywords == ["网格员", "网格化管理"]
    page.goto(f"{base}/admin/config/deadlines")
    page.screenshot(path=str(SHOTS / "admin-deadlines.png"))
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    login(phone, base, "admin")
    phone.goto(f"{base}/admin/users")
    phone.screenshot(path=str(SHOTS / "admin-users-phone.png"), full_page=False)
