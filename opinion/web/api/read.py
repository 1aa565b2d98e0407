"""The read API under /api/v1: hot topics, alerts, cases and figures for other systems (a city
platform, a big-screen dashboard, a duty officer's script).

Every call carries a personal API token (opinion.accounts.tokens) as `Authorization: Bearer <token>` and acts
as the token's user: a spokesperson's token sees its unit's cases only (opinion.cases.visible_cases,
the inbox's own rule), topics, alerts and figures are for monitors, leaders and admins, and only
monitors and admins acknowledge alerts. A webhook source's token is refused here, as a personal
token is on /ingest. Every error is JSON {"error": "<Chinese message>", "code": "<snake_case>"};
unknown query parameters are refused, so a misspelt filter is not silently ignored.
openapi.json beside this file describes it all; the JSON shapes are in serialize.py.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g, jsonify, make_response, request
from sqlalchemy import true
from sqlalchemy.orm import selectinload

from opinion.accounts import tokens
from opinion.accounts.queries import unit_by_code
from opinion.alerts.engine import ACK_ROLES, acknowledge_alert
from opinion.alerts.queries import open_alerts
from opinion.cases.queries import cases_on_topic, inbox_page, visible_case
from opinion.errors import AlertStateError, ApiTokenError, OpinionError, PermissionDenied
from opinion.ingest.queries import webhook_source
from opinion.labels import PRIORITY_NAMES, ROLE_NAMES
from opinion.models import CASE_STATUSES, Alert, Case, Topic, db, utcnow
from opinion.reports.figures import post_summary, representative_post
from opinion.reports.stats import full_stats
from opinion.topics.queries import hot_topics, latest_posts
from opinion.web.api import serialize as api_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")
READERS = ("monitor", "leader", "admin")
MAX_ID = 2**31 - 1
CASE_FILTERS = ("open", "done", "all", *CASE_STATUSES)
# The statuses an API path answers without reaching a view (app-wide handlers, opinion.web).
HTTP_CODES = {400: ("请求无效", "bad_request"), 403: ("无权访问", "forbidden"), 404: ("接口不存在", "not_found"),
              405: ("该接口不支持此请求方法", "method_not_allowed"), 500: ("服务器内部错误", "internal_error"),
              503: ("系统繁忙，请稍后重试", "busy")}


def fail(status: int, message: str, code: str):
    """Stop here and answer {"error": message, "code": code} with `status`."""
    response = make_response(jsonify({"error": message, "code": code}), status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="opinion"'
    abort(response)


@bp.before_request
def _authenticate():
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        fail(401, "缺少令牌：请在 Authorization 头中提供 Bearer 个人 API 令牌", "missing_token")
    try:
        token = tokens.authenticate(db.session, secret)
    except ApiTokenError as exc:
        db.session.rollback()
        if exc.code == "invalid_token" and webhook_source(db.session, secret) is not None:
            fail(401, "这是数据源的推送令牌，只能用于 POST /api/v1/ingest；读取接口请使用个人 API 令牌",
                 "invalid_token")
        fail(401, str(exc), exc.code)
    db.session.commit()  # the last-used time, if it moved
    g.api_user = token.user


def params(*names: str):
    """The query parameters a view reads; any other one is refused with 400 bad_parameter."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            unknown = sorted(set(request.args) - set(names))
            if unknown:
                known = "、".join(names) or "无"
                fail(400, f"未知参数：{'、'.join(unknown)}（此接口可用的参数：{known}）", "bad_parameter")
            return view(*args, **kwargs)
        wrapped.api_params = names  # the OpenAPI test compares these with the document
        return wrapped
    return decorator


def require(roles) -> None:
    role = g.api_user.role
    if role not in roles:
        fail(403, f"{ROLE_NAMES.get(role, role)}的令牌无权使用此接口", "forbidden")


def int_arg(name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name, "")
    if text == "":
        return default
    if not re.fullmatch(r"[0-9]{1,10}", text) or not low <= int(text) <= high:
        fail(400, f"参数 {name} 应为 {low}–{high} 的整数，收到 “{text}”", "bad_parameter")
    return int(text)


def time_arg(name: str) -> datetime | None:
    """An ISO-8601 time; one without an offset is read in the district's zone (Beijing)."""
    text = request.args.get(name, "")
    if text == "":
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(400, f"参数 {name} 应为 ISO-8601 时间，例如 2026-11-23T09:00:00+08:00，收到 “{text}”", "bad_parameter")
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
    return value


def choice_arg(name: str, choices, default: str = "") -> str:
    text = request.args.get(name, "")
    if text == "":
        return default
    if text not in choices:
        fail(400, f"参数 {name} 应为 {'、'.join(choices)} 之一，收到 “{text}”", "bad_parameter")
    return text


