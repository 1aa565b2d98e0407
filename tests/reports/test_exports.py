"""Exports: one row per case with its dates and figures, the inbox's filters and visibility,
every cell through safe_cell, CSV streamed and Excel readable."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from opinion.cases import lifecycle
from opinion.models import AuditEvent, Post, utcnow
from opinion.reports import exports
from opinion.spreadsheet import csv_chunks
from tests.cases.conftest import open_case, people  # noqa: F401 - fixture
from tests.factories import login, make_source


def _csv(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_case_export_follows_the_inbox_filters_and_visibility(client, session, district, people):  # noqa: F811
    mine = open_case(session, district, label="=HYPERLINK(\"http://x\")实验小学")
    done = open_case(session, district, label="已办结的事")
    other = open_case(session, district, unit_code="zjj", label="别的单位")
    lifecycle.add_reply(session, done, people["fyr"], "已处理", utcnow())
    lifecycle.resolve(session, done, people["fyr"], "完成", utcnow())
    session.commit()
    login(client, "jyj_fyr")
    rows = _csv(client.get("/export/cases.csv"))  # the inbox's default: open cases
    assert rows[0] == exports.CASE_HEADER
    assert [int(r[0]) for r in rows[1:]] == [mine.id]
    row = dict(zip(rows[0], rows[1]))
    assert row["标题"].startswith("'=HYPERLINK")  # through safe_cell: no formula runs
    assert row["主办单位"] == "区教育局" and row["状态"] == "待签收" and row["查询码"] == mine.lookup_code
    assert row["签收时限"].startswith("2026-11-2") and row["是否超时"] == "是"
    everything = _csv(client.get("/export/cases.csv?status=all"))
    assert sorted(int(r[0]) for r in everything[1:]) == sorted([mine.id, done.id])  # never zjj's
    assert other.id not in [int(r[0]) for r in everything[1:]]
    xlsx = client.get("/export/cases.xlsx?status=done")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = list(sheet.values)
    assert list(values[0]) == exports.CASE_HEADER and [v[0] for v in values[1:]] == [done.id]
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "export.cases")).scalars().all()


def test_post_export_is_for_monitors(client, session, district, people):  # noqa: F811
    source = make_source(session)
    session.add(Post(source_id=source.id, external_id="1", raw_text="@admin 路灯坏了", text="@admin 路灯坏了",
                     created_at=utcnow(), author="+市民"))
    session.commit()
    login(client, "jyj_fyr")
    assert client.get("/export/posts.csv").status_code == 403
    client.post("/logout")
    login(client, "monitor1")
    rows = _csv(client.get("/export/posts.csv"))
    assert rows[0] == exports.POST_HEADER and rows[1][3] == "'+市民" and rows[1][4] == "'@admin 路灯坏了"


def test_csv_chunks_stream_in_batches_and_quote_every_cell():
    chunks = list(csv_chunks(["a"], ([f"={i}"] for i in range(1200)), batch=500))
    assert len(chunks) == 3 and chunks[0].startswith("\ufeffa")
    assert "'=1199" in chunks[-1] and "\n=" not in "".join(chunks)
