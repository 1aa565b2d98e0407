"""File import: Excel with a column map, the rejected-rows file, the summary."""
import codecs
import csv
import json
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

from opinion.models import Post
from opinion.pipeline import runs


def write_xlsx(path, rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_with_a_column_map_and_a_rejected_rows_file(runner, session, tmp_path):
    path = write_xlsx(tmp_path / "12345导出.xlsx", [
        ["工单编号", "诉求内容", "受理时间", "来电人", "转发数"],
        ["GD001", "锦绣社区垃圾三天没人清运，臭味很大", datetime(2026, 11, 20, 9, 30), "张先生", 3],
        ["GD002", "", datetime(2026, 11, 20, 10, 0), "李女士", 0],
        [None, "没有编号的工单", datetime(2026, 11, 20, 11, 0), "王先生", 0],
        ["GD004", "北关路公交改线后老人出行不便", "2026-11-20 12:00", "赵先生", 0],
        ["GD005", "南门口工地夜间施工噪音扰民", "2026-11-20T12:30:00+08:00", "钱先生", "很多"],
        [None, None, None, None, None],
        ["GD007", "区人民医院挂号排长队", datetime(2026, 11, 21, 8, 0), None, None],
    ])
    rejected = tmp_path / "rejected.csv"
    args = ["import", str(path), "--map", "id=工单编号", "--map", "text=诉求内容", "--map", "created_at=受理时间",
            "--map", "author=来电人", "--map", "reposts=转发数"]
    result = runner.invoke(args=args + ["--rejected", str(rejected)])
    assert result.exit_code == 0, result.output
    assert "新增 2 条" in result.output and "拒收 4 条" in result.output and str(rejected) in result.output
    post = session.execute(select(Post).where(Post.external_id == "GD001")).scalar_one()
    assert post.created_at.isoformat() == "2026-11-20T01:30:00+00:00"  # an Excel time is Beijing time
    assert post.author == "张先生" and post.reposts == 3
    with rejected.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["行号", "拒收原因", "工单编号"]
    by_line = {r[0]: r[1] for r in rows[1:]}
    assert set(by_line) == {"3", "4", "5", "6"}
    assert "缺少正文" in by_line["3"] and "缺少 id" in by_line["4"]
    assert "缺少时区" in by_line["5"] and "应为整数" in by_line["6"]
    again = runner.invoke(args=args + ["--rejected", str(tmp_path / "r2.csv")])
    assert "新增 0 条，重复 2 条" in again.output
    assert session.execute(select(func.count()).select_from(Post)).scalar() == 2


def test_a_clean_import_leaves_no_rejected_file(runner, app, tmp_path):
    path = write_xlsx(tmp_path / "ok.xlsx", [["id", "text"], ["a", "中山路隧道积水半米深"]])
    result = runner.invoke(args=["import", str(path)])
    assert "新增 1 条" in result.output and "拒收的行" not in result.output
    assert not list((tmp_path / "instance").rglob("*.rejected.csv"))


def test_not_an_excel_file_and_a_missing_text_column(runner, tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"this is not a zip")
    result = runner.invoke(args=["import", str(fake)])
    assert result.exit_code != 0 and "不是有效的 Excel" in result.output
    path = write_xlsx(tmp_path / "cols.xlsx", [["编号", "内容"], ["a", "b"]])
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code != 0 and "缺少列" in result.output and "--map" in result.output


def test_undeclared_big5_csv_is_read_as_big5_and_the_guess_is_said(runner, session, tmp_path):
    path = Path(__file__).parent / "fixtures" / "big5_undeclared.csv"
    result = runner.invoke(args=["import", str(path), "--rejected", str(tmp_path / "rejected.csv")])
    assert result.exit_code == 0, result.output
    assert "新增 2 条" in result.output and "编码 big5hkscs" in result.output
    assert "注意：文件未声明编码，已按内容推测为 Big5（繁体中文）" in result.output and "另存为 UTF-8" in result.output
    post = session.execute(select(Post).where(Post.external_id == "big5-u-1")).scalar_one()
    assert post.text.startswith("區政府回應南環路積水問題") and post.author == "區議會"


def test_utf16_csv_with_a_bom_is_read_without_a_warning(runner, session, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "id,text\r\nu1,中山路隧道積水半米深\r\n".encode("utf-16-le"))
    result = runner.invoke(args=["import", str(path)])
    assert "新增 1 条" in result.output and "注意" not in result.output
    assert session.execute(select(Post.text).where(Post.external_id == "u1")).scalar_one() == "中山路隧道積水半米深"


def test_long_rows_are_imported_in_batches_bounded_by_their_text(app, session, tmp_path, monkeypatch):
    article = "南环路排水管网改造期间夜间实施交通管制，请市民绕行。" * 120
    path = tmp_path / "long.jsonl"
    path.write_text("".join(json.dumps({"id": f"long-{i}", "text": f"{i}{article}"}, ensure_ascii=False) + "\n"
                            for i in range(120)), encoding="utf-8")
    sizes, real_ingest = [], runs.ingest

    def recording(session_, app_, source_, batch, now=None):
        sizes.append(sum(len(p.text) for p in batch))
        return real_ingest(session_, app_, source_, batch, now=now)
    monkeypatch.setattr(runs, "ingest", recording)
    summary = runs.import_file(app, str(path), rejected_path=str(tmp_path / "rejected.csv"))
    assert len(summary.report.accepted) == 120 and len(sizes) >= 2
    assert all(chars <= runs.BATCH_CHARS for chars in sizes), sizes
