"""Transfer-back within its deadline, the centre's decision, routing corrections, co-handling."""
import pytest
from sqlalchemy import select

from opinion.cases import lifecycle as service
from opinion.cases import transfers
from opinion.errors import CaseStateError, PermissionDenied
from opinion.models import CaseTransfer, RoutingCorrection
from tests.cases.conftest import open_case, unit
from tests.conftest import at


def test_transfer_needs_a_reason_and_must_come_within_two_working_days(app, session, district, people):
    case = open_case(session, district, start="2026-09-29 10:00")  # Tuesday before 国庆
    with pytest.raises(CaseStateError, match="须填写退回理由"):
        transfers.transfer_back(session, district, case, people["fyr"], "  ", at("2026-09-29 11:00"))
    assert case.status == "new"
    # Two working days from Tue 09-29 10:00: Wed 09-30, then Oct 1-7 off, then Thu 10-08 10:00.
    assert transfers.transfer_deadline(district, case) == at("2026-10-08 10:00")
    with pytest.raises(CaseStateError, match="已超过退回时限"):
        transfers.transfer_back(session, district, case, people["fyr"], "非本单位职责", at("2026-10-08 10:01"))
    transfers.transfer_back(session, district, case, people["fyr"], "属于住建局职责", at("2026-10-08 09:59"),
                            suggested_unit=unit(session, "zjj"))
    session.commit()
    assert case.status == "transferred_back" and case.unit.code == "jyj"  # 首单负责制: still theirs
    with pytest.raises(CaseStateError, match="当前状态为“退回待定”，不能申请退回"):
        transfers.transfer_back(session, district, case, people["fyr"], "再退一次", at("2026-10-08 09:59"))


def test_reassign_records_a_routing_correction_and_restarts_the_clocks(app, session, district, people):
    case = open_case(session, district, start="2026-11-23 09:00")
    service.acknowledge(session, case, people["fyr"], at("2026-11-23 09:30"))
    transfers.transfer_back(session, district, case, people["fyr"], "工地噪音归住建局", at("2026-11-23 10:00"))
    with pytest.raises(PermissionDenied):
        transfers.reassign_unit(session, district, case, people["fyr"], unit(session, "zjj"), "", at("2026-11-23 11:00"))
    transfers.reassign_unit(session, district, case, people["monitor"], unit(session, "zjj"), "确属住建局",
                            at("2026-11-23 11:00"))
    session.commit()
    assert case.unit.code == "zjj" and case.status == "new" and case.assignee.username == "zjj_fyr"
    assert case.acknowledged_at is None and case.received_at == at("2026-11-23 11:00")
    assert case.acknowledge_due_at == at("2026-11-24 11:00") and case.created_at == at("2026-11-23 09:00")
    assert case.open_key == f"{case.topic_id}:{unit(session, 'zjj').id}"
    correction = session.execute(select(RoutingCorrection)).scalar_one()
    assert (correction.case_id, correction.topic_id, correction.from_unit.code, correction.to_unit.code,
            correction.category, correction.by.username, correction.at) == (
        case.id, case.topic_id, "jyj", "zjj", "教育文体", "monitor1", at("2026-11-23 11:00"))
    assert "实验小学推迟开学" in correction.text
    request = session.execute(select(CaseTransfer)).scalar_one()
    assert request.status == "reassigned" and request.to_unit.code == "zjj"


def test_send_back_keeps_the_case_with_its_unit(app, session, district, people):
    case = open_case(session, district)
    transfers.transfer_back(session, district, case, people["fyr"], "不归我们管", at("2026-11-23 10:00"))
    with pytest.raises(CaseStateError, match="须说明理由"):
        transfers.send_back(session, case, people["monitor"], "", at("2026-11-23 11:00"))
    transfers.send_back(session, case, people["monitor"], "学校属教育局管理", at("2026-11-23 11:00"))
    session.commit()
    assert case.status == "new" and case.unit.code == "jyj"
    assert session.execute(select(CaseTransfer)).scalar_one().status == "sent_back"
    assert session.execute(select(RoutingCorrection)).first() is None
    with pytest.raises(CaseStateError, match="没有待处理的退回申请"):
        transfers.send_back(session, case, people["monitor"], "再驳回", at("2026-11-23 12:00"))


def test_co_handling_unit_can_see_and_reply_but_not_resolve(app, session, district, people):
    case = open_case(session, district)
    zjj = people["zjj"]
    assert session.execute(service.visible_cases(zjj).where(service.Case.id == case.id)).first() is None
    transfers.add_co_unit(session, case, people["monitor"], unit(session, "zjj"), at("2026-11-23 10:00"))
    session.commit()
    assert session.execute(service.visible_cases(zjj).where(service.Case.id == case.id)).first() is not None
    with pytest.raises(CaseStateError, match="已是协办单位"):
        transfers.add_co_unit(session, case, people["monitor"], unit(session, "zjj"), at("2026-11-23 10:00"))
    with pytest.raises(CaseStateError, match="已是主办单位"):
        transfers.add_co_unit(session, case, people["monitor"], unit(session, "jyj"), at("2026-11-23 10:00"))
    service.add_reply(session, case, zjj, "住建局已安排工地整改", at("2026-11-23 11:00"))
    with pytest.raises(PermissionDenied, match="协办单位只能回复"):
        service.resolve(session, case, zjj, "办完了", at("2026-11-23 12:00"))
    with pytest.raises(PermissionDenied, match="协办单位只能回复"):
        transfers.transfer_back(session, district, case, zjj, "不是我们", at("2026-11-23 12:00"))


def test_a_returned_case_waits_for_the_centre_before_anyone_answers_it(app, session, district, people):
    case = open_case(session, district)
    transfers.transfer_back(session, district, case, people["fyr"], "应由住建局办理", at("2026-11-23 10:00"))
    session.commit()
    with pytest.raises(CaseStateError, match="当前状态为“退回待定”，不能回复"):
        service.add_reply(session, case, people["fyr"], "您好，已转请相关部门核实。", at("2026-11-23 10:30"))
    session.rollback()
    transfers.send_back(session, case, people["monitor"], "学校周边归教育局", at("2026-11-23 11:00"))
    assert case.status == "new"  # back where it was
    service.add_reply(session, case, people["fyr"], "您好，已安排核实。", at("2026-11-23 11:30"))
    assert case.status == "replied"
