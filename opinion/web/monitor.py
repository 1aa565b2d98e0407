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
from datetime import timedelta

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
from opinion.alerts.engine import acknowledge_alert
from opinion.alerts.queries import open_alert_count, open_alerts
from opinion.cases.queries import console_cases
from opinion.cases.triage import reassign_to_unit
from opinion.labels import SEVERITY_NAMES, SOURCE_STATUS_NAMES
from opinion.models import Alert, Case, Source, db, utcnow
from opinion.topics.queries import hot_topics
from opinion.topics.trends import recent_counts, sparkline_points
from opinion.web.auth import roles_required
from opinion.web.forms import commit_or_flash

bp = Blueprint("monitor", __name__, url_prefix="/monitor")


def alert_event(alert: Alert) -> dict:
    """What the browser needs to draw one alert row (the same fields the page renders)."""
    tz = current_app.jinja_env.filters["localtime"]
    return {"id": alert.id, "severity": alert.severity, "severity_name": SEVERITY_NAMES.get(alert.severity, ""),
            "message": alert.message, "at": tz(alert.created_at, "%m-%d %H:%M"),
            "topic_url": url_for("topics.show", topic_id=alert.topic_id) if alert.topic_id else None,
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
    centre = unit_by_code(db.session, current_app.extensions["district"].monitoring_centre)
    return render_template("monitor.html", topics=topics, series=recent_counts(db.session, [t.id for t in topics], now),
                           sparkline=sparkline_points, alerts=alerts, open_alert_count=open_alert_count(db.session),
                           units=active_units(db.session, centre=False),
                           sources=db.session.execute(select(Source).order_by(Source.name)).scalars().all(),
                           last_alert_id=max((a.id for a in alerts), default=0), **console_cases(db.session, centre),
                           SEVERITY_NAMES=SEVERITY_NAMES, SOURCE_STATUS_NAMES=SOURCE_STATUS_NAMES)


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
    return redirect(url_for("monitor.index") + "#alerts")


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
