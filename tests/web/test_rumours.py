"""The 辟谣 workflow: a monitor marks a topic as a suspected rumour, the unit is told and verifies,
and the topic's posts before and after the refutation are compared on the topic page and in the
special report."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.errors import PermissionDenied
from opinion.matrix import rumours
from opinion.models import (
    AuditEvent,
    Case,
    Notification,
    OfficialAccount,
    OfficialPost,
    Post,
    RumourCheck,
    Topic,
    Unit,
    UnitStatement,
)
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


def _refutation(session, code, topic, at, text="网传实验小学食堂食物中毒不实：当日无学生就医记录", status="published",
                kind="rumour"):
    """A statement of unit `code`'s account (its account made if it has none), published at `at`."""
    unit = _unit(session, code)
    account = session.execute(select(OfficialAccount).where(OfficialAccount.unit_id == unit.id)).scalars().first()
    if account is None:
        account = OfficialAccount(unit_id=unit.id, platform="weibo", handle=f"{unit.name}发布", config={}, state={})
        session.add(account)
        session.flush()
    statement = UnitStatement(account_id=account.id, kind=kind, text=text, topic_id=topic.id, status=status,
                              published_at=at if status == "published" else None,
                              published_url=f"https://weibo.com/{code}/{at:%H%M}" if status == "published" else None)
    session.add(statement)
    session.commit()
    return statement


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
    assert "请选择本单位已发布的辟谣稿" in refused.get_data(as_text=True)
    post_id = session.execute(select(OfficialPost.id)).scalar_one()
    done = client.post(f"/matrix/rumours/{check.id}", follow_redirects=True,
                       data={"verdict": "false", "note": "经核实不实", "official_post": post_id})
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
    check = rumours.mark_rumour(session, district, topic, _unit(session, "jyj"), people["monitor"], "不符",
                                REFUTED - timedelta(hours=2))
    statement = _refutation(session, "jyj", topic, REFUTED)
    rumours.record_verification(session, check, people["fyr"], "false", "不实", REFUTED + timedelta(hours=1),
                                statement_id=statement.id)
    session.commit()
    assert (check.refutation_at, check.refutation_url) == (REFUTED, statement.published_url)
    assert check.statement_id == statement.id
    login(client, "monitor1")
    page = client.get(f"/monitor/topics/{topic.id}").get_data(as_text=True)
    assert "辟谣后每小时帖子数由 2 降至 0.5，负面占比由 75% 降至 25%" in page
    assert statement.published_url in page and "不实" in page and "当日无学生就医记录" in page
    report = client.get(f"/leader/reports/view?kind=special&topic={topic.id}").get_data(as_text=True)
    assert "辟谣效果" in report and "负面占比由 75% 降至 25%" in report and "当日无学生就医记录" in report


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
    # no statement yet: the form offers to draft one for this topic, as a 辟谣
    form = client.get(f"/matrix/rumours/{check.id}").get_data(as_text=True)
    assert "本单位近期还没有已发布的辟谣稿" in form and f"kind=rumour&amp;topic_id={topic.id}" in form
    statement = _refutation(session, "jyj", topic, REFUTED + timedelta(hours=3))
    assert "当日无学生就医记录" in client.get(f"/matrix/rumours/{check.id}").get_data(as_text=True)
    # once published, the unit's statement list leads back to the 核实 form
    listed = client.get("/statements/").get_data(as_text=True)
    assert f'href="/matrix/rumours/{check.id}">登记核实结果' in listed
    client.post(f"/matrix/rumours/{check.id}", data={"verdict": "partly_false", "note": "部分不实",
                                                     "statement": statement.id})
    session.refresh(check)
    assert check.verdict == "partly_false" and check.official_post_id is None  # pasted link, not collected
    assert check.refutation_at == REFUTED + timedelta(hours=3)


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
    assert check.statement_id is None and rumours.refutation_statement(session, check) is None
    assert check.refutation_at == REFUTED + timedelta(minutes=7)


def test_only_the_units_own_published_refutation_can_be_linked(client, session, district, people, topic):
    check = rumours.mark_rumour(session, district, topic, _unit(session, "jyj"), people["monitor"], "不符", REFUTED)
    others = _refutation(session, "zjj", topic, REFUTED + timedelta(minutes=5), text="住建局的辟谣")
    pending = _refutation(session, "jyj", topic, REFUTED, text="还在审核的辟谣", status="pending_approval")
    notice = _refutation(session, "jyj", topic, REFUTED + timedelta(minutes=9), text="一则通知", kind="notice")
    session.commit()
    login(client, "jyj_fyr")
    form = client.get(f"/matrix/rumours/{check.id}").get_data(as_text=True)
    assert "住建局的辟谣" not in form and "还在审核的辟谣" not in form and "一则通知" not in form
    for statement, message in ((others, "只能选择本单位发布的辟谣稿"), (pending, "不是已发布的辟谣"),
                               (notice, "不是已发布的辟谣")):
        refused = client.post(f"/matrix/rumours/{check.id}", data={"verdict": "false", "note": "经核实系谣传",
                                                                   "statement": statement.id})
        html = refused.get_data(as_text=True)
        assert message in html and "经核实系谣传" in html  # the note typed is kept
        session.refresh(check)
        assert check.status == "pending"


def test_the_word_special_report_has_the_refutation_block(runner, session, district, people, topic, tmp_path):
    import docx
    _window_posts(session, topic)
    check = rumours.mark_rumour(session, district, topic, _unit(session, "jyj"), people["monitor"], "不符",
                                REFUTED - timedelta(hours=2))
    statement = _refutation(session, "jyj", topic, REFUTED)
    rumours.record_verification(session, check, people["fyr"], "false", "不实", REFUTED, statement_id=statement.id)
    session.commit()
    out = tmp_path / "专报.docx"
    result = runner.invoke(args=["report", "special", "--topic", str(topic.id), "--out", str(out),
                                 "--now", "2026-11-25T12:00"])
    assert result.exit_code == 0, result.output
    document = docx.Document(str(out))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "（一）辟谣及效果" in text
    assert "区教育局“区教育局发布”于 2026-11-23 12:00 发布辟谣：网传实验小学食堂食物中毒不实" in text
    assert "辟谣后每小时帖子数由 2 降至 0.5，负面占比由 75% 降至 25%。" in text
    table = next(t for t in document.tables if t.rows[0].cells[-1].text == "负面占比")
    assert [[c.text for c in row.cells] for row in table.rows[1:]] == [
        ["辟谣前 24 小时", "48", "2", "75%"], ["辟谣后 24 小时", "12", "0.5", "25%"]]


def test_the_linked_statement_is_found_by_its_key_not_its_link(session, district, people, topic):
    """Two of the unit's statements at one link (a re-post, an edited link): the verification names
    the one the spokesperson picked, and keeps naming it if the link changes later."""
    check = rumours.mark_rumour(session, district, topic, _unit(session, "jyj"), people["monitor"], "不符", REFUTED)
    first = _refutation(session, "jyj", topic, REFUTED, text="第一则辟谣")
    picked = _refutation(session, "jyj", topic, REFUTED + timedelta(hours=1), text="被选中的辟谣")
    picked.published_url = first.published_url
    session.commit()
    rumours.record_verification(session, check, people["fyr"], "false", "不实", REFUTED + timedelta(hours=2),
                                statement_id=picked.id)
    session.commit()
    picked.published_url = "https://weibo.com/jyj/changed"
    session.commit()
    assert rumours.refutation_statement(session, check).id == picked.id
    assert rumours.refutation_text(session, check)["text"] == "被选中的辟谣"
