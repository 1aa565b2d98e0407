"""舆情监测台: what monitors watch — open alerts as they happen, hot topics, the triage queue,
escalations waiting for 人工交办, and the sources' health.

The alert feed is pushed with Server-Sent Events. waitress gives each stream a worker thread, so a
stream lives at most MONITOR_STREAM_SECONDS and then the browser reconnects by itself (EventSource),
resuming from the last alert it saw; at most MONITOR_MAX_STREAMS streams are held at once, and the
consoles beyond that poll, so several consoles can stay open without starving the server.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from opinion.accounts.queries import active_units, unit_by_code
from opinion.alerts.engine import acknowledge_alert, acknowledge_alerts
from opinion.alerts.queries import alert_history, alerts_by_ids, open_alert_count, open_alerts
from opinion.cases.queries import console_cases
from opinion.cases.triage import reassign_to_unit
from opinion.labels import ALERT_STATUS_NAMES, RULE_NAMES, SEVERITY_NAMES, SOURCE_STATUS_NAMES
from opinion.models import Alert, Case, Source, db, utcnow
from opinion.topics.queries import hot_topics
from opinion.topics.trends import recent_counts, sparkline_points
from opinion.web.auth import roles_required
from opinion.web.forms import commit_or_flash

bp = Blueprint("monitor", __name__, url_prefix="/monitor")


def alert_target(alert: Alert) -> tuple[str | None, str]:
    """Where an alert points and the words for the link: a case alert opens the case (not its
    topic), a topic alert the topic, a source alert the sources' health page."""
    if alert.case_id:
        return url_for("cases.show", case_id=alert.case_id), f"打开工单 #{alert.case_id}"
    if alert.topic_id:
        return url_for("topics.show", topic_id=alert.topic_id), "查看话题"
    if alert.source_id:
        return url_for("sources.index"), "查看数据源"
    return None, ""


def alert_event(alert: Alert) -> dict:
    """What the browser needs to draw one alert row (the same fields the page renders)."""
    tz = current_app.jinja_env.filters["localtime"]
    url, _ = alert_target(alert)
    return {"id": alert.id, "severity": alert.severity, "severity_name": SEVERITY_NAMES.get(alert.severity, ""),
            "message": alert.message, "at": tz(alert.created_at, "%m-%d %H:%M"), "url": url,
            "ack_url": url_for("monitor.acknowledge", alert_id=alert.id)}


@bp.route("/")
@roles_required("monitor", "admin")
def index():
    now = utcnow()
    # Hot means now: a topic quiet for the dormancy period is off the list even before the
    # scheduler's upkeep marks it dormant.
    active_since = now - timedelta(hours=current_app.config["TOPIC_DORMANT_HOURS"])
    topics = hot_topics(db.session, active_since)
    alerts = open_alerts(db.session)
    district = current_app.extensions["district"]
    centre = unit_by_code(db.session, district.monitoring_centre)
    cases = console_cases(db.session, centre)
    return render_template("monitor.html", guesses=_classifier_guesses(district, cases["triage"]), topics=topics, series=recent_counts(db.session, [t.id for t in topics], now),
                           sparkline=sparkline_points, alerts=alerts, open_alert_count=open_alert_count(db.session),
                           units=active_units(db.session, centre=False),
                           sources=db.session.execute(select(Source).order_by(Source.name)).scalars().all(),
                           last_alert_id=max((a.id for a in alerts), default=0), **cases,
                           SEVERITY_NAMES=SEVERITY_NAMES, SOURCE_STATUS_NAMES=SOURCE_STATUS_NAMES,
                           alert_target=alert_target)


def _classifier_guesses(district, cases) -> dict[int, str]:
    """The unit the classifier would have chosen for each triage case (the lead unit of the
    category it guessed), preselected so that a monitor who agrees only types the reason."""
    guesses = {}
    for case in cases:
        lead = (district.categories.get(case.category) or [None])[0]
        if lead and lead != district.monitoring_centre:
            guesses[case.id] = lead
    return guesses


@bp.route("/stream")
@roles_required("monitor", "admin")
def stream():
    """New open alerts as Server-Sent Events (`event: alert`), from Last-Event-ID or ?after=."""
    last = request.headers.get("Last-Event-ID") or request.args.get("after") or "0"
    try:
        last_id = int(last)
    except ValueError:
        abort(400, "after 应为预警编号（整数）")
    poll = float(current_app.config.get("MONITOR_STREAM_POLL", 1.0))
    keep_alive = float(current_app.config.get("MONITOR_STREAM_KEEPALIVE", 10.0))
    held = _stream_slots().acquire(blocking=False)
    # Past the limit of held streams a console still gets what is new, then polls every 10 s,
    # so the worker threads stay free for pages.
    lifetime = float(current_app.config.get("MONITOR_STREAM_SECONDS", 25)) if held else 0.0
    retry_ms = 2000 if held else 10000

    def events(last_id: int):
        try:
            yield f"retry: {retry_ms}\n\n"  # when the bounded stream ends, the browser reconnects
            deadline = time.monotonic() + lifetime
            next_beat = time.monotonic() + keep_alive
            while True:
                fresh = [alert_event(a) for a in reversed(open_alerts(db.session, last_id))]
                db.session.rollback()  # end the read transaction: SQLite would keep showing this snapshot
                for data in fresh:
                    last_id = max(last_id, data["id"])
                    yield f"id: {data['id']}\nevent: alert\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
                if time.monotonic() >= deadline:
                    return
                if time.monotonic() >= next_beat:  # a comment keeps proxies from closing an idle stream
                    next_beat = time.monotonic() + keep_alive
                    yield ": keep-alive\n\n"
                time.sleep(poll)
        finally:
            if held:
                _stream_slots().release()

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(events(last_id)), mimetype="text/event-stream", headers=headers)


