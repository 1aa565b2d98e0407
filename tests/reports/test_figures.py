"""The report's figures against hand counts, and against `stats --json` for the same period."""
import json

import pytest

from opinion.errors import ReportError
from opinion.reports import periods
from opinion.reports.figures import period_figures
from tests.conftest import at
from tests.reports.conftest import EXPECTED_PERIOD, MONDAY_MORNING, WEEK


def _strip(period_stats: dict) -> dict:
    return {k: v for k, v in period_stats.items() if k not in ("start", "end")}


def test_week_figures_match_the_hand_counts(app, session, district, week_data):
    f = period_figures(session, district, periods.week_period(WEEK), MONDAY_MORNING)
    assert _strip(f["totals"]) == EXPECTED_PERIOD
    assert f["before"]["posts"]["total"] == 2 and f["before"]["alerts"]["total"] == 1
    assert f["before"]["escalations"]["by_level"]["4"] == 1
    assert f["negative"] == 5 and f["negative_share"] == pytest.approx(5 / 8)
    assert f["volume_change"] == pytest.approx(3.0)  # 8 against 2
    # Posts per Beijing day: the 00:30 post on Monday belongs to Monday, not to Sunday UTC.
    assert [d["total"] for d in f["trend"]] == [3, 1, 1, 1, 1, 0, 1]
    assert [d["negative"] for d in f["trend"]] == [3, 1, 0, 1, 0, 0, 0]
    top = f["topics"][0]
    assert (top["label"], top["posts"], top["negative"]) == ("城南养老院护工打骂老人", 4, 3)
    assert top["emotions"] == {"anger": 2, "sadness": 1, "surprise": 1}
    assert top["representative"]["text"].startswith("城南养老院护工打骂老人")
    assert "区民政局已回应 1 次" in top["action"]
    assert [(t["label"], t["posts"]) for t in f["topics"]][1] == ("西城化工厂异味", 3)
    assert [(e["case_id"], e["level"]) for e in f["escalations"]] == [
        (week_data.c3.id, 5), (week_data.c2.id, 2), (week_data.c2.id, 3)]
    assert [(o["id"], o["missed"], o["level"]) for o in f["overdue"]] == [
        (week_data.c3.id, "办结", 5), (week_data.c2.id, "签收、回应", 3)]
    units = {u["unit_name"]: u for u in f["units"]}
    assert units["区民政局"]["accepted"] == 1 and units["区民政局"]["overdue"] == 0
    assert units["区生态环境分局"]["overdue"] == 1
    assert f["units"][0]["unit_name"] == "区生态环境分局"  # worst first
    assert "共监测到涉示范区网络信息 8 条，较上周增加 300%" in f["narrative"]
    assert "仍有 2 件工单超过时限未办结" in f["narrative"]


def test_stats_json_gives_the_same_figures_for_the_week(app, runner, session, district, week_data):
    result = runner.invoke(args=["stats", "--json", "--week", WEEK])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert _strip(stats["period"]) == EXPECTED_PERIOD
    f = period_figures(session, district, periods.week_period(WEEK), MONDAY_MORNING)
    assert stats["period"]["start"] == f["totals"]["start"] == "2026-11-16T00:00:00+08:00"
    by_unit = {u["unit"]: (u["accepted"], u["overdue"], u["grade"]) for u in stats["performance"]["units"]}
    assert by_unit == {u["unit"]: (u["accepted"], u["overdue"], u["grade"]) for u in f["units"]}


def test_a_day_is_a_beijing_calendar_day(app, session, district, week_data):
    f = period_figures(session, district, periods.day_period("2026-11-16"), MONDAY_MORNING)
    assert f["totals"]["posts"]["total"] == 3  # 00:30, 09:00 and 10:00 on Monday the 16th
    assert f["before"]["posts"]["total"] == 0
    assert len(f["trend"]) == 7 and f["trend"][-1]["day"].isoformat() == "2026-11-16"
    assert f["narrative"].startswith("当日（2026年11月16日）")


@pytest.mark.parametrize("text,message", [
    ("2026-47", "“第49周”"), ("2026-W54", "2026 年没有第 54 周"), ("", "周选择器")])
def test_bad_weeks_are_refused_with_a_message(text, message):
    with pytest.raises(ReportError, match=message):
        periods.week_period(text)


def test_periods_and_their_previous():
    week = periods.week_period("2026-W01")
    assert week.start.date().isoformat() == "2025-12-29" and week.previous().label == "2025-W52"
    assert periods.day_period("2026-03-01").previous().label == "2026-02-28"
    with pytest.raises(ReportError, match="应写成 “2026-11-22”"):
        periods.day_period("22/11/2026")
    window = periods.last_days(at("2026-11-23 07:30"), 7)
    assert window.describe() == "2026年11月17日至11月23日" and len(window.days) == 7
