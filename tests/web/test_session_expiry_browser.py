"""A form refused because the session expired loses nothing (issue 18): the typed text waits in
the browser, the error page is Chinese, and logging in again returns to the page with the text."""
import pytest
from sqlalchemy import select

from opinion.models import Case
from opinion.pipeline.batch import ingest
from tests.browser import browser, login, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.factories import PASSWORD, make_item, make_source, make_user

pytestmark = needs_chromium


@pytest.fixture
def live_server(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    from opinion.models import db
    app = make_app(tmp_path)  # CSRF on, as in production
    with app.app_context():
        make_user(db.session, "slj_fyr", "spokesperson", "slj")
        ingest(db.session, app, make_source(db.session), [
            make_item("a", "中山路下穿隧道积水半米深，车子熄火在里面", author="市民甲", minutes_ago=30)])
        case_id = db.session.execute(select(Case.id)).scalar_one()
    with serve(app) as base:
        yield base, case_id


def test_expired_session_keeps_the_typed_reason_and_returns_to_the_case(live_server, browser):  # noqa: F811
    base, case_id = live_server
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    login(page, base, "slj_fyr")
    page.goto(f"{base}/cases/{case_id}")
    reason = "隧道排水属市政公司职责，建议改派城管局。"
    page.fill("textarea[name=reason] >> nth=0", reason)
    context.clear_cookies()  # the session ends while the person is typing
    with page.expect_navigation():
        page.click("button:text-is('申请退回')")
    assert "页面已过期" in page.locator("h1").inner_text()
    assert "已保存在本浏览器中" in page.content()
    with page.expect_navigation():
        page.click("text=重新登录并返回原页面")
    page.fill("input[name=username]", "slj_fyr")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url.endswith(f"/cases/{case_id}")
    assert page.input_value("textarea[name=reason] >> nth=0") == reason
    assert "已恢复您上次未提交成功的内容" in page.content()
    context.close()
