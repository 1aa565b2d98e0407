"""在线访谈 in a real browser (Debian's Chromium via Playwright), from scheduling to the published
transcript: an admin schedules it; a citizen on a phone (390 px) asks three questions on the public
page; a monitor screens one out (不采用) and adopts two; the leader's office answers them and sends
one to the 城管局 as a case; the monitor publishes; the public page shows the answers and
"已转交…办理", never the screened-out question, and fits the phone. Screenshots go to test-artifacts/."""
import pytest
from sqlalchemy import select

from opinion.models import Case, Interview, InterviewQuestion, db
from tests.browser import SHOTS, browser, login, make_app, needs_chromium, serve  # noqa: F401 - fixture
from tests.factories import make_user

pytestmark = needs_chromium
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}
ASKED = {"lift": "加装电梯的补贴标准是多少？我家电话13812345678", "lamp": "鼓楼小区门口路灯坏了一个月，晚上很黑，什么时候修？",
         "rude": "你们领导就会说空话"}


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user(db.session, "admin1", "admin")
        make_user(db.session, "monitor1", "monitor", "center")
        make_user(db.session, "zjj_fyr", "spokesperson", "zjj")
    return app


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_an_interview_from_scheduling_to_the_published_transcript(app, browser):  # noqa: F811
    with serve(app) as base:
        admin = browser.new_page(viewport=DESK)
        login(admin, base, "admin1")
        admin.click("nav >> text=在线访谈")
        admin.select_option("select[name=unit_id]", label="区住房和城乡建设局")
        admin.fill("input[name=guest_name]", "王建国")
        admin.fill("input[name=guest_title]", "局长")
        admin.fill("input[name=scheduled_at]", "2026-12-10T15:00")
        admin.fill("textarea[name=theme]", "老旧小区改造和加装电梯")
        admin.click("button:has-text('安排访谈')")
        assert "已安排访谈" in admin.inner_text("body") and "2026-12-10 15:00" in admin.inner_text("body")
        admin.screenshot(path=str(SHOTS / "interview-admin-1366.png"), full_page=True)
        public_url = admin.get_attribute("dd.link a", "href")

        citizen = browser.new_page(viewport=PHONE)
        citizen.goto(public_url)
        assert "我要提问" in citizen.inner_text("body") and _fits(citizen)
        citizen.fill("textarea[name=question]", "   ")
        citizen.click("button:has-text('提交问题')")
        assert "请填写您的问题" in citizen.inner_text("body")
        for key, text in ASKED.items():
            citizen.fill("textarea[name=question]", text)
            citizen.fill("input[name=nickname]", {"lift": "翠湖老住户", "lamp": "夜归人", "rude": "路过的"}[key])
            citizen.click("button:has-text('提交问题')")
            assert "您的提问已收到" in citizen.inner_text("body")
        assert _fits(citizen)
        citizen.screenshot(path=str(SHOTS / "interview-public-ask-390.png"), full_page=True)

        monitor = browser.new_page(viewport=DESK)
        login(monitor, base, "monitor1")
        monitor.goto(admin.url)
        monitor.click("text=筛选提问")
        assert "138****5678" in monitor.inner_text("article.question >> nth=0")
        rude = monitor.locator("article.question", has_text=ASKED["rude"])
        rude.locator("input[name=reason]").fill("与访谈主题无关")
        rude.locator("button[value=reject]").click()
        assert "：不采用" in monitor.inner_text("body")
        for key in ("lift", "lamp"):
            monitor.locator("article.question", has_text=ASKED[key][:10]).locator("button[value=adopt]").click()
        assert "没有待筛选的提问" in monitor.inner_text("body")
        monitor.click("text=不采用（1）")
        monitor.screenshot(path=str(SHOTS / "interview-screen-1366.png"), full_page=True)
        monitor.goto(admin.url)
        monitor.click("button:has-text('开始访谈')")
        assert "访谈已开始" in monitor.inner_text("body")

        office = browser.new_page(viewport=DESK)
        login(office, base, "zjj_fyr")
        office.click("nav >> text=在线访谈")
        office.click("text=王建国在线访谈")
        office.click("text=现场答复")
        lift = office.locator("section.question", has_text="加装电梯")
        lift.locator("textarea[name=answer]").fill("加装电梯每台补助20万元，向所在街道申请。")
        lift.locator("button:has-text('发送答复')").click()
        lamp = office.locator("section.question", has_text="路灯")
        lamp.locator("textarea[name=answer]").fill("会后马上转交相关部门核实，一周内答复。")
        lamp.locator("button:has-text('发送答复')").click()
        assert "已答复" in office.inner_text("body")
        lamp = office.locator("section.question", has_text="路灯")
        lamp.locator("summary:has-text('需要跟进')").click()
        assert "系统建议：区城市管理和综合执法局" in lamp.inner_text()
        lamp.locator("button:has-text('转交办理')").click()
        assert "已转交区城市管理和综合执法局办理" in office.inner_text("body")
        office.screenshot(path=str(SHOTS / "interview-live-1366.png"), full_page=True)
        phone_office = browser.new_page(viewport=PHONE)
        login(phone_office, base, "zjj_fyr")
        phone_office.goto(office.url)
        assert _fits(phone_office)
        phone_office.screenshot(path=str(SHOTS / "interview-live-390.png"), full_page=True)

        monitor.click("button:has-text('结束访谈')")
        monitor.click("button:has-text('发布实录')")
        assert "实录已发布" in monitor.inner_text("body")

        citizen.goto(public_url)
        transcript = citizen.inner_text("section.transcript")
        assert "加装电梯每台补助20万元" in transcript and "一周内答复" in transcript
        assert "已转交区城市管理和综合执法局办理" in transcript and "网友「夜归人」" in transcript
        assert ASKED["rude"] not in citizen.inner_text("body") and "13812345678" not in transcript
        assert "我要提问" not in citizen.inner_text("body") and _fits(citizen)
        citizen.screenshot(path=str(SHOTS / "interview-transcript-390.png"), full_page=True)

    with app.app_context():
        case = db.session.execute(select(Case)).scalar_one()
        lamp_q = db.session.execute(select(InterviewQuestion).where(InterviewQuestion.case_id.is_not(None))).scalar_one()
        assert case.unit.code == "csglj" and "路灯" in lamp_q.text
        assert db.session.execute(select(Interview.status)).scalar_one() == "published"


