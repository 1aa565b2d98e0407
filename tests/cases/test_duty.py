"""The duty roster: least-loaded among those on duty, 24-hour cover first for urgent cases."""
import pytest
from sqlalchemy import select

from opinion.cases import duty
from opinion.errors import CaseStateError, PermissionDenied
from opinion.models import AuditEvent, DutyShift
from tests.cases.conftest import open_case
from tests.conftest import at


def test_assignment_follows_the_roster_and_the_load(app, session, district, people):
    fyr, fyr2, head, monitor = people["fyr"], people["fyr2"], people["head"], people["monitor"]
    # Without a roster: the least-loaded of the unit's spokespersons (the head last), lowest id on a tie.
    first = open_case(session, district, start="2026-11-23 09:00")
    second = open_case(session, district, start="2026-11-23 09:01")
    assert (first.assignee, second.assignee) == (fyr, fyr2)
    # Day shift for fyr; night 24-hour cover for fyr2.
    duty.add_shift(session, head, fyr, at("2026-11-23 08:30"), at("2026-11-23 17:30"), urgent_cover=False,
                   now=at("2026-11-23 08:00"))
    duty.add_shift(session, monitor, fyr2, at("2026-11-23 17:30"), at("2026-11-24 08:30"), urgent_cover=True,
                   now=at("2026-11-23 08:00"))
    session.commit()
    day = open_case(session, district, start="2026-11-23 10:00")
    assert day.assignee == fyr  # the only one on duty, though not the least loaded
    urgent_day = open_case(session, district, priority="urgent", start="2026-11-23 11:00")
    assert urgent_day.assignee == fyr  # no 24-hour cover in the day: whoever is on duty
    night = open_case(session, district, priority="urgent", start="2026-11-23 23:00")
    assert night.assignee == fyr2
    weekend = open_case(session, district, start="2026-11-28 10:00")  # nobody on the roster
    assert weekend.assignee == fyr2  # fallback: the least loaded of all but the head (fyr 3, fyr2 2)


def test_roster_rules(app, session, district, people):
    with pytest.raises(PermissionDenied, match="排班"):
        duty.add_shift(session, people["fyr"], people["fyr2"], at("2026-11-23 08:00"), at("2026-11-23 17:00"),
                       urgent_cover=False, now=at("2026-11-23 07:00"))
    with pytest.raises(PermissionDenied):
        duty.add_shift(session, people["head"], people["zjj"], at("2026-11-23 08:00"), at("2026-11-23 17:00"),
                       urgent_cover=False, now=at("2026-11-23 07:00"))  # another unit's person
    with pytest.raises(CaseStateError, match="晚于开始"):
        duty.add_shift(session, people["monitor"], people["fyr"], at("2026-11-23 17:00"), at("2026-11-23 08:00"),
                       urgent_cover=False, now=at("2026-11-23 07:00"))
    with pytest.raises(CaseStateError, match="不是单位的新闻发言人"):
        duty.add_shift(session, people["monitor"], people["leader2"], at("2026-11-23 08:00"), at("2026-11-23 17:00"),
                       urgent_cover=False, now=at("2026-11-23 07:00"))
    shift = duty.add_shift(session, people["monitor"], people["fyr"], at("2026-11-23 08:00"),
                           at("2026-11-23 17:00"), urgent_cover=False, now=at("2026-11-23 07:00"))
    session.commit()
    with pytest.raises(CaseStateError, match="历史记录"):
        duty.remove_shift(session, people["monitor"], shift, at("2026-11-23 18:00"))
    duty.remove_shift(session, people["head"], shift, at("2026-11-23 07:30"))
    session.commit()
    assert session.execute(select(DutyShift)).first() is None
    actions = [e.action for e in session.execute(select(AuditEvent).where(AuditEvent.object_type == "duty_shift"))
               .scalars()]
    assert actions == ["duty.shift_added", "duty.shift_removed"]


def test_manual_reassignment_inside_the_unit(app, session, district, people):
    case = open_case(session, district)
    assert case.assignee == people["fyr"]
    with pytest.raises(PermissionDenied, match="单位内改派"):
        duty.reassign(session, case, people["fyr"], people["fyr2"], "忙不过来", at("2026-11-23 10:00"))
    with pytest.raises(CaseStateError, match="不是区教育局在岗的新闻发言人"):
        duty.reassign(session, case, people["head"], people["zjj"], "", at("2026-11-23 10:00"))
    duty.reassign(session, case, people["head"], people["fyr2"], "按分工由其承办", at("2026-11-23 10:00"))
    session.commit()
    assert case.assignee == people["fyr2"]
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "case.reassigned")).scalar_one()
    assert (event.before, event.after, event.actor) == ({"assignee": "jyj_fyr"}, {"assignee": "jyj_fyr2"}, "jyj_head")
