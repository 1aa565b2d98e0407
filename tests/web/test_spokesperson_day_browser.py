"""A spokesperson's day in a real browser (issue 18): a leader's 批示 rings the bell, the person
opens the case from the notification, writes a reply within the channel's 140 characters (the
count says so as they type), sees exactly what will be posted and where, and publishes.

Screenshots of the inbox and the case page at 1366 px and 390 px go to test-artifacts/ (and to
OPINION_SHOTS_DIR when set, e.g. /work/notes/shots18 for the issue's closing note)."""
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from opinion.cases import supervision
from opinion.models import Case, Reply, User
from opinion.pipeline.batch import ingest
from tests.browser import SHOTS, browser, login, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.factories import make_item, make_source, make_user

pytestmark = needs_chromium
REPLY = ("网友您好！经区水利局现场核实，中山路下穿隧道积水系排水泵故障所致，我局已于今晚组织抢修并安排抽水车值守，"
         "目前已恢复通行。如有疑问请致电 0731-88886666。")


def _shots() -> list[Path]:
    extra = os.environ.get("OPINION_SHOTS_DIR")
    return [SHOTS] + ([Path(extra)] if extra else [])


def _shoot(page, name: str) -> None:
    for folder in _shots():
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / name), full_page=True)


@pytest.fixture
def live_server(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    from opinion.models import db
    app = make_app(tmp_path)  # CSRF on, as in production
    with app.app_context():
        make_user(db.session, "slj_fyr", "spokesperson", "slj").name = "王晓梅"
        make_user(db.session, "leader", "leader").name = "李区长"
        db.session.commit()
        # The demo channel stands in for the district's Weibo account: replies go back through it,
        # 140 characters each.
        ingest(db.session, app, make_source(db.session, code="weibo", kind="demo"), [
            make_item("a", "中山路下穿隧道积水半米深，车子过不去[怒]", author="网友25994", minutes_ago=90),
            make_item("b", "中山路隧道又积水了，每次下雨都变成河", author="江边老王", minutes_ago=60)])
        case = db.session.execute(select(Case)).scalar_one()
        leader = db.session.execute(select(User).where(User.username == "leader")).scalar_one()
        from opinion.models import utcnow
        supervision.write_instruction(db.session, case, leader, "请水利局今晚答复网民，说明抢修进展", utcnow())
        db.session.commit()
        case_id = case.id
    with serve(app) as base:
        yield base, case_id, app


@pytest.mark.parametrize("width,height", [(1366, 768), (390, 844)])
def test_spokesperson_answers_a_leaders_instruction(live_server, browser, width, height):  # noqa: F811
    from playwright.sync_api import expect
    base, case_id, app = live_server
    page = browser.new_page(viewport={"width": width, "height": height})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    login(page, base, "slj_fyr")
    bell = page.locator("a.bell .count")
    expect(bell).to_have_text("2")  # the new case and the leader's 批示
    expect(page.locator("tr.unread .badge.unread")).to_have_count(1)
    _shoot(page, f"inbox-{width}.png")

    with page.expect_navigation():
        page.click("a.bell")
    entry = page.locator(".notifications li.unread", has_text="领导批示")
    expect(entry).to_contain_text("请水利局今晚答复网民")
    _shoot(page, f"notifications-{width}.png")
    with page.expect_navigation():
        entry.locator("a").click()
    assert page.url.endswith(f"/cases/{case_id}")
    expect(page.locator("#instructions")).to_contain_text("请水利局今晚答复网民")
    expect(page.locator("a.bell .count")).to_have_count(0)  # opening the case read both notices
    # What people said comes before the forms to act on it.
    posts_y = page.locator("#posts").bounding_box()["y"]
    assert posts_y < page.locator("#composer").bounding_box()["y"]

    page.fill("#reply-text", REPLY)
    expect(page.locator("#reply-count")).to_contain_text(f"已输入 {len(REPLY)} 字 / ")
    expect(page.locator("#reply-count")).to_contain_text("每条最多 140 字")
    expect(page.locator("#reply-count")).not_to_have_class("char-count over")
    _shoot(page, f"case-{width}.png")
    with page.expect_navigation():
        page.click("button:text-is('发送回复')")
    expect(page.locator("h1")).to_contain_text("确认发布回复")
    expect(page.locator(".preview")).to_contain_text("以评论回复网友原帖")
    expect(page.locator("blockquote.exact")).to_contain_text(REPLY)
    _shoot(page, f"preview-{width}.png")
    with app.app_context():
        from opinion.models import db
        assert db.session.execute(select(Reply.status)).scalar_one() == "draft"  # not public yet
    with page.expect_navigation():
        page.click("button:text-is('确认发布')")
    expect(page.locator(".flash").first).to_contain_text("回复已发布")
    with app.app_context():
        from opinion.models import db
        assert db.session.execute(select(Reply.status)).scalar_one() == "published"
    assert all(u.startswith(base) for u in requests), "the page loaded something from outside the app"
