"""Publishing from the unit's own account (统一发布稿): through a local Weibo-shaped statuses/share,
only once approved by someone else, and never with a wrong office name or a 情况通报 missing its parts."""
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.errors import CaseStateError, DistrictFileError, PermissionDenied
from opinion.jobs import matrix_collect
from opinion.matrix import statements
from opinion.matrix.collect import collect_account
from opinion.models import AuditEvent, OfficialAccount, OfficialPost, Post, Source, Topic, Unit, UnitStatement, utcnow
from opinion.settings.district import load_district
from tests.collectors.fake_server import FakeWeibo
from tests.conftest import REPO
from tests.factories import make_user

REPORT = ("12月7日下午3时，区中山路与解放路路口发生一起燃气泄漏。区应急管理局已组织抢修，"
          "目前无人员受伤，周边交通正在恢复。咨询电话0574-87654321。")
NOTICE = "本周六上午9时起暂停办理业务，咨询电话12345。"


@pytest.fixture
def people(session):
    unit = session.execute(select(Unit).where(Unit.kind != "centre").order_by(Unit.id)).scalars().first()
    return {"unit": unit,
            "spokes": make_user(session, "spokes", "spokesperson", unit.code),
            "head": make_user(session, "head", "spokesperson", unit.code, is_unit_head=True),
            "monitor": make_user(session, "monitor1", "monitor", "center")}


def _account(session, unit, weibo=None, **config) -> OfficialAccount:
    cfg = {"base_url": weibo.base, "access_token": FakeWeibo.TOKEN, "uid": "2001", **config} if weibo else \
        {"feed_url": "http://127.0.0.1:9/feed"}
    account = OfficialAccount(unit=unit, platform="weibo" if weibo else "wechat", handle=f"{unit.name}发布",
                              responsible="张三", config=cfg, interval_seconds=3600, state={})
    session.add(account)
    session.commit()
    return account


def test_published_through_statuses_share_once_the_head_approves(session, district, weibo, people):
    now = utcnow()
    account = _account(session, people["unit"], weibo)
    draft = statements.save_draft(session, people["spokes"], account, "situation", REPORT, now)
    outcome = statements.submit(session, district, draft, people["spokes"], now)
    session.commit()
    assert outcome.status == "pending_approval" and weibo.shared == []
    # the author cannot approve their own statement, nor can another unit's spokesperson
    with pytest.raises(PermissionDenied):
        statements.approve(session, district, draft, people["spokes"], now)
    statements.approve(session, district, draft, people["head"], now)
    session.commit()
    assert draft.status == "published" and len(weibo.shared) == 1
    assert weibo.shared[0]["status"] == REPORT and weibo.shared[0]["access_token"] == FakeWeibo.TOKEN
    assert draft.published_url == f"https://weibo.com/2001/{weibo.shared[0]['new_id']}"
    assert draft.approver_id == people["head"].id
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "statement.published")).scalar_one()
    # in the matrix at once; the next collection finds the same status and does not store it twice
    weibo.add_account("2001", "区政府发布", followers=100)
    weibo.own["2001"].append({"created_at": "Mon Dec 07 10:00:00 +0800 2026", "id": weibo.shared[0]["new_id"],
                              "idstr": str(weibo.shared[0]["new_id"]), "mid": str(weibo.shared[0]["new_id"]),
                              "text": REPORT, "user": weibo.accounts["2001"], "reposts_count": 3,
                              "comments_count": 2, "attitudes_count": 9})
    collect_account(session, account, now + timedelta(minutes=5))
    session.commit()
    post = session.execute(select(OfficialPost)).scalar_one()
    assert (post.text, post.likes, post.url) == (REPORT, 9, draft.published_url)


