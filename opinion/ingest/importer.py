"""Reading files to import: history and exports from other systems, in JSON Lines, CSV or Excel
(.xlsx), line by line into posts.

Every bad line is reported with its line number and why, and written with its reason to a
rejected-rows file (CSV, UTF-8 with BOM so Excel opens it) that can be corrected and imported again.
The import itself (batches through the pipeline) is opinion.pipeline.runs.import_file.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Iterator
from zipfile import BadZipFile
from zoneinfo import ZoneInfo

from sqlalchemy import select

from collectors import encoding as encodings
from collectors.base import NormalisedPost
from opinion.errors import ImportFileError
from opinion.ingest.store import MAX_DEPTH, IngestReport
from opinion.models import Source, db
from opinion.spreadsheet import safe_cell

# A field longer than the csv module's default 131,072 characters stopped the whole import; a long
# text is now read and refused alone by its length (store.MAX_TEXT), with the rest of the file.
csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
FIELDS = ("id", "text", "created_at", "author", "author_followers", "url", "reposts", "comments", "likes")
FORMATS = ("auto", "jsonl", "csv", "xlsx")


@dataclass
class ImportSummary:
    file: str
    lines: int = 0
    report: IngestReport = field(default_factory=IngestReport)
    encoding: str = "utf-8"
    rejected_file: str | None = None
    warnings: list[str] = field(default_factory=list)  # e.g. an encoding guessed, not declared

    def describe(self) -> str:
        r = self.report
        lines = [f"导入 {self.file}（编码 {self.encoding}）：共 {self.lines} 行",
                 f"  新增 {len(r.accepted)} 条，重复 {len(r.duplicate)} 条（已存在，未重复保存），"
                 f"拒收 {len(r.rejected)} 条，新开工单 {r.cases_opened} 件"]
        lines += [f"  注意：{w}" for w in self.warnings]
        if r.analysis_failed:
            lines.append(f"  其中 {len(r.analysis_failed)} 条已原样保存但分析失败，可重新分析")
        if r.history:
            lines.append(f"  其中 {len(r.history)} 条是历史帖子（发布时间早于立案时限），"
                         "已入库、分析并归入话题，不立案")
        for ref, reason in r.rejected[:50]:
            lines.append(f"  拒收 {ref}：{reason}")
        if len(r.rejected) > 50:
            lines.append(f"  ……另有 {len(r.rejected) - 50} 条拒收未列出")
        if self.rejected_file:
            lines.append(f"  拒收的行及原因已写入 {self.rejected_file}，修改后可再次导入")
        if not r.accepted and r.duplicate and not r.rejected:
            lines.append("  没有新内容：文件中的帖子此前均已导入。")
        return "\n".join(lines)


_FIX = "如有乱码，请在 Excel 或记事本中将文件另存为 UTF-8 编码后重新导入"


def _decode(path: Path) -> encodings.Decoded:
    """A file carries no declaration, only perhaps a BOM: UTF-8 (or UTF-16 from Excel's "Unicode
    text") is read as such, anything else is guessed, GBK and Big5 alike, and the guess is said."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path.name}: 无法读取文件（{exc.strerror or exc}）") from exc
    return encodings.decode(data, what="文件", fix=_FIX)


def _require_text_column(columns: list[str], mapping: dict[str, str], kind: str) -> None:
    if mapping.get("text", "text") not in columns:
        raise ImportFileError(f"{kind} 缺少列 “{mapping.get('text', 'text')}”；现有列：{', '.join(map(str, columns))}。"
                              "可用 --map text=列名 指定")


def read_rows(path: Path, fmt: str, mapping: dict[str, str]
              ) -> tuple[Iterator[tuple[int, dict | str]], str, str | None]:
    """(rows, encoding, warning) of a file: each row is (line number, row dict) or (line number,
    error message); the warning says when the encoding was guessed. `fmt` "auto" goes by the file
    name."""
    if fmt == "auto":
        fmt = {".csv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}.get(path.suffix.lower(), "jsonl")
    if fmt not in FORMATS:
        raise ImportFileError(f"不支持的格式 “{fmt}”（可用：jsonl、csv、xlsx）")
    if fmt == "xlsx":
        return _xlsx_rows(path, mapping), "xlsx", None
    decoded = _decode(path)
    if fmt == "jsonl":
        return _jsonl_rows(decoded.text), decoded.encoding, decoded.warning
    reader = csv.DictReader(io.StringIO(decoded.text, newline=""))
    _require_text_column(list(reader.fieldnames or []), mapping, "CSV")
    # the csv module's own idea of a line (not str.splitlines, which also splits at U+2028)
    return (_csv_rows(reader, io.StringIO(decoded.text, newline="").readlines(), 0), decoded.encoding,
            decoded.warning)


def _csv_rows(reader: csv.DictReader, lines: list[str], offset: int) -> Iterator[tuple[int, dict | str]]:
    """The rows of a CSV reader, numbered by the file's lines (`offset` lines before the reader's
    text). A quote left open runs to the end of the file, or to the next stray quote: that row is
    refused, naming its line, and the lines after it are read again as rows, so one stray quote
    never swallows the rest. (A real multi-line field whose row has every column is kept.)"""
    previous = reader.line_num
    try:
        for row in reader:
            start, end = previous + 1, reader.line_num
            previous = end
            open_to_end = end >= len(lines) and _quote_left_open(lines[start - 1:end])
            # a stray quote closed by the next stray quote lines later: one row over many lines
            # whose columns do not fit the header
            misfit = end > start and (None in row or any(v is None for v in row.values()))
            if open_to_end or misfit:
                where = "文件末尾" if open_to_end else f"第 {end + offset} 行，各列对不上"
                yield start + offset, f"引号未闭合（此行的引号一直延续到{where}），请补全引号后重新导入此行"
                rest = csv.DictReader(io.StringIO("".join(lines[start:]), newline=""),
                                      fieldnames=reader.fieldnames)
                yield from _csv_rows(rest, lines[start:], offset + start)
                return
            yield start + offset, row
    except csv.Error as exc:  # nothing is left to read after this: say so rather than stop quietly
        yield previous + 1 + offset, f"CSV 格式错误，此行及其后的内容无法读取（{exc}）"


def _quote_left_open(lines: list[str]) -> bool:
    try:
        for _ in csv.reader(io.StringIO("".join(lines), newline=""), strict=True):
            pass
    except csv.Error as exc:
        return "end of data" in str(exc) or "EOF" in str(exc)
    return False


def _jsonl_rows(text: str) -> Iterator[tuple[int, dict | str]]:
    # Lines end at \n only: str.splitlines() also splits at U+2028, U+0085 and \x1c, which JSON
    # writers leave raw inside strings, and cut a good line in two bad ones.
    for n, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, f"不是合法的 JSON（{exc.msg}）"
            continue
        except RecursionError:
            yield n, f"JSON 嵌套过深（超过 {MAX_DEPTH} 层），无法读取"
            continue
        yield (n, obj) if isinstance(obj, dict) else (n, "应为 JSON 对象")


def _xlsx_rows(path: Path, mapping: dict[str, str]) -> Iterator[tuple[int, dict | str]]:

    # lazy: openpyxl takes half a second to import; only Excel files need it
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError) as exc:
        raise ImportFileError(f"{path.name}: 不是有效的 Excel .xlsx 文件（{exc}）") from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise ImportFileError(f"{path.name}: 第一个工作表是空的")
    columns = [str(c).strip() if c is not None else "" for c in header]
    _require_text_column(columns, mapping, "Excel 表")
    for n, values in enumerate(rows, start=2):
        if values is None or all(v in (None, "") for v in values):
            continue
        yield n, {c: _cell(v) for c, v in zip(columns, values) if c}
    book.close()


