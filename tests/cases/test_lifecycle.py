"""The case state machine: every allowed transition, the refused ones, and the audit of each."""
import pytest
from sqlalchemy import select

from opinion.cases import lifecycle as service
from opinion.errors import CaseStateError, PermissionDenied
from opinion.models import AuditEvent
from tests.cases.conftest import open_case
from tests.conftest import at


def history(session, case):
    return [(e.action, (e.before or {}).get("status"), (e.after or {}).get("status"), e.actor)
            for e in session.execute(select(AuditEvent).where(AuditEvent.object_type == "case",
                                                              AuditEvent.object_id == case.id)
                                     .order_by(AuditEvent.id)).scalars()]


def test_the_whole_loop_is_audited_with_who_when_from_to_and_why(app, session, district, people):
    case = open_case(session, district)
    fyr, monitor = people["fyr"], people["monitor"]
    service.acknowledge(session, case, fyr, at("2026-11-23 09:30"))
    service.add_reply(session, case, fyr, "网友您好，已安排核实。", at("2026-11-23 10:00"))
    service.resolve(session, case, fyr, "已协调托管服务", at("2026-11-24 10:00"))
    service.record_callback(session, district, case, monitor, "satisfied", "", at("2026-11-25 10:00"))
    service.close_finished(session, district, at("2026-11-25 10:01"))
    session.commit()
    assert case.status == "closed" and case.satisfaction == "satisfied" and case.open_key is None
    assert history(session, case) == [
        ("case.opened", None, None, "system"),
        ("case.acknowledged", "new", "acknowledged", "jyj_fyr"),
        ("case.replied", "acknowledged", "replied", "jyj_fyr"),
        ("case.resolved", "replied", "resolved", "jyj_fyr"),
        ("case.verified", "resolved", "verified", "monitor1"),
        ("case.closed", "verified", "closed", "system"),
    ]
    resolved = session.execute(select(AuditEvent).where(AuditEvent.action == "case.resolved")).scalar_one()
    assert resolved.at == at("2026-11-24 10:00") and resolved.reason == "已协调托管服务"


@pytest.mark.parametrize("setup,action,message", [
    ([], lambda s, d, c, p: service.resolve(s, c, p["fyr"], "已处理", at("2026-11-23 10:00")),
     "须先签收并首次回应"),
    (["ack"], lambda s, d, c, p: service.acknowledge(s, c, p["fyr"], at("2026-11-23 10:00")),
     "当前状态为“已签收”，不能签收"),
    ([], lambda s, d, c, p: service.record_callback(s, d, c, p["monitor"], "satisfied", "", at("2026-11-23 10:00")),
     "当前状态为“待签收”，不能回访"),
    (["ack", "reply", "resolve"], lambda s, d, c, p: service.add_reply(s, c, p["fyr"], "再说一句", at("2026-11-24 10:00")),
     "已办结或关闭，不能再回复"),
    (["ack", "reply", "resolve"], lambda s, d, c, p: service.record_callback(s, d, c, p["monitor"], "unsatisfied", "",
                                                                             at("2026-11-24 10:00")),
     "须记录不满意的原因"),
    (["ack", "reply", "resolve"], lambda s, d, c, p: service.record_callback(s, d, c, p["monitor"], "great", "",
                                                                             at("2026-11-24 10:00")),
     "请选择回访结果"),
    ([], lambda s, d, c, p: service.add_reply(s, c, p["fyr"], "   ", at("2026-11-23 10:00")), "回复内容不能为空"),
])
def test_refused_transitions_change_nothing(app, session, district, people, setup, action, message):
    case = open_case(session, district)
    fyr = people["fyr"]
    steps = {"ack": lambda: service.acknowledge(session, case, fyr, at("2026-11-23 09:10")),
             "reply": lambda: service.add_reply(session, case, fyr, "已核实", at("2026-11-23 09:20")),
             "resolve": lambda: service.resolve(session, case, fyr, "已办", at("2026-11-23 09:30"))}
    for name in setup:
        steps[name]()
    session.commit()
    status, events = case.status, len(history(session, case))
    with pytest.raises(CaseStateError, match=message):
        action(session, district, case, people)
    session.rollback()
    assert case.status == status and len(history(session, case)) == events


