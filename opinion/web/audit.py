"""审计日志: reading the append-only log, filtered by object, actor, action and time, and a CSV
export for inspections. There is deliberately no route that changes an event."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request

from opinion import audit
from opinion.labels import ACTION_NAMES
from opinion.models import db
from opinion.web.auth import roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE = 200


def _filters() -> tuple[dict, list[str]]:
    """The filters from the query string, and a message per value that could not be read."""
    args, errors = request.args, []
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    filters = {"object_type": args.get("object_type") or None, "actor": args.get("actor") or None,
               "action": args.get("action") or None, "object_id": None, "since": None, "until": None}
    if args.get("object_id"):
        if args["object_id"].isdigit():
            filters["object_id"] = int(args["object_id"])
        else:
            errors.append(f"对象编号 “{args['object_id']}” 应为数字")
    for field, label, shift in (("since", "开始日期", 0), ("until", "结束日期", 1)):
        if args.get(field):
            try:
                day = datetime.fromisoformat(args[field]).replace(tzinfo=tz)
                filters[field] = day + timedelta(days=shift) if len(args[field]) == 10 else day
            except ValueError:
                errors.append(f"{label} “{args[field]}” 无法识别，应写成 2026-11-23")
    return filters, errors


@bp.route("/")
@roles_required("monitor", "admin", "leader")
def index():
    filters, errors = _filters()
    events = db.session.execute(audit.query(**filters).limit(PAGE + 1)).scalars().all()
    actors, types = audit.filter_choices(db.session)
    return render_template("audit.html", events=events[:PAGE], more=len(events) > PAGE, errors=errors,
                           actors=actors, types=types, actions=ACTION_NAMES, args=request.args), \
        400 if errors else 200


@bp.route("/export.csv")
@roles_required("monitor", "admin", "leader")
def export():
    filters, errors = _filters()
    if errors:
        return Response("；".join(errors), status=400, mimetype="text/plain")
    events = db.session.execute(audit.query(**filters)).scalars()
    body = audit.to_csv(events, current_app.config["TIMEZONE"])
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=audit-log.csv"})
