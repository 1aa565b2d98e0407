"""A monitor writes the 研判意见 and 处置建议 into a 专报 before it goes to leaders; the report (page
and Word) carries them; leaders read but do not edit them."""
from opinion.models import AuditEvent, SpecialReportNote
from tests.factories import login, make_user


def test_a_monitor_writes_the_assessment_and_it_is_in_the_report(client, session, week_data):
    make_user(session, "monitor1", "monitor", "center")
    case_id = week_data.c3.id
    login(client, "monitor1")
    page = client.get(f"/leader/reports/view?kind=special&case={case_id}").get_data(as_text=True)
    assert "六、研判意见" in page and "尚未填写研判意见" in page and 'name="assessment"' in page
    saved = client.post("/leader/reports/special/notes", data={
        "key": f"case-{case_id}", "assessment": "事件涉及老人权益，关注度持续上升，存在线下聚集风险。",
        "recommendation": "建议区民政局于明日12时前公布调查进展。"}, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert "已保存，已写入专报" in html
    assert "存在线下聚集风险" in html and "明日12时前公布调查进展" in html
    note = session.query(SpecialReportNote).one()
    assert note.key == f"case-{case_id}"
    assert session.query(AuditEvent).filter_by(action="report.notes_saved").count() == 1
    too_long = client.post("/leader/reports/special/notes", data={"key": f"case-{case_id}", "assessment": "长" * 2001,
                                                                   "recommendation": ""}, follow_redirects=True)
    assert "研判意见过长" in too_long.get_data(as_text=True)
    import io

    import docx

    from opinion.reports.document import special_document
    from opinion.reports.docx import render_docx
    document = special_document(session, client.application.extensions["district"], case_id=case_id)
    word = "\n".join(p.text for p in docx.Document(io.BytesIO(render_docx(document))).paragraphs)
    assert "六、研判意见" in word and "存在线下聚集风险" in word and "七、处置建议" in word
    client.post("/logout")
    login(client, "leader")
    page = client.get(f"/leader/reports/view?kind=special&case={case_id}").get_data(as_text=True)
    assert "存在线下聚集风险" in page and 'name="assessment"' not in page
    assert client.post("/leader/reports/special/notes", data={"key": f"case-{case_id}"}).status_code == 403
