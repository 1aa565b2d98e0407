"""Optimistic locking between two monitors, and an audit log that cannot be changed."""
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from opinion import audit
from opinion.cases import supervision, transfers
from opinion.models import AuditEvent, Case, Unit, User, db
from tests.cases.conftest import open_case, unit
from tests.conftest import at


def test_two_monitors_change_the_same_case_one_wins(app, session, district, people):
    case = open_case(session, district)
    other = Session(db.engine)
    try:
        theirs = other.get(Case, case.id)
        mine = session.get(Case, case.id)
        supervision.change_priority(session, district, mine, people["monitor"], "high", "涉及学生安全",
                                    at("2026-11-23 10:00"))
        session.commit()
        monitor2, zjj = other.get(User, people["monitor2"].id), other.get(Unit, unit(session, "zjj").id)
        with pytest.raises(StaleDataError):  # at the first flush, whether autoflush or commit
            transfers.reassign_unit(other, district, theirs, monitor2, zjj, "应归住建局", at("2026-11-23 10:00"))
            other.commit()
        other.rollback()
    finally:
        other.close()
    session.expire_all()
    fresh = session.get(Case, case.id)
    assert fresh.priority == "high" and fresh.unit.code == "jyj" and fresh.version == 2
    # The loser's audit records went with its transaction: the log shows only what happened.
    actions = [e.action for e in session.execute(select(AuditEvent).where(AuditEvent.object_type == "case", AuditEvent.object_id == case.id))
               .scalars()]
    assert actions == ["case.opened", "case.priority_changed"]


def test_the_audit_log_cannot_be_edited_or_deleted(app, session, district):
    case = open_case(session, district)
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "case.opened")).scalar_one()
    event.reason = "篡改"
    with pytest.raises(audit.AuditLogImmutable):
        session.flush()
    session.rollback()
    session.delete(session.execute(select(AuditEvent)).scalars().first())
    with pytest.raises(audit.AuditLogImmutable):
        session.flush()
    session.rollback()
    assert session.execute(select(AuditEvent.reason).where(AuditEvent.action == "case.opened")).scalar_one() == "测试"


def test_csv_export_quotes_formulas_and_keeps_chinese(app, session, district):
    case = open_case(session, district)
    audit.record(session, "case.closed", "case", case.id, reason="=HYPERLINK(\"x\")", at=at("2026-11-23 10:00"))
    session.commit()
    text = audit.to_csv(session.execute(audit.query(object_type="case", object_id=case.id)).scalars())
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("编号,时间,操作人,操作")
    assert "2026-11-23 10:00:00,system,关闭,case.closed" in lines[1] and "'=HYPERLINK" in lines[1]
    assert "立案" in lines[2]
