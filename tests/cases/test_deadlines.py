"""Deadlines across 春节 2026 (Feb 15-23 off; Saturdays Feb 14 and Feb 28 are make-up workdays) and
国庆, shown with the time left."""
import pytest

from opinion.cases.deadlines import compute_deadlines
from opinion.jobs import ladder_pass as tick
from tests.cases.conftest import open_case
from tests.conftest import at


@pytest.mark.parametrize("priority,start,expected", [
    ("normal", "2026-02-13 16:00", ("2026-02-14 16:00", "2026-02-15 16:00", "2026-02-27 16:00")),
    ("high", "2026-02-13 16:00", ("2026-02-13 18:00", "2026-02-14 16:00", "2026-02-25 16:00")),
    # Opened on a holiday: working days count from the next working day's 09:00 (Feb 24);
    # resolve: Feb 25, 26, 27, 28 (make-up Saturday), Mar 2. The 48 h response (Feb 24 10:00)
    # would fall before the acknowledgement, so it waits for it.
    ("normal", "2026-02-22 10:00", ("2026-02-25 09:00", "2026-02-25 09:00", "2026-03-02 09:00")),
    ("normal", "2026-09-30 18:00", ("2026-10-08 18:00", "2026-10-08 18:00", "2026-10-13 18:00")),
])
def test_deadlines_over_the_spring_festival_and_national_day(district, priority, start, expected):
    due = compute_deadlines(district, priority, at(start))
    assert (due["acknowledge"], due["respond"], due["resolve"]) == tuple(at(e) for e in expected)


def test_the_ladder_waits_out_the_spring_festival(app, session, district, people):
    case = open_case(session, district, priority="high", start="2026-02-13 16:00")
    from opinion.cases import lifecycle as service
    service.add_reply(session, case, people["fyr"], "已收到，节后落实", at("2026-02-13 17:00"))
    session.commit()
    # Resolve clock: Feb 13 16:00 → Feb 25 16:00 (11 days); 50% is Feb 19 16:00, 80% Feb 23 18:24.
    assert [line.split(" ", 2)[1] for line in tick(session, district, at("2026-02-19 16:00"))] == ["电子催办"]
    assert tick(session, district, at("2026-02-25 15:59"))[0].split(" ", 2)[2].startswith("resolve@0.8")
    assert tick(session, district, at("2026-02-25 15:59")) == []
    assert tick(session, district, at("2026-02-25 16:00")) == [f"#{case.id} 第5级 专报批办：办结时限已过"]


def test_the_case_page_shows_time_left(client, session, district, people):
    from tests.factories import login
    case = open_case(session, district, start="2026-02-13 16:00")
    login(client, "jyj_fyr")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "2026-02-27 16:00" in html and "已超时" in html  # long past by now
