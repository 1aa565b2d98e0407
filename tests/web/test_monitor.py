"""The monitor console: live alert stream, acknowledge, hot topics, triage, topic page, search."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.models import Alert, AuditEvent, Case, Post, RoutingCorrection, Topic, Unit, utcnow
from opinion.pipeline.batch import ingest
from tests.factories import login, make_item, make_source, make_user


@pytest.fixture
def monitored(app, session):
    make_user(session, "monitor1", "monitor", "center")
    make_user(session, "slj_fyr", "spokesperson", "slj")
    ingest(session, app, make_source(session), [
        make_item("a", "中山路下穿隧道积水半米深，车子熄火在里面", author="市民甲", minutes_ago=180),
        make_item("b", "中山路隧道又积水了，每次下雨都变成河", author="市民乙", minutes_ago=90),
        make_item("c", "中山路隧道又积水了，每次下雨都变成河", author="市民丙", minutes_ago=30)])
    topic = session.execute(select(Topic)).scalars().first()
    alert = Alert(kind="negative_surge", severity="critical", message="中山路隧道积水 负面帖子激增",
                  dedup_key="surge:1", topic_id=topic.id)
    session.add(alert)
    session.commit()
    return topic, alert


def test_console_shows_alerts_hot_topics_with_sparklines(client, monitored):
    topic, alert = monitored
    login(client, "monitor1")
    html = client.get("/monitor/").get_data(as_text=True)
    assert "负面帖子激增" in html and f"/monitor/alerts/{alert.id}/acknowledge" in html
    assert f"/monitor/topics/{topic.id}" in html and "<polyline points=" in html
    assert "monitor.js" in html and "/sources/manual" in html


def test_quiet_topics_leave_the_hot_list_and_the_upkeep_marks_them_dormant(app, client, session, monitored):
    from opinion.topics.edit import close_quiet_topics
    topic, _ = monitored
    old = Topic(key="old1", label="上月的停水", status="open", post_count=40, hot_score=99.0,
                first_seen_at=utcnow() - timedelta(days=20), last_seen_at=utcnow() - timedelta(days=10))
    session.add(old)
    session.commit()
    login(client, "monitor1")
    html = client.get("/monitor/").get_data(as_text=True)
    assert f"/monitor/topics/{topic.id}" in html and "上月的停水" not in html
    hours = app.config["TOPIC_DORMANT_HOURS"]
    assert close_quiet_topics(session, timedelta(hours=hours)) == 1
    assert old.status == "dormant" and topic.status == "open"


def test_spokesperson_cannot_open_the_console_or_stream(client, monitored):
    login(client, "slj_fyr")
    assert client.get("/monitor/").status_code == 403
    assert client.get("/monitor/stream").status_code == 403


def test_stream_sends_alerts_after_the_last_seen_one(app, client, monitored):
    _, alert = monitored
    app.config.update(MONITOR_STREAM_SECONDS=0, MONITOR_STREAM_POLL=0)
    login(client, "monitor1")
    response = client.get("/monitor/stream?after=0")
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    assert f"id: {alert.id}\nevent: alert\n" in body and "负面帖子激增" in body
    assert "event: alert" not in client.get(f"/monitor/stream?after={alert.id}").get_data(as_text=True)
    resumed = client.get("/monitor/stream", headers={"Last-Event-ID": str(alert.id - 1)})
    assert f"id: {alert.id}\n" in resumed.get_data(as_text=True)
    assert client.get("/monitor/stream?after=x").status_code == 400


def test_acknowledge_alert_is_recorded_and_leaves_the_feed(client, session, monitored):
    _, alert = monitored
    login(client, "monitor1")
    response = client.post(f"/monitor/alerts/{alert.id}/acknowledge", follow_redirects=True)
    assert f"已确认预警 #{alert.id}" in response.get_data(as_text=True)
    session.refresh(alert)
    assert alert.status == "acknowledged" and alert.acknowledged_at is not None
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "alert.acknowledged")).scalar_one()
    again = client.post(f"/monitor/alerts/{alert.id}/acknowledge", follow_redirects=True)
    assert "无需重复确认" in again.get_data(as_text=True)


def _centre_case(session, title="有人反映某处有异味但说不清在哪"):
    centre = session.execute(select(Unit).where(Unit.code == "center")).scalar_one()
    now = utcnow()
    case = Case(unit_id=centre.id, title=title, priority="normal", status="new",
                routing_reason="分拨置信度不足", acknowledge_due_at=now + timedelta(hours=2),
                respond_due_at=now + timedelta(hours=24), resolve_due_at=now + timedelta(days=5))
    session.add(case)
    session.commit()
    return case


def test_triage_reassigns_to_a_unit_and_records_the_correction(client, session, monitored):
    case = _centre_case(session)
    login(client, "monitor1")
    assert f"/monitor/triage/{case.id}" in client.get("/monitor/").get_data(as_text=True)
    refused = client.post(f"/monitor/triage/{case.id}", data={"unit": "sthjj", "reason": ""},
                          follow_redirects=True)
    assert "请填写分拨理由" in refused.get_data(as_text=True)
    response = client.post(f"/monitor/triage/{case.id}", data={"unit": "sthjj", "reason": "异味属环保"},
                           follow_redirects=True)
    assert "已分拨至区生态环境分局" in response.get_data(as_text=True)
    session.refresh(case)
    assert case.unit.code == "sthjj" and "异味属环保" in case.routing_reason
    correction = session.execute(select(RoutingCorrection)).scalar_one()
    assert correction.to_unit_id == case.unit_id and "异味" in correction.text


def test_topic_page_folds_duplicates_and_renames(client, session, monitored):
    topic, _ = monitored
    login(client, "monitor1")
    html = client.get(f"/monitor/topics/{topic.id}").get_data(as_text=True)
    duplicates = session.execute(select(Post).where(Post.duplicate_of_id.is_not(None))).scalars().all()
    assert "积水" in html and "情绪构成" in html and "<polyline" in html
    if duplicates:
        assert "另有 1 条相同转发" in html
    response = client.post(f"/monitor/topics/{topic.id}/rename", data={"label": "中山路隧道积水"},
                           follow_redirects=True)
    assert "话题已更名为“中山路隧道积水”" in response.get_data(as_text=True)
    session.refresh(topic)
    assert topic.label == "中山路隧道积水" and topic.label_locked
    assert "不能为空" in client.post(f"/monitor/topics/{topic.id}/rename", data={"label": " "},
                                 follow_redirects=True).get_data(as_text=True)


@pytest.mark.parametrize("query,found", [("积水", 2), ("中山路 积水", 2), ("熄火", 1), ("地铁罢工", 0),
                                         ("積水", 2)])  # traditional characters find the same posts
def test_search_on_tokens(client, monitored, query, found):
    login(client, "monitor1")
    html = client.get("/monitor/search", query_string={"q": query}).get_data(as_text=True)
    if found:
        assert f"共 {found} 条" in html
    else:
        assert "没有找到" in html


def test_search_with_only_punctuation_says_so(client, monitored):
    login(client, "monitor1")
    assert "请输入要检索的词" in client.get("/monitor/search?q=，。").get_data(as_text=True)


def test_with_csrf_on_a_post_without_token_is_refused(app, client, session, monitored):
    _, alert = monitored
    login(client, "monitor1")  # logged in while CSRF checks are off (as the tests run)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/monitor/alerts/{alert.id}/acknowledge")
    assert response.status_code == 400
    session.refresh(alert)
    assert alert.status == "open"
    page = client.get("/monitor/").get_data(as_text=True)
    assert 'name="csrf_token" value="' in page


def test_sessions_expire(app):
    from datetime import timedelta
    lifetime = app.permanent_session_lifetime
    assert timedelta(minutes=5) <= lifetime <= timedelta(hours=12)


def test_consoles_beyond_the_stream_limit_poll_instead_of_holding_a_thread(app, client, monitored):
    _, alert = monitored
    app.config.update(MONITOR_MAX_STREAMS=1, MONITOR_STREAM_SECONDS=0, MONITOR_STREAM_POLL=0)
    login(client, "monitor1")
    first = client.get("/monitor/stream?after=0", buffered=False)
    slots = app.extensions["monitor_stream_slots"]
    assert next(iter(first.response)).startswith(b"retry: 2000")  # holds the only slot while open
    second = client.get("/monitor/stream?after=0").get_data(as_text=True)
    assert second.startswith("retry: 10000") and f"id: {alert.id}\n" in second
    first.close()  # the browser went away: the slot is free again
    assert slots.acquire(blocking=False)
    slots.release()


@pytest.fixture
def noise_topic(app, session, monitored):
    """A second topic beside the flood: night-time building noise on 人民路."""
    flood, _ = monitored
    ingest(session, app, make_source(session), [
        make_item("n1", "人民路工地夜间施工噪音太大，凌晨两点还在打桩", minutes_ago=20),
        make_item("n2", "人民路工地晚上施工噪音扰民", minutes_ago=10)])
    return session.execute(select(Topic).where(Topic.id != flood.id)).scalars().first()


def test_merge_and_split_topics_from_the_topic_page(app, client, session, monitored, noise_topic):
    topic, other = monitored[0], noise_topic
    login(client, "monitor1")
    page = client.get(f"/monitor/topics/{topic.id}").get_data(as_text=True)
    merge_form = page[page.index('name="into"'):]
    # the other topic is offered by name in both pickers (merge and move), this one is not
    assert page.count(f'<option value="{other.id}">#{other.id} ') == 2
    assert f'<option value="{topic.id}">' not in merge_form and 'type="number"' not in page
    posts = session.execute(select(Post.id).where(Post.topic_id == other.id)).scalars().all()
    split = client.post(f"/monitor/topics/{other.id}/split", data={"post": posts[:1]}, follow_redirects=True)
    assert "已将 1 条帖子移入话题" in split.get_data(as_text=True)
    new_topic = session.execute(select(Post.topic_id).where(Post.id == posts[0])).scalar_one()
    assert new_topic not in (topic.id, other.id)
    nothing = client.post(f"/monitor/topics/{other.id}/split", data={}, follow_redirects=True)
    assert "请选择要移动的帖子" in nothing.get_data(as_text=True)
    merged = client.post(f"/monitor/topics/{new_topic}/merge", data={"into": other.id}, follow_redirects=True)
    assert f"话题 #{new_topic} 已并入 #{other.id}" in merged.get_data(as_text=True)
    assert session.get(Topic, new_topic).status == "merged"
    assert session.execute(select(Post.topic_id).where(Post.id == posts[0])).scalar_one() == other.id
    itself = client.post(f"/monitor/topics/{other.id}/merge", data={"into": other.id}, follow_redirects=True)
    assert "不能把话题并入它自己" in itself.get_data(as_text=True)


@pytest.mark.parametrize("into,message", [
    ("99999", "没有编号为 99999 的话题"), ("#99999", "没有编号为 99999 的话题"),
    ("abc", "话题编号“abc”应为数字"), ("", "请从列表中选择要并入的话题"),
])
def test_merging_into_a_topic_that_does_not_exist_says_so(client, session, monitored, into, message):
    topic = monitored[0]
    login(client, "monitor1")
    page = client.post(f"/monitor/topics/{topic.id}/merge", data={"into": into}, follow_redirects=True)
    assert message in page.get_data(as_text=True)
    assert session.get(Topic, topic.id).status != "merged"


@pytest.mark.parametrize("path", ["/monitor/alerts/{alert}/acknowledge", "/monitor/triage/1",
                                  "/monitor/topics/{topic}/rename", "/monitor/topics/{topic}/merge"])
def test_leaders_read_but_cannot_act_on_the_console(client, session, monitored, path):
    topic, alert = monitored
    make_user(session, "leader", "leader")
    login(client, "leader")
    assert client.post(path.format(alert=alert.id, topic=topic.id), data={"label": "x", "into": 1}).status_code == 403
    session.refresh(alert)
    assert alert.status == "open"


def test_related_topics_are_suggested_and_folded_in_from_the_topic_page(client, session, monitored, noise_topic):
    flood, noise = monitored[0], noise_topic
    login(client, "monitor1")
    first = session.execute(select(Post.id).where(Post.external_id == "n1")).scalar_one()
    client.post(f"/monitor/topics/{noise.id}/split", data={"post": [first]})   # a fragment of the same matter
    fragment = session.execute(select(Post.topic_id).where(Post.id == first)).scalar_one()
    html = client.get(f"/monitor/topics/{noise.id}").get_data(as_text=True)
    related = html.split("可能相关的话题", 1)[1].split("</table>", 1)[0]
    assert f"#{fragment} " in related and f"#{flood.id} " not in related and "相似度" in related
    merged = client.post(f"/monitor/topics/{fragment}/merge", data={"into": noise.id}, follow_redirects=True)
    assert f"话题 #{fragment} 已并入 #{noise.id}" in merged.get_data(as_text=True)
    assert "可能相关的话题" not in client.get(f"/monitor/topics/{noise.id}").get_data(as_text=True)


def test_a_search_finds_every_post_that_contains_the_words(app, client, session, monitored):
    """梧桐 finds 老梧桐树 however jieba cut it; 老梧桐树 is not widened to 老旧小区 or 养老金."""
    ingest(session, app, make_source(session, "s3"), [
        make_item("w1", "小区里的老梧桐树被砍了，太可惜"),
        make_item("w2", "那棵老梧桐树有五十年了"),
        make_item("w3", "老梧桐树下的长椅也拆了"),
        make_item("w4", "老旧小区改造什么时候开始"),
        make_item("w5", "养老金今年涨了多少")])
    login(client, "monitor1")
    html = client.get("/monitor/search", query_string={"q": "梧桐"}).get_data(as_text=True)
    assert "共 3 条" in html
    html = client.get("/monitor/search", query_string={"q": "老梧桐树"}).get_data(as_text=True)
    assert "共 3 条" in html and "老旧小区" not in html and "养老金" not in html and "（含" not in html
    html = client.get("/monitor/search", query_string={"q": "梧桐樹"}).get_data(as_text=True)
    assert "共 3 条" in html  # traditional in the query finds the simplified posts


def test_a_search_word_finds_the_district_words_that_hold_it(app, client, session, monitored):
    ingest(session, app, make_source(session, "s2"), [
        make_item("g1", "夏天垃圾清运不及时，小区门口臭气熏天"),
        make_item("g2", "路口的垃圾桶满了没人管"),
        make_item("g3", "垃圾到处都是")])
    login(client, "monitor1")
    html = client.get("/monitor/search", query_string={"q": "垃圾"}).get_data(as_text=True)
    assert "共 3 条" in html and "垃圾清运" in html
    html = client.get("/monitor/search", query_string={"q": "垃圾清运"}).get_data(as_text=True)
    assert "共 1 条" in html
    html = client.get("/monitor/search", query_string={"q": "垃圾 中山路"}).get_data(as_text=True)
    assert "没有找到" in html  # every word must match, each by itself or a word that holds it


def _case_alerts(session, n=3):
    unit = session.execute(select(Unit).where(Unit.code == "slj")).scalar_one()
    now = utcnow()
    made = []
    for i in range(n):
        case = Case(unit_id=unit.id, title=f"超时工单{i}", priority="normal", status="new",
                    acknowledge_due_at=now - timedelta(hours=3), respond_due_at=now + timedelta(hours=2),
                    resolve_due_at=now + timedelta(days=3))
        session.add(case)
        session.flush()
        alert = Alert(kind="case_overdue", severity="warning", message=f"工单 #{case.id}「超时工单{i}」超时",
                      dedup_key=f"case_overdue:case:{case.id}", open_key=f"case_overdue:case:{case.id}",
                      case_id=case.id, topic_id=None)
        session.add(alert)
        made.append(alert)
    session.commit()
    return made


def test_case_alerts_link_to_the_case_and_are_acknowledged_in_bulk(client, session, monitored):
    _, topic_alert = monitored
    case_alerts = _case_alerts(session)
    login(client, "monitor1")
    html = client.get("/monitor/").get_data(as_text=True)
    for a in case_alerts:
        assert f'href="/cases/{a.case_id}"' in html and f'name="ids" value="{a.id}"' in html
    ids = [str(a.id) for a in case_alerts[:2]] + [str(topic_alert.id)]
    page = client.post("/monitor/alerts/acknowledge", data={"ids": ids, "next": "/monitor/"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已确认 3 条预警" in page
    statuses = {a.id: session.get(Alert, a.id).status for a in [*case_alerts, topic_alert]}
    assert [statuses[a.id] for a in case_alerts] == ["acknowledged", "acknowledged", "open"]
    again = client.post("/monitor/alerts/acknowledge", data={"ids": ids[:1] + [str(case_alerts[2].id)]},
                        follow_redirects=True).get_data(as_text=True)
    assert "已确认 1 条预警；1 条此前已确认或已解除" in again
    none = client.post("/monitor/alerts/acknowledge", data={}, follow_redirects=True).get_data(as_text=True)
    assert "没有勾选预警" in none
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "alert.acknowledged")).scalars().all()
    assert len(events) == 4


def test_alert_history_lists_every_alert_with_filters(client, session, monitored):
    _, topic_alert = monitored
    case_alerts = _case_alerts(session)
    login(client, "monitor1")
    client.post("/monitor/alerts/acknowledge", data={"ids": [str(case_alerts[0].id)]})
    page = client.get("/monitor/alerts").get_data(as_text=True)
    assert "共 4 条" in page and "已确认" in page and f'href="/cases/{case_alerts[0].case_id}"' in page
    assert f'href="/monitor/topics/{topic_alert.topic_id}"' in page
    acknowledged = client.get("/monitor/alerts?status=acknowledged").get_data(as_text=True)
    assert "共 1 条" in acknowledged and "超时工单0" in acknowledged and "超时工单1" not in acknowledged
    critical = client.get("/monitor/alerts?severity=critical").get_data(as_text=True)
    assert "共 1 条" in critical and "负面帖子激增" in critical
    kind = client.get("/monitor/alerts?kind=case_overdue&q=超时工单2").get_data(as_text=True)
    assert "共 1 条" in kind and "超时工单2" in kind
    bad_date = client.get("/monitor/alerts?since=昨天").get_data(as_text=True)
    assert "格式不对" in bad_date and "共 4 条" in bad_date
    login(client, "slj_fyr")
    assert client.get("/monitor/alerts").status_code == 403


def test_triage_preselects_the_classifiers_guess(client, session, monitored):
    case = _centre_case(session)
    case.category = "环境保护"
    session.commit()
    login(client, "monitor1")
    html = client.get("/monitor/").get_data(as_text=True)
    form = html[html.index(f"/monitor/triage/{case.id}"):]
    form = form[:form.index("</form>")]
    assert 'value="sthjj" selected' in form and "（分类器建议）" in form
    assert form.count("selected") == 1


def test_reassigning_a_level_5_case_clears_the_ladders_marks(client, session, monitored):
    case = _centre_case(session)
    case.escalation_level, case.supervised, case.special_report = 5, True, True
    session.commit()
    login(client, "monitor1")
    client.post(f"/monitor/triage/{case.id}", data={"unit": "sthjj", "reason": "异味属环保"})
    session.refresh(case)
    assert (case.escalation_level, case.supervised, case.special_report) == (0, False, False)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "专报批办" not in page and "查看专报" not in page and "现场督办</small>" not in page
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "case.transfer_reassigned")).scalar_one()
    assert event.before["escalation_level"] == 5 and event.before["special_report"] is True
