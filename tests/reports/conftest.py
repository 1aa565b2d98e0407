"""A small fixed district week, counted by hand, for the report tests.

Week 2026-W47 runs Monday 16 to Sunday 22 November 2026, Beijing time (UTC+8). What is in it:

posts (8 in W47; 2 in W46; 1 just after W47)
  T1 “城南养老院护工打骂老人” (民政局): 11-16 09:00 neg/anger, 11-16 10:00 neg/anger,
      11-17 08:00 neg/sadness, 11-18 12:00 neutral/surprise;  W46: 11-10 neg, 11-12 pos
  T2 “西城化工厂异味” (生态环境分局): 11-16 00:30 neg/anger (16:30 UTC on the 15th: still W47),
      11-19 09:00 neg/disgust, 11-20 23:30 pos/optimism
  no topic: 11-22 23:59 pos/gratitude;  after: 11-23 00:00 neutral (W48, not counted)
  → W47: 8 posts, negative 5, neutral 1, positive 2; topics active 2, new 1 (T2)
cases
  C1 T1 民政局 normal, opened 11-16 09:05, acknowledged 10:00, replied 15:00, resolved 11-18 10:00
  C2 T2 生态环境分局 high, opened 11-19 09:10, never acknowledged; ladder 2 (11-19 11:11), 3 (11-20 09:11)
  C3 T1 民政局 normal, opened in W46 (11-12 10:00), ack 11-12 11:00, replied 11-17 10:00,
      resolve due 11-19 10:00 missed; ladder 4 in W46 (11-13), 5 on 11-19 10:01
  → W47: opened 2 (normal 1, high 1), responded 2 (C1, C3), resolved 1 (C1);
    escalations 3 (level 2: 1, 3: 1, 5: 1); a level-1 reminder is not an escalation
alerts: W47 2 (critical 1, warning 1); W46 1
at 2026-11-23 07:30 (Monday morning): C3 overdue (办结, level 5), C2 overdue (签收、回应, level 3)
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from opinion.models import Alert, AuditEvent, Case, Post, Reply, Topic, Unit
from tests.conftest import at
from tests.factories import make_source, make_user

WEEK = "2026-W47"
MONDAY_MORNING = at("2026-11-23 07:30")


def _post(session, source, ext, when, polarity, emotion, topic=None, reposts=0, text=None):
    sentiment = {"negative": 0.1, "neutral": 0.5, "positive": 0.9}[polarity]
    post = Post(source_id=source.id, external_id=ext, raw_text=text or f"测试帖子 {ext}",
                text=text or f"测试帖子 {ext}", author=f"网友{ext}", created_at=at(when),
                collected_at=at(when), polarity=polarity, emotion=emotion, sentiment=sentiment,
                topic_id=topic.id if topic else None, reposts=reposts, analyzed_at=at(when))
    session.add(post)
    return post


def _case(session, topic, unit, priority, opened, ack_due, respond_due, resolve_due, **done):
    case = Case(topic_id=topic.id, unit_id=unit.id, title=topic.label, priority=priority,
                created_at=at(opened), updated_at=at(opened), acknowledge_due_at=at(ack_due),
                respond_due_at=at(respond_due), resolve_due_at=at(resolve_due),
                **{k: (at(v) if k.endswith("_at") else v) for k, v in done.items()})
    session.add(case)
    session.flush()
    return case


def _escalate(session, case, level, when):
    session.add(AuditEvent(action="case.escalated", object_type="case", object_id=case.id, at=at(when),
                           before={"level": level - 1}, after={"level": level}, reason=f"测试第{level}级"))


@pytest.fixture(autouse=True)
def word_and_html_only(request):
    """Archive runs make HTML and Word only (PDF takes seconds); tests about PDF set it back."""
    if "app" in request.fixturenames:
        request.getfixturevalue("app").config["REPORT_FORMATS"] = ["html", "docx"]


@pytest.fixture
def week_data(app, session):
    unit = lambda code: session.execute(select(Unit).where(Unit.code == code)).scalar_one()  # noqa: E731
    mzj, sthjj = unit("mzj"), unit("sthjj")
    leader = make_user(session, "leader", "leader")
    spokesperson = make_user(session, "mzj_fyr", "spokesperson", "mzj")
    source = make_source(session)
    t1 = Topic(key="t1", label="城南养老院护工打骂老人", keywords=["养老院", "护工"], unit_id=mzj.id,
               first_seen_at=at("2026-11-10 08:00"), last_seen_at=at("2026-11-18 12:00"))
    t2 = Topic(key="t2", label="西城化工厂异味", keywords=["异味", "化工厂"], unit_id=sthjj.id,
               first_seen_at=at("2026-11-16 00:30"), last_seen_at=at("2026-11-20 23:30"))
    session.add_all([t1, t2])
    session.flush()
    _post(session, source, "w46a", "2026-11-10 08:00", "negative", "anger", t1)
    _post(session, source, "w46b", "2026-11-12 09:00", "positive", "gratitude", t1)
    _post(session, source, "p1", "2026-11-16 09:00", "negative", "anger", t1, reposts=120,
          text="城南养老院护工打骂老人，视频已经传开了，民政局管不管？")
    _post(session, source, "p2", "2026-11-16 10:00", "negative", "anger", t1, reposts=5)
    _post(session, source, "p3", "2026-11-17 08:00", "negative", "sadness", t1)
    _post(session, source, "p4", "2026-11-18 12:00", "neutral", "surprise", t1)
    _post(session, source, "p5", "2026-11-16 00:30", "negative", "anger", t2)
    _post(session, source, "p6", "2026-11-19 09:00", "negative", "disgust", t2, reposts=30,
          text="西城化工厂附近一股刺鼻异味，晚上不敢开窗")
    _post(session, source, "p7", "2026-11-20 23:30", "positive", "optimism", t2)
    _post(session, source, "p8", "2026-11-22 23:59", "positive", "gratitude")
    _post(session, source, "w48", "2026-11-23 00:00", "neutral", "surprise", t2)

    c1 = _case(session, t1, mzj, "normal", "2026-11-16 09:05", "2026-11-17 09:05", "2026-11-18 09:05",
               "2026-11-23 09:05", status="resolved", acknowledged_at="2026-11-16 10:00",
               first_response_at="2026-11-16 15:00", resolved_at="2026-11-18 10:00")
    session.add(Reply(case_id=c1.id, author_id=spokesperson.id, created_at=at("2026-11-16 15:00"),
                      text="区民政局已介入调查，涉事护工已停职，调查结果将及时公布。"))
    c2 = _case(session, t2, sthjj, "high", "2026-11-19 09:10", "2026-11-19 11:10", "2026-11-20 09:10",
               "2026-11-24 09:10", status="new", escalation_level=3, open_key="t2:sthjj")
    c3 = _case(session, t1, mzj, "normal", "2026-11-12 10:00", "2026-11-13 10:00", "2026-11-14 10:00",
               "2026-11-19 10:00", status="replied", escalation_level=5, open_key="t1:mzj",
               acknowledged_at="2026-11-12 11:00", first_response_at="2026-11-17 10:00")
    _escalate(session, c2, 2, "2026-11-19 11:11")
    _escalate(session, c2, 3, "2026-11-20 09:11")
    _escalate(session, c3, 4, "2026-11-13 12:00")
    _escalate(session, c3, 5, "2026-11-19 10:01")
    session.add(AuditEvent(action="case.reminded", object_type="case", object_id=c2.id,
                           at=at("2026-11-19 10:10"), after={"key": "acknowledge@0.5", "level": 1}))
    session.add_all([
        Alert(kind="escalation", severity="critical", message="工单 #3 升级为专报批办", dedup_key="c3:5",
              case_id=c3.id, topic_id=t1.id, created_at=at("2026-11-19 10:01")),
        Alert(kind="negative_surge", severity="warning", message="养老院话题负面激增", dedup_key="t1:surge",
              topic_id=t1.id, created_at=at("2026-11-16 12:00")),
        Alert(kind="negative_surge", severity="warning", message="上周的预警", dedup_key="t1:old",
              topic_id=t1.id, created_at=at("2026-11-11 12:00")),
    ])
    session.commit()
    return SimpleNamespace(c1=c1, c2=c2, c3=c3, t1=t1, t2=t2, leader=leader, mzj=mzj, sthjj=sthjj)


# The figures for W47, counted by hand from the data above.
EXPECTED_PERIOD = {
    "posts": {"total": 8, "duplicates": 0, "by_polarity": {"negative": 5, "neutral": 1, "positive": 2}},
    "topics": {"active": 2, "new": 1},
    "cases": {"opened": 2, "by_priority": {"normal": 1, "high": 1}, "responded": 2, "resolved": 1},
    "escalations": {"total": 3, "by_level": {"2": 1, "3": 1, "4": 0, "5": 1}},
    "alerts": {"total": 2, "by_severity": {"critical": 1, "warning": 1},
               "by_kind": {"escalation": 1, "negative_surge": 1}},
}
