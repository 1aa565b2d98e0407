"""A citizen on a phone (390 px, Chromium via Playwright): reads the code at the end of the
unit's reply, looks the matter up without logging in, answers the survey as unsatisfied; the case
records the callback and reopens, and the link does not work a second time."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from opinion.models import AuditEvent, Case, Reply, utcnow
from tests.browser import SHOTS, browser, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.factories import make_user

pytestmark = needs_chromium


@pytest.fixture
def resolved_case(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    from opinion.cases import lifecycle, survey
    from opinion.models import Topic, Unit, db
    app = make_app(tmp_path)
    with app.app_context():
        district = app.extensions["district"]
        fyr = make_user(db.session, "jyj_fyr", "spokesperson", "jyj")
        now = utcnow()
        topic = Topic(key="t-1", label="实验小学门口 13812345678 占道", first_seen_at=now, last_seen_at=now)
        db.session.add(topic)
        db.session.flush()
        unit = db.session.execute(select(Unit).where(Unit.code == "jyj")).scalar_one()
        case, _ = lifecycle.open_or_attach(db.session, district, topic, unit, priority="normal", category="教育文体",
                                           reason="测试", now=now)
        lifecycle.add_reply(db.session, case, fyr, "您好，已协调城管清理占道摊点，感谢监督。", now)
        survey.resolve(db.session, district, case, fyr, "内部：已与摊主谈话", now, base_url="http://unused")
        db.session.commit()
        reply_text = db.session.execute(select(Reply.text)).scalar_one()
        case_id = case.id
    with serve(app) as base:
        yield app, base, case_id, reply_text


def test_citizen_looks_up_reads_the_reply_and_answers_the_survey_once(resolved_case, browser):
    from playwright.sync_api import expect
    app, base, case_id, reply_text = resolved_case
    code = re.search(r"查询码：([0-9A-Z]{5}-[0-9A-Z]{5})", reply_text).group(1)  # as the citizen reads it
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{base}/p/")
    page.fill("input[name=code]", code.lower().replace("-", " "))  # typed loosely on a phone
    page.click("button[type=submit]")
    expect(page.locator(".case-status")).to_have_text("已办结")
    expect(page.locator(".public-reply").first).to_contain_text("已协调城管清理占道摊点")
    body = page.inner_text("body")
    assert "13812345678" not in body and "138****5678" in body and "已与摊主谈话" not in body
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.screenshot(path=str(SHOTS / "public-lookup-390.png"), full_page=True)

    page.click("text=参加满意度回访")
    survey_url = page.url
    page.check("input[value=unsatisfied]")
    page.fill("textarea[name=comment]", "摊点第二天又回来了")
    page.screenshot(path=str(SHOTS / "public-survey-390.png"), full_page=True)
    page.click("button[type=submit]")
    expect(page.locator("main")).to_contain_text("该事项将重新办理")

    with app.app_context():
        from opinion.models import db
        case = db.session.get(Case, case_id)
        assert case.status == "reopened" and case.satisfaction == "unsatisfied" and case.reopen_count == 1
        reopen = db.session.execute(select(AuditEvent).where(AuditEvent.action == "case.reopened")).scalar_one()
        assert "摊点第二天又回来了" in reopen.reason and reopen.after["channel"] == "survey"

    again = page.goto(survey_url)
    assert again.status == 410
    expect(page.locator("main")).to_contain_text("该回访链接已使用或已失效")
    page.goto(f"{base}/p/?code={code}")
    expect(page.locator(".case-status")).to_have_text("重新办理")
    assert page.locator("text=参加满意度回访").count() == 0
    page.click("text=信息公开")  # the month's figures and the published replies
    expect(page.locator("table.disclosure")).to_contain_text("区教育局")
    expect(page.locator("main")).to_contain_text("已协调城管清理占道摊点")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "public-open-390.png"), full_page=True)
    assert not [e for e in errors if "410" not in e], errors
