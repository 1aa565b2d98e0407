"""Two-step log-in in a real browser: an admin in production sets it up at the first log-in
(QR code and typed secret, on a phone-sized screen), then logs in with a code."""
import time

import pyotp
import pytest

from tests.browser import SHOTS, browser, login, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.factories import make_user

pytestmark = needs_chromium


@pytest.fixture
def live_server(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    from opinion.models import db
    app = make_app(tmp_path, TWO_FACTOR_REQUIRED_ROLES=("admin",))
    with app.app_context():
        make_user(db.session, "admin", "admin")
    with serve(app) as base:
        yield base


def test_an_admin_enrols_at_first_log_in_then_logs_in_with_a_code(live_server, browser):  # noqa: F811 - fixture
    base = live_server
    page = browser.new_page(viewport={"width": 390, "height": 844})
    login(page, base, "admin")
    assert page.url.endswith("/account/two-factor")
    assert "要求管理员启用两步验证" in page.locator(".flash").inner_text()
    qr = page.locator("img.qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # the SVG drew, the CSP allowed it
    assert qr.bounding_box()["width"] <= 390
    page.screenshot(path=str(SHOTS / "two-factor-setup-390.png"), full_page=True)
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.fill("input[name=code]", "123456" if pyotp.TOTP(secret).now() != "123456" else "654321")
    with page.expect_navigation():
        page.click("button:text-is('启用两步验证')")
    assert "验证码不正确" in page.locator(".flash").inner_text()
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.click("button:text-is('启用两步验证')")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    with page.expect_navigation():
        page.click("text=我已保存，进入系统")
    assert "/admin/" in page.url
    with page.expect_navigation():
        page.click("button:text-is('退出')")
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, base, "admin")
    assert page.url.endswith("/login/code")
    page.screenshot(path=str(SHOTS / "two-factor-login-1366.png"))
    page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))
    with page.expect_navigation():
        page.click("button:text-is('验证并登录')")
    assert "/admin/" in page.url
