"""What a person does, in a real browser: headless Chromium (Debian's) driven by Playwright.

The app is served by waitress on a free local port over a SQLite file; screenshots of each page
land in test-artifacts/ to be looked at.
"""
import pytest
from sqlalchemy import select

from opinion.models import Case
from opinion.pipeline.batch import ingest
from tests.browser import SHOTS, browser, login, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.factories import make_item, make_source, make_user

pytestmark = needs_chromium


@pytest.fixture
def live_server(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    from opinion.models import db
    app = make_app(tmp_path)
    with app.app_context():
        make_user(db.session, "slj_fyr", "spokesperson", "slj")
        make_user(db.session, "jyj_fyr", "spokesperson", "jyj")
        make_user(db.session, "admin_given", "spokesperson", "slj").must_change_password = True
        ingest(db.session, app, make_source(db.session), [
            make_item("a", "中山路下穿隧道积水半米深，车子熄火在里面[怒]", author="市民甲", minutes_ago=200),
            make_item("b", "中山路隧道又积水了，每次下雨都变成河", author="市民乙", minutes_ago=100)])
        case_id = db.session.execute(select(Case.id)).scalar_one()
    with serve(app) as base:
        yield base, case_id


def test_spokesperson_answers_the_most_urgent_case(live_server, browser):
    base, case_id = live_server
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    login(page, base, "slj_fyr")
    assert page.locator("h1").inner_text().startswith("发言人工作台")
    page.screenshot(path=str(SHOTS / "inbox.png"))
    page.locator("table.list a").first.click()
    assert f"/cases/{case_id}" in page.url and "积水" in page.content()
    with page.expect_navigation():   # a slow host may take longer than expect()'s 5 s
        page.click("button:text-is('签收')")
    assert "已签收" in page.locator(".flash").inner_text()
    page.fill("#reply-text", "网友您好！已安排抽水车到场，预计两小时内恢复通行。如有疑问请致电 12345 热线。")
    page.fill("input[name=link]", "https://weibo.example/slj/1")  # this source has no reply channel
    with page.expect_navigation():   # a slow host may take longer than expect()'s 5 s
        page.click("button:text-is('发送回复')")
    assert "抽水车" in page.locator("blockquote.exact").inner_text()  # the preview before it goes public
    with page.expect_navigation():
        page.click("button:text-is('确认发布')")
    assert "回复已发布" in page.locator(".flash").inner_text()
    assert "已回应" in page.content()
    page.screenshot(path=str(SHOTS / "case.png"), full_page=True)
    assert all(u.startswith(base) for u in requests), "the page loaded something from outside the app"


def test_other_units_spokesperson_cannot_open_the_case_by_url(live_server, browser):
    base, case_id = live_server
    page = browser.new_page()
    login(page, base, "jyj_fyr")
    response = page.goto(f"{base}/cases/{case_id}")
    assert response.status == 404 and "页面不存在" in page.content()



def test_a_new_spokesperson_replaces_the_password_the_admin_gave(live_server, browser):
    base, _ = live_server
    from tests.factories import PASSWORD
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    login(page, base, "admin_given")  # an account whose password the administrator chose
    assert "/account/password" in page.url and "请先修改" in page.locator(".flash").inner_text()
    page.goto(f"{base}/inbox/")  # nothing else opens before the password is changed
    assert "/account/password" in page.url
    page.fill("input[name=current_password]", PASSWORD)
    page.fill("input[name=new_password]", "only4me2026")
    page.fill("input[name=confirm_password]", "only4me2026")
    with page.expect_navigation():
        page.click("button:text-is('修改密码')")
    assert page.locator("h1").inner_text().startswith("发言人工作台")
    assert "密码已修改" in page.locator(".flash").inner_text()
    page.screenshot(path=str(SHOTS / "password-changed.png"))
    with page.expect_navigation():
        page.click("button:text-is('退出')")
    login(page, base, "admin_given", "only4me2026")
    assert page.locator("h1").inner_text().startswith("发言人工作台")  # straight in, with the new one
