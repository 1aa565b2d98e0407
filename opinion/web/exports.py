"""导出: cases and posts as CSV (streamed) or Excel, with the filters of the page they come from.

Cases use the inbox's filters and visibility (a spokesperson exports only the unit's own and
co-handled cases); posts are for monitors, leaders and admins. Every export is audited, since it
takes citizens' words and names out of the system.
"""
from __future__ import annotations

import os
import tempfile
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, request, send_file, stream_with_context
from flask_login import current_user

from opinion import audit
from opinion.accounts.queries import unit_by_code
from opinion.cases.queries import inbox_query
from opinion.models import db, utcnow
from opinion.reports import exports
from opinion.spreadsheet import csv_chunks, xlsx_file
from opinion.web.auth import roles_required

bp = Blueprint("exports", __name__, url_prefix="/export")
CASE_STATUSES = ("open", "done", "all", "new", "acknowledged", "replied", "resolved", "verified", "closed",
                 "transferred_back", "reopened", "merged")


def _disposition(name: str) -> str:
    return f"attachment; filename=export.{name.rsplit('.', 1)[-1]}; filename*=UTF-8''{quote(name)}"


def _send(fmt: str, name: str, header, rows, what: str, filters: dict):
    audit.record(db.session, f"export.{what}", what, None, actor=current_user, at=utcnow(),
                 after={"format": fmt, **{k: str(v) for k, v in filters.items() if v}})
    db.session.commit()
    if fmt == "xlsx":
        handle, path = tempfile.mkstemp(suffix=".xlsx", dir=current_app.instance_path)
        os.close(handle)
        try:
            xlsx_file(header, rows, path, title=name)
            response = send_file(path, as_attachment=True, download_name=f"{name}.xlsx",
                                 mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        finally:
            os.unlink(path)  # the open handle send_file holds keeps the bytes until sent (POSIX)
        return response
    return Response(stream_with_context(csv_chunks(header, rows)), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": _disposition(f"{name}.csv")})


def _fmt(ext: str) -> str:
    return "xlsx" if ext == "xlsx" else "csv"


@bp.route("/cases.<ext>")
@roles_required("spokesperson", "monitor", "leader", "admin")
def cases(ext: str):
    args, now = request.args, utcnow()
    filters = {"status": args.get("status") if args.get("status") in CASE_STATUSES else "open",
               "priority": args.get("priority", ""), "overdue": args.get("overdue") == "1",
               "mine": args.get("mine") == "1", "unit": unit_by_code(db.session, args.get("unit", "")) if args.get("unit") else None}
    query, due = inbox_query(current_user, now=now, **filters)
    rows = exports.case_rows(db.session, query, due, current_app.config["TIMEZONE"], now)
    stamp = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y%m%d-%H%M")
    return _send(_fmt(ext), f"工单导出-{stamp}", exports.CASE_HEADER, rows, "cases",
                 {**filters, "unit": filters["unit"].code if filters["unit"] else None})


def _day(name: str) -> datetime | None:
    text = request.args.get(name, "")
    try:
        return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"])) if text else None
    except ValueError:
        return None


@bp.route("/posts.<ext>")
@roles_required("monitor", "leader", "admin")
def posts(ext: str):
    unit = unit_by_code(db.session, request.args.get("unit", "")) if request.args.get("unit") else None
    filters = {"since": _day("since"), "until": _day("until"), "source_code": request.args.get("source") or None,
               "unit_id": unit.id if unit else None}
    rows = exports.post_rows(db.session, current_app.config["TIMEZONE"], **filters)
    stamp = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y%m%d-%H%M")
    return _send(_fmt(ext), f"帖子导出-{stamp}", exports.POST_HEADER, rows, "posts", filters)
