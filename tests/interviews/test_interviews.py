"""在线访谈 logic on both databases: questions checked, masked and merged on arrival, screened with the
错敏词 list, answered through the reply check, a follow-up opened as a case for the chosen unit, and
the public transcript holding only the adopted, answered questions."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.errors import InterviewClosed, InterviewError, PermissionDenied
from opinion.interviews import live, questions
from opinion.interviews.transcript import public_interview
from opinion.models import AuditEvent, Case, Interview, InterviewQuestion, Post, Topic, utcnow
from tests.factories import make_source, make_user
from tests.interviews.conftest import unit_of


def test_schedule_refuses_missing_fields_and_non_organisers(session, people):
    now, unit = utcnow(), unit_of(session, "zjj")
    with pytest.raises(InterviewError, match="请填写嘉宾姓名"):
        live.schedule(session, people["admin"], unit, " ", "局长", "主题", now, now)
    with pytest.raises(InterviewError, match="请填写访谈时间"):
        live.schedule(session, people["admin"], unit, "王建国", "局长", "主题", None, now)
    with pytest.raises(PermissionDenied):
        live.schedule(session, people["office"], unit, "王建国", "局长", "主题", now, now)
    made = live.schedule(session, people["monitor"], unit, "王建国", "局长", "主题", now, now)
    assert made.title == f"{unit.name}局长王建国在线访谈" and made.status == "scheduled" and len(made.slug) >= 8


def test_a_question_is_masked_and_the_original_kept_for_staff(session, district, interview):
    q = questions.add_question(session, district, interview, "我家电话13812345678，身份证330203199001011234，"
                               "小区什么时候加装电梯？", "老王 13900001111", utcnow())
    assert "13812345678" not in q.text and "138****5678" in q.text
    assert "330203199001011234" not in q.text and q.text.count("*") >= 12
    assert "13812345678" in q.original_text and "13900001111" not in q.nickname
    assert q.status == "pending" and q.source == "form"


@pytest.mark.parametrize("text, message", [
    ("", "请填写您的问题"), ("   ", "请填写您的问题"),
    ("问" * 5000, "问题太长（5000 字）"),
    ("<script>alert(1)</script>电梯什么时候装？", "不能包含网页代码"),
    ("<img src=x onerror=alert(1)>", "不能包含网页代码"),
])
def test_bad_questions_are_refused_with_the_reason(session, district, interview, text, message):
    with pytest.raises(InterviewError, match=message):
        questions.add_question(session, district, interview, text, "网友", utcnow())
    assert session.execute(select(InterviewQuestion)).first() is None


def test_closed_and_unknown_interviews_take_no_questions(session, district, interview, people):
    with pytest.raises(InterviewClosed, match="没有这场在线访谈"):
        questions.open_interview(session, None, slug="no-such")
    questions.add_question(session, district, interview, "加装电梯的补贴标准是多少？", "网友", utcnow())
    q = session.execute(select(InterviewQuestion)).scalar_one()
    questions.adopt(session, district, q, people["monitor"], utcnow())
    live.move(session, interview, "live", people["admin"], utcnow())
    assert questions.open_interview(session, None, slug=interview.slug) is interview   # live: still open
    live.answer(session, district, q, people["office"], "补贴标准为每台最高20万元，具体以区住建局公告为准。", utcnow())
    live.move(session, interview, "ended", people["admin"], utcnow())
    with pytest.raises(InterviewClosed, match="已结束"):
        questions.open_interview(session, None, slug=interview.slug)
    with pytest.raises(InterviewClosed, match="不再接收提问"):
        questions.add_question(session, district, interview, "还能提问吗？", "网友", utcnow())


def test_near_identical_questions_are_merged_into_the_earlier_one(session, district, interview):
    first = questions.add_question(session, district, interview,
                                   "我们小区是九十年代的老小区，老人多，加装电梯的补贴怎么申请，需要多少户同意？",
                                   "网友甲", utcnow())
    again = questions.add_question(session, district, interview,
                                   "我们小区是九十年代的老小区，老人很多，加装电梯的补贴怎么申请，需要多少户同意啊",
                                   "网友乙", utcnow())
    same = questions.add_question(session, district, interview, "补贴怎么申请？", "网友丙", utcnow())
    copy = questions.add_question(session, district, interview, "补贴，怎么申请!!", "网友丁", utcnow())
    assert first.status == "pending" and first.simhash
    assert again.status == "merged" and again.merged_into_id == first.id and "自动合并" in again.screening_note
    assert same.status == "pending"                     # a different question
    assert copy.status == "merged" and copy.merged_into_id == same.id   # punctuation aside, the same


def test_screening_sensitive_words_need_confirmation_and_rejection_a_reason(session, district, interview, people):
    word = district.sensitive_words[0]
    q = questions.add_question(session, district, interview, f"拆迁有没有{word}问题？", "网友", utcnow())
    with pytest.raises(InterviewError, match=f"含敏感词“{word}”"):
        questions.adopt(session, district, q, people["monitor"], utcnow())
    assert q.status == "pending"
    with pytest.raises(PermissionDenied):
        questions.adopt(session, district, q, people["office"], utcnow(), confirmed=True)
    with pytest.raises(InterviewError, match="须说明理由"):
        questions.reject(session, q, people["monitor"], "  ", utcnow())
    questions.reject(session, q, people["monitor"], "与访谈主题无关", utcnow())
    assert q.status == "rejected" and q.screening_note == "与访谈主题无关"
    questions.adopt(session, district, q, people["monitor"], utcnow(), confirmed=True)
    assert q.status == "adopted"
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "interview.question_screened")).first()


def test_merge_by_hand_follows_the_chain_and_refuses_itself(session, district, interview, people):
    a = questions.add_question(session, district, interview, "电梯噪音谁来管？", "甲", utcnow())
    b = questions.add_question(session, district, interview, "加装电梯后一楼采光受影响怎么补偿？", "乙", utcnow())
    c = questions.add_question(session, district, interview, "一楼住户不同意怎么办？", "丙", utcnow())
    questions.merge(session, b, a, people["monitor"], utcnow())
    questions.merge(session, c, b, people["monitor"], utcnow())   # b is merged into a: c goes to a
    assert (b.merged_into_id, c.merged_into_id) == (a.id, a.id)
    with pytest.raises(InterviewError, match="自己"):
        questions.merge(session, a, c, people["monitor"], utcnow())


def test_answers_go_through_the_reply_check(session, district, interview, people):
    q = questions.add_question(session, district, interview, "老小区改造包括哪些内容？", "网友", utcnow())
    questions.adopt(session, district, q, people["monitor"], utcnow())
    with pytest.raises(InterviewError, match="访谈开始后"):
        live.answer(session, district, q, people["office"], "包括管网和外立面。", utcnow())
    live.move(session, interview, "live", people["admin"], utcnow())
    with pytest.raises(PermissionDenied):
        live.answer(session, district, q, people["other"], "包括管网和外立面。", utcnow())
    with pytest.raises(InterviewError, match="不能为空"):
        live.answer(session, district, q, people["office"], "  ", utcnow())
    with pytest.raises(live.NeedsConfirmation, match="“国土资源局”应为“自然资源局”"):
        live.answer(session, district, q, people["office"], "由国土资源局负责规划审批。", utcnow())
    assert q.answer is None
    live.answer(session, district, q, people["office"], "包括管网、屋面防水和外立面整治。", utcnow())
    assert q.answer.startswith("包括管网") and q.answered_by_id == people["office"].id and q.answered_at


def test_follow_up_opens_a_case_for_the_chosen_unit(session, district, interview, people):
    q = questions.add_question(session, district, interview, "鼓楼小区门口路灯坏了一个月，什么时候修？", "夜归人", utcnow())
    with pytest.raises(InterviewError, match="未被采用"):
        live.follow_up(session, district, q, unit_of(session, "csglj"), people["office"], "", utcnow())
    questions.adopt(session, district, q, people["monitor"], utcnow())
    from opinion.routing import Router
    suggested, why = live.suggested_unit(session, Router(district), q)
    assert suggested.code == "csglj" and "路灯" in why
    case = live.follow_up(session, district, q, suggested, people["office"], "会后一周内修复", utcnow())
    session.commit()
    assert case.unit.code == "csglj" and case.status == "new" and case.topic_id is None
    assert case.respond_due_at > case.created_at and "在线访谈" in case.routing_reason and "会后一周内修复" in case.routing_reason
    assert q.case_id == case.id
    with pytest.raises(InterviewError, match="已转交区城市管理"):
        live.follow_up(session, district, q, suggested, people["office"], "", utcnow())


def test_a_question_from_a_collected_post_joins_its_topics_case(session, district, interview, people):
    topic = Topic(key="lamp", label="路灯不亮", first_seen_at=utcnow(), last_seen_at=utcnow(), category="城乡建设")
    session.add(topic)
    session.flush()
    post = Post(source_id=make_source(session).id, external_id="p1", raw_text="路灯坏了", text="路灯坏了，谁来修",
                author="江边老王", created_at=utcnow(), topic_id=topic.id, unit_id=unit_of(session, "csglj").id)
    session.add(post)
    session.flush()
    q = questions.add_from_post(session, district, interview, post, utcnow())
    assert q.source == "post" and q.post_id == post.id and q.nickname == "江边老王"
    questions.adopt(session, district, q, people["monitor"], utcnow())
    from opinion.routing import Router
    unit, _ = live.suggested_unit(session, Router(district), q)
    case = live.follow_up(session, district, q, unit, people["monitor"], "", utcnow())
    assert case.topic_id == topic.id and case.unit.code == "csglj"


def test_the_transcript_holds_only_adopted_answered_questions(session, district, interview, people):
    now = utcnow()
    kept = questions.add_question(session, district, interview, "加装电梯要多少户同意？", "甲", now)
    copy = questions.add_question(session, district, interview, "加装电梯要多少户同意", "乙", now)
    dropped = questions.add_question(session, district, interview, "你们领导都是摆设吗", "丙", now)
    waiting = questions.add_question(session, district, interview, "改造期间停水吗？", "丁", now)
    for q in (kept, waiting):
        questions.adopt(session, district, q, people["monitor"], now)
    questions.reject(session, dropped, people["monitor"], "人身攻击", now)
    live.move(session, interview, "live", people["admin"], now)
    with pytest.raises(InterviewError, match="不能结束|不能发布实录"):
        live.move(session, interview, "published", people["admin"], now)
    live.answer(session, district, kept, people["office"], "需本单元三分之二以上业主同意。", now + timedelta(minutes=5))
    case = live.follow_up(session, district, kept, unit_of(session, "zjj"), people["office"], "", now)
    live.move(session, interview, "ended", people["admin"], now)
    assert public_interview(session, interview).exchanges == []       # not published yet
    live.move(session, interview, "published", people["admin"], now)
    view = public_interview(session, interview)
    assert [e.question for e in view.exchanges] == [kept.text]
    only = view.exchanges[0]
    assert only.answer.startswith("需本单元") and only.also_asked == 1 and copy.status == "merged"
    assert only.follow_up_unit == case.unit.name
    assert session.get(Case, case.id).unit_id == interview.unit_id


def test_the_demo_interview_is_published_with_a_screened_out_question_and_a_case(session, district, people):
    from opinion.demo.interviews import seed_interview
    make_user(session, "csglj_fyr", "spokesperson", "csglj")
    said = []
    seed_interview(session, district, said.append)
    interview = session.execute(select(Interview)).scalar_one()
    view = public_interview(session, interview)
    statuses = [q.status for q in session.execute(select(InterviewQuestion).order_by(InterviewQuestion.id)).scalars()]
    assert interview.status == "published" and statuses.count("rejected") == 1 and statuses.count("merged") == 1
    assert len(view.exchanges) == statuses.count("adopted") == 4
    assert [e.follow_up_unit for e in view.exchanges if e.follow_up_unit] == ["区城市管理和综合执法局"]
    case = session.execute(select(Case)).scalar_one()
    assert case.status == "resolved" and case.resolved_at <= case.resolve_due_at
    seed_interview(session, district, said.append)
    assert session.execute(select(Interview)).scalars().all() == [interview] and "不再重复生成" in said[-1]
