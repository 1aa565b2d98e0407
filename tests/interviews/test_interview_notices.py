"""在线访谈 notices and the leaders' view, on both databases: the leader's office hears the interview
has started, the monitors hear of new questions while it is on (once per few minutes, not once per
question), and a district leader reads the list and the transcript but neither screens nor answers."""
from datetime import timedelta

from sqlalchemy import select

from opinion.interviews import live, questions
from opinion.models import Notification, utcnow
from tests.factories import login, make_user


def _notices(session, user, kind):
    return session.execute(select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
                           .order_by(Notification.id)).scalars().all()


def test_the_leaders_office_is_told_when_its_interview_starts(session, interview, people):
    now = utcnow()
    live.move(session, interview, "live", people["admin"], now)
    session.commit()
    told = _notices(session, people["office"], "interview_started")
    assert len(told) == 1 and interview.title in told[0].subject and "现场答复" in told[0].body
    assert _notices(session, people["other"], "interview_started") == []   # another unit's spokesperson
    assert _notices(session, people["monitor"], "interview_started") == []


def test_monitors_hear_of_new_questions_once_per_few_minutes(session, district, interview, people):
    now = utcnow()
    questions.add_question(session, district, interview, "预告期间的提问会在开始前筛选吗？", "网友甲", now)
    assert _notices(session, people["monitor"], "interview_question") == []   # not live yet: no notice
    live.move(session, interview, "live", people["admin"], now)
    questions.add_question(session, district, interview, "老旧小区加装电梯补贴标准是多少？", "网友乙", now)
    questions.add_question(session, district, interview, "加装电梯低层住户不同意怎么办？", "网友丙",
                           now + timedelta(minutes=2))
    session.commit()
    told = _notices(session, people["monitor"], "interview_question")
    assert len(told) == 1 and f"#{interview.id}" in told[0].subject and "待筛选 2 条" in told[0].body
    assert _notices(session, people["office"], "interview_question") == []
    # once the quiet minutes have passed, the next question is told again, with how many wait
    questions.add_question(session, district, interview, "改造期间停车位怎么安排？", "网友丁",
                           now + questions.NOTIFY_EVERY + timedelta(minutes=1))
    session.commit()
    told = _notices(session, people["monitor"], "interview_question")
    assert len(told) == 2 and "待筛选 4 条" in told[1].body   # 甲 (asked before the start) waits too


def test_a_copy_of_an_earlier_question_tells_nobody(session, district, interview, people):
    now = utcnow()
    live.move(session, interview, "live", people["admin"], now)
    questions.add_question(session, district, interview, "电梯补贴标准是多少？", "网友乙", now - timedelta(minutes=10))
    session.query(Notification).delete()
    copy = questions.add_question(session, district, interview, "电梯补贴标准是多少？？", "网友丙", now)
    session.commit()
    assert copy.status == "merged" and _notices(session, people["monitor"], "interview_question") == []


def test_a_leader_reads_the_list_and_the_transcript_but_does_not_screen_or_answer(client, session, district,
                                                                                   interview, people):
    make_user(session, "leader1", "leader")
    now = utcnow()
    live.move(session, interview, "live", people["admin"], now)
    asked = questions.add_question(session, district, interview, "老旧小区加装电梯补贴标准是多少？", "网友乙", now)
    questions.adopt(session, district, asked, people["monitor"], now)
    live.answer(session, district, asked, people["office"], "每台补贴20万元，详见区住建局公告。", now)
    session.commit()
    login(client, "leader1")
    listing = client.get("/interviews/").get_data(as_text=True)
    assert interview.title in listing and 'name="guest_name"' not in listing   # no scheduling form
    page = client.get(f"/interviews/{interview.id}").get_data(as_text=True)
    assert "每台补贴20万元" in page and "实录未发布，仅内部可见" in page
    assert "筛选提问" not in page and "现场答复" not in page and "开始访谈" not in page and "结束访谈" not in page
    docx = client.get(f"/interviews/{interview.id}/transcript.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    for url in (f"/interviews/{interview.id}/screen", f"/interviews/{interview.id}/live"):
        assert client.get(url).status_code == 403, url
    for url, data in ((f"/interviews/{interview.id}/status", {"to": "ended"}),
                      (f"/interviews/{interview.id}/questions/{asked.id}/answer", {"answer": "领导答复"}),
                      ("/interviews/", {"guest_name": "某"})):
        assert client.post(url, data=data).status_code == 403, url
    session.refresh(interview)
    session.refresh(asked)
    assert interview.status == "live" and asked.answer == "每台补贴20万元，详见区住建局公告。"