def test_refused_without_approval(session, district, weibo, people):
    now = utcnow()
    account = _account(session, people["unit"], weibo)
    draft = statements.save_draft(session, people["spokes"], account, "notice", NOTICE, now)
    with pytest.raises(CaseStateError, match="未经审核"):
        statements.publish(session, district, draft, now)
    statements.submit(session, district, draft, people["spokes"], now, confirmed=True)
    with pytest.raises(CaseStateError, match="未经审核"):
        statements.publish(session, district, draft, now)  # pending is not approved
    assert weibo.shared == [] and draft.published_url is None


def test_refused_with_an_erroneous_office_name(session, district, weibo, people):
    now = utcnow()
    account = _account(session, people["unit"], weibo)
    text = "区安监局提醒：本周开展燃气安全检查，咨询电话12345。"
    draft = statements.save_draft(session, people["spokes"], account, "authoritative", text, now)
    outcome = statements.submit(session, district, draft, people["spokes"], now, confirmed=True)
    assert outcome.status == "blocked" and draft.status == "draft"
    assert any(f.severity == "error" and "“安监局”应为“应急管理局”" in f.message for f in outcome.findings)
    # nor can an approved one go out once the word list names it (checked again at publication)
    draft.text = "本周开展燃气安全检查，咨询电话12345。"
    statements.submit(session, district, draft, people["spokes"], now, confirmed=True)
    statements.approve(session, district, draft, people["monitor"], now + timedelta(minutes=1))
    assert draft.status == "published" and len(weibo.shared) == 1


def test_a_situation_report_missing_parts_is_refused_naming_them(session, district, weibo, people):
    now = utcnow()
    account = _account(session, people["unit"], weibo)
    draft = statements.save_draft(session, people["spokes"], account, "situation",
                                  "区中山路发生一起燃气泄漏。", now)
    outcome = statements.submit(session, district, draft, people["spokes"], now, confirmed=True)
    missing = {f.message for f in outcome.findings if f.kind == "missing_part"}
    assert outcome.status == "blocked"
    assert missing == {"缺少时间（情况通报须写明）", "缺少处置情况（情况通报须写明）", "缺少咨询渠道（情况通报须写明）"}
    # the same text as a 通知 has no such parts to miss
    assert statements.check_statement(district, "notice", draft.text) == []


def test_scheduled_statement_waits_then_a_refusing_channel_keeps_it_to_retry(session, district, weibo, people):
    now = utcnow()
    account = _account(session, people["unit"], weibo)
    draft = statements.save_draft(session, people["spokes"], account, "situation", REPORT, now,
                                  scheduled_at=now + timedelta(hours=1))
    statements.submit(session, district, draft, people["spokes"], now)
    statements.approve(session, district, draft, people["head"], now)
    assert draft.status == "approved" and weibo.shared == []
    assert statements.publish_due(session, district, now + timedelta(minutes=30)) == []
    weibo.error = {"status": 400, "body": {"error": "expired_token", "error_code": 21327}}
    lines = statements.publish_due(session, district, now + timedelta(hours=1))
    assert draft.status == "failed" and "访问令牌已过期" in draft.last_error and "未发布" in lines[0]
    weibo.error = None
    statements.publish(session, district, draft, now + timedelta(hours=2))
    assert draft.status == "published" and len(weibo.shared) == 1


def test_an_account_without_a_channel_is_published_with_the_pasted_link(session, district, people):
    now = utcnow()
    account = _account(session, people["unit"])  # a 公众号: read through a feed, no publishing API
    draft = statements.save_draft(session, people["spokes"], account, "notice", NOTICE, now)
    statements.submit(session, district, draft, people["spokes"], now, confirmed=True)
    session.commit()
    with pytest.raises(CaseStateError, match="发布链接"):
        statements.approve(session, district, draft, people["monitor"], now)
    session.rollback()  # the web layer rolls back a refused approval: still pending, nothing recorded
    assert draft.status == "pending_approval" and draft.approver_id is None
    statements.approve(session, district, draft, people["monitor"], now, link="https://mp.weixin.qq.com/s/abc")
    assert (draft.status, draft.published_url) == ("published", "https://mp.weixin.qq.com/s/abc")


