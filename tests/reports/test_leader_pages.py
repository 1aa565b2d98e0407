"""The leader dashboard and the report pages: what they show, who may use them, bad requests."""
import pytest

from opinion.models import Instruction, Report
from tests.factories import login, make_user
from tests.reports.conftest import WEEK


def test_dashboard_shows_the_week_at_a_glance(client, session, week_data, monkeypatch):
    from tests.conftest import at
    monkeypatch.setattr("opinion.web.leader.utcnow", lambda: at("2026-11-22 20:00"))
    login(client, "leader")
    page = client.get("/leader/").get_data(as_text=True)
    assert "本周舆情概览" in page and "2026年11月16日至11月22日" in page
    assert "城南养老院护工打骂老人" in page and "各单位回应情况" in page and "区生态环境分局" in page
    assert "data:image/svg+xml;base64," in page  # the trend, drawn on the server
    # C3 is at level 5 without an instruction: it waits for the leader, with its special report.
    assert f'href="/cases/{week_data.c3.id}"' in page
    assert f"/leader/reports/view?kind=special&amp;case={week_data.c3.id}" in page
    session.add(Instruction(case_id=week_data.c3.id, author_id=week_data.leader.id, text="抓紧办结"))
    session.commit()
    assert "暂无待批示工单" in client.get("/leader/").get_data(as_text=True)


@pytest.mark.parametrize("status", ["merged", "resolved", "closed"])
def test_only_open_cases_wait_for_an_instruction(client, session, week_data, status):
    from opinion.reports.special import cases_awaiting_instruction
    assert week_data.c3 in cases_awaiting_instruction(session)
    week_data.c3.status = status
    session.commit()
    assert week_data.c3 not in cases_awaiting_instruction(session)
    login(client, "leader")
    assert f'href="/cases/{week_data.c3.id}"' not in client.get("/leader/").get_data(as_text=True)


def test_report_page_in_the_app_links_its_stylesheet(client, week_data):
    login(client, "leader")
    response = client.get(f"/leader/reports/view?kind=weekly&week={WEEK}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "一、总体态势" in html
    assert "/static/report.css" in html and "<style>" not in html  # the CSP forbids inline styles


@pytest.mark.parametrize("query,message", [
    ("kind=weekly&week=W47", "无法识别"), ("kind=special&case=abc", "编号 “abc” 应为数字"),
    ("kind=yearly", "请选择报告类型"), ("kind=monthly&month=2026年11月", "无法识别")])
def test_bad_report_requests_flash_a_message(client, week_data, query, message):
    login(client, "leader")
    response = client.get(f"/leader/reports/view?{query}", follow_redirects=True)
    assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_a_monitor_makes_a_special_report_from_the_archive_page(client, session, week_data):
    make_user(session, "monitor1", "monitor", "center")
    login(client, "monitor1")
    assert '<a href="/leader/reports/">舆情报告</a>' in client.get("/monitor/").get_data(as_text=True)
    response = client.post("/leader/reports/generate", data={"kind": "special", "case": str(week_data.c2.id)},
                           follow_redirects=True)
    assert "已生成并存档" in response.get_data(as_text=True) or "部分格式未生成" in response.get_data(as_text=True)
    report = session.query(Report).one()
    assert report.kind == "special" and report.case_id == week_data.c2.id
    assert report.generated_by_id is not None


def test_spokespersons_cannot_read_reports(client, session, week_data):
    make_user(session, "sthjj_fyr", "spokesperson", "sthjj")
    login(client, "sthjj_fyr")
    assert client.get("/leader/reports/").status_code == 403
    assert client.get(f"/leader/reports/view?kind=weekly&week={WEEK}").status_code == 403
    assert client.post("/leader/reports/generate", data={"kind": "weekly", "week": WEEK}).status_code == 403


def test_a_missing_file_is_explained(app, client, session, week_data):
    report = Report(kind="weekly", period="2026-W46", title="舆情周报", status="partial",
                    files={"html": "reports/weekly/2026-W46.html"}, error="pdf: 缺少 Pango")
    session.add(report)
    session.commit()
    login(client, "leader")
    page = client.get(f"/leader/reports/{report.id}/pdf", follow_redirects=True).get_data(as_text=True)
    assert "该报告没有 PDF 版本（pdf: 缺少 Pango）" in page
    page = client.get(f"/leader/reports/{report.id}/html", follow_redirects=True).get_data(as_text=True)
    assert "已不存在，请重新生成" in page
    assert client.get(f"/leader/reports/{report.id}/exe").status_code == 404


def test_an_archived_html_report_has_one_charset(app, client, session, week_data):
    from pathlib import Path
    folder = Path(app.instance_path) / "reports" / "weekly"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2026-W46.html").write_text("<!doctype html><title>舆情周报</title><p>一、总体态势</p>", encoding="utf-8")
    report = Report(kind="weekly", period="2026-W46", title="舆情周报", status="ok",
                    files={"html": "reports/weekly/2026-W46.html"})
    session.add(report)
    session.commit()
    login(client, "leader")
    response = client.get(f"/leader/reports/{report.id}/html")
    assert response.status_code == 200 and "一、总体态势" in response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
