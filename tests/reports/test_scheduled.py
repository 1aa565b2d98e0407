"""The scheduler's reports: Monday's weekly summary, each morning's brief, level-5 special reports,
and the archive that lists them."""
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from opinion import jobs
from opinion.models import Instruction, Report
from opinion.reports.pdf import pdf_available
from opinion.reports.scheduled import parse_schedule
from tests.conftest import at
from tests.factories import login
from tests.reports.conftest import MONDAY_MORNING


def _reports(session):
    session.expire_all()
    return session.execute(select(Report).order_by(Report.id)).scalars().all()


def test_monday_morning_makes_last_weeks_summary_once(app, session, week_data):
    app.config["REPORT_FORMATS"] = ["html", "docx", "pdf"]
    jobs.weekly_report(app, now=MONDAY_MORNING)
    [report] = _reports(session)
    assert (report.kind, report.period, report.trigger) == ("weekly", "2026-W47", "schedule")
    assert report.title == "舆情周报（2026年11月16日至11月22日）"
    assert report.generated_at == MONDAY_MORNING
    for fmt, relative in report.files.items():
        assert (Path(app.instance_path) / relative).stat().st_size > 1000, fmt
    assert set(report.files) == ({"html", "docx", "pdf"} if pdf_available() is None else {"html", "docx"})
    jobs.weekly_report(app, now=MONDAY_MORNING)  # a second run replaces, it does not add
    assert session.execute(select(func.count()).select_from(Report)).scalar() == 1


def test_each_morning_makes_yesterdays_brief(app, session, week_data):
    jobs.daily_report(app, now=at("2026-11-17 07:00"))
    [report] = _reports(session)
    assert (report.kind, report.period) == ("daily", "2026-11-16")


def test_level_five_cases_get_a_special_report_once(app, session, week_data):
    jobs.special_reports(app, now=MONDAY_MORNING)
    [report] = _reports(session)
    assert (report.kind, report.case_id, report.trigger) == ("special", week_data.c3.id, "ladder")
    jobs.special_reports(app, now=MONDAY_MORNING)
    assert len(_reports(session)) == 1
    # A leader's instruction entered later is in the archived copy after the next run.
    session.add(Instruction(case_id=week_data.c3.id, author_id=week_data.leader.id,
                            text="请民政局立即整改", at=at("2026-11-23 09:00")))
    session.commit()
    jobs.special_reports(app, now=at("2026-11-23 09:05"))
    [report] = _reports(session)
    assert report.generated_at == at("2026-11-23 09:05")
    html = (Path(app.instance_path) / report.files["html"]).read_text(encoding="utf-8")
    assert "请民政局立即整改" in html
    jobs.special_reports(app, now=at("2026-11-23 09:10"))
    assert _reports(session)[0].generated_at == at("2026-11-23 09:05")  # nothing new: left alone


def test_a_failing_job_logs_and_leaves_nothing_half_done(app, session, week_data, monkeypatch, caplog):
    def broken(*_args, **_kw):  # the Word writer dies after the HTML file was written
        raise RuntimeError("磁盘已满")
    monkeypatch.setattr("opinion.reports.docx.render_docx", broken)
    jobs.weekly_report(app, now=MONDAY_MORNING)
    assert "weekly report failed" in caplog.text and "磁盘已满" in caplog.text
    assert _reports(session) == []  # no archive row pointing at a half-made report
    monkeypatch.undo()
    jobs.weekly_report(app, now=MONDAY_MORNING)  # the next run makes it whole
    assert _reports(session)[0].status in ("ready", "partial")


def test_jobs_fire_at_the_configured_times(app):
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    app.config["REPORT_WEEKLY_AT"] = "mon 08:15"
    jobs.add_report_jobs(scheduler, app, {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
    weekly = scheduler.get_job("weekly_report").trigger
    daily = scheduler.get_job("daily_report").trigger
    sunday = at("2026-11-22 12:00")
    assert weekly.get_next_fire_time(None, sunday) == at("2026-11-23 08:15")
    assert daily.get_next_fire_time(None, sunday) == at("2026-11-23 07:00")
    assert scheduler.get_job("special_reports") is not None


@pytest.mark.parametrize("text", ["25:00", "monday 7:30", "7.30", ""])
def test_bad_schedule_settings_are_refused(text):
    with pytest.raises(ValueError, match="应写成 “07:30” 或 “mon 07:30”"):
        parse_schedule(text)


def test_the_archive_lists_the_scheduled_report_with_downloads(app, client, session, week_data):
    jobs.weekly_report(app, now=MONDAY_MORNING)
    report = _reports(session)[0]
    login(client, "leader")
    page = client.get("/leader/reports/").get_data(as_text=True)
    assert "舆情周报（2026年11月16日至11月22日）" in page and "定时生成" in page
    response = client.get(f"/leader/reports/{report.id}/docx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert "attachment" in response.headers["Content-Disposition"]
    page = client.get(f"/leader/reports/{report.id}/html")
    assert page.status_code == 200 and "一、总体态势" in page.get_data(as_text=True)
    policy = page.headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy and "default-src 'none'" in policy and "script" not in policy
    dashboard = client.get("/leader/").get_data(as_text=True)
    assert f"/leader/reports/{report.id}/docx" in dashboard


def test_without_pango_the_archive_keeps_html_and_word_and_says_why(app, session, week_data, monkeypatch):
    app.config["REPORT_FORMATS"] = ["html", "docx", "pdf"]
    monkeypatch.setattr("opinion.reports.pdf.pdf_available", lambda: "无法生成 PDF：缺少 Pango")
    jobs.weekly_report(app, now=MONDAY_MORNING)
    [report] = _reports(session)
    assert report.status == "partial" and set(report.files) == {"html", "docx"}
    assert report.error == "pdf: 无法生成 PDF：缺少 Pango"


def test_an_unknown_format_setting_is_refused_by_name(app, session, week_data, caplog):
    app.config["REPORT_FORMATS"] = ["html", "odt"]
    jobs.weekly_report(app, now=MONDAY_MORNING)
    assert "不支持的报告格式 odt" in caplog.text and _reports(session) == []
