"""The escalation ladder: levels at the right times, each fired once, stops when the case moves."""
from sqlalchemy import select

from opinion.cases import lifecycle as service
from opinion.jobs import ladder_pass as tick
from opinion.models import Alert, AuditEvent, Topic, Unit
from tests.conftest import at
from tests.factories import make_user


def open_case(session, district, priority="high", start="2026-11-23 09:00"):
    unit = session.execute(select(Unit).where(Unit.code == "jyj")).scalar_one()
    topic = Topic(key="t-ladder", label="实验小学推迟开学", first_seen_at=at(start), last_seen_at=at(start))
    session.add(topic)
    session.flush()
    case, _ = service.open_or_attach(session, district, topic, unit, priority=priority, category="教育文体",
                                     reason="测试", now=at(start))
    session.commit()
    return case


def levels(session, case):
    return [e.after["level"] for e in session.execute(
        select(AuditEvent).where(AuditEvent.action == "case.escalated", AuditEvent.object_id == case.id)
        .order_by(AuditEvent.id)).scalars()]


def test_ladder_climbs_on_time_and_each_step_fires_once(app, session, district):
    case = open_case(session, district)  # high: ack 2 h, respond 24 h, resolve 3 working days
    assert tick(session, district, at("2026-11-23 09:59")) == []
    assert any("acknowledge@0.5" in line for line in tick(session, district, at("2026-11-23 10:00")))
    assert tick(session, district, at("2026-11-23 10:00")) == []  # same time again: nothing new
    tick(session, district, at("2026-11-23 11:01"))
    assert case.escalation_level == 2 and levels(session, case) == [2]
    tick(session, district, at("2026-11-24 09:01"))
    assert case.escalation_level == 3
    tick(session, district, at("2026-11-25 09:01"))  # 24 h after the missed response
    assert case.escalation_level == 4
    tick(session, district, at("2026-11-26 09:01"))  # resolve deadline (3 working days) missed
    assert case.escalation_level == 5 and levels(session, case) == [2, 3, 4, 5]
    tick(session, district, at("2026-11-26 09:01"))
    session.commit()
    assert levels(session, case) == [2, 3, 4, 5]
    alerts = session.execute(select(Alert).where(Alert.case_id == case.id)).scalars().all()
    # one alert per case: each climb updated it (the monitors saw 4 alerts for one case before)
    assert len(alerts) == 1 and "专报批办" in alerts[0].message and alerts[0].details["level"] == 5


def test_a_case_that_gets_moving_stops_climbing(app, session, district):
    case = open_case(session, district)
    user = make_user(session, "jyj_fyr", "spokesperson", "jyj")
    tick(session, district, at("2026-11-23 11:01"))
    assert case.escalation_level == 2
    service.acknowledge(session, case, user, at("2026-11-23 11:30"))
    service.add_reply(session, case, user, "已核实，正在处理", at("2026-11-23 15:00"))
    tick(session, district, at("2026-11-25 09:00"))
    assert case.escalation_level == 2 and case.status == "replied"


def test_resolve_needs_a_reply_and_a_note_and_frees_the_topic(app, session, district):
    import pytest

    from opinion.errors import CaseStateError
    case = open_case(session, district)
    user = make_user(session, "jyj_fyr", "spokesperson", "jyj")
    with pytest.raises(CaseStateError, match="先签收并首次回应"):
        service.resolve(session, case, user, "已处理", at("2026-11-23 10:00"))
    service.add_reply(session, case, user, "已核实，正在处理", at("2026-11-23 10:00"))
    with pytest.raises(CaseStateError, match="办理结果"):
        service.resolve(session, case, user, " ", at("2026-11-23 11:00"))
    service.resolve(session, case, user, "已协调推迟期间的托管服务", at("2026-11-23 11:00"))
    assert case.status == "resolved" and case.open_key is None
    # A resolved case does not climb; with no callback answer for 7 days it closes.
    assert tick(session, district, at("2026-11-30 10:59")) == []
    assert tick(session, district, at("2026-11-30 11:00")) == [f"#{case.id} 已关闭"]
    assert case.status == "closed" and case.closed_at == at("2026-11-30 11:00")