def test_a_leader_reads_the_transcript_on_a_desk_and_a_phone(app, browser):  # noqa: F811
    """A district leader opens 在线访谈 from the menu and reads the answered questions, with no
    screening or answering buttons; the page fits a 390 px phone."""
    from opinion.interviews import live, questions
    from opinion.models import Unit, User, utcnow
    with app.app_context():
        session, now, district = db.session, utcnow(), app.extensions["district"]
        make_user(session, "leader1", "leader")
        admin, monitor, office = (session.execute(select(User).where(User.username == name)).scalar_one()
                                  for name in ("admin1", "monitor1", "zjj_fyr"))
        unit = session.execute(select(Unit).where(Unit.code == "zjj")).scalar_one()
        interview = live.schedule(session, admin, unit, "王建国", "局长", "老旧小区改造和加装电梯", now, now)
        live.move(session, interview, "live", admin, now)
        asked = questions.add_question(session, district, interview, ASKED["lift"], "老王", now)
        questions.adopt(session, district, asked, monitor, now)
        live.answer(session, district, asked, office, "加装电梯每台补贴20万元，具体办法见区住建局网站公告。", now)
        session.commit()
        interview_id = interview.id
    with serve(app) as base:
        for name, viewport in (("desk", DESK), ("phone", PHONE)):
            page = browser.new_page(viewport=viewport)
            login(page, base, "leader1")
            page.goto(f"{base}/interviews/")
            page.click(f"a[href='/interviews/{interview_id}']")
            text = page.inner_text("main") if page.query_selector("main") else page.inner_text("body")
            assert "加装电梯每台补贴20万元" in text and "138****5678" in text and "13812345678" not in text
            assert "筛选提问" not in text and "现场答复" not in text and "开始访谈" not in text
            assert _fits(page), name
            page.screenshot(path=str(SHOTS / f"interview-leader-{name}.png"), full_page=True)
            page.close()
