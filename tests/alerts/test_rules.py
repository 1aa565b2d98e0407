"""Alert rules: each fires on its condition, once per condition, clears, and is acknowledged."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from opinion.alerts.engine import acknowledge_alert, evaluate_all, evaluate_batch
from opinion.errors import AlertStateError, PermissionDenied
from opinion.models import Alert, AuditEvent, Case, Notification, Post, Source, Topic, Unit, utcnow
from opinion.pipeline.batch import ingest
from tests.factories import make_item, make_source, make_user


def alerts(session, kind=None):
    query = select(Alert).order_by(Alert.id)
    if kind:
        query = query.where(Alert.kind == kind)
    return session.execute(query).scalars().all()


def test_sensitive_word_fires_at_ingest_once_per_topic_and_links_posts(app, session):
    make_user(session, "monitor1", "monitor")
    source = make_source(session)
    ingest(session, app, source, [make_item("a1", "城管暴力执法打伤摊贩，现场有人拍下视频")])
    [alert] = alerts(session, "sensitive_word")
    assert alert.status == "open" and alert.severity == "warning"
    assert "暴力执法" in alert.message and alert.topic_id is not None
    first = session.execute(select(Post).where(Post.external_id == "a1")).scalar_one()
    assert alert.post_id == first.id and alert.post_ids == [first.id]
    # The same condition (topic + word) again: no second alert, the post is added to the first.
    ingest(session, app, source, [make_item("a2", "城管暴力执法打伤摊贩的视频，现场有人拍下")])
    [again] = alerts(session, "sensitive_word")
    assert again.id == alert.id and len(again.post_ids) == 2
    # The monitor was told in-app (no e-mail or phone on record: nothing else queued).
    rows = session.execute(select(Notification).where(Notification.alert_id == alert.id)).scalars().all()
    assert [r.channel for r in rows] == ["inapp"] and rows[0].user.username == "monitor1"


def test_old_posts_do_not_alarm(app, session):
    source = make_source(session)
    ingest(session, app, source, [make_item("old", "当年的腐败案件回顾", minutes_ago=60 * 24 * 3)])
    assert alerts(session, "sensitive_word") == []


def test_critical_word_is_critical(app, session):
    ingest(session, app, make_source(session), [make_item("b1", "化工厂发生爆炸，浓烟滚滚")])
    assert [a.severity for a in alerts(session, "sensitive_word") if "爆炸" in a.message] == ["critical"]


def test_a_sensitive_word_in_traditional_characters_fires(app, session):
    ingest(session, app, make_source(session), [make_item("t1", "城管暴力執法打傷攤販，現場有人拍下視頻")])
    [alert] = alerts(session, "sensitive_word")
    assert "“暴力执法”" in alert.message and "暴力執法" in alert.message  # the word, then the post as written


def test_influential_author_posting_negatively(app, session):
    source = make_source(session)
    ingest(session, app, source, [
        make_item("v1", "垃圾站臭气熏天，投诉多次没人管，太失望了，差评", author="大V甲", author_followers=500_000),
        make_item("v2", "垃圾站臭气熏天，投诉多次没人管，太失望了", author="小号乙", author_followers=50)])
    found = alerts(session, "influential_negative")
    post = session.execute(select(Post).where(Post.external_id == "v1")).scalar_one()
    assert post.polarity == "negative"
    assert len(found) == 1 and "大V甲" in found[0].message and found[0].post_ids == [post.id]


def _seed_topic(session, source, n: int, minutes_ago: float, polarity: str, topic: Topic, now, prefix):
    for i in range(n):
        session.add(Post(source_id=source.id, external_id=f"{prefix}{i}", raw_text="排水", text="排水",
                         created_at=now - timedelta(minutes=minutes_ago + i * 0.1), collected_at=now,
                         polarity=polarity, topic_id=topic.id))
    session.commit()


def test_volume_burst_and_negative_surge_fire_then_clear(app, session):
    now = utcnow()
    source = make_source(session)
    topic = Topic(key="tb", label="中山路积水", first_seen_at=now - timedelta(hours=20), last_seen_at=now)
    session.add(topic)
    session.commit()
    _seed_topic(session, source, 4, 60 * 10, "neutral", topic, now, "base")   # a quiet past
    _seed_topic(session, source, 30, 5, "negative", topic, now, "wave")       # then 30 in the hour
    evaluate_all(session, app, now)
    session.commit()
    burst, = alerts(session, "volume_burst")
    surge, = alerts(session, "negative_surge")
    assert burst.topic_id == topic.id and "30 条" in burst.message and "中山路积水" in burst.message
    assert surge.details["negative"] == 30 and surge.details["share"] == 1.0
    assert len(burst.post_ids) == 30
    # Still bursting a minute later: nothing new.
    evaluate_all(session, app, now + timedelta(minutes=1))
    assert len(alerts(session, "volume_burst")) == 1
    # Two hours later the hour is quiet: both clear, and a new wave would be a new alert.
    lines = evaluate_all(session, app, now + timedelta(hours=2))
    session.commit()
    session.refresh(burst)
    assert burst.status == "cleared" and burst.cleared_at and burst.open_key is None
    assert any("解除预警" in line for line in lines)
    assert session.get(Alert, surge.id).status == "cleared"


def test_a_few_posts_on_a_new_topic_are_not_a_burst(app, session):
    now = utcnow()
    source = make_source(session)
    topic = Topic(key="tq", label="小事", first_seen_at=now, last_seen_at=now)
    session.add(topic)
    session.commit()
    _seed_topic(session, source, 4, 5, "negative", topic, now, "q")
    evaluate_all(session, app, now)
    assert alerts(session, "volume_burst") == [] and alerts(session, "negative_surge") == []


def test_source_gone_silent_and_back(app, session):
    now = utcnow()
    rss = Source(code="rss1", name="区政府网站", kind="rss", enabled=True, config={}, state={},
                 created_at=now - timedelta(days=2), status="failing", failure_count=5,
                 last_error="HTTP 503")
    session.add(rss)
    session.add(Source(code="files", name="导入", kind="file", enabled=True, config={}, state={},
                       created_at=now - timedelta(days=2)))
    session.commit()
    evaluate_all(session, app, now)
    [alert] = alerts(session, "source_silent")
    assert alert.source_id == rss.id and "区政府网站" in alert.message and "HTTP 503" in alert.message
    session.add(Post(source_id=rss.id, external_id="p", raw_text="新帖", text="新帖",
                     created_at=now, collected_at=now + timedelta(minutes=1)))
    session.commit()
    evaluate_all(session, app, now + timedelta(minutes=2))
    assert session.get(Alert, alert.id).status == "cleared"


def test_source_silent_follows_the_sources_own_expected_period(app, session):
    now = utcnow()
    hourly = Source(code="hourly", name="每小时更新的号", kind="rss", enabled=True, state={},
                    config={"expected_period_seconds": 3600}, created_at=now - timedelta(hours=2))
    daily = Source(code="daily", name="每天更新的号", kind="rss", enabled=True, state={},
                   config={"expected_period_seconds": 86400}, created_at=now - timedelta(hours=8))
    session.add_all([hourly, daily])
    session.commit()
    evaluate_all(session, app, now)
    # 2 h quiet is silence for an hourly source; 8 h is not for a daily one (the rule's default
    # of 6 h would have said it was).
    assert [a.source_id for a in alerts(session, "source_silent")] == [hourly.id]


def test_case_overdue_one_alert_per_case_worsens_and_clears(app, session):
    make_user(session, "monitor1", "monitor")
    now = utcnow()
    unit = session.execute(select(Unit).where(Unit.code == "slj")).scalar_one()
    case = Case(unit_id=unit.id, title="积水", priority="normal", status="new",
                acknowledge_due_at=now - timedelta(hours=1), respond_due_at=now + timedelta(hours=5),
                resolve_due_at=now + timedelta(days=5), created_at=now - timedelta(hours=3))
    session.add(case)
    session.commit()
    evaluate_all(session, app, now)
    [alert] = alerts(session, "case_overdue")
    assert alert.case_id == case.id and alert.severity == "warning" and "签收已超时 1 小时" in alert.message
    # Past the resolve deadline as well: the same alert, reworded, still a warning (paperwork) ...
    case.resolve_due_at = case.respond_due_at = now + timedelta(minutes=1)
    session.commit()
    evaluate_all(session, app, now + timedelta(hours=3))
    [alert] = alerts(session, "case_overdue")
    assert alert.severity == "warning" and "办结已超时" in alert.message and "签收已超时 4 小时" in alert.message
    # ... until the case is found urgent: the same alert, now critical, monitors told again.
    case.priority = "urgent"
    session.commit()
    evaluate_all(session, app, now + timedelta(hours=3))
    [alert] = alerts(session, "case_overdue")
    assert alert.severity == "critical"
    told = session.execute(select(func.count()).select_from(Notification).where(
        Notification.alert_id == alert.id)).scalar()
    assert told == 2
    case.acknowledged_at = case.first_response_at = case.resolved_at = now
    session.commit()
    evaluate_all(session, app, now + timedelta(hours=4))
    assert session.get(Alert, alert.id).status == "cleared"


def test_acknowledge_is_audited_and_once(app, session):
    monitor = make_user(session, "monitor1", "monitor")
    spokesperson = make_user(session, "slj_fyr", "spokesperson", "slj")
    ingest(session, app, make_source(session), [make_item("a1", "有人举报腐败问题")])
    [alert] = alerts(session, "sensitive_word")
    with pytest.raises(PermissionDenied):
        acknowledge_alert(session, alert, spokesperson)
    now = utcnow()
    acknowledge_alert(session, alert, monitor, now)
    session.commit()
    assert alert.status == "acknowledged" and alert.acknowledged_by_id == monitor.id
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "alert.acknowledged")).scalar_one()
    assert event.object_id == alert.id and event.actor == "monitor1"
    with pytest.raises(AlertStateError, match="已由 monitor1 确认"):
        acknowledge_alert(session, alert, monitor)
    # An acknowledged alert is still live: the same condition does not fire again.
    ingest(session, app, make_source(session), [make_item("a2", "再次举报腐败问题")])
    assert session.execute(select(func.count()).select_from(Alert).where(
        Alert.kind == "sensitive_word", Alert.status != "cleared")).scalar() >= 1
    assert all(a.id == alert.id for a in alerts(session, "sensitive_word") if a.topic_id == alert.topic_id)


def test_post_alert_clears_after_its_window(app, session):
    ingest(session, app, make_source(session), [make_item("a1", "有人举报腐败问题")])
    [alert] = alerts(session, "sensitive_word")
    evaluate_all(session, app, utcnow() + timedelta(hours=25))
    session.commit()
    assert session.get(Alert, alert.id).status == "cleared"


def test_batch_evaluation_twice_raises_nothing_new(app, session):
    ingest(session, app, make_source(session), [make_item("a1", "有人举报腐败问题")])
    ids = list(session.execute(select(Post.id)).scalars())
    assert evaluate_batch(session, app, ids) == []
    assert len(alerts(session, "sensitive_word")) == 1


def test_scheduler_catches_post_alerts_a_failed_batch_missed(app, session, monkeypatch):
    import opinion.pipeline.batch as batch

    def broken(*args, **kwargs):
        raise RuntimeError("rules down")
    monkeypatch.setattr(batch, "evaluate_batch", broken)  # the alert stage, as the pipeline calls it
    report = ingest(session, app, make_source(session), [
        make_item("a1", "有人举报腐败问题"),
        make_item("v1", "垃圾站臭气熏天，投诉多次没人管，太失望了，差评", author="大V甲", author_followers=500_000),
        make_item("n1", "今天天气不错")])
    assert len(report.accepted) == 3 and alerts(session) == []  # posts kept, alerts not yet
    monkeypatch.undo()
    evaluate_all(session, app)
    session.commit()
    assert {a.kind for a in alerts(session)} >= {"sensitive_word", "influential_negative"}


def test_a_safety_incident_outranks_paperwork(app, session):
    """毒跑道 and nosebleeds are critical even with no sensitive word; an overdue normal case is not."""
    from opinion.alerts.engine import evaluate_all as evaluate
    ingest(session, app, make_source(session), [make_item("s1", "学校新铺的塑胶跑道味道很大，好几个孩子流鼻血了，是不是毒跑道")])
    [incident] = alerts(session, "sensitive_word")
    assert incident.severity == "critical" and "安全事件" in incident.message and "孩子" in incident.message
    now = utcnow()
    unit = session.execute(select(Unit).where(Unit.code == "slj")).scalar_one()
    session.add(Case(unit_id=unit.id, title="报表迟交", priority="normal", status="acknowledged",
                     acknowledged_at=now - timedelta(days=9), acknowledge_due_at=now - timedelta(days=10),
                     respond_due_at=now - timedelta(days=8), resolve_due_at=now - timedelta(days=4),
                     created_at=now - timedelta(days=10)))
    session.commit()
    evaluate(session, app, now)
    [overdue] = alerts(session, "case_overdue")
    assert overdue.severity == "warning"


def test_an_escalated_overdue_case_has_one_alert_that_repeats_update(app, session):
    from opinion.alerts.engine import raise_escalations
    from opinion.sla.ladder import Escalation
    make_user(session, "monitor1", "monitor")
    now = utcnow()
    unit = session.execute(select(Unit).where(Unit.code == "slj")).scalar_one()
    case = Case(unit_id=unit.id, title="积水", priority="normal", status="new",
                acknowledge_due_at=now - timedelta(hours=30), respond_due_at=now - timedelta(hours=2),
                resolve_due_at=now + timedelta(days=5), created_at=now - timedelta(days=2))
    session.add(case)
    session.commit()
    evaluate_all(session, app, now)
    for level in (1, 2, 3):
        raise_escalations(session, [Escalation(case.id, level, "签收超时")], now + timedelta(minutes=level))
        session.commit()
        evaluate_all(session, app, now + timedelta(minutes=level))
    live = session.execute(select(Alert).where(Alert.case_id == case.id)).scalars().all()
    assert len(live) == 1, [a.message for a in live]
    assert "现场督办" in live[0].message and "签收已超时" in live[0].message
    assert live[0].details["repeats"] >= 3
    case.status, case.resolved_at = "closed", now
    session.commit()
    evaluate_all(session, app, now + timedelta(hours=1))
    assert session.get(Alert, live[0].id).status == "cleared"
