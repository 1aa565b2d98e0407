"""Labelled files for `train` and `eval`: one reader for whatever a district or a data set hands us.

Exports come as CSV from Excel (often GBK), as Excel workbooks, as JSON Lines or a JSON array,
with or without a byte-order mark. The train and eval commands all read through here, so a file
that one of them accepts, every one of them accepts. A line that is not valid JSON is skipped
with a warning naming it, rather than costing the whole measurement.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import unicodedata
from pathlib import Path
from zipfile import BadZipFile

log = logging.getLogger(__name__)
SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".xlsx", ".txt")


def decode(path: Path) -> tuple[str, str]:
    """The file's text and its encoding: UTF-8 (with or without BOM), else GBK/GB18030."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding.replace("-sig", "")
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{path.name}: 无法识别文件编码（支持 UTF-8 与 GBK/GB18030）")


def read_rows(path: str | Path) -> list[dict]:
    """Every row of a labelled file as a dict (header names as keys)."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        return _xlsx(path)
    text, _ = decode(path)
    head = text.lstrip()[:1]
    if head == "[":
        rows = json.loads(text)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValueError(f"{path.name}: JSON 文件应为对象数组")
        return rows
    if head == "{" or path.suffix.lower() in (".jsonl", ".ndjson"):
        return _json_lines(path.name, text)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if path.suffix.lower() == ".tsv" or ("\t" in first and "," not in first) else ","
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def read_labelled(path: str | Path, text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    """Texts and labels; `text_col` may name several columns ("subject,text"), joined by a space.
    Rows without text or label are left out."""
    rows = read_rows(path)
    cols = [c.strip() for c in text_col.split(",") if c.strip()]
    if rows and any(c not in rows[0] for c in cols + [label_col]):
        raise ValueError(f"{Path(path).name}: 需要列 {text_col} 与 {label_col}，现有列：{', '.join(map(str, rows[0]))}"
                         "（用 --text-col / --label-col 指定）")
    texts, labels = [], []
    for row in rows:
        text = " ".join(str(row[c]) for c in cols if row.get(c) not in (None, ""))
        label = str(row.get(label_col) if row.get(label_col) is not None else "").strip()
        if text.strip() and label:
            texts.append(text)
            labels.append(label)
    return texts, labels


def files_in(path: str | Path) -> list[Path]:
    """A file, or the labelled files directly inside a folder, sorted by name."""
    p = Path(path)
    if p.is_dir():
        return sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SUFFIXES
                      and not f.name.startswith("."))
    return [p]


def _json_lines(name: str, text: str) -> list[dict]:
    rows, bad = [], []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            bad.append(n)
            continue
        if isinstance(obj, dict):
            rows.append(obj)
        else:
            bad.append(n)
    if bad:
        log.warning("%s: 跳过 %d 行不是 JSON 对象的内容（第 %s 行）", name, len(bad),
                    "、".join(map(str, bad[:10])) + ("……" if len(bad) > 10 else ""))
    return rows


def _xlsx(path: Path) -> list[dict]:

    # lazy: openpyxl takes half a second to import; only Excel files need it
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError) as exc:
        raise ValueError(f"{path.name}: 不是有效的 Excel .xlsx 文件（{exc}）") from exc
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, None) or ()]
    out = [{c: ("" if v is None else str(v)) for c, v in zip(header, values) if c}
           for values in rows if values and any(v not in (None, "") for v in values)]
    book.close()
    return out


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def confusion_lines(labels: list[str], matrix) -> list[str]:
    """A confusion matrix as text for `train` and `eval`, aligned for Chinese labels too."""
    def right(text: str, width: int) -> str:
        text = text[:width // 2] if _display_width(text) >= width else text
        return " " * (width - _display_width(text)) + text

    lines = ["  confusion (rows = truth, columns = predicted)",
             "  " + " " * 14 + "".join(right(str(label), 10) for label in labels)]
    for label, row in zip(labels, matrix):
        name = str(label) if _display_width(str(label)) <= 14 else str(label)[:7]
        lines.append("  " + name + " " * (14 - _display_width(name)) + "".join(f"{v:>10}" for v in row))
    return lines
