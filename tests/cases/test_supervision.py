"""Extensions (capped), priority changes that recompute deadlines, leaders' instructions."""
import pytest
from sqlalchemy import select

from opinion.cases import supervision
from opinion.errors import CaseStateError, PermissionDenied
from opinion.models import AuditEvent, Notification
from tests.cases.conftest import open_case
from tests.conftest import at


def test_extension_is_approved_by_a_monitor_and_capped(app, session, district, people):
    case = open_case(session, district, start="2026-09-21 10:00")  # normal: resolve 5 working days
    # 5 working days from Mon 09-21: 22, 23, 24, (中秋 25-27 off), 28, 29.
    assert case.resolve_due_at == at("2026-09-29 10:00")
    fyr, monitor = people["fyr"], people["monitor"]
    with pytest.raises(CaseStateError, match="须填写理由"):
        supervision.request_extension(session, district, case, fyr, 3, " ", at("2026-09-22 10:00"))
    with pytest.raises(CaseStateError, match="最多还可申请 15 个工作日"):
        supervision.request_extension(session, district, case, fyr, 16, "需要施工", at("2026-09-22 10:00"))
    first = supervision.request_extension(session, district, case, fyr, 3, "需协调施工单位", at("2026-09-22 10:00"))
    with pytest.raises(CaseStateError, match="已有一份待审批"):
        supervision.request_extension(session, district, case, fyr, 1, "再延", at("2026-09-22 10:00"))
    with pytest.raises(PermissionDenied):
        supervision.decide_extension(session, district, first, fyr, True, "", at("2026-09-22 11:00"))
    supervision.decide_extension(session, district, first, monitor, True, "", at("2026-09-22 11:00"))
    # 3 more working days after Tue 09-29: 09-30, then 国庆 (10-01..07 off), 10-08, 10-09.
    assert case.resolve_due_at == at("2026-10-09 10:00")
    second = supervision.request_extension(session, district, case, fyr, 12, "仍需施工", at("2026-09-23 10:00"))
    supervision.decide_extension(session, district, second, monitor, True, "", at("2026-09-23 11:00"))
    assert case.extended_working_days == 15
    with pytest.raises(CaseStateError, match="最多还可申请 0 个工作日"):
        supervision.request_extension(session, district, case, fyr, 1, "还要", at("2026-09-24 10:00"))
    actions = [e.action for e in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]
    assert actions.count("case.extension_approved") == 2


def test_refused_extension_needs_a_reason_and_leaves_the_deadline(app, session, district, people):
    case = open_case(session, district)
    due = case.resolve_due_at
    request = supervision.request_extension(session, district, case, people["fyr"], 2, "人手不足",
                                            at("2026-11-23 10:00"))
    with pytest.raises(CaseStateError, match="不予延期须说明理由"):
        supervision.decide_extension(session, district, request, people["monitor"], False, "", at("2026-11-23 11:00"))
    supervision.decide_extension(session, district, request, people["monitor"], False, "理由不充分",
                                 at("2026-11-23 11:00"))
    assert request.status == "refused" and case.resolve_due_at == due and case.extended_working_days == 0
    with pytest.raises(CaseStateError, match="已处理过"):
        supervision.decide_extension(session, district, request, people["monitor"], True, "", at("2026-11-23 12:00"))


def test_priority_change_recomputes_the_deadlines(app, session, district, people):
    case = open_case(session, district, start="2026-11-23 09:00")
    with pytest.raises(CaseStateError, match="须说明理由"):
        supervision.change_priority(session, district, case, people["monitor"], "urgent", "", at("2026-11-23 09:10"))
    supervision.change_priority(session, district, case, people["monitor"], "urgent", "出现人员受伤",
                                at("2026-11-23 09:10"))
    assert (case.acknowledge_due_at, case.respond_due_at, case.resolve_due_at) == (
        at("2026-11-23 09:30"), at("2026-11-23 14:00"), at("2026-11-24 09:00"))
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "case.priority_changed")).scalar_one()
    assert event.before["priority"] == "normal" and event.after["resolve_due_at"].startswith("2026-11-24T01:00")
    with pytest.raises(CaseStateError, match="已是“紧急”"):
        supervision.change_priority(session, district, case, people["monitor"], "urgent", "再改", at("2026-11-23 09:20"))


def test_leaders_instruction_is_kept_and_sent_to_the_unit(app, session, district, people):
    case = open_case(session, district)
    with pytest.raises(PermissionDenied, match="只有领导"):
        supervision.write_instruction(session, case, people["monitor"], "抓紧办理", at("2026-11-23 10:00"))
    supervision.write_instruction(session, case, people["leader2"], "请教育局今日内答复群众", at("2026-11-23 10:00"))
    session.commit()
    told = {n.user.username for n in session.execute(select(Notification).where(Notification.case_id == case.id)).scalars()}
    assert {"jyj_fyr", "jyj_fyr2", "jyj_head", "monitor1", "monitor2"} <= told and "zjj_fyr" not in told


def test_requests_and_decisions_are_notified(app, session, district, people):
    from opinion.cases import transfers
    case = open_case(session, district, start="2026-11-23 09:00")
    request = supervision.request_extension(session, district, case, people["fyr"], 2, "需协调施工方",
                                            at("2026-11-23 10:00"))
    supervision.decide_extension(session, district, request, people["monitor"], True, "", at("2026-11-23 11:00"))
    transfers.transfer_back(session, district, case, people["fyr"], "应由住建局办理", at("2026-11-23 12:00"))
    session.commit()
    rows = session.execute(select(Notification).order_by(Notification.id)).scalars().all()
    assert [(n.user.username, n.subject.split("】")[0][1:]) for n in rows] == [
        ("jyj_fyr", "新工单"),  # the case's opening tells its assignee (notification centre)
        ("monitor1", "延期申请"), ("monitor2", "延期申请"), ("jyj_fyr", "延期审批"),
        ("monitor1", "退回申请"), ("monitor2", "退回申请")]
    assert "办结时限延至 2026-12-02 09:00" in rows[3].body  # 5 + 2 working days from Mon 11-23
