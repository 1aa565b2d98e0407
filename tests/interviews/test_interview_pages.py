"""在线访谈 over HTTP on both databases: the staff pages (schedule, screen, answer, follow-up, publish,
the Word transcript), the public page (form refusals in Chinese, the transcript without the
screened-out question) and the API with a personal token."""
from datetime import timedelta
from io import BytesIO

import pytest
from docx import Document
from sqlalchemy import select

from opinion.accounts.tokens import create_token
from opinion.interviews import live, questions
from opinion.models import Case, Interview, InterviewQuestion, utcnow
from tests.factories import login, make_user
from tests.interviews.conftest import unit_of


def test_an_admin_schedules_and_a_bad_form_keeps_what_was_typed(client, session, people):
    login(client, "admin1")
    unit = unit_of(session, "zjj")
    bad = client.post("/interviews/", data={"unit_id": unit.id, "guest_name": "王建国", "guest_title": "",
                                            "scheduled_at": "2026-12-10T15:00", "theme": "加装电梯"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "请填写嘉宾职务" in body and 'value="王建国"' in body and "加装电梯" in body
    ok = client.post("/interviews/", data={"unit_id": unit.id, "guest_name": "王建国", "guest_title": "局长",
                                           "scheduled_at": "2026-12-10T15:00", "theme": "加装电梯"})
    made = session.execute(select(Interview)).scalar_one()
    assert ok.status_code == 302 and made.scheduled_at.hour == 7   # 15:00 Beijing
    page = client.get(f"/interviews/{made.id}").get_data(as_text=True)
    assert f"/p/interview/{made.slug}" in page and "开始访谈" in page
    login(client, "jyj_fyr")
    assert client.post("/interviews/", data={}).status_code == 403
    assert client.get(f"/interviews/{made.id}").status_code == 403   # another unit's spokesperson


def test_the_public_form_refuses_bad_questions_in_chinese_and_keeps_them(client, session, interview):
    url = f"/p/interview/{interview.slug}"
    page = client.get(url).get_data(as_text=True)
    assert "我要提问" in page and "老旧小区改造和加装电梯" in page and "王建国" in page
    for text, message in (("", "请填写您的问题"), ("问" * 5000, "问题太长（5000 字）"),
                          ("<script>alert(1)</script>电梯", "不能包含网页代码")):
        resp = client.post(url, data={"question": text, "nickname": "老王"})
        body = resp.get_data(as_text=True)
        assert resp.status_code == 400 and message in body and 'value="老王"' in body
        assert "<script>alert(1)</script>" not in body
    ok = client.post(url, data={"question": "电梯补贴怎么申请？电话13812345678", "nickname": "老王"})
    assert ok.status_code == 302
    q = session.execute(select(InterviewQuestion)).scalar_one()
    assert "138****5678" in q.text and q.source == "form"
    assert client.get("/p/interview/nope").status_code == 404


def test_screening_answering_follow_up_and_publishing(client, session, district, interview, people):
    now = utcnow()
    asked = [questions.add_question(session, district, interview, text, nick, now) for text, nick in (
        ("加装电梯需要多少户业主同意？", "甲"), ("你们都是摆设吧", "乙"), ("鼓楼小区门口路灯坏了一个月，什么时候修？", "丙"))]
    session.commit()
    keep, drop, lamp = asked
    login(client, "monitor1")
    page = client.get(f"/interviews/{interview.id}/screen").get_data(as_text=True)
    assert all(q.text in page for q in asked)
    resp = client.post(f"/interviews/{interview.id}/questions/{drop.id}/screen", data={"action": "reject", "reason": ""},
                       follow_redirects=True)
    assert "不采用须说明理由" in resp.get_data(as_text=True) and session.get(InterviewQuestion, drop.id).status == "pending"
    client.post(f"/interviews/{interview.id}/questions/{drop.id}/screen", data={"action": "reject", "reason": "人身攻击"})
    for q in (keep, lamp):
        client.post(f"/interviews/{interview.id}/questions/{q.id}/screen", data={"action": "adopt"})
    client.post(f"/interviews/{interview.id}/status", data={"to": "live"})
    session.expire_all()
    assert [q.status for q in asked] == ["adopted", "rejected", "adopted"]

    login(client, "zjj_fyr")
    live_page = client.get(f"/interviews/{interview.id}/live").get_data(as_text=True)
    assert keep.text in live_page and drop.text not in live_page and "系统建议：区城市管理和综合执法局" in live_page
    refused = client.post(f"/interviews/{interview.id}/questions/{keep.id}/answer",
                          data={"answer": "由国土资源局审批。"})
    assert refused.status_code == 400 and "应为“自然资源局”" in refused.get_data(as_text=True)
    assert "由国土资源局审批。" in refused.get_data(as_text=True)   # what was typed stays
    client.post(f"/interviews/{interview.id}/questions/{keep.id}/answer",
                data={"answer": "需本单元三分之二以上业主同意，并公示。"})
    client.post(f"/interviews/{interview.id}/questions/{lamp.id}/answer", data={"answer": "会后马上派人核实。"})
    csglj = unit_of(session, "csglj")
    client.post(f"/interviews/{interview.id}/questions/{lamp.id}/follow-up", data={"unit_id": csglj.id, "note": "一周内修复"})
    case = session.execute(select(Case)).scalar_one()
    assert case.unit_id == csglj.id and session.get(InterviewQuestion, lamp.id).case_id == case.id
    login(client, "monitor1")
    case_page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"在线访谈<a href=\"/p/interview/{interview.slug}\">「{interview.title}」</a>第 {lamp.id} 号提问" in case_page
    login(client, "zjj_fyr")
    again = client.get(f"/interviews/{interview.id}/live").get_data(as_text=True)
    assert f"已转交区城市管理和综合执法局办理（工单 #{case.id}" in again
    login(client, "jyj_fyr")
    assert client.get(f"/interviews/{interview.id}/live").status_code == 403

    login(client, "monitor1")
    client.post(f"/interviews/{interview.id}/status", data={"to": "ended"})
    client.post(f"/interviews/{interview.id}/status", data={"to": "published"})
    public = client.get(f"/p/interview/{interview.slug}").get_data(as_text=True)
    assert "需本单元三分之二以上业主同意" in public and "会后马上派人核实" in public
    assert "已转交区城市管理和综合执法局办理" in public and drop.text not in public and "我要提问" not in public
    closed = client.post(f"/p/interview/{interview.slug}", data={"question": "还能问吗？"})
    assert closed.status_code == 400 and "不再接收提问" in closed.get_data(as_text=True)

    word = client.get(f"/interviews/{interview.id}/transcript.docx")
    assert word.status_code == 200 and word.mimetype.endswith("wordprocessingml.document")
    text = "\n".join(p.text for p in Document(BytesIO(word.data)).paragraphs)
    assert f"「{interview.title}」" in text and "访谈时间" in text and "嘉　　宾" in text and "主　　题" in text
    assert "网友「甲」" in text and keep.text in text and "需本单元三分之二以上业主同意" in text
    assert "王建国" in text and "已转交区城市管理和综合执法局办理" in text and drop.text not in text


@pytest.fixture
def token(session, people):
    return {name: create_token(session, people[name], "访谈网站")[1] for name in ("monitor", "office")}


def _ask(client, interview_id, token, body):
    return client.post(f"/api/v1/interviews/{interview_id}/questions", json=body,
                       headers={"Authorization": f"Bearer {token}"})


def test_the_api_takes_questions_with_a_token(client, session, interview, token, people):
    ok = _ask(client, interview.id, token["monitor"], {"text": "身份证330203199001011234能查补贴吗？", "nickname": "网友A"})
    assert ok.status_code == 201 and ok.get_json()["status"] == "pending"
    assert "330203199001011234" not in ok.get_json()["text"]
    twin = _ask(client, interview.id, token["monitor"], {"text": "身份证330203199001011234能查补贴吗", "nickname": "B"})
    assert twin.get_json()["merged_into"] == ok.get_json()["id"]
    q = session.get(InterviewQuestion, ok.get_json()["id"])
    assert q.source == "webhook"
    cases = [(_ask(client, interview.id, token["monitor"], {"text": ""}), 400, "请填写您的问题"),
             (_ask(client, interview.id, token["monitor"], {"text": "问" * 5000}), 400, "问题太长"),
             (_ask(client, interview.id, token["monitor"], {"text": "<script>x</script>"}), 400, "网页代码"),
             (_ask(client, interview.id, token["monitor"], {"text": "好", "extra": 1}), 400, "未知字段"),
             (_ask(client, interview.id, token["monitor"], {"text": 5}), 400, "应为字符串"),
             (_ask(client, 99999, token["monitor"], {"text": "有人吗？"}), 404, "不存在"),
             (_ask(client, interview.id, token["office"], {"text": "有人吗？"}), 403, "无权"),
             (_ask(client, interview.id, "wrong", {"text": "有人吗？"}), 401, "")]
    for resp, status, message in cases:
        assert resp.status_code == status and message in resp.get_json()["error"], resp.get_json()
    interview.status = "ended"
    session.commit()
    closed = _ask(client, interview.id, token["monitor"], {"text": "结束了还能问吗？"})
    assert closed.status_code == 409 and closed.get_json()["code"] == "interview_closed"
    assert session.query(InterviewQuestion).count() == 2


def test_the_audit_log_tells_the_screening_in_words(client, session, district, interview, people):
    q = questions.add_question(session, district, interview, "改造期间停水吗？", "丁", utcnow())
    questions.adopt(session, district, q, people["monitor"], utcnow())
    live.move(session, interview, "live", people["admin"], utcnow())
    session.commit()
    login(client, "monitor1")
    log = client.get("/audit/?object_type=interview").get_data(as_text=True).split('<ol class="audit-log">')[1]
    assert f"筛选访谈提问：在线访谈 #{interview.id}；提问编号：{q.id}，状态由“待筛选”改为“采用”" in log
    assert "开始在线访谈" in log and "状态由“预告”改为“进行中”" in log and "adopted" not in log and "live" not in log


def test_asking_too_often_is_refused_in_chinese(client, session, interview):
    url = f"/p/interview/{interview.slug}"
    codes = [client.post(url, data={"question": f"第{n}个问题：电梯什么时候装？", "nickname": "急性子"}).status_code
             for n in range(7)]
    assert codes == [302] * 6 + [429]
    assert "请求过于频繁" in client.post(url, data={"question": "再问一次"}).get_data(as_text=True)
    assert session.query(InterviewQuestion).count() == 6


def test_a_monitor_adds_a_collected_post_as_a_question(client, session, interview, people):
    from opinion.models import Post
    from tests.factories import make_source
    post = Post(source_id=make_source(session).id, external_id="w1", raw_text="x", author="江边老王",
                text="@区住建局 加装电梯的补贴什么时候发？", created_at=utcnow())
    session.add(post)
    session.commit()
    login(client, "monitor1")
    missing = client.post(f"/interviews/{interview.id}/from-post", data={"post_id": "99999"}, follow_redirects=True)
    assert "帖子编号“99999”不存在" in missing.get_data(as_text=True)
    added = client.post(f"/interviews/{interview.id}/from-post", data={"post_id": f"#{post.id}"}, follow_redirects=True)
    assert f"已把帖子 #{post.id} 加入提问" in added.get_data(as_text=True)
    q = session.execute(select(InterviewQuestion)).scalar_one()
    assert (q.source, q.post_id, q.nickname) == ("post", post.id, "江边老王") and "采集的帖子" in added.get_data(as_text=True)
