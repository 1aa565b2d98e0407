"""The weekly, daily and special reports as files: HTML, Word (re-read by python-docx) and PDF
(read back with pdftotext), made from the command line."""
import re
import shutil
import subprocess

import docx
import pytest
from sqlalchemy import select

from opinion.models import Instruction, Source, Topic
from opinion.reports.pdf import pdf_available
from tests.conftest import at
from tests.reports.conftest import WEEK, _post

SECTIONS = ["一、总体态势", "二、热点话题", "三、预警与督办", "四、各单位回应绩效", "五、超期未办结工单"]
NOW = ["--now", "2026-11-23T07:30"]


def _report(runner, *args):
    result = runner.invoke(args=["report", *args, *NOW])
    assert result.exit_code == 0, result.output
    return result


def _needs_pdf():
    reason = pdf_available()
    if reason:
        pytest.skip(reason)
    if shutil.which("pdftotext") is None:
        pytest.skip("缺少 pdftotext（poppler-utils），无法读回 PDF；请运行 scripts/install-browser")


def test_weekly_docx_reads_back_with_sections_and_the_unit_table(runner, week_data, tmp_path):
    out = tmp_path / "周报.docx"
    _report(runner, "weekly", "--week", WEEK, "--out", str(out))
    document = docx.Document(str(out))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "舆\u3000情\u3000周\u3000报" in text and "区互联网信息中心" in text
    for title in SECTIONS:
        assert title in text
    assert "共监测到涉示范区网络信息 8 条" in text
    units = next(t for t in document.tables if t.rows[0].cells[0].text == "单位")
    rows = [[c.text for c in row.cells] for row in units.rows[1:]]
    assert [r[0] for r in rows] == ["区生态环境分局", "区民政局"]
    assert rows[0][-1] == "D" and rows[1][-1] == "A"
    assert len(document.inline_shapes) == 3  # trend, emotions, topics


def test_weekly_pdf_has_the_sections_and_the_unit_table(runner, week_data, tmp_path):
    _needs_pdf()
    out = tmp_path / "weekly.pdf"
    _report(runner, "weekly", "--week", WEEK, "--format", "pdf", "--out", str(out))
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    for title in SECTIONS:
        assert title in text
    assert "城南养老院护工打骂老人" in text
    # The unit table, row by row: name, accepted, on-time rates ... grade (worst first).
    rows = [line.split() for line in text.splitlines() if line.strip().startswith(("区生态环境分局", "区民政局"))]
    assert [(r[0], r[1], r[2], r[-1]) for r in rows] == [("区生态环境分局", "1", "0%", "D"),
                                                       ("区民政局", "1", "100%", "A")]
    # No page but the last is left half blank by a chart too tall for the rest of it ("page 2 half blank").
    fills = _page_fill(out)
    assert len(fills) > 1 and all(fill >= 0.65 for fill in fills[:-1]), fills



def test_a_week_of_many_hot_topics_leaves_no_page_half_blank(runner, week_data, session, tmp_path):
    # Ten hot topics make the topic chart tall; before, it jumped whole to the next page after the
    # emotion chart and left page 2 half blank.
    _needs_pdf()
    source = session.execute(select(Source)).scalars().first()
    for n in range(10):
        topic = Topic(key=f"many{n}", label=f"第{n + 1}个热点话题的标题", keywords=["话题"],
                      first_seen_at=at("2026-11-16 08:00"), last_seen_at=at("2026-11-21 08:00"))
        session.add(topic)
        session.flush()
        for k in range(12 - n):
            _post(session, source, f"many{n}-{k}", f"2026-11-{16 + k % 5} 0{k % 9}:00",
                  ("negative", "neutral")[k % 2], "anger", topic)
    session.commit()
    out = tmp_path / "weekly.pdf"
    _report(runner, "weekly", "--week", WEEK, "--format", "pdf", "--out", str(out))
    fills = _page_fill(out)
    assert len(fills) > 2 and all(fill >= 0.65 for fill in fills[:-1]), fills

