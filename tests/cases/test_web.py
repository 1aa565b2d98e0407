"""The case page's actions, the conflict message of optimistic locking, the audit log and duty pages."""
from sqlalchemy import select, update

from opinion.cases import supervision
from opinion.cases.deadlines import set_deadlines
from opinion.models import AuditEvent, Case, DutyShift, Instruction, RoutingCorrection, db, utcnow
from tests.cases.conftest import open_case
from tests.factories import login


def _case(session, district):
    case = open_case(session, district, start="2026-11-23 09:00")
    case.created_at = utcnow()  # opened now, so the transfer window is still open
    set_deadlines(case, district)
    session.commit()
    return case


def test_transfer_back_and_the_centres_decision(client, session, district, people):
    case = _case(session, district)
    login(client, "jyj_fyr")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "申请退回" in page and "退回时限" in page and "剩余" in page
    refused = client.post(f"/cases/{case.id}/transfer", data={"reason": " ", "version": case.version, "form": "transfer"})
    assert refused.status_code == 400 and "须填写退回理由" in refused.get_data(as_text=True)
    assert session.get(Case, case.id).status == "new"
    client.post(f"/cases/{case.id}/transfer", data={"reason": "工地噪音归住建局", "suggested_unit": "zjj",
                                                   "version": case.version})
    session.expire_all()
    assert session.get(Case, case.id).status == "transferred_back"
    client.post("/logout")
    login(client, "monitor1")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "工地噪音归住建局" in page and "建议由区住房和城乡建设局办理" in page
    response = client.post(f"/cases/{case.id}/transfer/decide", follow_redirects=True,
                           data={"decision": "reassign", "to_unit": "zjj", "note": "确属住建局",
                                 "version": session.get(Case, case.id).version})
    assert "已同意退回，工单改派至区住房和城乡建设局" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Case, case.id).unit.code == "zjj"
    assert session.execute(select(RoutingCorrection.to_unit_id)).scalar_one() == session.get(Case, case.id).unit_id


def test_a_stale_page_gets_a_conflict_message_and_keeps_the_input(client, session, district, people):
    case = _case(session, district)
    seen = case.version
    # Another monitor changes the case after this page was shown.
    supervision.change_priority(session, district, case, people["monitor2"], "high", "家长聚集",
                                case.created_at)
    session.commit()
    login(client, "monitor1")
    response = client.post(f"/cases/{case.id}/priority", data={"priority": "urgent", "reason": "有学生受伤",
                                                               "version": seen, "form": "priority"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "已被他人修改" in html and 'value="有学生受伤"' in html
    session.expire_all()
    assert session.get(Case, case.id).priority == "high"  # the first change stands, nothing overwritten
    # Resubmitting from the refreshed page works.
    ok = client.post(f"/cases/{case.id}/priority", data={"priority": "urgent", "reason": "有学生受伤",
                                                         "version": session.get(Case, case.id).version})
    assert ok.status_code == 302
    session.expire_all()
    assert session.get(Case, case.id).priority == "urgent"


def test_losing_the_race_at_commit_is_a_conflict_too(client, session, district, people, monkeypatch):
    case = _case(session, district)
    original = supervision.change_priority

    def racing(session_, district_, case_, *args, **kwargs):
        # Another monitor's transaction commits between this request's read and its write.
        with db.engine.begin() as conn:
            conn.execute(update(Case.__table__).where(Case.__table__.c.id == case_.id)
                         .values(version=case_.version + 1, priority="high"))
        return original(session_, district_, case_, *args, **kwargs)

    monkeypatch.setattr(supervision, "change_priority", racing)
    login(client, "monitor1")
    response = client.post(f"/cases/{case.id}/priority", data={"priority": "urgent", "reason": "有学生受伤",
                                                               "version": case.version, "form": "priority"})
    assert response.status_code == 409 and "刚被他人修改" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Case, case.id).priority == "high"
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "case.priority_changed")).first() is None


