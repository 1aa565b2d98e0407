"""What a leader reads is in a reader's words: representative posts are original, substantive
posts (no "顶！//@…" repost chains), burst alerts say "是平时的 6 倍" (no p-values)."""
from opinion.reports import periods
from opinion.reports.figures import period_figures, substantive
from tests.reports.conftest import WEEK, _post


def test_substantive_posts():
    assert not substantive("顶！//@网友87175:顶！")
    assert not substantive("转发微博")
    assert not substantive("顶顶顶顶顶顶顶顶顶顶顶顶顶顶")
    assert substantive("城南养老院护工打骂老人，视频已经传开了，民政局管不管？")


def test_a_repost_chain_is_never_the_representative_post(app, session, district, week_data):
    from opinion.models import Source
    from tests.conftest import at
    source = session.query(Source).first()
    _post(session, source, "chain", "2026-11-17 09:00", "negative", "anger", week_data.c1.topic, reposts=5000,
          text="顶！//@网友87175:顶！//@网友1:城南养老院")
    session.commit()
    f = period_figures(session, district, periods.week_period(WEEK), at("2026-11-23 08:00"))
    top = next(t for t in f["topics"] if t["label"] == "城南养老院护工打骂老人")
    assert "//@" not in top["representative"]["text"]
    assert top["representative"]["text"].startswith("城南养老院护工打骂老人")


def test_burst_alerts_compare_with_the_usual_in_words():
    from opinion.alerts.rules import _times_usual
    assert _times_usual(30, 5.0) == "是平时的 6 倍（平时约 5 条）"
    assert _times_usual(15, 10.0) == "比平时多 50%（平时约 10 条）"
    assert "p=" not in _times_usual(30, 5.0)


def test_overdue_spans_read_in_days():
    from opinion.reports.docx import _span
    assert _span(460.0) == "19 天" and _span(5.5) == "5.5 小时" and _span(None) == "—"


def test_the_report_page_says_days_for_a_long_overdue_case(client, session, week_data):
    from tests.factories import login
    login(client, "leader")
    html = client.get(f"/leader/reports/view?kind=weekly&week={WEEK}").get_data(as_text=True)
    assert " 天</td>" in html and "小时</td>" not in html.split("超期未办结工单")[1].split("</table>")[0]
