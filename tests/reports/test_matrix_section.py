"""The weekly summary's 政务微博矩阵 section: each unit's accounts, the week's posts and
interactions, the silent accounts and those that never answer comments, in the HTML and the Word
file; absent with no accounts."""
import docx
from sqlalchemy import select

from opinion.models import OfficialAccount, OfficialPost, Unit
from tests.conftest import at
from tests.reports.conftest import WEEK

NOW = ["--now", "2026-11-23T07:30"]


def _accounts(session):
    unit = lambda code: session.execute(select(Unit).where(Unit.code == code)).scalar_one()  # noqa: E731
    # netizens commented twice under the week's first post; the account answered neither
    comments = {"a": {"n": 2, "answers": [], "others": [at("2026-11-17 11:00").isoformat(),
                                                        at("2026-11-18 09:00").isoformat()]}}
    live = OfficialAccount(unit=unit("mzj"), platform="weibo", handle="海曙民政发布", responsible="甲", config={},
                           state={"comments": comments}, followers=3200, created_at=at("2026-10-01 09:00"))
    dead = OfficialAccount(unit=unit("sthjj"), platform="wechat", handle="海曙生态环境", responsible="乙",
                           config={}, state={}, followers=150, created_at=at("2026-10-01 09:00"))
    session.add_all([live, dead])
    session.flush()
    session.add_all([
        OfficialPost(account_id=live.id, external_id="a", text="养老机构专项检查通报", created_at=at("2026-11-17 10:00"),
                     reposts=10, comments=20, likes=30),
        OfficialPost(account_id=live.id, external_id="b", text="冬季养老服务提示", created_at=at("2026-11-20 10:00"),
                     likes=4),
        OfficialPost(account_id=live.id, external_id="c", text="上周的通知", created_at=at("2026-11-12 10:00"), likes=500),
        OfficialPost(account_id=dead.id, external_id="d", text="十月的通知", created_at=at("2026-10-20 10:00"))])
    session.commit()


def test_the_weekly_summary_has_the_matrix_section(runner, session, week_data, tmp_path):
    out = tmp_path / "weekly.html"
    first = runner.invoke(args=["report", "weekly", "--week", WEEK, "--out", str(out), *NOW])
    assert first.exit_code == 0 and "六、政务微博矩阵" not in out.read_text(encoding="utf-8")  # no accounts yet

    _accounts(session)
    assert runner.invoke(args=["report", "weekly", "--week", WEEK, "--out", str(out), *NOW]).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert "六、政务微博矩阵" in html
    # the week's two posts (not last week's), their 64 interactions, and the account quiet since October
    assert "共发布 2 条，获转发、评论、点赞 64 次" in html and "1 个账号长期未发布（僵尸号）：海曙生态环境" in html
    assert "1 个账号有网友评论却从不回复：海曙民政发布" in html

    word = tmp_path / "weekly.docx"
    assert runner.invoke(args=["report", "weekly", "--week", WEEK, "--out", str(word), *NOW]).exit_code == 0
    document = docx.Document(str(word))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "单位" and t.rows[0].cells[1].text == "账号")
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert rows == [["区生态环境分局", "1", "0", "0", "150", "海曙生态环境", "—"],
                    ["区民政局", "1", "2", "64", "3200", "—", "海曙民政发布"]]
    assert "1 个账号有网友评论却从不回复：海曙民政发布" in "\n".join(p.text for p in document.paragraphs)
