"""Unit performance figures come from the case records, and the grade follows the cut-offs."""
import json

from opinion.models import CaseExtension, CaseTransfer
from opinion.reports.performance import unit_performance
from tests.cases.conftest import open_case, unit
from tests.conftest import at


def _done(case, ack=None, resp=None, res=None, satisfaction=None, reopen=0):
    case.acknowledged_at = at(ack) if ack else None
    case.first_response_at = at(resp) if resp else None
    case.resolved_at = at(res) if res else None
    case.satisfaction, case.reopen_count = satisfaction, reopen
    if res:
        case.status = "resolved"


def test_figures_and_grades_from_the_records(app, session, district):
    # normal: ack 1 working day, respond 48 h, resolve 5 working days (opened Mon 2026-11-23 09:00)
    good = [open_case(session, district, start="2026-11-23 09:00") for _ in range(3)]
    for c in good:
        _done(c, "2026-11-23 10:00", "2026-11-23 12:00", "2026-11-25 09:00", "satisfied")
    late = open_case(session, district, unit_code="zjj", start="2026-11-23 09:00")
    _done(late, "2026-11-25 09:00", "2026-11-26 09:00", None)  # ack and response late, unresolved
    other = open_case(session, district, unit_code="zjj", start="2026-11-24 09:00")
    _done(other, "2026-11-24 10:00", "2026-11-24 11:00", "2026-11-25 10:00", "unsatisfied", reopen=1)
    session.add(CaseExtension(case_id=late.id, working_days=3, reason="需协调", requested_at=at("2026-11-24 09:00"),
                              status="approved"))
    session.add(CaseTransfer(case_id=other.id, from_unit_id=unit(session, "zjj").id, reason="非本单位职责",
                             requested_at=at("2026-11-24 10:00")))
    outside = open_case(session, district, unit_code="jjdd", start="2026-11-30 09:00")  # next week
    session.commit()

    rows = {r["unit"]: r for r in unit_performance(session, district, at("2026-11-23 00:00"),
                                                   at("2026-11-30 00:00"), now=at("2026-12-10 00:00"))}
    assert set(rows) == {"jyj", "zjj"} and outside.unit.code not in rows
    jyj, zjj = rows["jyj"], rows["zjj"]
    assert jyj["accepted"] == 3 and jyj["resolved_on_time_rate"] == 1.0 and jyj["overdue"] == 0
    assert jyj["avg_acknowledge_hours"] == 1.0 and jyj["avg_resolve_hours"] == 48.0
    assert jyj["satisfaction_rate"] == 1.0 and jyj["score"] == 100.0 and jyj["grade"] == "A"
    assert zjj["accepted"] == 2 and zjj["acknowledged_on_time"] == 1 and zjj["responded_on_time"] == 1
    assert zjj["overdue"] == 1 and zjj["extensions_approved"] == 1 and zjj["transfers"] == 1
    assert zjj["satisfaction_rate"] == 0.0 and zjj["reopen_rate"] == 1.0
    # The late case's resolve deadline (Nov 30 09:00) falls after the period's end: not judged yet.
    assert zjj["resolved_on_time_rate"] == 1.0
    # 0.2*0.5 + 0.3*0.5 + 0.3*1.0 + 0.2*0 = 0.55 -> 55 -> below C (60) -> D
    assert zjj["score"] == 55.0 and zjj["grade"] == "D"
    assert [r["unit"] for r in unit_performance(session, district, at("2026-11-23 00:00"),
                                                at("2026-11-30 00:00"), now=at("2026-12-10 00:00"))] == ["jyj", "zjj"]


def test_cut_offs_are_configuration(app, session, district):
    case = open_case(session, district)
    _done(case, "2026-11-23 10:00", "2026-11-23 12:00", None)
    session.commit()
    district.performance = {"weights": {"acknowledged_on_time": 1.0}, "grades": {"A": 99, "B": 98, "C": 97}}
    [row] = unit_performance(session, district, at("2026-11-23 00:00"), at("2026-11-24 00:00"))
    assert row["score"] == 100.0 and row["grade"] == "A"
    district.performance = {"weights": {"resolved_on_time": 1.0}, "grades": {"A": 99, "B": 98, "C": 97}}
    [row] = unit_performance(session, district, at("2026-11-23 00:00"), at("2026-11-24 00:00"),
                             now=at("2026-12-10 00:00"))
    assert row["score"] is None and row["grade"] is None  # resolve not due within the day: no score
    [row] = unit_performance(session, district, at("2026-11-23 00:00"), at("2026-12-31 00:00"),
                             now=at("2026-12-10 00:00"))
    assert row["score"] == 0.0 and row["grade"] == "D"


def test_stats_json_includes_performance_for_a_week(app, session, district, runner):
    case = open_case(session, district, start="2026-11-23 09:00")
    _done(case, "2026-11-23 10:00", None, None)
    session.commit()
    result = runner.invoke(args=["stats", "--json", "--week", "2026-W48"])
    assert result.exit_code == 0, result.output
    perf = json.loads(result.output)["performance"]
    assert perf["start"].startswith("2026-11-23T00:00:00+08:00")
    assert [r["unit"] for r in perf["units"]] == ["jyj"] and perf["units"][0]["acknowledged_on_time"] == 1
    result = runner.invoke(args=["stats", "--json", "--since", "2026-12-01", "--until", "2026-12-02"])
    assert json.loads(result.output)["performance"]["units"] == []
    bad = runner.invoke(args=["stats", "--json", "--week", "第48周"])
    assert bad.exit_code != 0 and "无法识别" in bad.output


def test_a_unit_that_transferred_its_case_away_still_shows_the_transfer(app, session, district, people):
    from opinion.cases import transfers
    case = open_case(session, district, start="2026-11-23 09:00")
    transfers.transfer_back(session, district, case, people["fyr"], "工地噪音归住建局", at("2026-11-23 10:00"))
    transfers.reassign_unit(session, district, case, people["monitor"], unit(session, "zjj"), "", at("2026-11-23 11:00"))
    session.commit()
    rows = {r["unit"]: r for r in unit_performance(session, district, at("2026-11-23 00:00"), at("2026-11-30 00:00"),
                                                   now=at("2026-11-23 12:00"))}
    assert (rows["jyj"]["accepted"], rows["jyj"]["transfers"], rows["jyj"]["grade"]) == (0, 1, None)
    assert (rows["zjj"]["accepted"], rows["zjj"]["transfers"], rows["zjj"]["overdue"]) == (1, 0, 0)
    assert rows["zjj"]["acknowledged_on_time_rate"] is None  # still inside its deadline: not judged yet


def test_a_reopened_case_counts_as_resolved_once_for_the_reopen_rate(app, session, district, people):
    from opinion.cases import lifecycle as service
    case = open_case(session, district, start="2026-11-23 09:00")
    service.add_reply(session, case, people["fyr"], "已核实", at("2026-11-23 10:00"))
    service.resolve(session, case, people["fyr"], "已办", at("2026-11-23 11:00"))
    service.record_callback(session, district, case, people["monitor"], "unsatisfied", "仍未解决", at("2026-11-24 10:00"))
    session.commit()
    [row] = unit_performance(session, district, at("2026-11-23 00:00"), at("2026-11-30 00:00"),
                             now=at("2026-11-24 12:00"))
    assert (row["resolved"], row["reopened"], row["reopen_rate"], row["unsatisfied"]) == (0, 1, 1.0, 1)
