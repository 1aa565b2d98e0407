"""The 辟谣 workflow: a monitor marks a topic as a suspected rumour, the unit is told and verifies,
and the topic's posts before and after the refutation are compared on the topic page and in the
special report."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.errors import PermissionDenied
from opinion.matrix import rumours
from opinion.models import AuditEvent, Case, Notification, OfficialAccount, OfficialPost, Post, RumourCheck, Topic, Unit
from tests.conftest import at
from tests.factories import login, make_source, make_user

REFUTED = at("2026-11-23 12:00")


@pytest.fixture
def people(session):
    return {"monitor": make_user(session, "monitor1", "monitor", "center"),
            "fyr": make_user(session, "jyj_fyr", "spokesperson", "jyj"),
            "other": make_user(session, "zjj_fyr", "spokesperson", "zjj"),
            "leader": make_user(session, "leader", "leader")}


def _unit(session, code):
    return session.execute(select(Unit).where(Unit.code == code)).scalar_one()


@pytest.fixture
def topic(session):
    topic = Topic(key="rumour-1", label="网传实验小学食堂食物中毒", first_seen_at=REFUTED - timedelta(days=2),
                  last_seen_at=REFUTED + timedelta(days=1), unit_id=_unit(session, "jyj").id)
    session.add(topic)
    session.commit()
    return topic


def _posts(session, topic, spec):
    """spec: (offset from the refutation, negative?) for each post."""
    source = make_source(session)
    for i, (offset, negative) in enumerate(spec):
        session.add(Post(source_id=source.id, external_id=f"r{i}", raw_text="食堂", text="食堂", topic_id=topic.id,
                         created_at=REFUTED + offset, polarity="negative" if negative else "neutral"))
    session.commit()


def _window_posts(session, topic):
    """48 posts in the day before (the first exactly 24 h before, 36 negative) and 12 in the day
    from the refutation (the first exactly at it, 3 negative); one just before the day
    before, two exactly at the end of the day after (outside it)."""
    h = timedelta(hours=1)
    before = [(-24 * h + i * 30 * timedelta(minutes=1), i < 36) for i in range(48)]
    after = [(i * 2 * h, i < 3) for i in range(12)]
    outside = [(-24 * h - timedelta(minutes=1), True), (24 * h, False), (24 * h, False)]
    _posts(session, topic, before + after + outside)


def test_marking_a_rumour_notifies_the_unit_opens_a_case_and_is_audited(client, session, people, topic):
    login(client, "monitor1")
    page = client.post(f"/monitor/topics/{topic.id}/rumour",
                       data={"unit": _unit(session, "jyj").id, "note": "与区教育局通报不符"}, follow_redirects=True)
    assert "已标记为疑似谣言，并通知" in page.get_data(as_text=True)
    check = session.execute(select(RumourCheck)).scalar_one()
    assert check.status == "pending" and check.note == "与区教育局通报不符"
    case = session.get(Case, check.case_id)
    assert case.topic_id == topic.id and case.unit.code == "jyj"
    told = session.execute(select(Notification).where(Notification.user_id == people["fyr"].id,
                                                      Notification.subject.contains("疑似谣言"))).scalars().all()
    assert told and "与区教育局通报不符" in told[0].body and told[0].kind == "rumour_check"
    assert not session.execute(select(Notification).where(Notification.user_id == people["other"].id,
                                                          Notification.subject.contains("疑似谣言"))).first()
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "topic.rumour_marked")).scalar_one()
    assert event.object_id == topic.id and event.actor_id == people["monitor"].id
    # marking again while the unit has not answered is refused, in words
    again = client.post(f"/monitor/topics/{topic.id}/rumour",
                        data={"unit": _unit(session, "jyj").id, "note": "再次"}, follow_redirects=True)
    assert "正等待" in again.get_data(as_text=True)
    assert session.execute(select(RumourCheck)).scalars().all() == [check]


def test_a_non_monitor_cannot_mark_a_rumour(client, session, district, people, topic):
    login(client, "jyj_fyr")
    response = client.post(f"/monitor/topics/{topic.id}/rumour", data={"unit": _unit(session, "jyj").id, "note": "x"})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied, match="舆情监测员"):
        rumours.mark_rumour(session, district, topic, _unit(session, "jyj"), people["fyr"], "x", REFUTED)
    session.rollback()
    assert session.execute(select(RumourCheck)).first() is None


def test_the_unit_verifies_and_links_its_collected_post(client, session, district, people, topic):
    check = rumours.mark_rumour(session, district, topic, _unit(session, "jyj"), people["monitor"], "不符", REFUTED)
    account = OfficialAccount(unit_id=check.unit_id, platform="weibo", handle="海曙教育", config={}, state={})
    session.add(account)
    session.flush()
    session.add(OfficialPost(account_id=account.id, external_id="9", text="辟谣", url="https://weibo.com/9",
                             created_at=REFUTED - timedelta(minutes=5)))
    session.commit()
    login(client, "zjj_fyr")
    assert client.get(f"/matrix/rumours/{check.id}").status_code == 403
    client.post("/logout")
    login(client, "jyj_fyr")
    refused = client.post(f"/matrix/rumours/{check.id}", data={"verdict": "false", "note": "经核实不实"})
    assert "请先发布辟谣" in refused.get_data(as_text=True)
    done = client.post(f"/matrix/rumours/{check.id}", follow_redirects=True,
                       data={"verdict": "false", "note": "经核实不实", "refutation_url": "https://weibo.com/9"})
    assert "核实结果已登记" in done.get_data(as_text=True) and "不实" in done.get_data(as_text=True)
    session.refresh(check)
    assert check.verdict == "false" and check.official_post_id is not None
    assert check.refutation_at == REFUTED - timedelta(minutes=5)  # the collected post's own time
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "topic.rumour_verified")).scalar_one()


def test_before_after_cuts_at_the_refutation_with_exact_windows(session, topic):
    _window_posts(session, topic)
    f = rumours.before_after(session, topic.id, REFUTED, REFUTED + timedelta(days=3))
    # a post at the refutation counts after; one at exactly 24 h before counts, at 24 h after does not
    assert (f["before_posts"], f["after_posts"]) == (48, 12)
    assert (f["before_per_hour"], f["after_per_hour"]) == (2.0, 0.5)
    assert (f["before_negative"], f["after_negative"]) == (75, 25)
    assert f["sentence"] == "辟谣后每小时帖子数由 2 降至 0.5，负面占比由 75% 降至 25%"
    # while the day after is still running, the after rate is over the hours gone so far
    early = rumours.before_after(session, topic.id, REFUTED, REFUTED + timedelta(hours=4))
    assert early["after_posts"] == 12 and early["after_per_hour"] == 3.0


def test_topic_page_and_special_report_show_the_comparison(client, session, district, people, topic):
    _window_posts(session, topic)
    check = rumours.mark_rumour(session, district, topic, _unit(session, "jyj"), people["monitor"], "不符", REFUTED)
    rumours.record_verification(session, check, people["fyr"], "false", "不实", REFUTED,
                                refutation_url="https://weibo.com/ok", refutation_at=REFUTED)
    session.commit()
    login(client, "monitor1")
    page = client.get(f"/monitor/topics/{topic.id}").get_data(as_text=True)
    assert "辟谣后每小时帖子数由 2 降至 0.5，负面占比由 75% 降至 25%" in page
    assert "https://weibo.com/ok" in page and "不实" in page
    report = client.get(f"/leader/reports/view?kind=special&topic={topic.id}").get_data(as_text=True)
    assert "辟谣效果" in report and "负面占比由 75% 降至 25%" in report


def test_an_existing_case_carries_the_task_and_its_page_links_the_form(client, session, district, people, topic):
    from opinion.cases.lifecycle import open_or_attach
    case, _ = open_or_attach(session, district, topic, _unit(session, "jyj"), priority="normal", category=None,
                             reason="测试", now=REFUTED - timedelta(hours=3))
    session.commit()
    check = rumours.mark_rumour(session, district, topic, _unit(session, "jyj"), people["monitor"], "不符", REFUTED)
    session.commit()
    assert check.case_id == case.id and case.priority == "normal"  # the case's own deadlines stand
    assert session.execute(select(Case)).scalars().all() == [case]
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "case.rumour_check_added",
                                                    AuditEvent.object_id == case.id)).scalar_one()
    login(client, "jyj_fyr")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "疑似谣言核实（待核实）" in page and f"/matrix/rumours/{check.id}" in page
    # no collected post at the link: the time typed (Beijing) is the refutation's
    client.post(f"/matrix/rumours/{check.id}", data={"verdict": "partly_false", "note": "部分不实",
                                                     "refutation_url": "https://example.gov.cn/py",
                                                     "refutation_at": "2026-11-23T12:00"})
    session.refresh(check)
    assert check.verdict == "partly_false" and check.official_post_id is None
    assert check.refutation_at == REFUTED


def test_the_unit_picks_its_collected_post_and_not_another_units(client, session, district, people, topic):
    check = rumours.mark_rumour(session, district, topic, _unit(session, "jyj"), people["monitor"], "不符", REFUTED)
    posts = {}
    for code in ("jyj", "zjj"):
        account = OfficialAccount(unit_id=_unit(session, code).id, platform="weibo", handle=f"{code}发布",
                                  config={}, state={})
        session.add(account)
        session.flush()
        posts[code] = OfficialPost(account_id=account.id, external_id="1", text=f"{code}关于食堂的情况说明",
                                   url=f"https://weibo.com/{code}/1", created_at=REFUTED + timedelta(minutes=7))
        session.add(posts[code])
    session.commit()
    login(client, "jyj_fyr")
    form = client.get(f"/matrix/rumours/{check.id}").get_data(as_text=True)
    assert "jyj关于食堂的情况说明" in form and "zjj关于食堂的情况说明" not in form
    refused = client.post(f"/matrix/rumours/{check.id}", data={"verdict": "false", "note": "不实",
                                                               "official_post": posts["zjj"].id})
    assert "只能选择本单位账号" in refused.get_data(as_text=True)
    client.post(f"/matrix/rumours/{check.id}", data={"verdict": "false", "note": "不实",
                                                     "official_post": posts["jyj"].id})
    session.refresh(check)
    assert check.official_post_id == posts["jyj"].id and check.refutation_url == "https://weibo.com/jyj/1"
    assert check.refutation_at == REFUTED + timedelta(minutes=7)
