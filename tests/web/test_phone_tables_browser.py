"""At a phone's 390 px the alert history and the leader's unit table used to drop every column after
the fourth (a generic rule for wide lists): an alert's 状态 and the week's rates and 等级 were gone.
They now stack one card per row, each figure with its name; this looks at them in Chromium."""
from tests.browser import browser, login, needs_chromium  # noqa: F401 - fixture
from tests.web.test_roles_browser import day, shoot  # noqa: F401 - fixture

pytestmark = needs_chromium


def test_alert_history_and_unit_table_show_every_figure_on_a_phone(day, browser):  # noqa: F811 - the fixture imported above
    base, app = day
    page = browser.new_page(viewport={"width": 390, "height": 844})
    login(page, base, "monitor1")
    page.goto(f"{base}/monitor/alerts")
    status = page.locator("table.alert-history tbody tr").first.locator("td").nth(5)
    assert status.is_visible() and "未处理" in status.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing runs off the side
    shoot(page, "phone-monitor-alerts")
    page.set_viewport_size({"width": 390, "height": 844})  # shoot leaves it at 1366
    page.context.clear_cookies()
    login(page, base, "leader")
    page.goto(f"{base}/leader/")
    row = page.locator("#units tr", has_text="区水利局")
    overdue = row.locator("td").nth(2)
    assert overdue.is_visible() and "积压超期" in overdue.evaluate(
        "td => getComputedStyle(td, '::before').content")  # its name, drawn by CSS
    for label in ("签收及时率", "回应及时率", "办结及时率", "平均回应", "等级"):
        assert row.locator(f"td[data-label='{label}']").is_visible(), label
    assert row.locator("td").last.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "phone-leader")
