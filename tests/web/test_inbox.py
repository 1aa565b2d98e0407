"""The spokesperson's inbox: own unit only, most urgent first, filters, counters, paging."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.models import Case, Unit, utcnow
from tests.factories import login, make_user


def _case(session, unit_code, title, *, due_in_hours, priority="normal", status="new", assignee=None):
    unit = session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one()
    now = utcnow()
    case = Case(unit_id=unit.id, title=title, priority=priority, status=status,
                acknowledge_due_at=now + timedelta(hours=due_in_hours),
                respond_due_at=now + timedelta(hours=due_in_hours + 24),
                resolve_due_at=now + timedelta(days=5), assignee_id=assignee.id if assignee else None)
    session.add(case)
    session.commit()
    return case


@pytest.fixture
def queue(session, app):
    me = make_user(session, "slj_fyr", "spokesperson", "slj")
    make_user(session, "jyj_fyr", "spokesperson", "jyj")
    cases = {
        "late": _case(session, "slj", "河道漂浮垃圾（已超时）", due_in_hours=-3, assignee=me),
        "urgent": _case(session, "slj", "堤坝渗水", due_in_hours=1, priority="urgent"),
        "later": _case(session, "slj", "排水沟堵塞", due_in_hours=20, status="acknowledged"),
        "done": _case(session, "slj", "积水已排", due_in_hours=-50, status="resolved"),
        "other": _case(session, "jyj", "学校食堂问题", due_in_hours=-10),
    }
    cases["later"].acknowledged_at = utcnow()
    session.commit()
    return cases


def test_most_urgent_first_own_unit_only_with_counters(client, queue):
    login(client, "slj_fyr")
    html = client.get("/inbox/").get_data(as_text=True)
    assert html.index("河道漂浮垃圾") < html.index("堤坝渗水") < html.index("排水沟堵塞")
    assert "学校食堂" not in html and "积水已排" not in html
    assert "<b>3</b>待办工单" in html and "<b>1</b>已超时" in html and "<b>1</b>我承办的" in html


@pytest.mark.parametrize("query,shown,hidden", [
    ("status=new", ["堤坝渗水", "河道漂浮垃圾"], ["排水沟堵塞"]),
    ("priority=urgent", ["堤坝渗水"], ["河道漂浮垃圾"]),
    ("overdue=1", ["河道漂浮垃圾"], ["堤坝渗水"]),
    ("mine=1", ["河道漂浮垃圾"], ["堤坝渗水"]),
    ("status=done", ["积水已排"], ["堤坝渗水", "学校食堂"]),
    ("status=bogus&priority=x", ["堤坝渗水"], ["学校食堂"]),
])
def test_filters(client, queue, query, shown, hidden):
    login(client, "slj_fyr")
    html = client.get(f"/inbox/?{query}").get_data(as_text=True)
    assert all(s in html for s in shown) and not any(h in html for h in hidden)


def test_paging(client, session, queue):
    for i in range(55):
        _case(session, "slj", f"批量工单{i:02d}", due_in_hours=100 + i)
    login(client, "slj_fyr")
    first = client.get("/inbox/").get_data(as_text=True)
    assert "第 1 / 2 页" in first and "批量工单46" in first and "批量工单47" not in first
    second = client.get("/inbox/?page=2").get_data(as_text=True)
    assert "批量工单47" in second and "河道漂浮垃圾" not in second
