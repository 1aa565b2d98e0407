"""Labelled files for train and eval: the formats and encodings districts export, read alike."""
from __future__ import annotations

import csv
import json
import logging

import pytest

from opinion import labelled

ROWS = [{"id": "1", "subject": "噪音扰民", "text": "工地夜间施工，吵得睡不着", "category": "环境保护"},
        {"id": "2", "subject": "", "text": "孩子入学的学位不够", "category": "教育文体"},
        {"id": "3", "subject": "公交", "text": "", "category": "交通运输"},     # subject only
        {"id": "4", "subject": "", "text": "没有类别的一行", "category": ""}]  # no label: left out
EXPECTED = (["噪音扰民 工地夜间施工，吵得睡不着", "孩子入学的学位不够", "公交"], ["环境保护", "教育文体", "交通运输"])


def write_csv(path, encoding, delimiter=","):
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(ROWS[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(ROWS)
    return path


@pytest.mark.parametrize("name,encoding,delimiter", [
    ("a.csv", "utf-8", ","), ("a.csv", "utf-8-sig", ","), ("a.csv", "gbk", ","),
    ("a.tsv", "utf-8", "\t"), ("a.txt", "gb18030", "\t")])
def test_csv_in_any_encoding_and_delimiter(tmp_path, name, encoding, delimiter):
    path = write_csv(tmp_path / name, encoding, delimiter)
    assert labelled.read_labelled(path, "subject,text", "category") == EXPECTED


@pytest.mark.parametrize("name,encoding,as_array", [
    ("a.jsonl", "utf-8", False), ("a.jsonl", "utf-8-sig", False), ("a.json", "utf-8", True),
    ("a.json", "gbk", False), ("a.ndjson", "utf-8", False)])
def test_json_lines_and_json_arrays(tmp_path, name, encoding, as_array):
    path = tmp_path / name
    text = json.dumps(ROWS, ensure_ascii=False) if as_array else \
        "\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS)
    path.write_text(text, encoding=encoding)
    assert labelled.read_labelled(path, "subject,text", "category") == EXPECTED


def test_excel_workbook(tmp_path):
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(list(ROWS[0]))
    for row in ROWS:
        sheet.append([int(row["id"]), *list(row.values())[1:]])
    sheet.append([None, None, None, None])  # a trailing empty row
    book.save(tmp_path / "a.xlsx")
    assert labelled.read_labelled(tmp_path / "a.xlsx", "subject,text", "category") == EXPECTED
    assert labelled.read_rows(tmp_path / "a.xlsx")[0]["id"] == "1"


def test_a_broken_json_line_is_skipped_and_named(tmp_path, caplog):
    path = tmp_path / "a.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in ROWS]
    path.write_text("\n".join([lines[0], '{"text": "断了', "[1, 2]", *lines[1:]]), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert labelled.read_labelled(path, "subject,text", "category") == EXPECTED
    assert "跳过 2 行" in caplog.text and "第 2、3 行" in caplog.text


def test_missing_columns_are_named_with_the_columns_there_are(tmp_path):
    path = write_csv(tmp_path / "a.csv", "utf-8")
    with pytest.raises(ValueError, match=r"需要列 内容 与 category，现有列：id, subject, text, category"):
        labelled.read_labelled(path, "内容", "category")


def test_undecodable_bytes_and_bad_json_files_get_a_clear_error(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"text,label\n\xff\xfe\xfa\xfb,1\n\x81\x20,2\n")
    with pytest.raises(ValueError, match="无法识别文件编码"):
        labelled.read_rows(tmp_path / "a.csv")
    (tmp_path / "b.json").write_text('{"not": "an array"}\n[1]', encoding="utf-8")
    assert labelled.read_rows(tmp_path / "b.json") == [{"not": "an array"}]
    (tmp_path / "c.json").write_text('[1, 2]', encoding="utf-8")
    with pytest.raises(ValueError, match="对象数组"):
        labelled.read_rows(tmp_path / "c.json")
    (tmp_path / "d.xlsx").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="不是有效的 Excel"):
        labelled.read_rows(tmp_path / "d.xlsx")


def test_a_folder_lists_its_labelled_files_only(tmp_path):
    for name in ("b.jsonl", "a.csv", "c.xlsx", "notes.md", ".hidden.csv"):
        (tmp_path / name).write_text("", encoding="utf-8")
    (tmp_path / "sub.csv").mkdir()
    assert [p.name for p in labelled.files_in(tmp_path)] == ["a.csv", "b.jsonl", "c.xlsx"]
    assert labelled.files_in(tmp_path / "a.csv") == [tmp_path / "a.csv"]



def test_eval_understands_labels_written_in_chinese_or_as_numbers(tmp_path):
    from opinion.nlp.train import evaluate
    rows = [("气死我了，排水三天还没修好", "愤怒", "负面"), ("太感谢消防员了，辛苦了", "感激", "正面"),
            ("谢谢社区志愿者的帮助", "Gratitude", "1"), ("又停水了，烦死了", "anger", "0")]
    with open(tmp_path / "a.csv", "w", encoding="gbk", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["内容", "情绪", "倾向"])
        writer.writerows(rows)
    emotion = evaluate("emotion", str(tmp_path / "a.csv"), text_col="内容", label_col="情绪")
    assert emotion["n"] == 4 and set(emotion["labels"]) >= {"anger", "gratitude"}
    assert emotion["accuracy"] == 1.0, emotion  # plain cases: the labels were read, not mangled
    sentiment = evaluate("sentiment", str(tmp_path / "a.csv"), text_col="内容", label_col="倾向")
    assert sentiment["n"] == 4 and sentiment["labels"] == ["negative", "positive"] and sentiment["accuracy"] == 1.0
