"""统一发布 pages: a spokesperson drafts a 情况通报 linked to a topic, the form names what is missing,
the unit head approves it, it goes out through a local Weibo-shaped statuses/share, and the topic page
shows it under 官方发布."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.models import OfficialAccount, Topic, Unit, UnitStatement, utcnow
from tests.collectors.fake_server import FakeServer, FakeWeibo
from tests.factories import login, make_user

REPORT = ("12月7日下午3时，区中山路与解放路路口发生一起燃气泄漏。区应急管理局已组织抢修，"
          "目前无人员受伤。咨询电话0574-87654321。")


@pytest.fixture
def weibo():
    with FakeServer() as server:
        yield FakeWeibo(server)


@pytest.fixture
def world(session, weibo):
    unit = session.execute(select(Unit).where(Unit.kind != "centre").order_by(Unit.id)).scalars().first()
    make_user(session, "spokes", "spokesperson", unit.code)
    make_user(session, "head", "spokesperson", unit.code, is_unit_head=True)
    make_user(session, "monitor1", "monitor", "center")
    now = utcnow()
    topic = Topic(key="gas", label="中山路燃气泄漏", keywords=["燃气"], unit_id=unit.id, post_count=30,
                  first_seen_at=now - timedelta(hours=2), last_seen_at=now)
    account = OfficialAccount(unit=unit, platform="weibo", handle="区应急发布", responsible="张三",
                              config={"base_url": weibo.base, "access_token": FakeWeibo.TOKEN, "uid": "2001"},
                              interval_seconds=3600, state={})
    session.add_all([topic, account])
    session.commit()
    return {"unit": unit, "topic": topic, "account": account}


def _draft(account, topic, text, **over):
    return {"account_id": str(account.id), "kind": "situation", "text": text, "topic_id": str(topic.id),
            "case_id": "", "scheduled_at": "", "action": "submit", **over}


def test_drafted_checked_approved_published_and_shown_on_the_topic(client, session, world, weibo):
    login(client, "spokes")
    page = client.get("/statements/").get_data(as_text=True)
    assert "起草发布稿" in page and "区应急发布" in page

    short = client.post("/statements/", data=_draft(world["account"], world["topic"], "区中山路发生燃气泄漏。"))
    body = short.get_data(as_text=True)
    assert short.status_code == 400
    for part in ("缺少时间", "缺少处置情况", "缺少咨询渠道"):
        assert part in body
    # kept as a draft, not sent to approval
    kept = session.execute(select(UnitStatement)).scalar_one()
    assert kept.status == "draft"

    bad_topic = client.post("/statements/", data=_draft(world["account"], world["topic"], REPORT, topic_id="999"))
    assert bad_topic.status_code == 400 and "话题 “999” 不存在" in bad_topic.get_data(as_text=True)

    sent = client.post("/statements/", data=_draft(world["account"], world["topic"], REPORT,
                                                    statement_id=str(kept.id)), follow_redirects=True)
    assert "已提交审核" in sent.get_data(as_text=True)
    session.refresh(kept)
    assert kept.status == "pending_approval" and kept.topic_id == world["topic"].id
    # the author sees it is not theirs to approve
    assert client.get("/statements/approvals").status_code == 403  # not a unit head
    assert client.post(f"/statements/{kept.id}/approve").status_code == 302
    session.refresh(kept)
    assert kept.status == "pending_approval" and weibo.shared == []

    client.post("/logout")
    login(client, "head")
    assert REPORT in client.get("/statements/approvals").get_data(as_text=True)
    done = client.post(f"/statements/{kept.id}/approve", follow_redirects=True)
    assert "已发布" in done.get_data(as_text=True)
    session.refresh(kept)
    assert kept.status == "published" and weibo.shared[0]["status"] == REPORT

    client.post("/logout")
    login(client, "monitor1")
    topic_page = client.get(f"/monitor/topics/{world['topic'].id}").get_data(as_text=True)
    assert "官方发布" in topic_page and REPORT in topic_page and kept.published_url in topic_page
    assert "发布前 24 小时：0 条" in topic_page and "发布后 24 小时：0 条" in topic_page


def test_an_erroneous_office_name_is_refused_on_the_form(client, session, world, weibo):
    login(client, "spokes")
    text = "区安监局提醒：本周开展燃气安全检查，咨询电话12345。"
    response = client.post("/statements/", data=_draft(world["account"], world["topic"], text, kind="notice",
                                                        confirmed="1"))
    assert response.status_code == 400 and "“安监局”应为“应急管理局”" in response.get_data(as_text=True)
    assert session.execute(select(UnitStatement.status)).scalar_one() == "draft" and weibo.shared == []


def test_a_rejected_statement_is_edited_and_sent_again_and_another_unit_cannot_touch_it(client, session, world, weibo):
    login(client, "spokes")
    client.post("/statements/", data=_draft(world["account"], world["topic"], REPORT))
    statement = session.execute(select(UnitStatement)).scalar_one()
    client.post("/logout")
    login(client, "head")
    client.post(f"/statements/{statement.id}/reject", data={"note": "请补充伤亡情况的核实来源"})
    session.refresh(statement)
    assert statement.status == "rejected"

    other = session.execute(select(Unit).where(Unit.kind != "centre").order_by(Unit.id)).scalars().all()[1]
    make_user(session, "stranger", "spokesperson", other.code)
    foreign = OfficialAccount(unit=other, platform="weibo", handle="他单位发布", responsible="李四",
                              config={"base_url": weibo.base, "access_token": FakeWeibo.TOKEN}, state={})
    session.add(foreign)
    session.commit()
    client.post("/logout")
    login(client, "stranger")
    hijack = client.post("/statements/", data=_draft(foreign, world["topic"], "改写", statement_id=str(statement.id)))
    assert hijack.status_code == 400 and "属于其他单位" in hijack.get_data(as_text=True)
    session.refresh(statement)
    assert statement.text == REPORT and statement.account_id == world["account"].id

    client.post("/logout")
    login(client, "spokes")
    page = client.get(f"/statements/?edit={statement.id}").get_data(as_text=True)
    assert "请补充伤亡情况的核实来源" in page and f'name="statement_id" value="{statement.id}"' in page
    again = client.post("/statements/", data=_draft(world["account"], world["topic"], REPORT + "伤亡情况经医院核实。",
                                                     statement_id=str(statement.id)), follow_redirects=True)
    assert "已提交审核" in again.get_data(as_text=True)
    session.refresh(statement)
    assert statement.status == "pending_approval" and statement.text.endswith("经医院核实。")
    assert session.execute(select(UnitStatement)).scalars().all() == [statement]


def test_a_monitor_with_no_account_registered_anywhere_is_told_what_to_do(client, session):
    make_user(session, "monitor1", "monitor", "center")
    login(client, "monitor1")
    response = client.get("/statements/", follow_redirects=True)
    assert "还没有任何单位登记政务账号" in response.get_data(as_text=True)


def test_when_the_admin_has_the_centre_approve_the_unit_head_cannot(client, session, world, weibo):
    """statement_approval set on 系统管理 → 发布与矩阵: the unit head's approval is refused, a monitor's is not."""
    make_user(session, "admin", "admin")
    login(client, "admin")
    form = {"statement_approval": "monitor", "silent_days": "7", "no_reply_days": "7",
            **{f"part-{i}-name": name for i, name in enumerate(("时间", "地点", "事件经过", "处置情况", "咨询渠道"))},
            **{f"part-{i}-on": "1" for i in range(5)}}
    assert "已保存" in client.post("/admin/publishing", data=form, follow_redirects=True).get_data(as_text=True)
    client.post("/logout")
    login(client, "spokes")
    client.post("/statements/", data=_draft(world["account"], world["topic"], REPORT))
    statement = session.execute(select(UnitStatement)).scalar_one()
    assert statement.status == "pending_approval"
    client.post("/logout")
    login(client, "head")
    refused = client.post(f"/statements/{statement.id}/approve", follow_redirects=True).get_data(as_text=True)
    assert "本区设置发布稿仅由舆情监测中心审核" in refused and weibo.shared == []
    session.refresh(statement)
    assert statement.status == "pending_approval"
    client.post("/logout")
    login(client, "monitor1")
    client.post(f"/statements/{statement.id}/approve")
    session.refresh(statement)
    assert statement.status == "published" and len(weibo.shared) == 1