def test_only_the_units_spokesperson_or_a_monitor_drafts(session, district, weibo, people):
    other = session.execute(select(Unit).where(Unit.kind != "centre").order_by(Unit.id)).scalars().all()[1]
    stranger = make_user(session, "stranger", "spokesperson", other.code)
    account = _account(session, people["unit"], weibo)
    with pytest.raises(PermissionDenied):
        statements.save_draft(session, stranger, account, "notice", "通知", utcnow())


def test_the_scheduler_publishes_a_scheduled_statement_when_its_time_comes(app, session, district, weibo, people):
    now = utcnow()
    account = _account(session, people["unit"], weibo)
    draft = statements.save_draft(session, people["spokes"], account, "notice", NOTICE, now,
                                  scheduled_at=now + timedelta(hours=1))
    statements.submit(session, district, draft, people["spokes"], now, confirmed=True)
    statements.approve(session, district, draft, people["head"], now)
    session.commit()
    matrix_collect(app, now=now + timedelta(minutes=59))
    assert weibo.shared == []
    matrix_collect(app, now=now + timedelta(hours=1))
    session.expire_all()
    assert [s["status"] for s in weibo.shared] == [NOTICE]
    assert session.get(UnitStatement, draft.id).status == "published"


def test_where_the_district_has_the_centre_approve_a_unit_head_cannot(session, district, weibo, people, tmp_path):
    centre_only = replace(district, statement_approval="monitor")
    now = utcnow()
    draft = statements.save_draft(session, people["spokes"], _account(session, people["unit"], weibo),
                                  "notice", NOTICE, now)
    statements.submit(session, centre_only, draft, people["spokes"], now, confirmed=True)
    with pytest.raises(PermissionDenied, match="本区设置发布稿仅由舆情监测中心审核"):
        statements.approve(session, centre_only, draft, people["head"], now)
    statements.approve(session, centre_only, draft, people["monitor"], now)
    assert draft.status == "published" and draft.approver_id == people["monitor"].id

    wrong = tmp_path / "district.yaml"
    wrong.write_text((REPO / "opinion" / "district.yaml").read_text(encoding="utf-8")
                     .replace("statement_approval: head_or_monitor", "statement_approval: boss"), encoding="utf-8")
    with pytest.raises(DistrictFileError, match="发布稿审核方式 “boss” 无效"):
        load_district(wrong)


def test_reception_compares_the_topics_posts_before_and_after_the_statement(session, district, weibo, people):
    now = utcnow()
    source = Source(code="wb", name="微博", kind="demo", config={}, state={})
    topic = Topic(key="gas", label="燃气泄漏", keywords=["燃气"], post_count=7, first_seen_at=now - timedelta(hours=5),
                  last_seen_at=now)
    session.add_all([source, topic])
    session.flush()
    for n, (hours, polarity) in enumerate([(-3, "negative"), (-2, "negative"), (-1, "neutral"), (-30, "negative"),
                                           (1, "negative"), (2, "positive"), (3, "neutral"), (5, "neutral")]):
        session.add(Post(source_id=source.id, external_id=f"p{n}", raw_text="燃气", text="燃气", topic_id=topic.id,
                         created_at=now + timedelta(hours=hours), polarity=polarity))
    draft = statements.save_draft(session, people["spokes"], _account(session, people["unit"], weibo),
                                  "situation", REPORT, now, topic_id=topic.id)
    assert statements.reception(session, draft) is None   # not out yet
    statements.submit(session, district, draft, people["spokes"], now)
    statements.approve(session, district, draft, people["head"], now)
    got = statements.reception(session, draft)
    # the post 30 hours before lies outside the 24-hour window
    assert (got.before, got.before_negative, got.after, got.after_negative) == (3, 2, 4, 1)
    assert (round(got.before_share, 2), got.after_share) == (0.67, 0.25)
    assert statements.for_topic(session, topic.id) == [draft]
