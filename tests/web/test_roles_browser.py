"""A working day for the monitor, the leader and the admin, in a real browser (Debian's Chromium
driven by Playwright): the monitor acknowledges alerts in bulk and opens a case from an alert, the
leader reads the backlog and downloads the week's report, the admin types "3个工作日". Screenshots of
each role's main page at 1366 px and 390 px go to test-artifacts/ (and SHOTS18_DIR when set)."""
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from opinion.alerts.engine import evaluate_all
from opinion.models import Alert, Case, utcnow
from opinion.pipeline.batch import ingest
from tests.browser import SHOTS, browser, login, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.factories import make_item, make_source, make_user

pytestmark = needs_chromium
WIDTHS = (1366, 390)


def shoot(page, name):
    """The page at both widths, full length, where the reviewers look."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for folder in filter(None, [SHOTS, os.environ.get("SHOTS18_DIR")]):
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


@pytest.fixture
def day(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    from opinion.models import db
    app = make_app(tmp_path)
    with app.app_context():
        for name, role, unit in [("monitor1", "monitor", "center"), ("leader", "leader", None),
                                 ("admin", "admin", None), ("slj_fyr", "spokesperson", "slj"),
                                 ("jyj_fyr", "spokesperson", "jyj")]:
            make_user(db.session, name, role, unit)
        ingest(db.session, app, make_source(db.session), [
            make_item("a", "中山路下穿隧道积水半米深，车子熄火在里面", author="市民甲", minutes_ago=300),
            make_item("b", "中山路隧道又积水了，每次下雨都变成河", author="市民乙", minutes_ago=200),
            make_item("c", "实验小学暑假补课乱收费，每个学生收两千元", author="家长丙", minutes_ago=150),
            make_item("d", "实验小学老师暑假补课收费，家长不敢不交", author="家长丁", minutes_ago=120)])
        now = utcnow()
        for case in db.session.execute(select(Case)).scalars():  # both cases missed their sign-for
            case.acknowledge_due_at = now - timedelta(hours=3)
            case.respond_due_at = now - timedelta(hours=1)
        db.session.commit()
        evaluate_all(db.session, app, now)
        db.session.commit()
        alerts = db.session.execute(select(Alert).where(Alert.case_id.is_not(None))).scalars().all()
        assert len(alerts) == 2  # one per overdue case
    with serve(app) as base:
        yield base, app


def test_monitor_acknowledges_alerts_in_bulk_and_opens_a_case_from_one(day, browser):  # noqa: F811 - the fixture imported above
    base, app = day
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    login(page, base, "monitor1")
    page.goto(f"{base}/monitor/")
    shoot(page, "monitor")
    assert page.locator("#alert-feed li").count() == 2
    page.check("#ack-all")
    with page.expect_navigation():
        page.click("#bulk-ack button[type=submit]")
    assert "已确认 2 条预警" in page.locator(".flash").inner_text()
    assert page.locator("#alert-feed li").count() == 0
    page.goto(f"{base}/monitor/alerts?status=acknowledged")
    assert "共 2 条" in page.content()
    shoot(page, "monitor-alerts")
    with page.expect_navigation():
        page.locator("a:has-text('打开工单')").first.click()
    assert "/cases/" in page.url and page.locator("h1").count() == 1


def test_leader_reads_the_backlog_and_downloads_the_weeks_report(day, browser):  # noqa: F811 - the fixture imported above
    base, app = day
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    login(page, base, "leader")
    page.goto(f"{base}/leader/")
    table = page.locator("#units")
    assert "现在积压" in table.inner_text() and "区水利局" in table.inner_text()
    water = table.locator("tr", has_text="区水利局")
    assert water.locator("td").nth(2).inner_text().startswith("1")  # its overdue case is counted
    shoot(page, "leader")
    page.goto(f"{base}/leader/reports/")
    week = page.locator("input[name=week]")
    assert week.input_value().startswith(str(utcnow().year)[:3])  # this week, not a stale placeholder
    with page.expect_navigation():
        page.locator("form:has(input[name=week]) button").click()
    assert "存档" in page.locator(".flash").first.inner_text()
    with page.expect_download() as download:
        page.locator("a[href$='/docx']").first.click()
    assert download.value.suggested_filename.startswith("舆情周报-")


def test_admin_types_deadlines_in_chinese_and_adds_a_source(day, browser):  # noqa: F811 - the fixture imported above
    base, app = day
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    login(page, base, "admin")
    page.goto(f"{base}/admin/config/deadlines")
    assert page.locator("input[name=high-resolve]").input_value() == "3个工作日"
    page.fill("input[name=normal-resolve]", "6个工作日")
    with page.expect_navigation():
        page.click("button:text-is('保存')")
    assert "时限表已保存" in page.locator(".flash.info").inner_text()
    assert page.locator("input[name=normal-resolve]").input_value() == "6个工作日"
    assert app.extensions["district"].deadlines["normal"]["resolve"].amount == 6
    shoot(page, "admin-deadlines")
    page.goto(f"{base}/sources/new")
    assert page.locator("input[name=url]").is_visible() and not page.locator("input[name=access_token]").is_visible()
    page.select_option("select[name=kind]", "weibo_api")
    assert page.locator("input[name=access_token]").is_visible() and not page.locator("input[name=url]").is_visible()
    page.fill("input[name=code]", "区微博")
    page.fill("input[name=name]", "区政府微博")
    with page.expect_navigation():
        page.click("button:text-is('保存')")
    assert page.locator(".flash", has_text="代码“区微博”不符合规则").count() == 1
    shoot(page, "admin-source")
    page.goto(f"{base}/admin/users")
    shoot(page, "admin-users")
