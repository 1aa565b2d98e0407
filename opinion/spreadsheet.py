"""Cells for CSV and Excel exports that a spreadsheet program cannot run, and the streaming writers.

Excel, WPS and LibreOffice treat a cell that starts with = + - @ (or a tab or carriage return
before one) as a formula, so text a netizen or an attacker typed (a user name like
`=HYPERLINK(...)`) would run on the analyst's machine. Every export writes its cells through here.
"""
from __future__ import annotations

import csv
import io

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value as a cell: text that would start a formula gets a leading apostrophe.

    Numbers stay numbers (a negative figure is not a formula); only text is quoted.
    """
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def csv_text(header, rows) -> str:
    """Header and rows as CSV text with a BOM (so Excel opens the Chinese right), every cell safe."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()


def csv_chunks(header, rows, batch: int = 500):
    """The same CSV as csv_text, yielded a few hundred rows at a time, so an export of any size
    streams to the browser in constant memory."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow([safe_cell(cell) for cell in header])
    for n, row in enumerate(rows, 1):
        writer.writerow([safe_cell(cell) for cell in row])
        if n % batch == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def xlsx_file(header, rows, path, title: str = "导出") -> None:
    """Header and rows as an Excel workbook at `path`, every cell safe. openpyxl's write-only
    mode writes each row out as it comes, so memory stays flat however many rows there are."""
    from openpyxl import Workbook  # lazy: only exports load openpyxl

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append([safe_cell(cell) for cell in header])
    for row in rows:
        sheet.append([safe_cell(cell) for cell in row])
    book.save(path)
