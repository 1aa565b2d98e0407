"""审计日志: reading the append-only log, filtered by object, actor, action and time, and a CSV
export for inspections. There is deliberately no route that changes an event."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import func, select

from opinion import audit
from opinion.labels import (
    ACTION_NAMES,
    ALERT_STATUS_NAMES,
    CASE_STATUS_NAMES,
    LEVEL_NAMES,
    PRIORITY_NAMES,
    ROLE_NAMES,
    SATISFACTION_NAMES,
)
from opinion.models import INTERVIEW_STATUSES, SCREENING_STATUSES, Unit, User, db
from opinion.web.auth import roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE = 50  # one 12,000 px page of raw key=value pairs was unreadable

TYPE_NAMES = {"case": "工单", "user": "账号", "unit": "单位", "setting": "配置", "source": "数据源", "topic": "话题",
              "alert": "预警", "api_token": "API 令牌", "duty_shift": "值班", "reply_template": "口径模板",
              "reply": "回复", "report": "报告", "interview": "在线访谈", "unit_statement": "发布稿",
              "official_account": "政务账号"}
# The fields a sentence mentions, in words; others stay in the CSV export for inspectors.
FIELD_NAMES = {"unit": "责任单位", "to_unit": "改派至", "from_unit": "原单位", "level": "督办级别",
               "escalation_level": "督办级别", "status": "状态", "assignee_id": "承办人", "notified": "已通知",
               "priority": "优先级", "role": "角色", "name": "名称", "label": "名称", "title": "标题",
               "working_days": "延期工作日", "resolve_due_at": "办结时限", "supervised": "现场督办",
               "special_report": "专报批办", "active": "启用", "posts": "帖子数", "interval_seconds": "采集间隔（秒）",
               "username": "用户名", "satisfaction": "满意度", "extended_working_days": "累计延期工作日",
               "question_id": "提问编号", "case_id": "工单编号"}


def _value(key: str, value, names: dict) -> str:
    """A recorded value as a reader says it: unit codes and user names as names, levels and
    states in words, lists joined, booleans 是/否."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_value(key, v, names) for v in value[:8]) + ("等" if len(value) > 8 else "")
    if value is None or value == "":
        return "无"
    if key in ("level", "escalation_level") and isinstance(value, int):
        return LEVEL_NAMES.get(value, "未督办") if value else "未督办"
    if key == "status":
        return (CASE_STATUS_NAMES.get(value) or ALERT_STATUS_NAMES.get(value) or INTERVIEW_STATUSES.get(value)
                or SCREENING_STATUSES.get(value) or str(value))
    if key == "priority":
        return PRIORITY_NAMES.get(value, str(value))
    if key == "satisfaction":
        return SATISFACTION_NAMES.get(value, str(value))
    if key == "role":
        return ROLE_NAMES.get(value, str(value))
    if key == "assignee_id":
        return names["user_ids"].get(value, f"账号 {value}")
    if key in ("unit", "to_unit", "from_unit"):
        return names["units"].get(value, str(value))
    if key == "notified":
        return names["users"].get(value, str(value))
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        try:
            return datetime.fromisoformat(value).astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%m-%d %H:%M")
        except ValueError:
            pass
    return str(value)[:60]


def sentence(event, names: dict) -> str:
    """The event as one Chinese sentence: who did what to which object, why, and what changed."""
    who = "系统" if event.actor == "system" else names["users"].get(event.actor, event.actor)
    what = ACTION_NAMES.get(event.action, "进行了操作")
    if event.object_type == "user" and event.object_id:
        target = f"账号“{names['user_ids'].get(event.object_id, event.object_id)}”"
    elif event.object_id:
        target = f"{TYPE_NAMES.get(event.object_type, '对象')} #{event.object_id}"
    else:
        target = TYPE_NAMES.get(event.object_type, "")
    parts = [f"{who}{what}{('：' + target) if target else ''}"]
    before, after = event.before or {}, event.after or {}
    changes = []
    for key in [k for k in after if k in FIELD_NAMES] or []:
        if key in before and before[key] != after[key]:
            changes.append(f"{FIELD_NAMES[key]}由“{_value(key, before[key], names)}”改为“{_value(key, after[key], names)}”")
        elif key not in before:
            changes.append(f"{FIELD_NAMES[key]}：{_value(key, after[key], names)}")
    if changes:
        parts.append("，".join(changes))
    if event.reason:
        parts.append(f"原因：{event.reason[:120]}")
    return "；".join(parts) + "。"


def _names(session) -> dict:
    """Who and which unit each recorded code means, read once per page."""
    users = session.execute(select(User.id, User.username, User.name)).all()
    return {"users": {u.username: u.name or u.username for u in users},
            "user_ids": {u.id: u.name or u.username for u in users},
            "units": dict(session.execute(select(Unit.code, Unit.name)).all())}


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
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    query = audit.query(**filters)
    total = db.session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    events = db.session.execute(query.offset((page - 1) * PAGE).limit(PAGE)).scalars().all()
    actors, types = audit.filter_choices(db.session)
    names = _names(db.session)
    query_args = {k: v for k, v in request.args.items() if v and k != "page"}
    return render_template("audit.html", events=events, sentences={e.id: sentence(e, names) for e in events},
                           total=total, page=page, pages=max((total + PAGE - 1) // PAGE, 1), query_args=query_args,
                           errors=errors, actors=actors, actor_names=names["users"], types=types,
                           TYPE_NAMES=TYPE_NAMES, actions=ACTION_NAMES, args=request.args), \
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
