"""Monthly and quarterly reports beside the daily and weekly ones: periods, the scheduler's runs."""
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from opinion import jobs
from opinion.errors import ReportError
from opinion.models import Report
from opinion.reports import periods
from tests.conftest import at
from tests.reports.conftest import week_data  # noqa: F401 - fixture


def test_months_and_quarters_are_calendar_periods_in_beijing_time():
    feb = periods.month_period("2026-02")
    assert (feb.start, feb.end) == (at("2026-02-01 00:00"), at("2026-03-01 00:00"))
    assert feb.describe() == "2026年2月" and feb.label == "2026-02"
    assert periods.month_period("2026-03").previous() == feb  # 28 days, not 31
    q4 = periods.quarter_period("2026-q4")
    assert (q4.label, q4.start, q4.end) == ("2026-Q4", at("2026-10-01 00:00"), at("2027-01-01 00:00"))
    assert q4.describe() == "2026年第4季度" and q4.previous().label == "2026-Q3"
    assert periods.last_complete("month", at("2026-12-01 07:15")).label == "2026-11"
    assert periods.last_complete("quarter", at("2027-01-01 07:15")).label == "2026-Q4"
    assert periods.parse_period("month", "2026-7", at("2026-12-01 07:00")).label == "2026-07"
    for kind, text in (("month", "2026-13"), ("quarter", "2026-Q5"), ("month", "十一月")):
        with pytest.raises(ReportError, match="无法识别"):
            periods.parse_period(kind, text, at("2026-12-01 07:00"))


def test_the_first_of_the_month_makes_last_months_and_last_quarters_reports(app, session, week_data):  # noqa: F811
    app.config["REPORT_FORMATS"] = ["html"]
    jobs.monthly_report(app, now=at("2026-12-01 07:15"))
    jobs.quarterly_report(app, now=at("2027-01-01 07:15"))
    session.expire_all()
    monthly, quarterly = session.execute(select(Report).order_by(Report.id)).scalars().all()
    assert (monthly.kind, monthly.period, monthly.title) == ("monthly", "2026-11", "舆情月报（2026年11月）")
    assert (quarterly.kind, quarterly.period) == ("quarterly", "2026-Q4")
    assert quarterly.title == "舆情季报（2026年第4季度）"
    assert monthly.status in ("ready", "partial") and "html" in monthly.files


def test_monthly_and_quarterly_jobs_fire_on_the_first(app):
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    jobs.add_report_jobs(scheduler, app, {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
    sunday = at("2026-11-22 12:00")
    assert scheduler.get_job("monthly_report").trigger.get_next_fire_time(None, sunday) == at("2026-12-01 07:15")
    assert scheduler.get_job("quarterly_report").trigger.get_next_fire_time(None, sunday) == at("2027-01-01 07:15")


def test_a_leader_views_a_monthly_report_on_demand(client, week_data):  # noqa: F811
    from tests.factories import login
    login(client, "leader")
    html = client.get("/leader/reports/view?kind=monthly&month=2026-11").get_data(as_text=True)
    assert "2026年11月网络舆情月报" in html and "本月" in html
    html = client.get("/leader/reports/view?kind=quarterly&quarter=2026-Q4").get_data(as_text=True)
    assert "2026年第4季度网络舆情季报" in html


def test_scheduled_reports_are_e_mailed_to_the_admins_recipients(app, client, session, week_data):  # noqa: F811
    from opinion.models import Notification
    from tests.factories import login, make_user
    app.config["REPORT_FORMATS"] = ["html"]
    app.config["PUBLIC_URL"] = "https://yq.example.gov.cn"
    make_user(session, "root", "admin")
    login(client, "root")
    bad = client.post("/admin/config/report_recipients", data={"text": "monthly:\n  - 不是邮箱\n"})
    assert "邮箱格式不正确" in bad.get_data(as_text=True)
    saved = client.post("/admin/config/report_recipients", follow_redirects=True,
                        data={"text": "monthly:\n  - boss@example.gov.cn\n  - office@example.gov.cn\n"})
    assert "报告邮件订阅已保存" in saved.get_data(as_text=True)
    jobs.monthly_report(app, now=at("2026-12-01 07:15"))
    jobs.daily_report(app, now=at("2026-12-01 07:00"))  # nobody subscribed to the daily brief
    session.expire_all()
    mails = session.execute(select(Notification).where(Notification.channel == "email")
                            .order_by(Notification.address)).scalars().all()
    assert [m.address for m in mails] == ["boss@example.gov.cn", "office@example.gov.cn"]
    report = session.execute(select(Report).where(Report.kind == "monthly")).scalar_one()
    assert mails[0].subject == "舆情月报（2026年11月）" and mails[0].status == "pending"
    assert f"https://yq.example.gov.cn/leader/reports/{report.id}/html" in mails[0].body