@bp.route("/topics")
@params("limit", "since")
def topics():
    """Open hot topics, hottest first; by default those active within the dormancy period."""
    require(READERS)
    limit = int_arg("limit", 20, 1, 100)
    since = time_arg("since") or utcnow() - timedelta(hours=current_app.config["TOPIC_DORMANT_HOURS"])
    items = api_json.topics(db.session, hot_topics(db.session, since, limit))
    return jsonify({"items": items, "count": len(items), "since": api_json.iso(since)})


@bp.route("/topics/<int:topic_id>")
@params("limit")
def topic(topic_id: int):
    """One topic, its most shared post, its latest posts (at most `limit`) and the cases on it."""
    require(READERS)
    limit = int_arg("limit", 20, 1, 100)
    row = db.session.get(Topic, topic_id)
    if row is None:
        fail(404, f"话题 #{topic_id} 不存在", "not_found")
    data = api_json.topics(db.session, [row])[0]
    latest = latest_posts(db.session, row.id, limit)
    cases = cases_on_topic(db.session, row.id, g.api_user, api_json.CASE_LOADS)
    data.update(status=row.status, merged_into_id=row.merged_into_id,
                representative_post=api_json.post(representative_post(db.session, row.id, true())),
                posts=[api_json.post(post_summary(p)) for p in latest],
                cases=[api_json.case(c) for c in cases])
    return jsonify(data)


@bp.route("/alerts")
@params("after", "limit")
def alerts():
    """Open alerts with an id above `after`, oldest first, so a poller passing back `last_id`
    misses none however many arrived between two calls (the console's feed shows the newest)."""
    require(READERS)
    after, limit = int_arg("after", 0, 0, MAX_ID), int_arg("limit", 50, 1, 200)
    rows = open_alerts(db.session, after, limit + 1, oldest_first=True)
    items = [api_json.alert(a) for a in rows[:limit]]
    return jsonify({"items": items, "last_id": items[-1]["id"] if items else after, "more": len(rows) > limit})


@bp.route("/alerts/<int:alert_id>/ack", methods=["POST"])
@params()
def acknowledge(alert_id: int):
    """Take an open alert in hand, as the console's 确认 button does (audited the same way)."""
    require(ACK_ROLES)
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        fail(404, f"预警 #{alert_id} 不存在", "not_found")
    try:
        acknowledge_alert(db.session, alert, g.api_user, utcnow())
        db.session.commit()
    except PermissionDenied as exc:
        db.session.rollback()
        fail(403, str(exc), "forbidden")
    except AlertStateError as exc:
        db.session.rollback()
        fail(409, str(exc), "alert_not_open")
    return jsonify(api_json.alert(alert))


@bp.route("/cases")
@params("status", "unit", "priority", "page", "per_page")
def cases():
    """The cases the token's user may see, most urgent deadline first, a page at a time."""
    status = choice_arg("status", CASE_FILTERS, "open")
    priority = choice_arg("priority", tuple(PRIORITY_NAMES))
    page, per_page = int_arg("page", 1, 1, MAX_ID), int_arg("per_page", 50, 1, 200)
    unit = None
    if request.args.get("unit"):
        unit = unit_by_code(db.session, request.args["unit"])
        if unit is None:
            fail(400, f"参数 unit 应为单位代码，没有代码为 “{request.args['unit']}” 的单位", "bad_parameter")
    rows, total = inbox_page(db.session, g.api_user, page=page, per_page=per_page, loads=api_json.CASE_LOADS,
                             status=status, priority=priority, unit=unit)
    return jsonify({"items": [api_json.case(c) for c, _ in rows], "total": total, "page": page,
                    "per_page": per_page, "next_page": page + 1 if page * per_page < total else None})


@bp.route("/cases/<int:case_id>")
@params()
def case(case_id: int):
    """One case; a case the user may not see is answered exactly as one that does not exist."""
    row = visible_case(db.session, g.api_user, case_id, (*api_json.CASE_LOADS, selectinload(Case.replies)))
    if row is None:
        fail(404, f"工单 #{case_id} 不存在", "not_found")
    return jsonify(api_json.case(row, detail=True))


@bp.route("/stats")
@params("since", "until", "week")
def stats():
    """What `python -m opinion stats --json` prints, for the same period options."""
    require(READERS)
    since, until = time_arg("since"), time_arg("until")
    try:
        figures = full_stats(db.session, current_app.extensions["district"], since=since, until=until,
                             week=request.args.get("week") or None)
    except (ValueError, OpinionError) as exc:
        fail(400, str(exc), "bad_parameter")
    return current_app.response_class(json.dumps(figures, ensure_ascii=False, default=str),
                                      mimetype="application/json")


def error_response(status: int):
    """The JSON answer for an API path that failed before or outside a view (404, 405, 500)."""
    message, code = HTTP_CODES[status]
    return jsonify({"error": message, "code": code}), status
