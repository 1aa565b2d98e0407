"""The 政务矩阵 page in a real browser (Debian's Chromium via Playwright): a leader on a phone
(390 px) sees the silent accounts without the page widening, and an admin registers an account
through the form. Screenshots at 1366 px and 390 px go to test-artifacts/."""
import pytest
from sqlalchemy import select

from opinion.demo.matrix import seed_matrix
from opinion.models import OfficialAccount, Unit, db
from tests.browser import SHOTS, browser, login, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.factories import make_user

pytestmark = needs_chromium


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user(db.session, "leader", "leader")
        make_user(db.session, "admin", "admin")
        seed_matrix(db.session, lambda line: None)
    return app


def test_leader_reads_the_matrix_on_a_phone_and_admin_adds_an_account(app, browser):  # noqa: F811
    with app.app_context():
        silent_units = {a.unit.name for a in db.session.execute(select(OfficialAccount)).scalars()
                        if a.posts_total and a.posts_total <= 4}
    with serve(app) as base:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        login(page, base, "leader")
        page.goto(f"{base}/matrix/")
        silent = page.locator("#silent")
        assert silent.is_visible()
        for name in silent_units:
            assert name in silent.inner_text()
        # nothing wider than the phone: the tables scroll inside their cards
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SHOTS / "matrix-390.png"), full_page=True)
        assert page.locator("text=登记账号").count() == 0   # leaders read, admins register

        page = browser.new_page(viewport={"width": 1366, "height": 900})
        login(page, base, "admin")
        page.goto(f"{base}/matrix/accounts/new")
        with app.app_context():
            unit = db.session.execute(select(Unit).order_by(Unit.id)).scalars().first()
        page.select_option("select[name=unit_id]", str(unit.id))
        page.select_option("select[name=platform]", "douyin")
        page.fill("input[name=handle]", "海曙抖音号")
        page.fill("input[name=responsible]", "李四")
        page.click("form.form-grid button[type=submit]")
        assert "需要填写订阅地址" in page.inner_text("body")   # refused in Chinese, input kept
        assert page.input_value("input[name=handle]") == "海曙抖音号"
        page.fill("input[name=feed_url]", "https://rss.example.gov/douyin.xml")
        page.click("form.form-grid button[type=submit]")
        page.wait_for_url(f"{base}/matrix/")
        assert "政务账号“海曙抖音号”已保存" in page.inner_text("body")
        page.screenshot(path=str(SHOTS / "matrix-1366.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})   # the form on a phone: nothing wider
        page.goto(f"{base}/matrix/accounts/new")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SHOTS / "matrix-account-390.png"), full_page=True)


def test_admin_sets_the_no_reply_days_on_a_phone_and_the_matrix_flags_by_them(app, browser):  # noqa: F811
    """系统管理 → 发布与矩阵 at 390 px: a bad number is refused in Chinese and kept, a good one saved;
    the matrix page then counts comments over those days and flags the demo's account that answers none."""
    with serve(app) as base:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        login(page, base, "admin")
        page.goto(f"{base}/admin/publishing")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.fill("input[name=no_reply_days]", "十天")
        page.click("button:has-text('保存')")
        assert "“不回复评论判定天数”应为 1 到 30 的整数" in page.inner_text("body")
        assert page.input_value("input[name=no_reply_days]") == "十天"
        page.fill("input[name=no_reply_days]", "30")
        page.click("text=仅由舆情监测中心审核")
        page.click("button:has-text('保存')")
        assert "已保存" in page.inner_text("body")
        assert page.is_checked("input[value=monitor]") and page.input_value("input[name=no_reply_days]") == "30"
        page.screenshot(path=str(SHOTS / "admin-publishing-390.png"), full_page=True)
        assert app.extensions["district"].matrix_no_reply_days == 30

        page.goto(f"{base}/matrix/")
        flagged = page.locator("#no-reply")
        assert flagged.is_visible() and "回复 0 条" in flagged.inner_text()
        assert "30 天内有评论未回复" in page.inner_text(".counters")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SHOTS / "matrix-no-reply-390.png"), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(f"{base}/admin/publishing")
        page.screenshot(path=str(SHOTS / "admin-publishing-1366.png"), full_page=True)


def test_no_reply_days_over_30_are_refused_on_a_desk_and_a_phone(app, browser):  # noqa: F811
    """The collector re-reads only the last 30 days' posts, so 31 days is refused with the reason,
    and what was typed stays in the box."""
    with serve(app) as base:
        for name, viewport in (("desk", {"width": 1366, "height": 900}), ("phone", {"width": 390, "height": 844})):
            page = browser.new_page(viewport=viewport)
            login(page, base, "admin")
            page.goto(f"{base}/admin/publishing")
            page.fill("input[name=no_reply_days]", "31")
            page.click("button:has-text('保存')")
            body = page.inner_text("body")
            assert "应为 1 到 30 的整数" in body and "近 30 天" in body, body[:500]
            assert page.input_value("input[name=no_reply_days]") == "31"
            # the 30-day hint belongs to the no-reply days only; the silent days keep their year
            assert "回读" in page.inner_text("label:has(input[name=no_reply_days])")
            assert "回读" not in page.inner_text("label:has(input[name=silent_days])")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name
            page.screenshot(path=str(SHOTS / f"no-reply-days-{name}.png"), full_page=True)
            page.close()