def test_leader_writes_an_instruction_shown_on_the_case(client, session, district, people):
    case = _case(session, district)
    login(client, "leader")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "发送批示" in page and "提交回复" not in page and "申请退回" not in page
    client.post(f"/cases/{case.id}/instruction", data={"text": "请今日内答复家长", "version": case.version})
    assert session.execute(select(Instruction.text)).scalar_one() == "请今日内答复家长"
    client.post("/logout")
    login(client, "jyj_fyr")
    assert "请今日内答复家长" in client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert client.post(f"/cases/{case.id}/instruction", data={"text": "发言人冒充批示"}).status_code == 400


def test_callback_unsatisfied_reopens_from_the_page(client, session, district, people):
    case = _case(session, district)
    from opinion.cases import lifecycle as service
    service.add_reply(session, case, people["fyr"], "已核实", case.created_at)
    service.resolve(session, case, people["fyr"], "已办", case.created_at)
    session.commit()
    login(client, "monitor1")
    refused = client.post(f"/cases/{case.id}/callback", data={"satisfaction": "unsatisfied", "note": "",
                                                               "form": "callback"})
    assert refused.status_code == 400 and "不满意的原因" in refused.get_data(as_text=True)
    client.post(f"/cases/{case.id}/callback", data={"satisfaction": "unsatisfied", "note": "托管费用仍未退还"})
    session.expire_all()
    assert session.get(Case, case.id).status == "reopened"
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "重新办理" in page and "已办结 → 重新办理" in page


def test_audit_log_page_filters_exports_and_cannot_be_changed(client, session, district, people):
    case = _case(session, district)
    login(client, "jyj_fyr")
    assert client.get("/audit/").status_code == 403
    client.post("/logout")
    login(client, "monitor1")
    html = client.get(f"/audit/?object_type=case&object_id={case.id}").get_data(as_text=True)
    rows = html.split('<ol class="audit-log">')[1]  # the log, not the filter's list of actions
    assert "立案" in rows and "新建账号" not in rows and "user.created" not in rows
    users = client.get("/audit/?object_type=user&actor=system").get_data(as_text=True)
    users = users.split('<ol class="audit-log">')[1]
    assert "新建账号" in users and f"/cases/{case.id}" not in users
    bad = client.get("/audit/?object_id=abc&since=昨天")
    assert bad.status_code == 400 and "应为数字" in bad.get_data(as_text=True)
    csv = client.get(f"/audit/export.csv?object_type=case&object_id={case.id}")
    assert csv.mimetype == "text/csv" and "case.opened" in csv.get_data(as_text=True)
    assert client.post("/audit/").status_code == 405
    assert client.post(f"/audit/{1}").status_code == 404


def test_duty_roster_page(client, session, district, people):
    login(client, "jyj_head")
    page = client.get("/duty/").get_data(as_text=True)
    assert "区教育局" in page and "排班" in page
    bad = client.post("/duty/add?unit=jyj", data={"user": people["fyr"].id, "start": "明天", "end": "2026-11-24T08:00"})
    assert bad.status_code == 400 and "无法识别" in bad.get_data(as_text=True)
    client.post("/duty/add?unit=jyj", data={"user": people["fyr2"].id, "start": "2030-01-01T17:30",
                                            "end": "2030-01-02T08:30", "urgent_cover": "1"})
    shift = session.execute(select(DutyShift)).scalar_one()
    assert shift.urgent_cover and shift.user_id == people["fyr2"].id
    client.post("/logout")
    login(client, "jyj_fyr")
    page = client.get("/duty/").get_data(as_text=True)
    assert "2030-01-01 17:30" in page and "<h2>排班</h2>" not in page
    client.post(f"/duty/{shift.id}/remove")
    assert session.execute(select(DutyShift)).first() is not None  # a plain spokesperson cannot remove it


def test_supervision_board_lists_what_waits_on_the_centre(client, session, district, people):
    from opinion.cases import transfers
    from opinion.jobs import ladder_pass as tick
    case = _case(session, district)
    transfers.transfer_back(session, district, case, people["fyr"], "工地噪音归住建局", utcnow())
    ignored = open_case(session, district, priority="high", start="2026-11-23 09:00", label="校车停运")
    tick(session, district, ignored.created_at.replace(hour=5))  # 13:00 Beijing: acknowledge missed
    session.commit()
    login(client, "jyj_fyr")
    assert client.get("/supervision/").status_code == 403
    client.post("/logout")
    login(client, "monitor1")
    html = client.get("/supervision/").get_data(as_text=True)
    assert "工地噪音归住建局" in html and "校车停运" in html and "第2级 人工交办" in html