def _stream_slots() -> threading.BoundedSemaphore:
    """How many consoles may hold a worker thread with an open stream at once (per process)."""
    slots = current_app.extensions.get("monitor_stream_slots")
    if slots is None:
        slots = current_app.extensions.setdefault(
            "monitor_stream_slots", threading.BoundedSemaphore(int(current_app.config.get("MONITOR_MAX_STREAMS", 4))))
    return slots


@bp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@roles_required("monitor", "admin")
def acknowledge(alert_id: int):
    alert = db.session.get(Alert, alert_id) or abort(404)
    if commit_or_flash(lambda: acknowledge_alert(db.session, alert, current_user, utcnow())):
        flash(f"已确认预警 #{alert.id}", "info")
    return redirect(_back())


def _back() -> str:
    """The console or the history page the form was sent from (never another site)."""
    back = request.form.get("next", "")
    return back if back.startswith("/monitor/") and not back.startswith("//") else url_for("monitor.index") + "#alerts"


@bp.route("/alerts/acknowledge", methods=["POST"])
@roles_required("monitor", "admin")
def acknowledge_many():
    """确认所选预警: the ticked alerts at once (already taken or cleared ones are passed over)."""
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
    if not ids:
        flash("没有勾选预警：请先勾选要确认的预警，再点“确认所选”", "error")
        return redirect(_back())
    chosen = alerts_by_ids(db.session, ids)
    done = commit_or_flash(lambda: acknowledge_alerts(db.session, chosen, current_user, utcnow()))
    if done:
        skipped = len(chosen) - done.value
        flash(f"已确认 {done.value} 条预警" + (f"；{skipped} 条此前已确认或已解除，未重复处理" if skipped else ""), "info")
    return redirect(_back())


HISTORY_PAGE = 50


@bp.route("/alerts")
@roles_required("monitor", "admin")
def history():
    """预警记录: every alert, open or not, with filters; each links to what it is about."""
    args = request.args
    filters = {k: args.get(k, "").strip() for k in ("status", "kind", "severity", "q", "since", "until")}
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    bounds, problems = {}, []
    for field, words in (("since", "起始日期"), ("until", "截止日期")):
        if filters[field]:
            try:
                day = datetime.fromisoformat(filters[field]).replace(tzinfo=tz)
            except ValueError:
                problems.append(f"{words}“{filters[field]}”格式不对，应为 2026-12-07 这样的日期，已忽略")
                continue
            bounds[field] = day + timedelta(days=1) if field == "until" else day
    for problem in problems:
        flash(problem, "error")
    page = max(args.get("page", 1, type=int) or 1, 1)
    rows, total = alert_history(db.session, status=filters["status"] if filters["status"] in ALERT_STATUS_NAMES else "",
                                kind=filters["kind"] if filters["kind"] in RULE_NAMES else "",
                                severity=filters["severity"] if filters["severity"] in SEVERITY_NAMES else "",
                                q=filters["q"], page=page, per_page=HISTORY_PAGE, **bounds)
    return render_template("monitor_alerts.html", alerts=rows, total=total, page=page,
                           pages=max((total + HISTORY_PAGE - 1) // HISTORY_PAGE, 1), filters=filters,
                           query_args={k: v for k, v in filters.items() if v}, alert_target=alert_target,
                           SEVERITY_NAMES=SEVERITY_NAMES, RULE_NAMES=RULE_NAMES,
                           ALERT_STATUS_NAMES=ALERT_STATUS_NAMES)


@bp.route("/triage/<int:case_id>", methods=["POST"])
@roles_required("monitor", "admin")
def reassign(case_id: int):
    case = db.session.get(Case, case_id) or abort(404)
    unit = unit_by_code(db.session, request.form.get("unit", ""))
    if unit is None:
        flash("请选择要分拨到的单位", "error")
        return redirect(request.referrer or url_for("monitor.index"))
    if commit_or_flash(lambda: reassign_to_unit(db.session, case, unit, current_user, request.form.get("reason", ""),
                                                utcnow())):
        flash(f"工单 #{case.id} 已分拨至{unit.name}", "info")
    return redirect(url_for("monitor.index") + "#triage")