def _cell(value):
    # Excel keeps no time zone: a date cell is read as Beijing time, the district's clock.
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=ZoneInfo("Asia/Shanghai"))).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=ZoneInfo("Asia/Shanghai")).isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def row_to_post(row: dict, mapping: dict[str, str]) -> NormalisedPost | str:
    """One import line or pushed item as a post, or the reason it cannot be one."""
    get = lambda f: row.get(mapping.get(f, f))
    ident, text = get("id"), get("text")
    if ident in (None, ""):
        return "缺少 id"
    if not isinstance(text, str):
        return "缺少正文 text"
    created = None
    if get("created_at"):
        try:
            created = datetime.fromisoformat(str(get("created_at")).replace("Z", "+00:00"))
        except ValueError:
            return f"时间 “{get('created_at')}” 不是 ISO-8601 格式"
        if created.tzinfo is None:
            return f"时间 “{get('created_at')}” 缺少时区（如 +08:00）"
    counts = {}
    for f in ("author_followers", "reposts", "comments", "likes"):
        value = get(f)
        if value in (None, ""):
            continue
        counts[f] = _count(value)
        if counts[f] is None:
            return f"{f} 应为整数，实为 “{str(value)[:50]}”"
        if counts[f] < 0:
            return f"{f} 不能为负数（{value}）"
    author, url = get("author"), get("url")
    return NormalisedPost(external_id=str(ident), text=text, created_at=created,
                          author=str(author)[:100] if author else None, url=str(url)[:1000] if url else None,
                          author_followers=counts.get("author_followers"),
                          reposts=counts.get("reposts", 0), comments=counts.get("comments", 0),
                          likes=counts.get("likes", 0), payload={k: row[k] for k in row if k})


def _count(value) -> int | None:
    """A count as an integer: 12, "12" or 12.0; None for 1.5, Infinity, NaN, true or text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None  # is_integer() is False for inf and nan
    if isinstance(value, int):
        return value
    text = str(value).strip()
    # ASCII digits only: "²" passes isdigit() and fails int(); 400 digits are not a count either
    return int(text) if re.fullmatch(r"-?[0-9]{1,18}", text) else None


def get_or_create_source(code: str, kind: str = "file", name: str | None = None) -> Source:
    source = db.session.execute(select(Source).where(Source.code == code)).scalar_one_or_none()
    if source is None:
        source = Source(code=code, name=name or f"文件导入（{code}）", kind=kind, enabled=False,
                        status="never", config={}, state={})
        db.session.add(source)
        db.session.commit()
    return source


class RejectedRows:
    """The rejected-rows file: line number, reason, then the row's own columns. Created on the first
    rejected row only, so a clean import leaves no empty file behind."""

    def __init__(self, path: Path):
        self.path, self.handle, self.writer, self.columns = path, None, None, []

    def add(self, line: int, reason: str, row: dict | None) -> None:
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # a lone surrogate, which is why such a row is refused, is written as \ud800 to be seen
            self.handle = self.path.open("w", encoding="utf-8-sig", errors="backslashreplace", newline="")
            self.writer = csv.writer(self.handle)
            self.columns = list(row) if row else list(FIELDS)
            self.writer.writerow([safe_cell(c) for c in ("行号", "拒收原因", *self.columns)])
        values = [row.get(c, "") if isinstance(row, dict) else "" for c in self.columns]
        # The file is opened in Excel to fix the rows: a cell from the source file must not run as a formula.
        self.writer.writerow([safe_cell(v) for v in (line, reason, *[
            v if isinstance(v, (str, int, float)) or v is None else json.dumps(v, ensure_ascii=False)
            for v in values])])

    def close(self) -> str | None:
        if self.handle is None:
            return None
        self.handle.close()
        return str(self.path)