def test_permissions(app, session, district, people):
    case = open_case(session, district)
    with pytest.raises(PermissionDenied, match="不属于您的单位"):
        service.acknowledge(session, case, people["zjj"], at("2026-11-23 10:00"))
    with pytest.raises(PermissionDenied, match="只能查看"):
        service.add_reply(session, case, people["leader"], "领导回复", at("2026-11-23 10:00"))
    service.add_reply(session, case, people["fyr"], "已核实", at("2026-11-23 10:00"))
    service.resolve(session, case, people["fyr"], "已办", at("2026-11-23 11:00"))
    with pytest.raises(PermissionDenied, match="监测员"):
        service.record_callback(session, district, case, people["fyr"], "satisfied", "", at("2026-11-24 10:00"))


def test_unsatisfied_callback_reopens_with_a_new_resolve_deadline(app, session, district, people):
    case = open_case(session, district, start="2026-11-23 09:00")  # normal: resolve 5 working days
    fyr = people["fyr"]
    service.add_reply(session, case, fyr, "已核实", at("2026-11-23 10:00"))
    service.resolve(session, case, fyr, "已办", at("2026-11-24 10:00"))
    session.commit()
    service.record_callback(session, district, case, people["monitor"], "unsatisfied", "问题仍未解决",
                            at("2026-11-27 15:00"))  # Friday
    session.commit()
    assert case.status == "reopened" and case.reopen_count == 1 and case.resolved_at is None
    assert case.resolve_due_at == at("2026-12-04 15:00")  # 5 working days from Friday 15:00
    assert case.open_key == f"{case.topic_id}:{case.unit_id}"
    # Back through reply and resolve; the second callback closes it.
    service.add_reply(session, case, fyr, "再次处理", at("2026-11-30 10:00"))
    service.resolve(session, case, fyr, "已彻底解决", at("2026-12-01 10:00"))
    service.record_callback(session, district, case, people["monitor"], "basic", "", at("2026-12-02 10:00"))
    service.close_finished(session, district, at("2026-12-02 10:01"))
    assert case.status == "closed" and case.satisfaction == "basic"


def test_a_resolved_case_with_no_callback_answer_closes_after_the_configured_days(app, session, district, people):
    case = open_case(session, district)
    service.add_reply(session, case, people["fyr"], "已核实", at("2026-11-23 10:00"))
    service.resolve(session, case, people["fyr"], "已办", at("2026-11-23 11:00"))
    district.callback_no_answer_days = 3
    assert service.close_finished(session, district, at("2026-11-26 10:59")) == []
    assert service.close_finished(session, district, at("2026-11-26 11:00")) == [f"#{case.id} 已关闭"]
    closed = session.execute(select(AuditEvent).where(AuditEvent.action == "case.closed")).scalar_one()
    assert "3 天无应答" in closed.reason


def test_merge(app, session, district, people):
    a = open_case(session, district, label="学校门口拥堵")
    b = open_case(session, district, label="学校门口拥堵（重复）")
    with pytest.raises(CaseStateError, match="须说明原因"):
        service.merge(session, b, a, people["monitor"], "", at("2026-11-23 10:00"))
    with pytest.raises(CaseStateError, match="合并到它自己"):
        service.merge(session, a, a, people["monitor"], "重复", at("2026-11-23 10:00"))
    with pytest.raises(PermissionDenied):
        service.merge(session, b, a, people["fyr"], "重复", at("2026-11-23 10:00"))
    service.merge(session, b, a, people["monitor"], "同一事件", at("2026-11-23 10:00"))
    session.commit()
    assert b.status == "merged" and b.merged_into_id == a.id and b.open_key is None and not b.is_open
    with pytest.raises(CaseStateError, match="不能合并"):
        service.merge(session, a, b, people["monitor"], "反向", at("2026-11-23 10:05"))
    absorbed = session.execute(select(AuditEvent).where(AuditEvent.action == "case.merged",
                                                        AuditEvent.object_id == a.id)).scalar_one()
    assert absorbed.after == {"absorbed": b.id}


def test_the_table_is_the_machine():
    # Every status but the final ones can be left by some action; closed and merged cannot.
    sources = set().union(*(allowed for allowed, _, _ in service.TRANSITIONS.values()))
    assert "closed" not in sources and "merged" not in sources
    assert {"new", "acknowledged", "replied", "resolved", "verified", "transferred_back", "reopened"} <= sources