def _page_fill(path) -> list[float]:
    """How far down each page its text reaches (0–1), the page footer left out: pdftotext's word boxes."""
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    fills = []
    for page in re.finditer(r'<page width="[\d.]+" height="([\d.]+)">(.*?)</page>', out, re.S):
        lines = sorted({float(y) for y in re.findall(r'yMax="([\d.]+)"', page.group(2))})
        fills.append(lines[-2] / float(page.group(1)) if len(lines) > 1 else 0.0)  # lines[-1]: "第 n 页 / 共 m 页"
    return fills


def test_weekly_html_stands_alone(runner, week_data, tmp_path):
    out = tmp_path / "weekly.html"
    _report(runner, "weekly", "--week", WEEK, "--out", str(out))
    html = out.read_text(encoding="utf-8")
    assert "<style>" in html and "data:image/svg+xml;base64," in html
    for remote in ('src="http', "url(http", "<script"):  # nothing to fetch, nothing to run
        assert remote not in html
    # its one <link> is the empty icon, inline, so opening the file asks nothing of a server
    assert re.findall(r"<link[^>]*>", html) == ['<link rel="icon" href="data:,">']
    for title in SECTIONS:
        assert title in html


def test_daily_brief_without_out_goes_to_the_archive(runner, week_data, app):
    result = _report(runner, "daily", "--date", "2026-11-16")
    assert "舆情日报（2026年11月16日）：已存档" in result.output
    listing = runner.invoke(args=["report", "list"]).output
    assert "daily" in listing and "2026-11-16" in listing and "ready" in listing and "[docx, html]" in listing


def test_special_report_on_a_case_shows_the_instruction_and_the_case_link(runner, session, week_data, tmp_path):
    session.add(Instruction(case_id=week_data.c3.id, author_id=week_data.leader.id,
                            text="请区民政局三日内办结并公开回应。"))
    session.commit()
    out = tmp_path / "special.docx"
    _report(runner, "special", "--case", str(week_data.c3.id), "--out", str(out))
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "关于“城南养老院护工打骂老人”的舆情专报" in text
    assert "九、领导批示" in text and "请区民政局三日内办结并公开回应。" in text
    assert f"/cases/{week_data.c3.id}" in text
    assert "尚未办结，已超时" in text


@pytest.mark.parametrize("args,message", [
    (["weekly", "--week", "2026-W60"], "2026 年没有第 60 周"),
    (["daily", "--date", "昨天"], "日期 “昨天” 无法识别"),
    (["special", "--case", "999"], "工单 #999 不存在"),
    (["special"], "须指定一个工单（--case）或一个话题（--topic）"),
    (["weekly", "--out", "report.txt"], "无法从文件名判断格式"),
    (["weekly", "--out", "no/such/folder/report.docx"], "无法写入 no/such/folder/report.docx"),
])
def test_bad_requests_say_what_is_wrong(runner, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(args=["report", *args])
    assert result.exit_code != 0 and message in result.output
    assert not (tmp_path / "report.txt").exists()


def test_special_report_on_a_topic_covers_all_its_cases(runner, week_data, tmp_path):
    out = tmp_path / "topic.html"
    _report(runner, "special", "--topic", str(week_data.t1.id), "--out", str(out))
    html = out.read_text(encoding="utf-8")
    assert f"#{week_data.c1.id} 城南养老院护工打骂老人" in html and f"#{week_data.c3.id} 城南养老院护工打骂老人" in html
    assert "区民政局已介入调查" in html  # the reply, under 处置情况
    assert "共监测到相关信息 6 条，其中负面 4 条" in html  # 4 in W47 and 2 in W46


def test_without_a_period_the_last_complete_one_is_made(runner, week_data, tmp_path):
    result = _report(runner, "weekly", "--out", str(tmp_path / "w.html"))
    assert "舆情周报（2026年11月16日至11月22日）" in result.output
    result = _report(runner, "daily", "--out", str(tmp_path / "d.html"))
    assert "舆情日报（2026年11月22日）" in result.output
