"""Leaders' pages: this week at a glance, the trend, the hottest topics, the unit league table,
cases waiting for an instruction (批示), and the archive of reports with their downloads.

Everything is computed from the records by opinion.reports, so the dashboard, the reports and
`stats --json` agree. Reports are read by leaders and made by leaders and monitors.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from opinion import audit
from opinion.cases.queries import backlog_by_unit
from opinion.errors import OpinionError, ReportError
from opinion.labels import EMOTION_NAMES, LEVEL_NAMES, REPORT_KINDS
from opinion.models import Report, SpecialReportNote, db, utcnow
from opinion.reports import archive, periods
from opinion.reports.document import MEDIA_TYPES, periodic_document, special_document
from opinion.reports.figures import period_figures
from opinion.reports.html import render_html
from opinion.reports.special import cases_awaiting_instruction
from opinion.web.auth import roles_required
from opinion.web.forms import commit_or_flash

bp = Blueprint("leader", __name__, url_prefix="/leader")
READERS = ("leader", "monitor", "admin")


@bp.route("/")
@roles_required("leader", "admin")
def index():
    # lazy: matplotlib takes most of a second to import, and only this dashboard draws a chart
    from opinion.reports.charts import trend_chart
    now = utcnow()
    district = current_app.extensions["district"]
    window = periods.last_days(now, 7, district.timezone)
    figures = period_figures(db.session, district, window, now)
    week = periods.week_of(now, district.timezone)
    return render_template(
        "leader.html", f=figures, window=window, week=week, trend=trend_chart(figures["trend"], figures["trend_before"]),
        backlog=unit_rows_with_backlog(figures["units"], backlog_by_unit(db.session, now)),
        awaiting=cases_awaiting_instruction(db.session), reports=archive.archive(db.session, limit=20),
        last_week=week.previous(),
        EMOTION_NAMES=EMOTION_NAMES, LEVEL_NAMES=LEVEL_NAMES, REPORT_KINDS=REPORT_KINDS)


def unit_rows_with_backlog(week_rows: list[dict], backlog: dict[str, dict]) -> list[dict]:
    """The league table's rows with each unit's backlog now beside its week; a unit with a backlog
    but no case received this week is listed too (it was missing, with the largest backlog)."""
    empty = {"open": 0, "overdue": 0, "max_overdue_days": 0}
    rows = [{**row, "backlog": backlog.get(row["unit"], empty)} for row in week_rows]
    listed = {row["unit"] for row in week_rows}
    rows += [{"unit": code, "unit_name": b["unit_name"], "accepted": 0, "backlog": b, "quiet_week": True}
             for code, b in backlog.items() if code not in listed]
    return sorted(rows, key=lambda r: (-r["backlog"]["overdue"], -r["backlog"]["open"]))


@bp.route("/reports/")
@roles_required(*READERS)
def reports():
    kind = request.args.get("kind") if request.args.get("kind") in REPORT_KINDS else None
    tz = current_app.extensions["district"].timezone
    now = utcnow()
    return render_template("reports/archive.html", reports=archive.archive(db.session, kind, limit=200),
                           kind=kind, REPORT_KINDS=REPORT_KINDS, this_week=periods.week_of(now, tz).label,
                           today=now.astimezone(ZoneInfo(tz)).date().isoformat())


@bp.route("/reports/<int:report_id>/<fmt>")
@roles_required(*READERS)
def download(report_id: int, fmt: str):
    report = db.session.get(Report, report_id) or abort(404)
    if fmt not in MEDIA_TYPES:
        abort(404)
    try:
        path = archive.file_path(report, fmt)
    except OpinionError as exc:
        flash(str(exc), "error")
        return redirect(url_for("leader.reports"))
    response = send_file(path, mimetype=MEDIA_TYPES[fmt], as_attachment=fmt != "html",
                         download_name=f"{REPORT_KINDS[report.kind]}-{report.period}.{fmt}")
    if fmt == "html":
        # The saved page carries its own stylesheet and data: charts; it may use exactly those
        # and nothing else (no script, no fetch), in place of the app's stricter default.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'")
    return response


@bp.route("/reports/view")
@roles_required(*READERS)
def view():
    """The report for a period, case or topic, made now from the records (nothing is stored)."""
    try:
        document = _document_from(request.args)
    except OpinionError as exc:
        flash(str(exc), "error")
        return redirect(url_for("leader.reports"))
    note_form = None
    if document.kind == "special" and current_user.role in NOTE_WRITERS:
        note_form = {"key": document.period, "assessment": document.figures.get("assessment", ""),
                     "recommendation": document.figures.get("recommendation", "")}
    toolbar = render_template("reports/_toolbar.html", args=request.args, note_form=note_form)
    return render_html(document, standalone=False, toolbar=toolbar)


NOTE_WRITERS = ("monitor", "admin")
NOTE_LIMIT = 2000


@bp.route("/reports/special/notes", methods=["POST"])
@roles_required(*NOTE_WRITERS)
def special_notes():
    """The analyst's 研判意见 and 处置建议 on a 专报, kept for every later rendering of it."""
    form = request.form
    key = form.get("key", "")
    kind, _, number = key.partition("-")
    if kind not in ("case", "topic") or not number.isdigit():
        abort(400, "专报编号无法识别，请从专报页面重新打开后再保存")
    back = url_for("leader.view", kind="special", **{kind: number})
    texts = {field: form.get(field, "").strip() for field in ("assessment", "recommendation")}
    for field, words in (("assessment", "研判意见"), ("recommendation", "处置建议")):
        if len(texts[field]) > NOTE_LIMIT:
            flash(f"{words}过长（{len(texts[field])} 字，最多 {NOTE_LIMIT} 字），未保存；请精简后再保存", "error")
            return redirect(back)

    def save():
        note = db.session.execute(select(SpecialReportNote).where(SpecialReportNote.key == key)).scalar_one_or_none()
        before = {"assessment": note.assessment, "recommendation": note.recommendation} if note else None
        if note is None:
            note = SpecialReportNote(key=key)
            db.session.add(note)
        note.assessment, note.recommendation = texts["assessment"], texts["recommendation"]
        note.updated_by_id, note.updated_at = current_user.id, utcnow()
        db.session.flush()
        audit.record(db.session, "report.notes_saved", "report", None, actor=current_user, before=before,
                     after=texts, reason=f"专报 {key}")
    if commit_or_flash(save):
        flash("研判意见与处置建议已保存，已写入专报", "info")
    return redirect(back)


