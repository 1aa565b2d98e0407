"""API 令牌 in a real browser: a person makes a token on the page, sees it once, a program reads the
API with it, and the person revokes it. Headless Chromium (Debian's) driven by Playwright."""
import json
import urllib.error
import urllib.request

import pytest

from tests.browser import SHOTS, browser, login, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.factories import make_user

pytestmark = needs_chromium


@pytest.fixture
def live_server(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    from opinion.models import db
    app = make_app(tmp_path)  # CSRF on, as in production
    with app.app_context():
        make_user(db.session, "slj_fyr", "spokesperson", "slj")
    with serve(app) as base:
        yield base


def api_status(base: str, secret: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base}/api/v1/cases", headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_person_makes_a_token_sees_it_once_and_revokes_it(live_server, browser):
    base = live_server
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    login(page, base, "slj_fyr")
    with page.expect_navigation():
        page.click("nav a:text-is('API 令牌')")
    page.fill("input[name=name]", "单位值班脚本")
    page.select_option("select[name=days]", "30")
    with page.expect_navigation():
        page.click("button:text-is('创建令牌')")
    secret = page.input_value("#new-secret")
    assert secret.startswith("opn_") and "只显示这一次" in page.content()
    page.screenshot(path=str(SHOTS / "tokens-new.png"), full_page=True)
    status, body = api_status(base, secret)
    assert status == 200 and body["items"] == []
    with page.expect_navigation():
        page.goto(f"{base}/tokens/")
    assert page.locator("#new-secret").count() == 0 and secret not in page.content()
    row = page.locator("table.list tbody tr", has_text="单位值班脚本")
    assert secret[:12] in row.inner_text() and "在用" in row.inner_text()
    with page.expect_navigation():
        row.locator("button:text-is('吊销')").click()
    assert "已吊销" in page.locator(".flash").inner_text()
    assert "已吊销" in page.locator("table.list tbody tr", has_text="单位值班脚本").inner_text()
    page.screenshot(path=str(SHOTS / "tokens-revoked.png"), full_page=True)
    status, body = api_status(base, secret)
    assert status == 401 and body["code"] == "token_revoked"
