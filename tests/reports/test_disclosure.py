"""信息公开: per unit and month the performance table's figures, published replies searchable and
masked, and an admin's switch."""
from __future__ import annotations

from sqlalchemy import select

from opinion.cases import lifecycle
from opinion.models import AuditEvent, Reply, utcnow
from opinion.reports import disclosure
from tests.cases.conftest import open_case, people  # noqa: F401 - fixture
from tests.factories import login


def _month(case):
    from zoneinfo import ZoneInfo
    local = case.created_at.astimezone(ZoneInfo("Asia/Shanghai"))
    return f"{local.year}-{local.month:02d}"


def _world(session, district, people):  # noqa: F811
    now = utcnow()
    school = open_case(session, district, label="实验小学推迟开学")
    other = open_case(session, district, label="幸福小区3栋噪音", unit_code="zjj")
    for case in (school, other):
        case.created_at = now
    session.add(Reply(case=school, author_id=people["fyr"].id, text="草稿：内部讨论", status="draft"))
    lifecycle.add_reply(session, school, people["fyr"], "已核实，将于下周一正常开学，咨询电话 13812345678。", now)
    lifecycle.add_reply(session, other, people["zjj"], "已责令施工单位夜间停工。", now)
    session.commit()
    return school, other


def test_the_month_in_figures_and_the_published_replies(client, session, district, people):  # noqa: F811
    school, other = _world(session, district, people)
    page = client.get("/p/open", query_string={"month": _month(school)}).get_data(as_text=True)
    assert "区教育局" in page and "区住房和城乡建设局" in page and "受理" in page and "满意率" in page
    assert "将于下周一正常开学" in page and "夜间停工" in page
    assert "13812345678" not in page and "138****5678" in page and "草稿" not in page
    assert school.lookup_code[:5] not in page and "查询码" not in page and people["fyr"].name not in page
    assert "幸福小区**栋噪音" in page  # titles masked too
    found = client.get("/p/open", query_string={"month": _month(school), "q": "开学"}).get_data(as_text=True)
    assert "正常开学" in found and "夜间停工" not in found and "共 1 条" in found
    # A search matches what is shown, so it cannot confirm a masked phone number.
    probe = client.get("/p/open", query_string={"month": _month(school), "q": "13812345678"}).get_data(as_text=True)
    assert "共 0 条" in probe


def test_figures_are_the_performance_tables(session, district, people):  # noqa: F811
    school, _ = _world(session, district, people)
    start, end = disclosure.month_bounds(school.created_at.year, school.created_at.month, "UTC")
    rows = {r["unit_name"]: r for r in disclosure.monthly_figures(session, district, start, end)}
    assert rows["区教育局"]["accepted"] == 1 and rows["区教育局"]["responded"] == 1
    assert rows["区教育局"]["resolved"] == 0 and rows["区教育局"]["satisfaction_rate"] is None


def test_an_admin_switches_the_page_off_and_on(client, session, district, people):  # noqa: F811
    from tests.factories import make_user
    make_user(session, "root", "admin")
    assert client.post("/p/open/switch", data={"enabled": "0"}).status_code in (302, 401, 403)
    assert client.get("/p/open").status_code == 200  # nobody but an admin can close it
    login(client, "monitor1")
    assert client.post("/p/open/switch", data={"enabled": "0"}).status_code == 403
    client.post("/logout")
    login(client, "root")
    closed = client.post("/p/open/switch", data={"enabled": "0"}, follow_redirects=True).get_data(as_text=True)
    assert "信息公开页面已关闭" in closed and "开放信息公开" in closed  # the admin still sees it
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "config.changed")).scalar_one()
    client.post("/logout")
    gone = client.get("/p/open")
    assert gone.status_code == 404 and "信息公开暂未开放" in gone.get_data(as_text=True)
    login(client, "root")
    client.post("/p/open/switch", data={"enabled": "1"})
    client.post("/logout")
    assert client.get("/p/open").status_code == 200
