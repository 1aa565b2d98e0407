"""The composer as a spokesperson uses it, in Debian's Chromium driven by Playwright: open the most
urgent case, pick a template, get a warning on a sensitive word, fix it, send, see the case move.
Screenshots go to test-artifacts/."""
import re

import pytest
from sqlalchemy import select

from opinion.models import Case
from opinion.pipeline.batch import ingest
from tests.browser import SHOTS, browser, login, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.factories import make_item, make_source, make_user
from tests.replies import fake_channel

pytestmark = needs_chromium


@pytest.fixture
def live_server(tmp_path, monkeypatch):
    import collectors
    monkeypatch.setitem(collectors.REGISTRY, "fakeweibo", "tests.replies.fake_channel:FakeChannel")
    fake_channel.SENT.clear()
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    from opinion.cases.templates import load_templates
    from opinion.models import db
    app = make_app(tmp_path)
    with app.app_context():
        load_templates(db.session)  # the shipped, learned 口径库
        make_user(db.session, "slj_fyr", "spokesperson", "slj")
        make_user(db.session, "slj_head", "spokesperson", "slj", is_unit_head=True)
        source = make_source(db.session, code="weibo", kind="fakeweibo")
        ingest(db.session, app, source, [
            make_item("w1", "中山路下穿隧道积水半米深，车子熄火在里面[怒]", author="市民甲", minutes_ago=200),
            make_item("w2", "中山路隧道又积水了，每次下雨都变成河", author="市民乙", minutes_ago=100)])
        ingest(db.session, app, source, [
            make_item("w3", "滨江水库边的防汛堤有裂缝，雨季前能不能修一下", author="市民丙", minutes_ago=30)])
        cases = db.session.execute(select(Case).order_by(Case.id)).scalars().all()
        cases[0].priority = "high"  # answered without approval, and first in the queue
        for c in cases[1:]:
            c.priority = "normal"
        db.session.commit()
        case_id = cases[0].id
    with serve(app) as base:
        yield base, case_id



def test_spokesperson_composes_checks_fixes_and_sends(live_server, browser):
    from playwright.sync_api import expect
    base, case_id = live_server
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    login(page, base, "slj_fyr")
    page.locator("table.list a").first.click()  # the inbox puts the most urgent case first
    assert page.url.endswith(f"/cases/{case_id}")

    page.select_option("#template-picker", index=1)
    text = page.locator("#reply-text")
    template = text.input_value()
    assert template.startswith("市民甲：您好！")  # a name that already says 市民 is not wrapped in 网友“…”
    assert "【请填写：办理情况】" in template
    expect(page.locator("#reply-checks li.error").first).to_contain_text("尚未填写")

    risky = (template.replace("【请填写：办理情况】", "网传积水致人死亡，经核实不实。我局已安排抽水车到场，积水已排除。")
             .replace("【请填写：联系电话】", "0731-88886666"))
    text.fill(risky)
    warning = page.locator("#reply-checks li.warning")
    expect(warning).to_contain_text("敏感词“死亡”")
    expect(page.locator("#approval-note")).to_contain_text("须经审核")
    page.locator("#composer").screenshot(path=str(SHOTS / "composer-warning.png"))

    text.fill(risky.replace("网传积水致人死亡，经核实不实。", "您反应的问题属实。"))
    expect(warning).to_contain_text("“反应的问题”应为“反映的问题”")
    page.click("#reply-checks button.fix")  # one click puts the right term in its place
    assert "您反映的问题属实。" in text.input_value()
    expect(page.locator("#reply-checks li.ok")).to_contain_text("校对通过")
    expect(page.locator("#approval-note")).to_have_text("")
    with page.expect_navigation():   # a slow host may take longer than expect()'s 5 s to answer the POST
        page.click("button:text-is('发送回复')")
    expect(page.locator("blockquote.exact")).to_contain_text("积水已排除")  # exactly what will be posted
    with page.expect_navigation():
        page.click("button:text-is('确认发布')")
    expect(page.locator(".flash").first).to_contain_text("回复已发布（已通过原渠道回复网友）")
    assert "已回应" in page.locator("dl").inner_text()
    expect(page.locator(".reply-item")).to_contain_text("积水已排除")
    page.screenshot(path=str(SHOTS / "composer-sent.png"), full_page=True)
    assert fake_channel.SENT and fake_channel.SENT[0][0] == "w1" and "死亡" not in fake_channel.SENT[0][1]

    page.goto(f"{base}/inbox/")
    row = page.locator("table.list tr", has=page.locator(f"a[href$='/cases/{case_id}']"))
    expect(row).to_contain_text("已回应")
    assert all(u.startswith(base) for u in requests), "the page loaded something from outside the app"


def test_urgent_reply_waits_in_the_approval_queue(live_server, browser):
    from playwright.sync_api import expect
    base, case_id = live_server
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    login(page, base, "slj_fyr")
    page.goto(f"{base}/cases/{case_id}")
    page.fill("#reply-text", "网友您好！经核实，我局已安排抽水车到场，积水已排除。如有疑问请致电 0731-88886666。感谢您的监督！"
              "网传有人死亡不实。")
    page.check("input[name=confirmed]")
    with page.expect_navigation():   # a slow host may take longer than expect()'s 5 s to answer the POST
        page.click("button:text-is('发送回复')")
    expect(page.locator(".flash").first).to_contain_text("回复已提交审核")
    assert "已回应" not in page.locator("dl").inner_text()
    page.context.clear_cookies()
    login(page, base, "slj_head")
    page.goto(f"{base}/replies/approvals")
    expect(page.locator(".pending-reply")).to_contain_text("网传有人死亡不实")
    page.screenshot(path=str(SHOTS / "approvals.png"), full_page=True)
    with page.expect_navigation():   # a slow host may take longer than expect()'s 5 s to answer the POST
        page.click("button:text-is('批准发布')")
    expect(page.locator(".flash").first).to_contain_text(re.compile(r"已批准并发布：工单 #\d+"))
    assert fake_channel.SENT[-1][0] == "w1"
