"""The leader's unit table shows each unit's backlog now beside the week's figures; the report forms
pick a week and a day (this week and today by default) and accept 第49周."""
from sqlalchemy import select

from opinion.models import Case, Unit
from tests.factories import login


def test_the_unit_table_shows_the_backlog_beside_the_week(client, session, week_data, monkeypatch):
    from tests.conftest import at
    monkeypatch.setattr("opinion.web.leader.utcnow", lambda: at("2026-11-22 20:00"))
    slj = session.execute(select(Unit).where(Unit.code == "slj")).scalar_one()
    # received weeks ago and overdue since 11-03: not in this week's figures, the largest backlog
    for n in range(3):
        session.add(Case(unit_id=slj.id, title=f"积水旧案{n}", priority="normal", status="acknowledged",
                         created_at=at("2026-11-01 09:00"), acknowledged_at=at("2026-11-01 10:00"),
                         acknowledge_due_at=at("2026-11-01 11:00"), respond_due_at=at("2026-11-02 09:00"),
                         resolve_due_at=at("2026-11-03 09:00"), first_response_at=at("2026-11-01 12:00")))
    session.commit()
    login(client, "leader")
    page = client.get("/leader/").get_data(as_text=True)
    table = page[page.index('id="units"'):]
    table = table[:table.index("</section>")]
    assert "现在积压" in table and "近 7 日受理" in table
    row = table[table.index("区水利局"):]
    row = row[:row.index("</tr>")]
    assert "本周无新受理工单" in row and "最长超期 19 天" in row and '<td class="bad">3' in row
    # the unit with the largest backlog comes first
    assert table.index("区水利局") < table.index("区民政局")
    mzj = table[table.index("区民政局"):]
    mzj = mzj[:mzj.index("</tr>")]
    assert '<td class="bad">1' in mzj  # C3, received the week before, still open and overdue


def test_report_forms_pick_this_week_and_accept_chinese_weeks(client, session, week_data):
    login(client, "leader")
    page = client.get("/leader/reports/").get_data(as_text=True)
    assert 'type="week" name="week" value="20' in page and 'type="date" name="date" value="20' in page
    assert "2026-W47" not in page  # no stale placeholder
    response = client.get("/leader/reports/view?kind=weekly&week=2026年第47周")
    assert response.status_code == 200 and "2026年11月16日至11月22日" in response.get_data(as_text=True)
    bad = client.get("/leader/reports/view?kind=weekly&week=上周", follow_redirects=True).get_data(as_text=True)
    assert "第49周" in bad  # the message says how to write it
