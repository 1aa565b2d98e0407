"""The composer's services: the check, templates, approval, publishing and the edit lock."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.cases import replies
from opinion.cases.public import lookup_line
from opinion.errors import CaseStateError, EditLockedError, PermissionDenied, PublishError
from opinion.models import AuditEvent, CaseEditLock, Notification, Reply, ReplyTemplate, Unit
from tests.conftest import at
from tests.replies import fake_channel

GOOD = ("网友您好！您反映的中山路隧道积水问题已收悉。经核实，我局已安排抽水车到场，积水已排除。"
        "如有疑问，请致电区水利局 0731-88886666。感谢您的监督！")
LINK = "https://weibo.example/slj/1"


@pytest.mark.parametrize("text,kind,term,suggestion", [
    ("网友您好！经核实已安排处理，联系电话 12345。此事涉及腐败问题。", "sensitive", "腐败", None),
    ("网友您好！经核实已转工商局处理，联系电话 12345。", "erroneous", "工商局", "市场监督管理局"),
    ("网友您好！您反应的问题已安排处理，联系电话 12345。", "erroneous", "反应的问题", "反映的问题"),
    ("网友您好！{称呼}经核实已安排处理，联系电话 12345。", "unfilled", "{称呼}", None),
    ("网友您好！【请填写：办理情况】联系电话 12345。", "unfilled", "【请填写：办理情况】", None),
])
def test_check_finds_the_term_at_its_position(district, text, kind, term, suggestion):
    hits = [f for f in replies.check_reply(district, text) if f.kind == kind]
    assert len(hits) == 1, hits
    assert text[hits[0].start:hits[0].end] == term
    assert hits[0].suggestion == suggestion
    assert hits[0].severity == ("error" if kind == "unfilled" else "warning")


def test_check_passes_a_good_reply_and_the_right_name_that_contains_an_old_one(district):
    assert replies.check_reply(district, GOOD) == []
    assert replies.check_reply(district, GOOD + "已转区文化和旅游局。") == []  # 旅游局 inside it


@pytest.mark.parametrize("text,missing", [
    ("经核实已安排抽水车到场。联系电话 12345。", ["称呼"]),
    ("网友您好！感谢关注。", ["办理情况", "联系方式"]),
])
def test_check_names_missing_parts(district, text, missing):
    found = [f.message for f in replies.check_reply(district, text) if f.kind == "missing_part"]
    assert found == [f"缺少{m}" for m in missing]


def test_empty_reply_is_an_error(district):
    assert [f.kind for f in replies.check_reply(district, "  ")] == ["empty"]


def test_templates_for_a_case_put_the_units_own_first_and_fill_placeholders(session, case):
    jyj = session.execute(select(Unit).where(Unit.code == "jyj")).scalar_one()
    session.add_all([
        ReplyTemplate(title="通用", body="{称呼}：您好！关于“{话题}”，{单位}答复如下：【请填写：办理情况】{日期}"),
        ReplyTemplate(title="本单位", unit_id=case.unit_id, body="本单位口径"),
        ReplyTemplate(title="教育局的", unit_id=jyj.id, body="不该出现"),
        ReplyTemplate(title="别的分类", category="教育文体" if case.category != "教育文体" else "交通运输",
                      body="不该出现"),
        ReplyTemplate(title="停用", body="不该出现", active=False)])
    session.commit()
    assert [t.title for t in replies.templates_for(session, case)] == ["本单位", "通用"]
    values = replies.placeholder_values(session, case, at("2026-10-08 09:00"))
    text = replies.render(replies.templates_for(session, case)[1].body, values)
    assert text.startswith("网友“江边老王”：您好！关于“") and "区水利局答复如下" in text
    assert text.endswith("【请填写：办理情况】2026年10月8日")


def test_publishing_elsewhere_needs_a_link_and_stops_the_clock(session, district, case, people):
    now = at("2026-10-08 09:00")
    out = replies.submit(session, district, case, people["slj_fyr"], GOOD, now)
    session.commit()
    assert out.status == "blocked" and "发布链接" in out.findings[-1].message
    assert case.first_response_at is None and out.reply.status == "draft"  # kept, not sent
    out = replies.submit(session, district, case, people["slj_fyr"], GOOD, now, link=LINK)
    session.commit()
    assert out.status == "published"
    reply = session.execute(select(Reply)).scalar_one()  # the draft became the reply
    assert (reply.status, reply.channel, reply.external_url) == ("published", "elsewhere", LINK)
    assert reply.published_at == now and case.first_response_at == now and case.status == "replied"
    assert session.get(CaseEditLock, case.id) is None


def test_warnings_need_confirmation_and_errors_block(session, district, case, people):
    now = at("2026-10-08 09:00")
    text = GOOD.replace("区水利局", "区国土资源局")
    out = replies.submit(session, district, case, people["slj_fyr"], text, now, link=LINK)
    assert out.status == "blocked" and [f.kind for f in out.findings] == ["erroneous"]
    out = replies.submit(session, district, case, people["slj_fyr"], text + "【请填写：联系人】", now,
                         link=LINK, confirmed=True)
    assert out.status == "blocked"
    out = replies.submit(session, district, case, people["slj_fyr"], text, now, link=LINK, confirmed=True)
    assert out.status == "published"


def test_urgent_case_waits_for_approval_by_the_unit_head(session, district, case, people):
    case.priority = "urgent"
    session.commit()
    t0, t1 = at("2026-10-08 09:00"), at("2026-10-08 09:40")
    out = replies.submit(session, district, case, people["slj_fyr"], GOOD, t0, link=LINK)
    session.commit()
    assert out.status == "pending_approval" and case.first_response_at is None
    told = session.execute(select(Notification.user_id, Notification.subject)  # not the new-case notice
                           .where(Notification.kind.is_distinct_from("case_assigned"))).all()
    assert told == [(people["slj_head"].id, f"待审核回复：工单 #{case.id}")]  # the unit's head
    reply = out.reply
    for who in ("slj_fyr", "slj_fyr2", "jyj_head"):  # the author, a colleague, another unit's head
        with pytest.raises(PermissionDenied):
            replies.approve(session, reply, people[who], t1)
    with pytest.raises(CaseStateError, match="理由"):
        replies.reject(session, reply, people["slj_head"], " ", t1)
    replies.approve(session, reply, people["slj_head"], t1)
    session.commit()
    assert (reply.status, reply.approved_by_id, reply.published_at) == ("published", people["slj_head"].id, t1)
    assert case.first_response_at == t1
    actions = session.execute(select(AuditEvent.action).where(AuditEvent.object_id == case.id)).scalars().all()
    assert {"reply.submitted", "reply.approved", "case.replied"} <= set(actions)


def test_a_sensitive_reply_is_approved_or_rejected_by_a_monitor(session, district, case, people):
    now = at("2026-10-08 09:00")
    text = GOOD + "网友所说群体性事件不实。"
    out = replies.submit(session, district, case, people["slj_fyr"], text, now, link=LINK, confirmed=True)
    assert out.status == "pending_approval" and "敏感词" in out.reason
    replies.reject(session, out.reply, people["monitor1"], "请删去不实传言的表述", now)
    session.commit()
    told = session.execute(select(Notification).where(Notification.user_id == people["slj_fyr"].id,
                                                        Notification.kind == "reply_rejected")).scalar_one()
    assert "退回" in told.subject and "请删去不实传言的表述" in told.body
    assert out.reply.status == "rejected" and replies.draft_of(session, case, people["slj_fyr"]) is out.reply
    with pytest.raises(CaseStateError):
        replies.approve(session, out.reply, people["monitor1"], now)


def test_reply_goes_back_through_the_channel(session, district, channel_case, people):
    now = at("2026-10-08 09:00")
    out = replies.submit(session, district, channel_case, people["slj_fyr"], GOOD, now)
    session.commit()
    assert out.status == "published"
    # answered under the first post of the topic, the case's 查询码 at the end for the citizen
    assert fake_channel.SENT == [("a", f"{GOOD}\n{lookup_line(channel_case)}")]
    assert out.reply.channel == "fakeweibo" and out.reply.external_url == "https://weibo.example/comment/a/1"


def test_a_channel_failure_keeps_the_draft_and_the_clock_running(session, district, channel_case, people):
    fake_channel.FAIL.append("接口超时")
    out = replies.submit(session, district, channel_case, people["slj_fyr"], GOOD, at("2026-10-08 09:00"))
    session.commit()
    assert out.status == "blocked" and "接口超时" in out.findings[-1].message
    assert out.reply.status == "draft" and out.reply.publish_error.endswith("接口超时")
    assert channel_case.first_response_at is None and fake_channel.SENT == []


def test_one_person_composes_at_a_time(session, case, people):
    t0 = at("2026-10-08 09:00")
    replies.acquire_lock(session, case, people["slj_fyr"], t0)
    session.commit()
    with pytest.raises(EditLockedError, match="slj_fyr 正在撰写.*09:15"):
        replies.acquire_lock(session, case, people["slj_fyr2"], t0 + timedelta(minutes=5))
    replies.acquire_lock(session, case, people["slj_fyr"], t0 + timedelta(minutes=10))  # renewed
    with pytest.raises(EditLockedError, match="09:25"):
        replies.acquire_lock(session, case, people["slj_fyr2"], t0 + timedelta(minutes=20))
    lock = replies.acquire_lock(session, case, people["slj_fyr2"], t0 + timedelta(minutes=26))  # expired
    session.commit()
    assert lock.user_id == people["slj_fyr2"].id
    replies.release_lock(session, case, people["slj_fyr"])  # not theirs: nothing happens
    assert replies.current_lock(session, case, t0 + timedelta(minutes=27)).user_id == people["slj_fyr2"].id
    replies.release_lock(session, case, people["slj_fyr2"])
    session.commit()
    assert replies.current_lock(session, case, t0 + timedelta(minutes=27)) is None


def test_someone_elses_lock_blocks_submission_and_loses_nothing(session, district, case, people):
    t0 = at("2026-10-08 09:00")
    replies.acquire_lock(session, case, people["slj_fyr"], t0)
    with pytest.raises(EditLockedError):
        replies.submit(session, district, case, people["slj_fyr2"], GOOD, t0, link=LINK)
    assert session.execute(select(Reply)).first() is None


def test_a_reply_longer_than_the_channel_takes_is_refused_before_sending(session, district, channel_case,
                                                                         people, monkeypatch):
    monkeypatch.setattr(fake_channel.FakeChannel, "max_reply_chars", 40, raising=False)
    out = replies.submit(session, district, channel_case, people["slj_fyr"], GOOD, at("2026-10-08 09:00"))
    assert out.status == "blocked" and "最多 40 字" in out.findings[-1].message
    assert fake_channel.SENT == []


@pytest.mark.parametrize("body,problems", [
    ("{称呼}：您好！关于“{话题}”，{承办单位}已处理。{单位} {日期}", []),
    ("{网友}您好！{部门}已处理。", ["未知占位符 {网友}、{部门}（可用：{单位}、{承办单位}、{日期}、{称呼}、{话题}）"]),
    ("  ", ["模板内容不能为空"]),
])
def test_template_problems_name_unknown_placeholders(body, problems):
    assert replies.template_problems(body) == problems


def test_an_approved_reply_the_channel_refuses_stays_approved_to_retry(session, district, channel_case, people):
    channel_case.priority = "urgent"
    session.commit()
    out = replies.submit(session, district, channel_case, people["slj_fyr"], GOOD, at("2026-10-08 09:00"))
    fake_channel.FAIL.append("接口超时")
    with pytest.raises(PublishError, match="接口超时"):
        replies.approve(session, out.reply, people["monitor1"], at("2026-10-08 09:10"))
    session.commit()
    reply = out.reply
    assert (reply.status, reply.approved_by_id) == ("pending_approval", people["monitor1"].id)
    assert channel_case.first_response_at is None and channel_case.status != "replied"
    replies.approve(session, reply, people["monitor1"], at("2026-10-08 09:20"))
    session.commit()
    assert reply.status == "published" and reply.publish_error is None
    assert channel_case.first_response_at == at("2026-10-08 09:20") and len(fake_channel.SENT) == 1


def test_a_case_that_cannot_take_a_reply_keeps_the_draft_unsent(session, district, channel_case, people):
    channel_case.status = "transferred_back"  # waiting for the monitoring centre's decision
    session.commit()
    out = replies.submit(session, district, channel_case, people["slj_fyr"], GOOD, at("2026-10-08 09:00"))
    session.commit()
    assert out.status == "blocked" and "不能回复" in out.findings[-1].message
    session.refresh(out.reply)
    session.refresh(channel_case)
    assert out.reply.status == "draft" and out.reply.published_at is None
    assert channel_case.first_response_at is None and fake_channel.SENT == []


def test_the_demo_channel_takes_a_reply_without_a_link(app, session, district, people):
    """On `make demo` a spokesperson answers through the demo's stand-in Weibo account as on the
    real one: no link to paste, and a Weibo comment's 140 characters."""
    from tests.replies.conftest import _case
    case = _case(app, session, "demo")
    now = at("2026-10-08 09:00")
    out = replies.submit(session, district, case, people["slj_fyr"], GOOD, now)
    session.commit()
    assert out.status == "published" and out.reply.channel == "demo" and out.reply.external_url is None
    assert case.first_response_at == now
