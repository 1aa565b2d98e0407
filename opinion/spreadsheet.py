"""Cells for CSV and Excel exports that a spreadsheet program cannot run.

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