@bp.route("/reports/generate", methods=["POST"])
@roles_required(*READERS)
def generate():
    """Make a report and put it in the archive (Word, PDF and HTML)."""
    stored = commit_or_flash(lambda: archive.store(db.session, _document_from(request.form), user=current_user))
    if not stored:
        return redirect(request.referrer or url_for("leader.reports"))
    report = stored.value
    if report.error:
        flash(f"{report.title} 已存档，但部分格式未生成：{report.error}", "error")
    else:
        flash(f"{report.title} 已生成并存档", "success")
    return redirect(url_for("leader.reports"))


def _document_from(values):
    """kind=weekly&week=2026-W47 | kind=daily&date=2026-11-22 | kind=monthly&month=2026-11 |
    kind=quarterly&quarter=2026-Q4 | kind=special&case=12 (or topic=7)."""
    district = current_app.extensions["district"]
    kind, tz = values.get("kind"), district.timezone
    if kind == "weekly":
        return periodic_document(db.session, district, periods.week_period(values.get("week", ""), tz))
    if kind == "daily":
        return periodic_document(db.session, district, periods.day_period(values.get("date", ""), tz))
    if kind == "monthly":
        return periodic_document(db.session, district, periods.month_period(values.get("month", ""), tz))
    if kind == "quarterly":
        return periodic_document(db.session, district, periods.quarter_period(values.get("quarter", ""), tz))
    if kind == "special":
        case_id, topic_id = _int(values.get("case")), _int(values.get("topic"))
        return special_document(db.session, district, case_id=case_id, topic_id=topic_id)
    raise ReportError("请选择报告类型：日报、周报、月报、季报或专报")


def _int(text):
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ReportError(f"编号 “{text}” 应为数字") from None