def test_a_level_5_case_links_to_its_special_report(client, session, district, people):
    from opinion.jobs import ladder_pass as tick
    case = open_case(session, district, priority="urgent", start="2026-11-23 09:00", label="工地塌方")
    tick(session, district, case.created_at.replace(hour=3))  # 11:00 Beijing: urgent and overdue
    session.commit()
    login(client, "leader")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "专报批办" in html and "查看专报" in html
    assert client.get(f"/leader/reports/view?kind=special&case={case.id}").status_code == 200


def test_case_page_folds_copies_and_shows_influence_and_trend(client, session, district, people):
    from datetime import timedelta

    from opinion.models import Post, Source
    from tests.conftest import at
    case = open_case(session, district, start="2026-11-23 09:00")
    source = Source(code="s", name="微博", kind="demo", config={}, state={})
    session.add(source)
    session.flush()

    def post(ext, text, minutes, **kw):
        p = Post(source_id=source.id, external_id=ext, raw_text=text, text=text, topic_id=case.topic_id,
                 created_at=at("2026-11-23 09:00") + timedelta(minutes=minutes), **kw)
        session.add(p)
        session.flush()
        return p

    original = post("o", "实验小学推迟开学，家长着急", 0, author="家长甲", author_followers=123456)
    for i in range(3):
        post(f"c{i}", "实验小学推迟开学，家长着急", 60 * (i + 1), duplicate_of_id=original.id)
    post("x", "开学时间到底定了没有", 600, author="家长乙")
    case.topic.first_seen_at, case.topic.last_seen_at = at("2026-11-23 09:00"), at("2026-11-23 19:00")
    session.commit()
    login(client, "jyj_fyr")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "网民帖子（2）" in page  # the three copies fold into their original
    assert "另有 3 条相同转发" in page and "123,456" in page
    assert '<svg class="trend"' in page
    # A wave whose original sits in another topic shows its first copy, with the rest counted.
    from opinion.models import Topic
    elsewhere = Topic(key="other", label="别处", status="open", post_count=1, negative_count=0, hot_score=0.0,
                      first_seen_at=at("2026-11-22 09:00"), last_seen_at=at("2026-11-22 09:00"))
    session.add(elsewhere)
    session.flush()
    source_post = Post(source_id=source.id, external_id="far", raw_text="区医院挂号排长队三小时",
                       text="区医院挂号排长队三小时", topic_id=elsewhere.id, created_at=at("2026-11-22 09:00"))
    session.add(source_post)
    session.flush()
    for i in range(5):
        post(f"w{i}", "区医院挂号排长队三小时", 700 + i, duplicate_of_id=source_post.id)
    session.commit()
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "网民帖子（3）" in page and page.count("区医院挂号排长队三小时") == 1
    assert "另有 4 条相同转发" in page


def test_the_centre_s_decisions_say_what_was_decided(client, session, district, people):
    from zoneinfo import ZoneInfo

    from opinion.models import CaseExtension

    def ask(days, reason):
        login(client, "jyj_fyr")
        client.post(f"/cases/{case.id}/extension", data={"days": days, "reason": reason,
                                                        "version": session.get(Case, case.id).version})
        client.post("/logout")
        login(client, "monitor1")
        return session.execute(select(CaseExtension.id).order_by(CaseExtension.id.desc())).scalars().first()

    def decide(ext, decision, note):
        session.expire_all()
        return client.post(f"/cases/{case.id}/extension/{ext}", follow_redirects=True, data={
            "decision": decision, "note": note, "version": session.get(Case, case.id).version}).get_data(as_text=True)

    case = _case(session, district)
    page = decide(ask("3", "需协调三个部门"), "approve", "同意")
    session.expire_all()
    due = session.get(Case, case.id).resolve_due_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"已批准延期，办结时限延至 {due:%Y-%m-%d %H:%M}" in page
    client.post("/logout")
    assert "已驳回延期申请，办结时限不变" in decide(ask("2", "再等检测结果"), "refuse", "不同意")
