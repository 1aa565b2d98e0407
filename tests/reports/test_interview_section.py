"""The weekly summary's 在线访谈 section: the week's interviews with questions received, adopted and
answered, and the follow-up cases with their status, in the HTML and the Word file; absent in a
week without interviews, and an interview started the week before is not counted."""
import docx
from sqlalchemy import select

from opinion.interviews import live, questions
from opinion.models import Unit
from tests.conftest import at
from tests.factories import make_user
from tests.reports.conftest import WEEK

NOW = ["--now", "2026-11-23T07:30"]


def _interview(session, district, admin, monitor, start: str, guest: str, asked: list[str], answered: int,
               follow_up: int = 0):
    unit = session.execute(select(Unit).where(Unit.code == "zjj")).scalar_one()
    interview = live.schedule(session, admin, unit, guest, "局长", "老旧小区改造", at(start), at(start))
    live.move(session, interview, "live", admin, at(start))
    rows = [questions.add_question(session, district, interview, text, "网友", at(start)) for text in asked]
    adopted = [q for q in rows if q.status == "pending"][:answered + follow_up + 1]
    for q in adopted:
        questions.adopt(session, district, q, monitor, at(start))
    for q in adopted[:answered]:
        live.answer(session, district, q, monitor, "正在推进，年底前完成。", at(start))
    for q in adopted[answered:answered + follow_up]:
        live.follow_up(session, district, q, unit, monitor, "", at(start))
    session.commit()
    return interview


def test_the_weekly_summary_has_the_interview_section(runner, session, district, week_data, tmp_path):
    out = tmp_path / "weekly.html"
    assert runner.invoke(args=["report", "weekly", "--week", WEEK, "--out", str(out), *NOW]).exit_code == 0
    assert "、在线访谈" not in out.read_text(encoding="utf-8")  # no interview yet: no section

    admin, monitor = make_user(session, "admin1", "admin"), make_user(session, "monitor1", "monitor", "center")
    _interview(session, district, admin, monitor, "2026-11-12 15:00", "李上周", ["上周的提问？"], 1)
    _interview(session, district, admin, monitor, "2026-11-18 15:00", "王建国",
               ["加装电梯补贴多少？", "加装电梯补贴多少", "小区停车位怎么安排？", "外墙保温什么时候修？", "路灯坏了谁管？"],
               answered=1, follow_up=1)
    assert runner.invoke(args=["report", "weekly", "--week", WEEK, "--out", str(out), *NOW]).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert "六、在线访谈" in html   # no matrix section this week, so the sixth
    # five received (one a copy, merged), three adopted, one answered, one sent on as a case
    assert "本期举办在线访谈 1 场，收到网友提问 5 条，采用 3 条，现场答复 1 条；转交会后跟进办理 1 件" in html
    assert "转交会后跟进办理 1 件，已办结 0 件" in html and "区住房和城乡建设局（待签收）" in html
    assert "李上周" not in html

    word = tmp_path / "weekly.docx"
    assert runner.invoke(args=["report", "weekly", "--week", WEEK, "--out", str(word), *NOW]).exit_code == 0
    document = docx.Document(str(word))
    assert "六、在线访谈" in [p.text for p in document.paragraphs]
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "访谈")
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert len(rows) == 1 and "王建国" in rows[0][0] and rows[0][1] == "2026-11-18 15:00"
    assert rows[0][2:5] == ["5", "3", "1"] and "（待签收）" in rows[0][5]
